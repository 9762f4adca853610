// Memory of `ordinal up` (the only cluster process: API server, watch cache, SQLite store,
// controllers, scheduler, simulated node agents) holding N pods with N claims (and their N volumes).
// The objects are created in bulk over HTTPS, not through a StatefulSet, so that 10,000 take
// minutes at most; each pod mounts its claim and carries a StatefulSet pod's labels, and a headless
// service selects them all, so endpoints, slices, scheduler, volume controller and agents all see
// what they would see under a StatefulSet. (--via statefulset creates one set instead.)
// Once every pod is Running and Ready and every claim Bound, it prints:
//   - RSS (VmRSS) 5 s later, again after --settle seconds of idling, and the peak (VmHWM), from /proc;
//   - after a forced full GC (through the inspector): RSS, V8 heap used/total, external memory;
//   - with --snapshot: a heap snapshot summarised by owner and constructor (bench/heap-snapshot.ts).
// With --steps 0,1000,10000 it grows one cluster through those pod counts instead and prints, at
// each, RSS and live V8 heap after a full GC, and the memory per pod (with its claim and volume)
// between steps, so that growth per object is visible apart from the fixed cost.
//   node bench/memory.ts [--pods 1000] [--nodes 10] [--runs 1] [--snapshot] [--keep-snapshot]
//        [--via direct|statefulset] [--concurrency 32] [--timeout 900] [--settle 30] [--node-flag=--max-semi-space-size=8 ...]
//        [--steps 0,1000,10000]
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, rmSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { readSnapshot, summarise, formatSummary } from './heap-snapshot.ts';
import { ORDINAL_NODE_FLAGS } from '../src/cli/node-flags.ts';
import { adminClient } from './admin-client.ts';
import { cpuMs, procStatus } from './proc.ts';

const root = resolve(import.meta.dirname, '..');
/** The checkout whose `ordinal` is measured (default this one): lets one bench compare two checkouts. */
const target = resolve(process.env.ORDINAL_BENCH_TARGET ?? root);
const { values } = parseArgs({
  options: {
    pods: { type: 'string' },
    nodes: { type: 'string' },
    runs: { type: 'string' },
    snapshot: { type: 'boolean' },
    'keep-snapshot': { type: 'boolean' },
    via: { type: 'string' },
    concurrency: { type: 'string' },
    timeout: { type: 'string' },
    settle: { type: 'string' },
    'node-flag': { type: 'string', multiple: true },
    top: { type: 'string' },
    steps: { type: 'string' },
  },
});
const STEPS = values.steps?.split(',').map(Number);
const PODS = STEPS ? Math.max(...STEPS) : Number(values.pods ?? 1000);
// At the agent's default capacity of 110 pods a node.
const NODES = Number(values.nodes ?? Math.max(10, Math.ceil(PODS / 100)));
const RUNS = Number(values.runs ?? 1);
const VIA = values.via ?? 'direct';
const CONCURRENCY = Number(values.concurrency ?? 32);
const TIMEOUT_S = Number(values.timeout ?? 900);
// The flags `ordinal` itself runs with, then any given here (a later V8 flag wins).
const NODE_FLAGS = [...ORDINAL_NODE_FLAGS, ...(values['node-flag'] ?? [])];
const SETTLE_S = Number(values.settle ?? 30);
const NS = 'default';
const APP = 'web';

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];



// ----------------------------------------------------------------------------- the inspector

/** Just enough of the Chrome DevTools protocol: calls, and chunk events for heap snapshots. */
class Inspector {
  private readonly ws: WebSocket;
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  onEvent: (method: string, params: any) => void = () => {};

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.id !== undefined) {
        const c = this.calls.get(m.id);
        this.calls.delete(m.id);
        if (m.error) c?.reject(new Error(`${m.error.message}`));
        else c?.resolve(m.result);
      } else this.onEvent(m.method, m.params);
    });
  }

  static connect(url: string): Promise<Inspector> {
    return new Promise((res, rej) => {
      const ws = new WebSocket(url, { maxPayload: 1 << 30 });
      ws.once('open', () => res(new Inspector(ws)));
      ws.once('error', rej);
    });
  }

  call(method: string, params: object = {}): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async evaluate(expression: string): Promise<any> {
    const r = await this.call('Runtime.evaluate', { expression, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`evaluate ${expression}: ${JSON.stringify(r.exceptionDetails)}`);
    return r.result.value;
  }

  async writeSnapshot(path: string): Promise<void> {
    const out = createWriteStream(path);
    this.onEvent = (method, params) => {
      if (method === 'HeapProfiler.addHeapSnapshotChunk') out.write(params.chunk);
    };
    await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
    this.onEvent = () => {};
    await new Promise<void>((r) => out.end(r));
  }

  close(): void {
    this.ws.close();
  }
}

