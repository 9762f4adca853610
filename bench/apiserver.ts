// API server benchmark: create 10,000 pods through the API with a few concurrent clients, then
// time LIST of all of them (JSON, Table, protobuf as client-go asks, a label selector, pages),
// read the server's memory and CPU time per LIST, and measure the raw write rate of a SQLite file
// with the same settings on the same disk, for comparison. Prints figures and conditions.
// With --store etcd the same runs on a fresh etcd too (one member, Debian's etcd-server), printed
// beside SQLite's, with the raw put rate of that etcd from the same client library as its floor.
// ORDINAL_BENCH_TARGET=/other/checkout measures that checkout's server (for A/B runs);
// --node-flag passes V8 flags to the server (e.g. --node-flag=--cpu-prof --node-flag=--cpu-prof-dir=/tmp/p).
//   node bench/apiserver.ts [--pods 10000] [--clients 4] [--inflight 8] [--lists 7] [--store etcd]
//        [--node-flag=... ...] [--server-log FILE]
import https from 'node:https';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { rawSqlite } from './raw-sqlite.ts';
import { Etcd3 } from 'etcd3';
import { tempDir } from '../test/integration/harness.ts';
import { ETCD_BIN, startEtcd, type Etcd } from '../test/support/etcd.ts';
import { ORDINAL_NODE_FLAGS } from '../src/cli/node-flags.ts';
import { cpuMs, procStatus } from './proc.ts';
import { awaitOutput } from '../test/support/ordinal-process.ts';

const root = resolve(import.meta.dirname, '..');
/** The checkout whose server is measured (default this one): lets one bench compare two checkouts. */
const target = resolve(process.env.ORDINAL_BENCH_TARGET ?? root);
const { values } = parseArgs({
  options: {
    pods: { type: 'string' },
    clients: { type: 'string' },
    inflight: { type: 'string' },
    lists: { type: 'string' },
    store: { type: 'string' },
    'node-flag': { type: 'string', multiple: true },
    'server-log': { type: 'string' },
  },
});
if (values.store !== undefined && values.store !== 'sqlite' && values.store !== 'etcd') throw new Error(`--store sqlite|etcd, not ${values.store}`);
const PODS = Number(values.pods ?? 10_000);
const CLIENTS = Number(values.clients ?? 4);
const INFLIGHT = Number(values.inflight ?? 8);
const LISTS = Number(values.lists ?? 7);
const NODE_FLAGS = [...ORDINAL_NODE_FLAGS, ...(values['node-flag'] ?? [])];
/** A page size as client-go's pager asks (kubectl get --chunk-size's default). */
const PAGE = 500;
/** What kubectl get asks for. */
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Server {
  dataDir: string;
  url: string;
  proc: ChildProcess;
}

/** `ordinal server` of the target checkout, in its own process group (stopped by that group). */
async function startServer(storeArgs: string[]): Promise<Server> {
  const dataDir = tempDir('ordinal-bench-apiserver-');
  const proc = spawn(process.execPath, [...NODE_FLAGS, join(target, 'src/cli/main.ts'), 'server', '--data-dir', dataDir, '--port', '0', ...storeArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ORDINAL_LOG_LEVEL: 'warn' },
    detached: true,
  });
  let out = '';
  // --server-log FILE keeps all the server wrote (e.g. with --node-flag=--trace-gc).
  const log = values['server-log'] ? createWriteStream(values['server-log']) : undefined;
  if (log) {
    proc.stdout!.pipe(log);
    proc.stderr!.pipe(log);
  }
  const keep = (d: Buffer) => (out = (out + d).slice(-20_000));
  proc.stderr!.on('data', keep);
  proc.stdout!.on('data', keep);
  const url = (await awaitOutput(proc, /ready at (https:\/\/\S+)/, { text: () => out, timeoutMs: 30_000, notReady: 'server did not start in time', what: 'server' }))[1]!;
  return { dataDir, url, proc };
}

async function stopServer(s: Server): Promise<void> {
  if (s.proc.exitCode === null && s.proc.signalCode === null) {
    // SIGTERM lets the server exit by itself, so that a --cpu-prof profile is written.
    await new Promise<void>((res) => {
      s.proc.once('exit', () => res());
      process.kill(-s.proc.pid!, 'SIGTERM');
    });
  }
  rmSync(s.dataDir, { recursive: true, force: true });
}

