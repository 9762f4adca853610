// API server benchmark: create 10,000 pods through the API with a few concurrent clients, then
// time LIST of all of them, read the server's memory, and measure the raw write rate of a SQLite
// file with the same settings on the same disk, for comparison. Prints figures and conditions.
// With --store etcd the same runs on a fresh etcd too (one member, Debian's etcd-server), printed
// beside SQLite's, with the raw put rate of that etcd from the same client library as its floor.
//   node bench/apiserver.ts [--pods 10000] [--clients 4] [--inflight 8] [--store etcd]
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { rawSqlite } from './raw-sqlite.ts';
import { Etcd3 } from 'etcd3';
import { startCluster, stopCluster, removeCluster, tempDir } from '../test/integration/harness.ts';
import { ETCD_BIN, startEtcd, type Etcd } from '../test/support/etcd.ts';

const { values } = parseArgs({ options: { pods: { type: 'string' }, clients: { type: 'string' }, inflight: { type: 'string' }, store: { type: 'string' } } });
if (values.store !== undefined && values.store !== 'sqlite' && values.store !== 'etcd') throw new Error(`--store sqlite|etcd, not ${values.store}`);
const PODS = Number(values.pods ?? 10_000);
const CLIENTS = Number(values.clients ?? 4);
const INFLIGHT = Number(values.inflight ?? 8);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

interface Figures {
  createSeconds: number;
  failures: number;
  listMs: number;
  listBytes: number;
  tableMs: number;
  selectorMs: number;
  rss: number;
  etcdRss?: number;
}