// ----------------------------------------------------------------------------- the cluster

interface Ordinal {
  proc: ChildProcess;
  dataDir: string;
  inspector: Inspector;
  send(method: string, path: string, body?: unknown, contentType?: string): Promise<any>;
  watch(path: string, onEvent: (type: string, obj: any) => void): Promise<() => void>;
  stop(): Promise<void>;
}

async function startOrdinal(): Promise<Ordinal> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ordinal-bench-mem-'));
  const proc = spawn(
    process.execPath,
    [...NODE_FLAGS, '--inspect=127.0.0.1:0', join(target, 'src/cli/main.ts'), 'up', '--data-dir', dataDir, '--port', '0', '--runtime', 'sim', '--no-dns', '--nodes', String(NODES), '--sim-start-delay', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ORDINAL_LOG_LEVEL: 'warn' } },
  );
  let out = '';
  const keep = (d: Buffer) => (out = (out + d).slice(-20_000));
  proc.stderr!.on('data', keep);
  proc.stdout!.on('data', keep);
  const [url, inspectorUrl] = await new Promise<[string, string]>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`ordinal did not start within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /ready at (https:\/\/\S+)/.exec(out);
      const i = /Debugger listening on (ws:\/\/\S+)/.exec(out);
      if (m && i) {
        clearTimeout(timer);
        res([m[1], i[1]]);
      }
    };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`ordinal exited with ${code}:\n${out}`));
    });
  });
  const inspector = await Inspector.connect(inspectorUrl);
  const api = adminClient(url, dataDir, { maxSockets: 16 });
  return {
    proc,
    dataDir,
    inspector,
    send: api.send,
    watch: api.watch,
    stop: async () => {
      api.close();
      inspector.close();
      if (proc.exitCode === null && proc.signalCode === null) {
        await new Promise<void>((r) => {
          proc.once('exit', () => r());
          proc.kill('SIGTERM');
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ----------------------------------------------------------------------------- objects

const IMAGE = 'registry.k8s.io/nginx-slim:0.8';
const podLabels = (i: number) => ({ app: APP, 'apps.kubernetes.io/pod-index': String(i), 'statefulset.kubernetes.io/pod-name': `${APP}-${i}`, 'controller-revision-hash': `${APP}-5d9c6f7b8` });
const container = { name: 'nginx', image: IMAGE, ports: [{ containerPort: 80, name: 'web' }], volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }] };
const claimSpec = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } };

const pod = (i: number) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `${APP}-${i}`, labels: podLabels(i) },
  spec: { hostname: `${APP}-${i}`, subdomain: APP, containers: [container], volumes: [{ name: 'www', persistentVolumeClaim: { claimName: `www-${APP}-${i}` } }] },
});
const claim = (i: number) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: `www-${APP}-${i}`, labels: { app: APP } }, spec: claimSpec });
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: APP, labels: { app: APP } }, spec: { clusterIP: 'None', selector: { app: APP }, ports: [{ name: 'web', port: 80 }] } };
const statefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: APP },
  spec: {
    serviceName: APP,
    replicas: PODS,
    podManagementPolicy: 'Parallel',
    selector: { matchLabels: { app: APP } },
    template: { metadata: { labels: { app: APP } }, spec: { containers: [container] } },
    volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: claimSpec }],
  },
};

/** Runs make(0..n-1) with at most `limit` in flight. */
async function pool(n: number, limit: number, make: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await make(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

const isReady = (p: any) => p?.status?.phase === 'Running' && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;

// ----------------------------------------------------------------------------- one run

interface Figures {
  seconds: number;
  cpu: number;
  rss: number;
  rssSettled: number;
  hwm: number;
  rssAfterGc: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

async function run(index: number): Promise<Figures> {
  const o = await startOrdinal();
  try {
    const ready = new Set<string>();
    const bound = new Set<string>();
    let done = () => {};
    const all = new Promise<void>((r) => (done = r));
    const check = () => {
      if (ready.size === PODS && bound.size === PODS) done();
    };
    const stopPods = await o.watch(`/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3D${APP}`, (type, p) => {
      if (type !== 'DELETED' && isReady(p)) ready.add(p.metadata.name);
      else ready.delete(p.metadata.name);
      check();
    });
    const stopClaims = await o.watch(`/api/v1/namespaces/${NS}/persistentvolumeclaims?watch=true`, (type, c) => {
      if (type !== 'DELETED' && c.status?.phase === 'Bound') bound.add(c.metadata.name);
      check();
    });
    const pid = o.proc.pid!;
    const progress = () => `${bound.size} claims Bound, ${ready.size} pods Ready; RSS ${mib(procStatus(pid, 'VmRSS'))}`;
    const t0 = performance.now();
    const cpu0 = cpuMs(pid) / 1000;
    const ticker = setInterval(() => console.log(`  run ${index + 1}, after ${((performance.now() - t0) / 1000).toFixed(0)} s: ${progress()}`), 15_000);
    try {
      await o.send('POST', `/api/v1/namespaces/${NS}/services`, service);
      if (VIA === 'statefulset') await o.send('POST', `/apis/apps/v1/namespaces/${NS}/statefulsets`, statefulSet);
      else {
        // Claims first, as the StatefulSet controller does, so no pod waits on a missing claim.
        await pool(PODS, CONCURRENCY, (i) => o.send('POST', `/api/v1/namespaces/${NS}/persistentvolumeclaims`, claim(i)));
        await pool(PODS, CONCURRENCY, (i) => o.send('POST', `/api/v1/namespaces/${NS}/pods`, pod(i)));
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`not done after ${TIMEOUT_S} s: ${progress()}`)), TIMEOUT_S * 1000)))]);
      clearTimeout(timer);
    } finally {
      clearInterval(ticker);
      stopPods();
      stopClaims();
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuMs(pid) / 1000 - cpu0;
    // Let the controllers finish what the last changes started (endpoints, slices, statuses).
    await sleep(5000);
    const rss = procStatus(pid, 'VmRSS');
    // An idle cluster: V8's memory reducer gives back what the burst left (it starts after 8 s).
    await sleep(SETTLE_S * 1000);
    const rssSettled = procStatus(pid, 'VmRSS');
    const hwm = procStatus(pid, 'VmHWM');
    const spaces = (await o.inspector.evaluate(
      "process.getBuiltinModule('v8').getHeapSpaceStatistics().filter((s) => s.space_size > 1 << 20).map((s) => `${s.space_name} ${(s.space_used_size / 1048576).toFixed(0)}/${(s.space_size / 1048576).toFixed(0)}`).join(', ')",
    )) as string;
    const before = await o.inspector.evaluate('process.memoryUsage()');
    console.log(`  before GC: V8 heap used ${mib(before.heapUsed)} of ${mib(before.heapTotal)} (MiB used/size by space: ${spaces})`);
    await o.inspector.call('HeapProfiler.collectGarbage');
    await o.inspector.call('HeapProfiler.collectGarbage');
    await sleep(1000);
    const mem = await o.inspector.evaluate('process.memoryUsage()');
    const f: Figures = { seconds, cpu, rss, rssSettled, hwm, rssAfterGc: procStatus(pid, 'VmRSS'), heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers };
    console.log(
      `run ${index + 1}: ${PODS} pods Ready + ${PODS} claims Bound after ${seconds.toFixed(1)} s (ordinal CPU ${cpu.toFixed(1)} s); RSS ${mib(f.rss)} 5 s later, ${mib(f.rssSettled)} after ${SETTLE_S} s more idle (peak ${mib(f.hwm)}); ` +
        `after full GC: RSS ${mib(f.rssAfterGc)}, V8 heap used ${mib(f.heapUsed)} of ${mib(f.heapTotal)}, external ${mib(f.external)} (array buffers ${mib(f.arrayBuffers)})`,
    );
    if (values.snapshot && index === 0) {
      const file = join(values['keep-snapshot'] ? tmpdir() : o.dataDir, `ordinal-${PODS}.heapsnapshot`);
      const s0 = performance.now();
      await o.inspector.writeSnapshot(file);
      console.log(`heap snapshot written in ${((performance.now() - s0) / 1000).toFixed(1)} s${values['keep-snapshot'] ? `: ${file}` : ''}`);
      console.log(formatSummary(summarise(readSnapshot(file)), Number(values.top ?? 30)));
    }
    return f;
  } finally {
    await o.stop();
  }
}

// ----------------------------------------------------------------------------- memory per object

interface StepFigures {
  pods: number;
  rss: number;
  heapUsed: number;
  external: number;
}

/** Full GC twice through the inspector, then RSS and live heap. */
async function afterGc(o: Ordinal): Promise<Omit<StepFigures, 'pods'>> {
  await o.inspector.call('HeapProfiler.collectGarbage');
  await o.inspector.call('HeapProfiler.collectGarbage');
  await sleep(1000);
  const mem = await o.inspector.evaluate('process.memoryUsage()');
  return { rss: procStatus(o.proc.pid!, 'VmRSS'), heapUsed: mem.heapUsed, external: mem.external };
}

/** One cluster grown through STEPS pods (each with a claim and its volume); figures after GC at each. */
async function runSteps(): Promise<void> {
  const o = await startOrdinal();
  const ready = new Set<string>();
  const bound = new Set<string>();
  let target = 0;
  let wake = () => {};
  const check = () => {
    if (ready.size >= target && bound.size >= target) wake();
  };
  const stopPods = await o.watch(`/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3D${APP}`, (type, p) => {
    if (type !== 'DELETED' && isReady(p)) ready.add(p.metadata.name);
    else ready.delete(p.metadata.name);
    check();
  });
  const stopClaims = await o.watch(`/api/v1/namespaces/${NS}/persistentvolumeclaims?watch=true`, (type, c) => {
    if (type !== 'DELETED' && c.status?.phase === 'Bound') bound.add(c.metadata.name);
    check();
  });
  const out: StepFigures[] = [];
  try {
    await o.send('POST', `/api/v1/namespaces/${NS}/services`, service);
    let made = 0;
    for (const step of STEPS!) {
      target = step;
      const all = new Promise<void>((r) => (wake = r));
      check();
      const t0 = performance.now();
      if (step > made) {
        if (VIA === 'statefulset') {
          if (made === 0) await o.send('POST', `/apis/apps/v1/namespaces/${NS}/statefulsets`, { ...statefulSet, spec: { ...statefulSet.spec, replicas: step } });
          else await o.send('PATCH', `/apis/apps/v1/namespaces/${NS}/statefulsets/${APP}/scale`, { spec: { replicas: step } }, 'application/merge-patch+json');
        } else {
          const from = made;
          await pool(step - from, CONCURRENCY, (i) => o.send('POST', `/api/v1/namespaces/${NS}/persistentvolumeclaims`, claim(from + i)));
          await pool(step - from, CONCURRENCY, (i) => o.send('POST', `/api/v1/namespaces/${NS}/pods`, pod(from + i)));
        }
        made = step;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`step ${step} not done after ${TIMEOUT_S} s: ${ready.size} Ready, ${bound.size} Bound`)), TIMEOUT_S * 1000)))]);
      clearTimeout(timer);
      const reached = (performance.now() - t0) / 1000;
      // Let the controllers finish what the last changes started (endpoints, slices, statuses).
      await sleep(5000);
      const f = { pods: step, ...(await afterGc(o)) };
      out.push(f);
      console.log(
        `${String(step).padStart(6)} pods (+ claims, volumes; ${reached.toFixed(0)} s to reach): after full GC RSS ${mib(f.rss)}, live V8 heap ${mib(f.heapUsed)}, external ${mib(f.external)}`,
      );
    }
  } finally {
    stopPods();
    stopClaims();
    await o.stop();
  }
  for (let i = 1; i < out.length; i++) {
    const a = out[i - 1];
    const b = out[i];
    const n = b.pods - a.pods;
    if (n <= 0) continue;
    const kib = (x: number) => `${(x / 1024 / n).toFixed(1)} KiB`;
    console.log(`per pod (with its claim and volume) from ${a.pods} to ${b.pods}: RSS ${kib(b.rss - a.rss)}, live heap ${kib(b.heapUsed - a.heapUsed)}, external ${kib(b.external - a.external)}`);
  }
}

console.log(`memory of ordinal up with ${STEPS ? `${STEPS.join(', ')} pods` : `${PODS} pods`} + as many claims (${VIA}), ${NODES} simulated nodes${NODE_FLAGS.length ? `, node flags ${NODE_FLAGS.join(' ')}` : ''}`);
const results: Figures[] = [];
if (STEPS) await runSteps();
else for (let i = 0; i < RUNS; i++) results.push(await run(i));
if (RUNS > 1 && !STEPS) {
  const m = (k: keyof Figures) => median(results.map((r) => r[k]));
  console.log(
    `median of ${RUNS} runs: RSS ${mib(m('rss'))}, idle ${mib(m('rssSettled'))} (peak ${mib(m('hwm'))}); after full GC: RSS ${mib(m('rssAfterGc'))}, V8 heap used ${mib(m('heapUsed'))}, external ${mib(m('external'))}; ${m('seconds').toFixed(1)} s to all Ready, ordinal CPU ${m('cpu').toFixed(1)} s`,
  );
}