/** One way of listing: its median wall time, the server's CPU time per list, and what came back. */
interface ListFigure {
  ms: number;
  cpuMs: number;
  /** The bench's own CPU time per list (reading it through TLS): on 2 cores, part of the wall time. */
  clientCpuMs: number;
  bytes: number;
  contentType: string;
  requests: number;
  /** The unmeasured warm-up run: for the first listing, what a cold LIST costs. */
  first: { ms: number; cpuMs: number };
}

interface Figures {
  createSeconds: number;
  failures: number;
  json: ListFigure;
  table: ListFigure;
  protobuf: ListFigure;
  paged: ListFigure;
  tablePaged: ListFigure;
  selector: ListFigure;
  rssBeforeLists: number;
  rss: number;
  etcdRss?: number;
}

async function measure(etcd?: Etcd): Promise<Figures> {
  const c = await startServer(etcd ? ['--store', 'etcd', '--etcd-servers', etcd.url] : []);
  try {
    const pki = join(c.dataDir, 'pki');
    const tls = { ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) };
    const url = new URL(c.url);
    const agents = Array.from({ length: CLIENTS }, () => new https.Agent({ keepAlive: true, maxSockets: INFLIGHT, ...tls }));
    const request = (agent: https.Agent, method: string, path: string, body?: string, accept = 'application/json') =>
      new Promise<{ status: number; bytes: number; contentType: string; text?: string }>((resolve, reject) => {
        const req = https.request({ host: url.hostname, port: url.port, method, path, agent, headers: { 'Content-Type': 'application/json', Accept: accept } }, (res) => {
          let bytes = 0;
          // Only the first bytes are kept (for a page's continue token): the client reads the rest and drops it.
          let head = '';
          res.on('data', (d: Buffer) => {
            bytes += d.length;
            if (head.length < 4096) head += d.toString('latin1', 0, Math.min(d.length, 4096));
          });
          res.on('end', () => resolve({ status: res.statusCode!, bytes, contentType: String(res.headers['content-type']), text: head }));
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

    const pid = c.proc.pid!;
    const rssBeforeLists = procStatus(pid, 'VmRSS');
    const path = '/api/v1/namespaces/default/pods';
    /** Times `lists` runs of one listing (one request, or a chain of pages), after one unmeasured warm-up. */
    const timeList = async (one: () => Promise<{ bytes: number; contentType: string; requests: number }>): Promise<ListFigure> => {
      const firstCpu0 = cpuMs(pid);
      const firstT = performance.now();
      await one();
      const first = { ms: performance.now() - firstT, cpuMs: cpuMs(pid) - firstCpu0 };
      const times: number[] = [];
      const cpus: number[] = [];
      const clientCpus: number[] = [];
      let last = { bytes: 0, contentType: '', requests: 0 };
      for (let i = 0; i < LISTS; i++) {
        const cpu0 = cpuMs(pid);
        const client0 = process.cpuUsage();
        const t = performance.now();
        last = await one();
        times.push(performance.now() - t);
        cpus.push(cpuMs(pid) - cpu0);
        const client = process.cpuUsage(client0);
        clientCpus.push((client.user + client.system) / 1000);
      }
      return { ms: median(times), cpuMs: median(cpus), clientCpuMs: median(clientCpus), first, ...last };
    };
    const once = (accept: string, query = '') => async () => {
      const r = await request(agents[0]!, 'GET', path + query, undefined, accept);
      if (r.status !== 200) throw new Error(`LIST ${query} as ${accept}: ${r.status}`);
      return { bytes: r.bytes, contentType: r.contentType, requests: 1 };
    };
    const json = await timeList(once('application/json'));
    const table = await timeList(once(TABLE));
    // What client-go's typed clients (kubectl's among them) send for built-in kinds.
    const protobuf = await timeList(once('application/vnd.kubernetes.protobuf,application/json'));
    const selector = await timeList(once('application/json', '?labelSelector=shard%3D3'));
    /** Every page of a paged listing, as client-go's pager and kubectl get (--chunk-size 500) ask for them. */
    const pages = (accept: string) => async () => {
      let bytes = 0;
      let requests = 0;
      let token: string | undefined;
      let contentType = '';
      do {
        const r = await request(agents[0]!, 'GET', `${path}?limit=${PAGE}${token ? `&continue=${encodeURIComponent(token)}` : ''}`, undefined, accept);
        if (r.status !== 200) throw new Error(`LIST page: ${r.status}`);
        bytes += r.bytes;
        requests++;
        contentType = r.contentType;
        token = /"continue":"([^"]+)"/.exec(r.text ?? '')?.[1];
      } while (token);
      return { bytes, contentType, requests };
    };
    const paged = await timeList(pages('application/json'));
    const tablePaged = await timeList(pages(TABLE));
    const rss = procStatus(pid, 'VmRSS');
    for (const a of agents) a.destroy();
    return { createSeconds, failures, json, table, protobuf, paged, tablePaged, selector, rssBeforeLists, rss, etcdRss: etcd ? procStatus(etcd.proc.pid!, 'VmRSS') : undefined };
  } finally {
    await stopServer(c);
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
  console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load average ${os.loadavg()[0].toFixed(2)}`);
  console.log(`server: ${target} (ordinal server, no controllers), node flags: ${NODE_FLAGS.join(' ')}`);
  console.log(`stores: sqlite (WAL, synchronous=FULL, group commit)${rawEtcd ? `; etcd (${ETCD_BIN}, one member on loopback, data in ${os.tmpdir()}, fsync on)` : ''}`);
  console.log(`clients: ${CLIENTS} keep-alive HTTPS clients x ${INFLIGHT} requests in flight, client-certificate auth`);
  console.log(`lists: one keep-alive HTTPS connection reading whole bodies, one warm-up then the median of ${LISTS}; CPU = user+system ms per list (median) of the server process, and of this client reading it`);
  const col = (f: (x: Figures) => string) => runs.map(([, x]) => f(x).padStart(44)).join('');
  const listRow = (label: string, f: (x: Figures) => ListFigure) =>
    console.log(`${label.padEnd(56)}${col((x) => `${f(x).ms.toFixed(0)} ms, CPU ${f(x).cpuMs.toFixed(0)} + client ${f(x).clientCpuMs.toFixed(0)} ms, ${(f(x).bytes / 2 ** 20).toFixed(1)} MiB`)}`);
  console.log(`${''.padEnd(56)}${runs.map(([name]) => name.padStart(44)).join('')}`);
  console.log(`${`create ${PODS} pods (creates/s)`.padEnd(56)}${col((x) => `${(PODS / x.createSeconds).toFixed(0)} (${x.createSeconds.toFixed(1)} s${x.failures ? `, ${x.failures} failed` : ''})`)}`);
  console.log(`${`first LIST ${PODS} pods after the creates, JSON`.padEnd(56)}${col((x) => `${x.json.first.ms.toFixed(0)} ms, CPU ${x.json.first.cpuMs.toFixed(0)} ms`)}`);
  listRow(`LIST ${PODS} pods, JSON`, (x) => x.json);
  listRow(`LIST ${PODS} pods as Table, one request`, (x) => x.table);
  listRow(`LIST ${PODS} pods as Table in pages of ${PAGE} (kubectl get)`, (x) => x.tablePaged);
  listRow(`LIST ${PODS} pods, protobuf asked`, (x) => x.protobuf);
  console.log(`${'  protobuf asked: served as'.padEnd(56)}${col((x) => x.protobuf.contentType)}`);
  listRow(`LIST ${PODS} pods in pages of ${PAGE} (all pages)`, (x) => x.paged);
  listRow('LIST labelSelector, 1/10', (x) => x.selector);
  console.log(`${'API server RSS after the creates, before LISTs (MiB)'.padEnd(56)}${col((x) => (x.rssBeforeLists / 2 ** 20).toFixed(0))}`);
  console.log(`${'API server RSS after the LISTs (MiB)'.padEnd(56)}${col((x) => (x.rss / 2 ** 20).toFixed(0))}`);
  if (rawEtcd) console.log(`${'etcd RSS after (MiB)'.padEnd(56)}${col((x) => (x.etcdRss === undefined ? '-' : (x.etcdRss / 2 ** 20).toFixed(0)))}`);
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