async function measure(etcd?: Etcd): Promise<Figures> {
  const c = await startCluster({ command: 'server', args: etcd ? ['--store', 'etcd', '--etcd-servers', etcd.url] : [] });
  try {
    const pki = join(c.dataDir, 'pki');
    const tls = { ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) };
    const url = new URL(c.url);
    const agents = Array.from({ length: CLIENTS }, () => new https.Agent({ keepAlive: true, maxSockets: INFLIGHT, ...tls }));
    const request = (agent: https.Agent, method: string, path: string, body?: string, accept = 'application/json') =>
      new Promise<{ status: number; bytes: number }>((resolve, reject) => {
        const req = https.request({ host: url.hostname, port: url.port, method, path, agent, headers: { 'Content-Type': 'application/json', Accept: accept } }, (res) => {
          let bytes = 0;
          res.on('data', (d: Buffer) => (bytes += d.length));
          res.on('end', () => resolve({ status: res.statusCode!, bytes }));
        });
        req.on('error', reject);
        req.end(body);
      });

    const podBody = (i: number) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `pod-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
        spec: { containers: [{ name: 'c', image: 'busybox:1.36', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
      });

    // `ordinal server` runs no controllers: the namespace's default ServiceAccount, which pods
    // need to be admitted, is created here as kube-controller-manager would.
    await request(agents[0]!, 'POST', '/api/v1/namespaces/default/serviceaccounts', JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }));
    let next = 0;
    let failures = 0;
    const started = performance.now();
    await Promise.all(
      agents.flatMap((agent) =>
        Array.from({ length: INFLIGHT }, async () => {
          while (next < PODS) {
            const i = next++;
            const r = await request(agent, 'POST', '/api/v1/namespaces/default/pods', podBody(i));
            if (r.status !== 201) failures++;
          }
        }),
      ),
    );
    const createSeconds = (performance.now() - started) / 1000;

    const listTimes: number[] = [];
    let listBytes = 0;
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      const r = await request(agents[0], 'GET', '/api/v1/namespaces/default/pods');
      listTimes.push(performance.now() - t);
      listBytes = r.bytes;
    }
    const tableTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await request(agents[0], 'GET', '/api/v1/namespaces/default/pods', undefined, 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
      tableTimes.push(performance.now() - t);
    }
    const selTimes: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      await request(agents[0], 'GET', '/api/v1/namespaces/default/pods?labelSelector=shard%3D3');
      selTimes.push(performance.now() - t);
    }
    const rss = rssOf(c.proc.pid!);
    for (const a of agents) a.destroy();
    return { createSeconds, failures, listMs: median(listTimes), listBytes, tableMs: median(tableTimes), selectorMs: median(selTimes), rss, etcdRss: etcd ? rssOf(etcd.proc.pid!) : undefined };
  } finally {
    await stopCluster(c);
    removeCluster(c);
  }
}

async function main() {
  const runs: [string, Figures][] = [['sqlite', await measure()]];
  let rawEtcd: { serial: number; concurrent: number } | undefined;
  if (values.store === 'etcd') {
    const etcd = await startEtcd();
    try {
      runs.push(['etcd', await measure(etcd)]);
      rawEtcd = await rawEtcdPuts(etcd.url, 2000);
    } finally {
      await etcd.remove();
    }
  }
  const raw = rawSqlite(2000);
  console.log(`# Ordinal API server benchmark (${new Date().toISOString()})`);
  console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  console.log(`stores: sqlite (WAL, synchronous=FULL, group commit)${rawEtcd ? `; etcd (${ETCD_BIN}, one member on loopback, data in ${os.tmpdir()}, fsync on)` : ''}`);
  console.log(`clients: ${CLIENTS} keep-alive HTTPS clients x ${INFLIGHT} requests in flight, client-certificate auth`);
  const col = (f: (x: Figures) => string) => runs.map(([, x]) => f(x).padStart(24)).join('');
  console.log(`${''.padEnd(44)}${runs.map(([name]) => name.padStart(24)).join('')}`);
  console.log(`${`create ${PODS} pods (creates/s)`.padEnd(44)}${col((x) => `${(PODS / x.createSeconds).toFixed(0)} (${x.createSeconds.toFixed(1)} s${x.failures ? `, ${x.failures} failed` : ''})`)}`);
  console.log(`${`LIST ${PODS} pods, JSON (median ms)`.padEnd(44)}${col((x) => `${x.listMs.toFixed(0)} (${(x.listBytes / 2 ** 20).toFixed(1)} MiB)`)}`);
  console.log(`${`LIST ${PODS} pods as Table (median ms)`.padEnd(44)}${col((x) => x.tableMs.toFixed(0))}`);
  console.log(`${'LIST labelSelector, 1/10 (median ms)'.padEnd(44)}${col((x) => x.selectorMs.toFixed(0))}`);
  console.log(`${'API server RSS after (MiB)'.padEnd(44)}${col((x) => (x.rss / 2 ** 20).toFixed(0))}`);
  if (rawEtcd) console.log(`${'etcd RSS after (MiB)'.padEnd(44)}${col((x) => (x.etcdRss === undefined ? '-' : (x.etcdRss / 2 ** 20).toFixed(0)))}`);
  console.log(`raw SQLite, same settings, same disk: ${raw.perCommit.toFixed(0)} writes/s with one commit per write; ${raw.batched.toFixed(0)} writes/s in commits of 100`);
  if (rawEtcd) console.log(`raw etcd, same etcd, etcd3 client: ${rawEtcd.serial.toFixed(0)} puts/s one at a time; ${rawEtcd.concurrent.toFixed(0)} puts/s with ${CLIENTS * INFLIGHT} in flight`);
}

/** The floor of the etcd runs: plain puts of pod-sized values from the same client library. */
async function rawEtcdPuts(url: string, n: number): Promise<{ serial: number; concurrent: number }> {
  const client = new Etcd3({ hosts: [url] });
  try {
    const value = 'x'.repeat(900);
    let t = performance.now();
    for (let i = 0; i < n / 4; i++) await client.put(`/raw/a${i}`).value(value);
    const serial = n / 4 / ((performance.now() - t) / 1000);
    let next = 0;
    t = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS * INFLIGHT }, async () => {
        while (next < n) await client.put(`/raw/b${next++}`).value(value);
      }),
    );
    return { serial, concurrent: n / ((performance.now() - t) / 1000) };
  } finally {
    client.close();
  }
}

await main();
