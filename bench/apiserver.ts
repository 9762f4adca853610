// API server benchmark: create 10,000 pods through the API with a few concurrent clients, then
// time LIST of all of them, read the server's memory, and measure the raw write rate of a SQLite
// file with the same settings on the same disk, for comparison. Prints figures and conditions.
//   node bench/apiserver.ts [--pods 10000] [--clients 4] [--inflight 8]
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DatabaseSync } from 'node:sqlite';
import { startCluster, stopCluster, removeCluster, tempDir } from '../test/integration/harness.ts';

const { values } = parseArgs({ options: { pods: { type: 'string' }, clients: { type: 'string' }, inflight: { type: 'string' } } });
const PODS = Number(values.pods ?? 10_000);
const CLIENTS = Number(values.clients ?? 4);
const INFLIGHT = Number(values.inflight ?? 8);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function main() {
  const c = await startCluster({ command: 'server' });
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

    const raw = rawSqlite(2000);
    console.log(`# Ordinal API server benchmark (${new Date().toISOString()})`);
    console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, store sqlite (WAL, synchronous=FULL, group commit)`);
    console.log(`clients: ${CLIENTS} keep-alive HTTPS clients x ${INFLIGHT} requests in flight, client-certificate auth`);
    console.log(`create ${PODS} pods: ${createSeconds.toFixed(2)} s = ${(PODS / createSeconds).toFixed(0)} creates/s (${failures} failures)`);
    console.log(`LIST ${PODS} pods (JSON, ${(listBytes / 2 ** 20).toFixed(1)} MiB): median ${median(listTimes).toFixed(0)} ms over ${listTimes.length}`);
    console.log(`LIST ${PODS} pods as Table (kubectl get): median ${median(tableTimes).toFixed(0)} ms over ${tableTimes.length}`);
    console.log(`LIST with labelSelector (1/10 of pods): median ${median(selTimes).toFixed(0)} ms over ${selTimes.length}`);
    console.log(`server RSS after: ${(rss / 2 ** 20).toFixed(0)} MiB`);
    console.log(`raw SQLite, same settings, same disk: ${raw.perCommit.toFixed(0)} writes/s with one commit per write; ${raw.batched.toFixed(0)} writes/s in commits of 100`);
  } finally {
    await stopCluster(c);
    removeCluster(c);
  }
}

/** The floor and ceiling of the disk: one fsync per write, and group commits. */
function rawSqlite(n: number): { perCommit: number; batched: number } {
  const dir = tempDir('ordinal-bench-sqlite-');
  const db = new DatabaseSync(join(dir, 'raw.db'));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;');
  const ins = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?)');
  const value = 'x'.repeat(900);
  let t = performance.now();
  for (let i = 0; i < n; i++) ins.run(`a${i}`, value);
  const perCommit = n / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < n * 5; i += 100) {
    db.exec('BEGIN');
    for (let j = i; j < i + 100; j++) ins.run(`b${j}`, value);
    db.exec('COMMIT');
  }
  const batched = (n * 5) / ((performance.now() - t) / 1000);
  db.close();
  return { perCommit, batched };
}

await main();
