// StatefulSet benchmark against a real `ordinal up` process (API server, controllers, scheduler,
// volume provisioner and simulated node agents in one process), driven over HTTPS as the admin:
//   1. Parallel set with one volumeClaimTemplate scaled 0 → 1,000 and, on a fresh cluster,
//      0 → 10,000: pods/s from the scale request until a watch has seen the last pod Ready.
//   2. OrderedReady 0 → 100: the step from pod i Ready to pod i+1 created, from watch arrival times,
//      and (SQLite store) split into the store's commits and the work between them, from the
//      server's commit trace (src/storage/commit-trace.ts, bench/commit-chain.ts).
//   3. Rolling update (new image) of the 1,000 pods with maxUnavailable 100.
//   4. RSS of the ordinal process at 10,000 pods with their claims and volumes.
//   5. A CPU profile (--cpu-prof) of the 0 → 1,000 case, summarised by self time.
//   6. (fanout) 100 watchers of all pods while 1,000 pods are created (bench/watch-fanout.ts).
//   7. (scaledown) the 1,000 pods (after the rolling update, when that runs too) and, in the
//      10,000 case, the 10,000 scaled to 0: pods/s until a watch has seen every pod deleted.
//   8. (cascade) on a cluster of its own, 1,000 pods created, then their set deleted as kubectl
//      does (the garbage collector deletes the pods): the same figures.
// Each case prints the CPU the ordinal process used (CPU-ms per pod: steadier than wall time on a
// shared machine) and the store writes per pod with the ceiling they leave at SQLite's raw rate.
// Prints figures with their conditions. Each case has a deadline and aborts with a message.
//   node bench/statefulset.ts [--cases parallel1k,rolling,parallel10k,ordered,profile,fanout,scaledown,cascade]
//        [--nodes 10] [--large-nodes 100] [--sim-start-delay 0] [--sim-stop-delay 200] [--small 1000] [--large 10000]
//        [--ordered 100] [--idle-after 0] [--large-timeout 240] [--profile-timeout 180] [--watchers 100] [--fanout-pods 1000]
// (`--cases profile --small 10000 --nodes 100` profiles the large case instead.)
// ORDINAL_BENCH_COMMIT_TRACE=<file> keeps the ordered case's commit trace in that file (replaced each run).
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { stopCluster, removeCluster, tempDir, type Cluster } from '../test/integration/harness.ts';
import { ORDINAL_NODE_FLAGS } from '../src/cli/node-flags.ts';
import { adminClient } from './admin-client.ts';
import { rawSqlite } from './raw-sqlite.ts';
import { rawEtcd } from './raw-etcd.ts';
import { watchFanout } from './watch-fanout.ts';
import { parseCommitTrace, stepParts, type StepParts } from './commit-chain.ts';
import { monotonicUs } from '../src/storage/commit-trace.ts';
import { ETCD_BIN, startEtcd } from '../test/support/etcd.ts';
import { cpuMs, cpuMsByThread, procStatus, threadCpuDelta, threadCpuMs } from './proc.ts';
import { awaitOutput } from '../test/support/ordinal-process.ts';

const root = resolve(import.meta.dirname, '..');
/** The checkout whose `ordinal` is measured: another one (a baseline) lets one bench compare two, run after run. */
const target = resolve(process.env.ORDINAL_BENCH_TARGET ?? root);
const { values } = parseArgs({
  options: {
    cases: { type: 'string' },
    nodes: { type: 'string' },
    'large-nodes': { type: 'string' },
    'sim-start-delay': { type: 'string' },
    'sim-stop-delay': { type: 'string' },
    small: { type: 'string' },
    large: { type: 'string' },
    ordered: { type: 'string' },
    'large-timeout': { type: 'string' },
    'profile-timeout': { type: 'string' },
    store: { type: 'string' },
    watchers: { type: 'string' },
    'fanout-pods': { type: 'string' },
    'idle-after': { type: 'string' },
  },
});
/** --store etcd runs every case on SQLite and then on a fresh etcd of its own, for side-by-side figures. */
if (values.store !== undefined && values.store !== 'sqlite' && values.store !== 'etcd') throw new Error(`--store sqlite|etcd, not ${values.store}`);
const STORES = values.store === 'etcd' ? ['sqlite', 'etcd'] : ['sqlite'];
let currentStore = 'sqlite';
/** Each store's scale-up figures, printed one line per store at the end (with --store etcd). */
const byStore: { store: string; nodes: number; r: ScaleResult }[] = [];
const CASES = new Set((values.cases ?? 'parallel1k,rolling,ordered,parallel10k,profile').split(',').map((s) => s.trim()));
const NODES = Number(values.nodes ?? 10);
// 10,000 pods need at least 91 nodes at the agent's default capacity of 110 pods a node.
const LARGE_NODES = Number(values['large-nodes'] ?? 100);
const DELAY = Number(values['sim-start-delay'] ?? 0);
/** Passed on only when given, so that checkouts from before the flag can still be measured (ORDINAL_BENCH_TARGET). */
const STOP_DELAY = values['sim-stop-delay'];
const SMALL = Number(values.small ?? 1000);
const LARGE = Number(values.large ?? 10_000);
const ORDERED = Number(values.ordered ?? 100);
const MAX_UNAVAILABLE = 100;
/** Keeps the whole run under about 10 minutes even when 10,000 pods are far from done. */
const LARGE_TIMEOUT_S = Number(values['large-timeout'] ?? 240);
const PROFILE_TIMEOUT_S = Number(values['profile-timeout'] ?? 180);
const NS = 'default';
const WATCHERS = Number(values.watchers ?? 100);
const FANOUT_PODS = Number(values['fanout-pods'] ?? 1000);
/** How long the 10,000-pod cluster is left alone before its idle CPU is measured (the agents' timers settle). */
const IDLE_AFTER_S = Number(values['idle-after'] ?? 0);

// ----------------------------------------------------------------------------- small helpers

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
/**
 * Monotonic µs: the clock of the server's commit trace, which the same function reads there, and
 * the one V8's CPU profiles use for their timestamps (all CLOCK_MONOTONIC on Linux).
 */
const monoUs = monotonicUs;


/** CPU ms per second of the process over `seconds` of idling (10 ms ticks: a few seconds are needed). */
async function idleCpuRate(pid: number, seconds = 3): Promise<number> {
  return (await idleCpuRates(pid, seconds)).total;
}

/** The same, for the whole process and for its main thread alone (worker threads take the rest). */
async function idleCpuRates(pid: number, seconds: number): Promise<{ total: number; main: number }> {
  const c0 = cpuMs(pid);
  const m0 = threadCpuMs(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const wall = performance.now() - t0;
  return { total: ((cpuMs(pid) - c0) * 1000) / wall, main: ((threadCpuMs(pid) - m0) * 1000) / wall };
}

/** The server's store write counters (ordinal_store_writes_total by verb and resource) and revision. */
async function storeWrites(b: Bench): Promise<{ byKind: Map<string, number>; revision: number }> {
  const text: string = await b.get('/metrics');
  const byKind = new Map<string, number>();
  let revision = NaN;
  for (const line of text.split('\n')) {
    const m = /^ordinal_store_writes_total\{verb="(\w+)",resource="([^"]+)"\} (\d+)/.exec(line);
    if (m) byKind.set(`${m[1]} ${m[2]}`, Number(m[3]));
    const r = /^ordinal_store_revision (\d+)/.exec(line);
    if (r) revision = Number(r[1]);
  }
  return { byKind, revision };
}

interface WriteFigures {
  total: number;
  /** Store revisions that passed: every write, including those outside the API server's resource path. */
  revisions: number;
  byKind: [string, number][];
}

function writesBetween(a: Awaited<ReturnType<typeof storeWrites>>, b: Awaited<ReturnType<typeof storeWrites>>): WriteFigures {
  const byKind: [string, number][] = [];
  let total = 0;
  for (const [k, v] of b.byKind) {
    const d = v - (a.byKind.get(k) ?? 0);
    if (d > 0) byKind.push([k, d]);
    total += d;
  }
  byKind.sort((x, y) => y[1] - x[1]);
  return { total, revisions: b.revision - a.revision, byKind };
}

/** The raw durable write rate of SQLite on this disk, measured once per bench run. */
let rawRate: { perCommit: number; batched: number } | undefined;
/** The same for each case's fresh etcd, measured before the case. */
let rawEtcdRate: { serial: number; concurrent: number } | undefined;

/** Writes per pod, by kind, and the ceiling they leave: the store's raw group-commit rate divided by them. */
function printWrites(w: WriteFigures, pods: number, podsPerSecond: number) {
  // A checkout from before the write counters (a baseline) reports none: its store revisions,
  // which count the same writes, stand in.
  const counted = w.byKind.length > 0;
  const writes = counted ? w.total : w.revisions;
  const perPod = writes / pods;
  console.log(
    counted
      ? `  store writes: ${w.total} = ${perPod.toFixed(2)} per pod (store revisions ${w.revisions}); by kind per pod: ` + w.byKind.map(([k, v]) => `${k} ${(v / pods).toFixed(2)}`).join(', ')
      : `  store writes: not counted by this checkout; store revisions ${w.revisions} = ${perPod.toFixed(2)} per pod`,
  );
  if (!(perPod > 0)) return;
  if (rawEtcdRate && currentStore === 'etcd') {
    const ceiling = rawEtcdRate.concurrent / perPod;
    console.log(
      `  ceiling: raw etcd ${rawEtcdRate.concurrent.toFixed(0)} guarded creates/s with 32 in flight (${rawEtcdRate.serial.toFixed(0)}/s one at a time) ÷ ${perPod.toFixed(2)} writes/pod = ` +
        `${ceiling.toFixed(0)} pods/s; this run ${podsPerSecond.toFixed(0)} pods/s = ${((100 * podsPerSecond) / ceiling).toFixed(0)}% of it`,
    );
  }
  if (rawRate && currentStore === 'sqlite') {
    const ceiling = rawRate.batched / perPod;
    console.log(
      `  ceiling: raw SQLite ${rawRate.batched.toFixed(0)} writes/s in commits of 100 (${rawRate.perCommit.toFixed(0)}/s one commit per write) ÷ ${perPod.toFixed(2)} writes/pod = ` +
        `${ceiling.toFixed(0)} pods/s; this run ${podsPerSecond.toFixed(0)} pods/s = ${((100 * podsPerSecond) / ceiling).toFixed(0)}% of it`,
    );
  }
}


class Aborted extends Error {}

/** Runs `work` with a deadline; on expiry throws with what `progress` says about how far it got. */
async function withDeadline<T>(what: string, seconds: number, progress: () => string, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Aborted(`${what}: aborted after ${seconds} s (${progress()})`)), seconds * 1000);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

// ----------------------------------------------------------------------------- the cluster

interface Bench {
  cluster: Cluster;
  get(path: string): Promise<any>;
  send(method: string, path: string, body: unknown, contentType?: string): Promise<any>;
  watch(path: string, onEvent: (type: string, obj: any, arrivedUs: number) => void): Promise<() => void>;
  close(): Promise<void>;
}

/**
 * Starts `ordinal up` as harness.startCluster does, but spawned here so that node flags
 * (--cpu-prof) can be passed to the ordinal process itself.
 */
/** ORDINAL_BENCH_NODE_FLAGS (space-separated) adds node flags to every ordinal process, e.g. `--heap-prof --trace-gc`. */
const EXTRA_NODE_FLAGS = (process.env.ORDINAL_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

async function startOrdinal(nodes: number, nodeFlags: string[] = [], storeArgs: string[] = [], env: Record<string, string> = {}): Promise<Bench> {
  const dataDir = tempDir('ordinal-bench-sts-');
  const proc = spawn(
    process.execPath,
    [...ORDINAL_NODE_FLAGS, ...EXTRA_NODE_FLAGS, ...nodeFlags, join(target, 'src/cli/main.ts'), 'up', '--data-dir', dataDir, '--port', '0', '--nodes', String(nodes), '--sim-start-delay', String(DELAY), ...(STOP_DELAY === undefined ? [] : ['--sim-stop-delay', STOP_DELAY]), '--runtime', 'sim', ...storeArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ORDINAL_LOG_LEVEL: 'warn', ...env } },
  );
  let out = '';
  // Keep only the tail: warnings under load could otherwise grow without bound.
  const keep = (d: Buffer) => (out = (out + d).slice(-20_000));
  // ORDINAL_BENCH_LOG=<file> keeps all of the process's output (what --trace-gc prints, say).
  if (process.env.ORDINAL_BENCH_LOG) {
    const log = createWriteStream(process.env.ORDINAL_BENCH_LOG, { flags: 'a' });
    proc.stdout!.pipe(log);
    proc.stderr!.pipe(log);
  }
  proc.stderr!.on('data', keep);
  proc.stdout!.on('data', keep);
  const url = (await awaitOutput(proc, /ready at (https:\/\/\S+)/, { text: () => out, timeoutMs: 60_000, notReady: 'ordinal did not start within 60 s', what: 'ordinal' }))[1]!;
  const cluster: Cluster = { dataDir, kubeconfig: join(dataDir, 'kubeconfig'), url, proc, logs: () => out };
  const api = adminClient(url, dataDir, { maxSockets: 8, clock: monoUs });
  const watch = (path: string, onEvent: (type: string, obj: any, arrivedUs: number) => void) =>
    api.watch(path, onEvent, () => console.log(`  (warning: the server ended the watch ${path}; figures that depend on it will time out)`));

  return {
    cluster,
    get: (path) => api.send('GET', path),
    send: api.send,
    watch,
    close: async () => {
      api.close();
      await stopCluster(cluster);
      removeCluster(cluster);
    },
  };
}

// ----------------------------------------------------------------------------- objects

const IMAGE_V1 = 'registry.k8s.io/nginx-slim:0.8';
const IMAGE_V2 = 'registry.k8s.io/nginx-slim:0.9';

function headlessService(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: { app: name } },
    spec: { clusterIP: 'None', selector: { app: name }, ports: [{ name: 'web', port: 80 }] },
  };
}

/** The tutorial's `web` set, starting at 0 replicas, with one 1Mi claim template on the default class. */
function statefulSet(name: string, policy: 'Parallel' | 'OrderedReady', withClaim = true) {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: 0,
      podManagementPolicy: policy,
      selector: { matchLabels: { app: name } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: MAX_UNAVAILABLE } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: IMAGE_V1,
              ports: [{ containerPort: 80, name: 'web' }],
              ...(withClaim ? { volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }] } : {}),
            },
          ],
        },
      },
      ...(withClaim
        ? { volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } }] }
        : {}),
    },
  };
}

const isReady = (pod: any) => pod?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true && pod.status.phase === 'Running';

async function createSet(b: Bench, name: string, policy: 'Parallel' | 'OrderedReady', withClaim = true) {
  await b.send('POST', `/api/v1/namespaces/${NS}/services`, headlessService(name));
  await b.send('POST', `/apis/apps/v1/namespaces/${NS}/statefulsets`, statefulSet(name, policy, withClaim));
}

/** Scales through the scale subresource, as `kubectl scale` does. Returns the monotonic µs it was sent at. */
async function scale(b: Bench, name: string, replicas: number): Promise<number> {
  const t0 = monoUs();
  await b.send('PATCH', `/apis/apps/v1/namespaces/${NS}/statefulsets/${name}/scale`, { spec: { replicas } }, 'application/merge-patch+json');
  return t0;
}

// ----------------------------------------------------------------------------- cases

interface ScaleResult {
  n: number;
  seconds: number;
  createdSeconds: number;
  milestones: string;
  /** Per-object stage latencies (median / p90 ms), from watch arrival times. */
  stages: string;
  rssReady: number;
  hwm: number;
  /** CPU ms the ordinal process used from the scale request to the last pod Ready. */
  cpuMs: number;
  /** The part of it on the main thread (API server, controllers; the sim nodes unless they run in a worker). */
  mainCpuMs: number;
  /** CPU ms by thread name over the same time. */
  byThread: [string, number][];
  /** The idle cluster's CPU ms per second (heartbeats, leases, timers), measured just before. */
  idleCpuMsPerS: number;
  /** cpuMs less what the idle cluster would have used in the same wall time: the pods' own cost, steadier on a loaded machine. */
  cpuMsBeyondIdle: number;
  writes: WriteFigures;
}

/** Median and p90 (ms) of the stage latencies of objects that went through both ends of a stage. */
function stageSummary(
  pods: Map<string, { created: number; scheduled?: number; running?: number; ready?: number }>,
  claims: Map<string, { created: number; selected?: number; bound?: number }>,
): string {
  const stat = (xs: number[]) => {
    if (xs.length === 0) return 'n/a';
    xs.sort((a, b) => a - b);
    const at = (q: number) => (xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] / 1000).toFixed(0);
    return `${at(0.5)} / ${at(0.9)}`;
  };
  const span = <T>(items: Iterable<T>, from: (x: T) => number | undefined, to: (x: T) => number | undefined) => {
    const out: number[] = [];
    for (const x of items) {
      const a = from(x);
      const b = to(x);
      if (a !== undefined && b !== undefined) out.push(b - a);
    }
    return stat(out);
  };
  const p = [...pods.values()];
  return (
    `stages, median / p90 ms: claim created → Bound ${span(claims.values(), (c) => c.created, (c) => c.bound)} ` +
    `(created → node selected ${span(claims.values(), (c) => c.created, (c) => c.selected)}, node selected → Bound ${span(claims.values(), (c) => c.selected, (c) => c.bound)}); ` +
    `pod created → scheduled ${span(p, (x) => x.created, (x) => x.scheduled)}, scheduled → Running ${span(p, (x) => x.scheduled, (x) => x.running)}, ` +
    `Running → Ready seen ${span(p, (x) => x.running, (x) => x.ready)}`
  );
}

/** Scales a Parallel set from 0 to n and waits until a watch has seen all n pods Ready. */
async function parallelScale(b: Bench, name: string, n: number, timeoutS: number, progressEveryS = 0): Promise<ScaleResult> {
  await createSet(b, name, 'Parallel');
  const created = new Set<string>();
  const ready = new Set<string>();
  const scheduled = new Set<string>();
  const claims = new Set<string>();
  const bound = new Set<string>();
  let createdAll = 0;
  const marks: Record<number, number> = {};
  // Watch arrival times (µs) per pod and claim, to tell which stage of the pipeline the time goes to.
  const podTimes = new Map<string, { created: number; scheduled?: number; running?: number; ready?: number }>();
  const claimTimes = new Map<string, { created: number; selected?: number; bound?: number }>();
  let done: () => void = () => {};
  const allReady = new Promise<void>((r) => (done = r));
  const stop = await b.watch(`/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3D${name}`, (type, pod, t) => {
    const podName: string = pod.metadata.name;
    if (type === 'DELETED') return;
    if (!created.has(podName)) {
      created.add(podName);
      if (created.size === n) createdAll = t;
    }
    if (pod.spec?.nodeName) scheduled.add(podName);
    let times = podTimes.get(podName);
    if (!times) podTimes.set(podName, (times = { created: t }));
    if (pod.spec?.nodeName) times.scheduled ??= t;
    if (pod.status?.phase === 'Running') times.running ??= t;
    if (!ready.has(podName) && isReady(pod)) {
      times.ready ??= t;
      ready.add(podName);
      for (const q of [0.1, 0.5, 0.9]) if (ready.size === Math.ceil(q * n)) marks[q] = t;
      if (ready.size === n) {
        marks[1] = t;
        done();
      }
    }
  });
  // Claims too, to see which stage a slow run is stuck in.
  const stopClaims = await b.watch(`/api/v1/namespaces/${NS}/persistentvolumeclaims?watch=true&labelSelector=app%3D${name}`, (type, claim, t) => {
    if (type === 'DELETED') return;
    claims.add(claim.metadata.name);
    let times = claimTimes.get(claim.metadata.name);
    if (!times) claimTimes.set(claim.metadata.name, (times = { created: t }));
    // The scheduler's choice for a WaitForFirstConsumer claim, which the volume controller then provisions on.
    if (claim.metadata.annotations?.['volume.kubernetes.io/selected-node']) times.selected ??= t;
    if (claim.status?.phase === 'Bound') {
      bound.add(claim.metadata.name);
      times.bound ??= t;
    }
  });
  const pid = b.cluster.proc.pid!;
  const progress = () =>
    `${claims.size} claims created, ${bound.size} Bound, ${created.size} pods created, ${scheduled.size} scheduled, ${ready.size} Ready; ordinal RSS ${mib(procStatus(pid, 'VmRSS'))}`;
  let ticker: NodeJS.Timeout | undefined;
  try {
    const idle = await idleCpuRate(pid);
    const writes0 = await storeWrites(b);
    const cpu0 = cpuMs(pid);
    const main0 = threadCpuMs(pid);
    const threads0 = cpuMsByThread(pid);
    const t0 = await scale(b, name, n);
    if (progressEveryS) {
      ticker = setInterval(() => {
        console.log(`  after ${((monoUs() - t0) / 1e6).toFixed(0)} s: ${progress()}`);
      }, progressEveryS * 1000);
    }
    await withDeadline(`Parallel 0 → ${n}`, timeoutS, progress, () => allReady);
    const cpu = cpuMs(pid) - cpu0;
    const mainCpu = threadCpuMs(pid) - main0;
    const byThread = threadCpuDelta(threads0, cpuMsByThread(pid));
    const seconds = (marks[1] - t0) / 1e6;
    const writes = writesBetween(writes0, await storeWrites(b));
    const rssReady = procStatus(b.cluster.proc.pid!, 'VmRSS');
    const hwm = procStatus(b.cluster.proc.pid!, 'VmHWM');
    const s = (t: number) => ((t - t0) / 1e6).toFixed(2);
    return {
      n,
      seconds: (marks[1] - t0) / 1e6,
      createdSeconds: (createdAll - t0) / 1e6,
      milestones: `10% Ready at ${s(marks[0.1])} s, 50% at ${s(marks[0.5])} s, 90% at ${s(marks[0.9])} s`,
      stages: stageSummary(podTimes, claimTimes),
      rssReady,
      hwm,
      cpuMs: cpu,
      mainCpuMs: mainCpu,
      byThread,
      idleCpuMsPerS: idle,
      cpuMsBeyondIdle: cpu - idle * seconds,
      writes,
    };
  } finally {
    clearInterval(ticker);
    stop();
    stopClaims();
  }
}

function printScale(r: ScaleResult, nodes: number) {
  console.log(`Parallel 0 → ${r.n} (1 claim template, ${nodes} nodes): ${r.seconds.toFixed(2)} s = ${(r.n / r.seconds).toFixed(0)} pods/s to all Running and Ready`);
  console.log(`  all ${r.n} pods created after ${r.createdSeconds.toFixed(2)} s; ${r.milestones}`);
  console.log(`  ${r.stages}`);
  console.log(
    `  ordinal CPU (utime+stime, scale request → last pod Ready): ${(r.cpuMs / 1000).toFixed(2)} s = ${(r.cpuMs / r.n).toFixed(2)} CPU-ms per pod; ` +
      `less the idle cluster's ${r.idleCpuMsPerS.toFixed(0)} CPU-ms/s over the same time: ${(r.cpuMsBeyondIdle / r.n).toFixed(2)} CPU-ms per pod; ` +
      `main thread ${(r.mainCpuMs / r.n).toFixed(2)} CPU-ms per pod`,
  );
  console.log(`  CPU-ms per pod by thread: ${r.byThread.map(([k, v]) => `${k} ${(v / r.n).toFixed(2)}`).join(', ')}`);
  printWrites(r.writes, r.n, r.n / r.seconds);
  console.log(`  ordinal RSS when all Ready: ${mib(r.rssReady)} (peak VmHWM ${mib(r.hwm)})`);
}

/**
 * Removes the n pods (all Running) of a Parallel set and waits until a watch has seen every pod
 * DELETED: by scaling the set to 0 (`kubectl scale --replicas=0`), or by deleting the set as
 * `kubectl delete statefulset` does (background propagation: the garbage collector deletes the
 * pods). Either way each pod is marked, its node stops the containers (the sim's stop delay) and
 * deletes it. The claims stay, as upstream's default retention policy (Retain) keeps them.
 */
async function caseRemoval(b: Bench, name: string, n: number, how: 'scale' | 'delete', timeoutS: number) {
  let gone = 0;
  let marked = 0;
  let done: () => void = () => {};
  const allGone = new Promise<void>((r) => (done = r));
  const seenMarked = new Set<string>();
  const stop = await b.watch(`/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3D${name}`, (type, pod) => {
    if (type === 'DELETED') {
      if (++gone === n) done();
    } else if (pod.metadata.deletionTimestamp && !seenMarked.has(pod.metadata.name)) {
      seenMarked.add(pod.metadata.name);
      marked++;
    }
  });
  const pid = b.cluster.proc.pid!;
  const what = how === 'scale' ? `Parallel ${n} → 0 (scaled)` : `Parallel set of ${n} deleted (background cascade)`;
  try {
    const writes0 = await storeWrites(b);
    const cpu0 = cpuMs(pid);
    const main0 = threadCpuMs(pid);
    const t0 = monoUs();
    if (how === 'scale') await scale(b, name, 0);
    else await b.send('DELETE', `/apis/apps/v1/namespaces/${NS}/statefulsets/${name}`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
    await withDeadline(what, timeoutS, () => `${marked} pods marked for deletion, ${gone} deleted`, () => allGone);
    const seconds = (monoUs() - t0) / 1e6;
    const cpu = cpuMs(pid) - cpu0;
    const mainCpu = threadCpuMs(pid) - main0;
    console.log(
      `${what}, default 30 s grace, sim stop delay ${STOP_DELAY ?? 200} ms: ${seconds.toFixed(2)} s = ${(n / seconds).toFixed(0)} pods/s to all deleted; ` +
        `ordinal CPU ${(cpu / 1000).toFixed(2)} s = ${(cpu / n).toFixed(2)} CPU-ms per pod (main thread ${(mainCpu / n).toFixed(2)})`,
    );
    printWrites(writesBetween(writes0, await storeWrites(b)), n, n / seconds);
  } finally {
    stop();
  }
}

async function caseRolling(b: Bench, name: string, n: number, timeoutS: number) {
  // Per pod name: whether its current pod runs the new image and is Ready.
  const good = new Map<string, boolean>();
  let goodCount = 0;
  let deleted = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const stop = await b.watch(`/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3D${name}`, (type, pod) => {
    const podName: string = pod.metadata.name;
    const was = good.get(podName) ?? false;
    const now = type !== 'DELETED' && !pod.metadata.deletionTimestamp && pod.spec.containers[0].image === IMAGE_V2 && isReady(pod);
    if (type === 'DELETED') deleted++;
    good.set(podName, now);
    goodCount += Number(now) - Number(was);
    if (goodCount === n) done();
  });
  try {
    const t0 = monoUs();
    await b.send(
      'PATCH',
      `/apis/apps/v1/namespaces/${NS}/statefulsets/${name}`,
      [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: IMAGE_V2 }],
      'application/json-patch+json',
    );
    await withDeadline(`rolling update of ${n}`, timeoutS, () => `${goodCount} pods updated and Ready, ${deleted} old pods deleted`, () => finished);
    const seconds = (monoUs() - t0) / 1e6;
    console.log(
      `Rolling update of ${n} pods (new image, maxUnavailable ${MAX_UNAVAILABLE}, default 30 s grace, sim stop delay ${STOP_DELAY ?? 200} ms): ` +
        `${seconds.toFixed(2)} s to all updated and Ready = ${(n / seconds).toFixed(0)} pods/s (${deleted} old pods deleted)`,
    );
  } finally {
    stop();
  }
}

async function caseOrdered(b: Bench, name: string, n: number, withClaim: boolean, timeoutS: number, commitTrace?: string) {
  await createSet(b, name, 'OrderedReady', withClaim);
  const createdAt = new Map<number, number>();
  const readyAt = new Map<number, number>();
  let done: () => void = () => {};
  const allReady = new Promise<void>((r) => (done = r));
  const stop = await b.watch(`/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3D${name}`, (type, pod, t) => {
    const i = Number(pod.metadata.name.slice(name.length + 1));
    if (type === 'DELETED') return;
    if (!createdAt.has(i)) createdAt.set(i, t);
    if (!readyAt.has(i) && isReady(pod)) {
      readyAt.set(i, t);
      if (readyAt.size === n) done();
    }
  });
  try {
    const pid = b.cluster.proc.pid!;
    const cpu0 = cpuMs(pid);
    const writes0 = await storeWrites(b);
    const t0 = await scale(b, name, n);
    await withDeadline(`OrderedReady 0 → ${n}`, timeoutS, () => `${createdAt.size} pods created, ${readyAt.size} Ready`, () => allReady);
    const total = (Math.max(...readyAt.values()) - t0) / 1000;
    const steps: number[] = [];
    for (let i = 0; i + 1 < n; i++) steps.push((createdAt.get(i + 1)! - readyAt.get(i)!) / 1000);
    const lives: number[] = [];
    for (let i = 0; i < n; i++) lives.push((readyAt.get(i)! - createdAt.get(i)!) / 1000);
    console.log(
      `OrderedReady 0 → ${n} (${withClaim ? '1 claim template' : 'no claim template'}): step pod i Ready → pod i+1 created: ` +
        `median ${ms(quantile(steps, 0.5))}, p90 ${ms(quantile(steps, 0.9))}, max ${ms(Math.max(...steps))}; ` +
        `pod created → Ready median ${ms(quantile(lives, 0.5))}; whole scale-up ${(total / 1000).toFixed(2)} s`,
    );
    if (commitTrace) await printStepParts(commitTrace, name, n, withClaim);
    const cpu = cpuMs(pid) - cpu0;
    console.log(`  ordinal CPU for the whole scale-up: ${(cpu / 1000).toFixed(2)} s = ${(cpu / n).toFixed(2)} CPU-ms per pod`);
    printWrites(writesBetween(writes0, await storeWrites(b)), n, n / (total / 1000));
  } finally {
    stop();
  }
}

/** The step's medians split by the store's commits (bench/commit-chain.ts), from the server's commit trace. */
async function printStepParts(file: string, name: string, n: number, withClaim: boolean) {
  await sleep(200); // the server appends to the trace through a stream
  const steps = stepParts(parseCommitTrace(readFileSync(file, 'utf8')), { namespace: NS, set: name, replicas: n, claimTemplate: withClaim ? 'www' : undefined });
  if (!steps.length) {
    console.log(`  step by the store's commits: no step found in the commit trace`);
    return;
  }
  const med = (f: (s: StepParts) => number | undefined) => ms(quantile(steps.map((s) => f(s)!), 0.5) / 1000);
  console.log(
    `  step by the store's commits (medians of ${steps.length}; commit = sent to the writer thread → answered, the rest is the main thread): pod i's Ready committed → ` +
      (withClaim
        ? `claim i+1 sent ${med((s) => s.readyToFirst)}, claim commit ${med((s) => s.claimCommit)}, claim committed → pod i+1 sent ${med((s) => s.claimToPod)} (batches committed between: ${quantile(steps.map((s) => s.between!), 0.5)}), `
        : `pod i+1 sent ${med((s) => s.readyToFirst)}, `) +
      `pod commit ${med((s) => s.podCommit)}; Ready committed → pod i+1 committed ${med((s) => s.total)}`,
  );
}

async function countVolumes(b: Bench) {
  const claims = await b.get(`/api/v1/namespaces/${NS}/persistentvolumeclaims`);
  const pvs = await b.get(`/api/v1/persistentvolumes`);
  const bound = claims.items.filter((c: any) => c.status?.phase === 'Bound').length;
  return `${claims.items.length} claims (${bound} Bound), ${pvs.items.length} volumes`;
}

// ----------------------------------------------------------------------------- CPU profile

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * Self time per function (with its hottest caller chain), and time per component, within the
 * window [fromUs, toUs] (all samples if the clocks disagree). A sample's component is the innermost
 * controller, scheduler or agent frame on its stack — what caused the work, API writes made through
 * the in-process client included — else the outermost src/ directory (apiserver for HTTP requests,
 * storage for commits and watch fan-out), else V8's own categories.
 */
function summariseProfile(path: string, fromUs: number, toUs: number) {
  const p = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const windowed = fromUs >= p.startTime && toUs <= p.endTime;
  const selfUs = new Map<number, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    // A sample's weight is the time to the next one, as DevTools counts it.
    const w = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1] : 0;
    if (windowed && (t < fromUs || t > toUs)) continue;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + w);
    total += w;
  }
  const fileOf = (url: string) => (url.startsWith('file://') ? relative(target, new URL(url).pathname) : url || '(native/V8)');
  const nameOf = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anonymous)'} ${fileOf(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  };
  const componentOf = (id: number) => {
    let outer: string | undefined;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const file = fileOf(byId.get(cur)!.callFrame.url);
      const m = /^src\/(controllers\/[^/]+|scheduler|agent)\//.exec(file);
      if (m) return m[1];
      const d = /^src\/([^/]+)\//.exec(file);
      if (d) outer = d[1];
    }
    const own = byId.get(id)!.callFrame;
    return outer ?? (own.url ? 'node internals' : own.functionName);
  };
  const fns = new Map<string, number>();
  const chains = new Map<string, Map<string, number>>();
  const components = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const [id, us] of selfUs) {
    const fn = nameOf(id);
    bump(fns, fn, us);
    const chain: string[] = [];
    for (let cur = parent.get(id), k = 0; cur !== undefined && k < 3; cur = parent.get(cur), k++) chain.push(nameOf(cur).replace(/ src\/.*\//, ' '));
    if (!chains.has(fn)) chains.set(fn, new Map());
    bump(chains.get(fn)!, chain.join(' ← '), us);
    bump(components, componentOf(id), us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms`;
  const ranked = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const fnLines = ranked(fns)
    .slice(0, 20)
    .flatMap(([name, us], i) => {
      const lines = [`  ${pct(us)}  ${name}`];
      if (i < 8) {
        const [chain, cus] = ranked(chains.get(name)!)[0] ?? ['', 0];
        if (chain) lines.push(`                     ${((100 * cus) / us).toFixed(0)}% from ${chain}`);
      }
      return lines;
    });
  const componentLines = ranked(components).slice(0, 14).map(([name, us]) => `  ${pct(us)}  ${name}`);
  return { windowed, totalMs: total / 1000, fns: fnLines, components: componentLines };
}

// ----------------------------------------------------------------------------- main

async function run(label: string, nodes: number, body: (b: Bench) => Promise<void>, nodeFlags: string[] = [], env: Record<string, string> = {}): Promise<boolean> {
  const etcd = currentStore === 'etcd' ? await startEtcd() : undefined;
  // 1,000 serial then 5,000 concurrent creates. With 300 and 1,500 the concurrent rate read 2,391 to
  // 3,949/s in three rounds, short of what etcd keeps up (4,807/s over 10,000), so the ceiling
  // printed beside the case was too low; with these, 4,609 to 4,901/s on three fresh etcds.
  rawEtcdRate = etcd ? await rawEtcd(etcd.url, 1000) : undefined;
  const b = await startOrdinal(nodes, nodeFlags, etcd ? ['--store', 'etcd', '--etcd-servers', etcd.url] : [], env).catch(async (err) => {
    await etcd?.remove();
    throw err;
  });
  try {
    await body(b);
    if (etcd) console.log(`  etcd RSS at the end: ${mib(procStatus(etcd.proc.pid!, 'VmRSS'))} (peak VmHWM ${mib(procStatus(etcd.proc.pid!, 'VmHWM'))}); ordinal RSS ${mib(procStatus(b.cluster.proc.pid!, 'VmRSS'))}`);
    return true;
  } catch (err) {
    console.log(`ABORTED (${label}): ${err instanceof Aborted ? err.message : (err as Error).stack}`);
    if (!(err instanceof Aborted)) console.log(b.cluster.logs().slice(-3000));
    return false;
  } finally {
    await b.close();
    await etcd?.remove();
  }
}

async function main() {
  const started = Date.now();
  const cpu = os.cpus();
  console.log(`# Ordinal StatefulSet benchmark (${new Date().toISOString()})${target !== root ? `, measuring the ordinal of ${target}` : ''}`);
  console.log(
    `machine: ${cpu.length} cores (${cpu[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; node ${process.version} (bench client and ordinal share the machine)`,
  );
  console.log(
    `cluster: one \`ordinal up\` process (API server + all controllers + scheduler + simulated node agents; node ${ORDINAL_NODE_FLAGS.join(' ')}), sqlite store in ${os.tmpdir()}, ` +
      `--sim-start-delay ${DELAY} ms, node capacity 110 pods (agent default), kubelet events on; client: HTTPS admin cert, pods observed by a watch`,
  );
  rawRate = rawSqlite(2000);
  console.log(`raw SQLite on this disk (WAL, synchronous=FULL): ${rawRate.perCommit.toFixed(0)} writes/s one commit per write, ${rawRate.batched.toFixed(0)} writes/s in commits of 100`);
  let ok = true;
  for (const store of STORES) {
    currentStore = store;
    if (STORES.length > 1) console.log(`\n## store: ${store}${store === 'etcd' ? ` (Debian's ${ETCD_BIN}, one member, data in ${os.tmpdir()}, fsync on)` : ''}`);

    if (CASES.has('parallel1k') || CASES.has('rolling') || CASES.has('scaledown')) {
      ok = (await run(`Parallel 0 → ${SMALL}`, NODES, async (b) => {
        const r = await parallelScale(b, 'web', SMALL, 120);
        printScale(r, NODES);
        byStore.push({ store: currentStore, nodes: NODES, r });
        if (CASES.has('rolling')) await caseRolling(b, 'web', SMALL, 180);
        if (CASES.has('scaledown')) await caseRemoval(b, 'web', SMALL, 'scale', 120);
      })) && ok;
    }

    if (CASES.has('cascade')) {
      ok = (await run(`Parallel 0 → ${SMALL}, then the set deleted`, NODES, async (b) => {
        await parallelScale(b, 'web', SMALL, 120);
        await caseRemoval(b, 'web', SMALL, 'delete', 120);
      })) && ok;
    }

    if (CASES.has('ordered')) {
      // The SQLite store records its commits (src/storage/commit-trace.ts), which split each step into
      // commits and the rest. ORDINAL_BENCH_COMMIT_TRACE=<file> keeps the trace there (to set beside
      // a CPU profile's samples, say), instead of in a temporary file.
      const kept = process.env.ORDINAL_BENCH_COMMIT_TRACE;
      const trace = currentStore === 'sqlite' ? (kept ?? join(tempDir('ordinal-bench-commits-'), 'commits.txt')) : undefined;
      if (kept) rmSync(kept, { force: true }); // the server appends: a kept file holds this run only
      ok = (await run(
        `OrderedReady 0 → ${ORDERED}`,
        NODES,
        async (b) => {
          console.log(`OrderedReady (${NODES} nodes): times are watch arrival times in the bench client (creationTimestamp has only second precision)`);
          await caseOrdered(b, 'web', ORDERED, true, 120, trace);
          await caseOrdered(b, 'plain', ORDERED, false, 120, trace);
        },
        [],
        trace ? { ORDINAL_TRACE_COMMITS: trace } : {},
      )) && ok;
      if (trace && !kept) rmSync(dirname(trace), { recursive: true, force: true });
    }

    if (CASES.has('parallel10k')) {
      ok = (await run(`Parallel 0 → ${LARGE}`, LARGE_NODES, async (b) => {
        let r: ScaleResult;
        try {
          r = await parallelScale(b, 'web', LARGE, LARGE_TIMEOUT_S, 30);
        } catch (err) {
          // Still worth knowing: the memory at however many pods and claims exist by now.
          if (err instanceof Aborted) {
            const rss = procStatus(b.cluster.proc.pid!, 'VmRSS');
            const volumes = await countVolumes(b).catch((e: Error) => `volumes not counted (${e.message})`);
            console.log(`  at the deadline: ordinal RSS ${mib(rss)}, VmHWM ${mib(procStatus(b.cluster.proc.pid!, 'VmHWM'))}; ${volumes}`);
          }
          throw err;
        }
        printScale(r, LARGE_NODES);
        byStore.push({ store: currentStore, nodes: LARGE_NODES, r });
        const counts = await countVolumes(b);
        const rss = procStatus(b.cluster.proc.pid!, 'VmRSS');
        console.log(`  memory at ${LARGE} pods with ${counts}: ordinal RSS ${mib(rss)} (the only cluster process; bench client excluded)`);
        // What the cluster costs once nothing happens (leases, node status, agents' timers), all pods Running.
        await sleep(IDLE_AFTER_S * 1000);
        const idle = await idleCpuRates(b.cluster.proc.pid!, 15);
        console.log(
          `  idle at ${LARGE} pods (15 s, ${IDLE_AFTER_S} s after all Ready): ${idle.total.toFixed(0)} CPU-ms/s, of which the main thread ${idle.main.toFixed(0)}; ` +
            `ordinal RSS ${mib(procStatus(b.cluster.proc.pid!, 'VmRSS'))} at the end (once quiet, ordinal compacts its heap after a burst: src/util/idle-compaction.ts, whose CPU this window includes)`,
        );
        if (CASES.has('scaledown')) await caseRemoval(b, 'web', LARGE, 'scale', LARGE_TIMEOUT_S);
      })) && ok;
    }

    if (CASES.has('fanout')) {
      ok = (await run(`watch fan-out`, NODES, async (b) => {
        const pid = b.cluster.proc.pid!;
        const rss0 = procStatus(pid, 'VmRSS');
        const cpu0 = cpuMs(pid);
        const f = await watchFanout({ url: b.cluster.url, dataDir: b.cluster.dataDir, send: b.send }, { watchers: WATCHERS, pods: FANOUT_PODS, namespace: NS, timeoutS: 180, image: IMAGE_V1 });
        const cpu = cpuMs(pid) - cpu0;
        const q = (xs: number[], p: number) => (xs.length ? (quantile(xs, p) / 1000).toFixed(1) : 'n/a');
        console.log(
          `Watch fan-out: ${f.watchers} watchers of all pods (own HTTPS connection each) while ${f.pods} pods are created (32 in flight, no claims): ` +
            `create sent → ADDED at a watcher p50 ${q(f.added, 0.5)} ms, p99 ${q(f.added, 0.99)} ms; spread behind the first watcher, all ${f.events} events: p50 ${q(f.spread, 0.5)} ms, p99 ${q(f.spread, 0.99)} ms` +
            (f.missing ? `; ${f.missing} ADDED events never arrived within 180 s` : ''),
        );
        console.log(
          `  ordinal: RSS ${mib(rss0)} before, ${mib(procStatus(pid, 'VmRSS'))} after (peak VmHWM ${mib(procStatus(pid, 'VmHWM'))}); CPU ${(cpu / 1000).toFixed(2)} s = ${(cpu / f.pods).toFixed(2)} CPU-ms per pod over ${f.seconds.toFixed(1)} s (the bench's watchers share the machine)`,
        );
      })) && ok;
    }

    if (CASES.has('profile')) {
      const profDir = tempDir('ordinal-bench-prof-');
      let window = [0, 0];
      ok = (await run(
        'CPU profile',
        NODES,
        async (b) => {
          const from = monoUs();
          window = [from, from];
          try {
            const r = await parallelScale(b, 'web', SMALL, PROFILE_TIMEOUT_S);
            console.log(`CPU profile (--cpu-prof on ordinal) of Parallel 0 → ${SMALL}: ${r.seconds.toFixed(2)} s under the profiler`);
          } finally {
            window = [from, monoUs()];
          }
        },
        ['--cpu-prof', '--cpu-prof-dir', profDir],
      )) && ok;
      // One profile per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>): the main thread is 0; the
      // SQLite writer and other worker threads write their own.
      const file = readdirSync(profDir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
      if (file) {
        const s = summariseProfile(join(profDir, file), window[0], window[1]);
        console.log(`  ${s.windowed ? 'samples during the scale-up only' : 'all samples (clock window did not match)'}: ${s.totalMs.toFixed(0)} ms; profile kept at ${join(profDir, file)}`);
        console.log('  top self time by function:');
        for (const l of s.fns) console.log(l);
        console.log('  CPU by component (innermost controller/scheduler/agent frame on the stack, else outermost src/ dir):');
        for (const l of s.components) console.log(l);
      } else console.log('  no profile was written');
    }
  }
  if (STORES.length > 1 && byStore.length) {
    console.log('\n## stores side by side');
    for (const { store, nodes, r } of byStore) {
      console.log(
        `${store.padEnd(6)} Parallel 0 → ${r.n} (${nodes} nodes): ${(r.n / r.seconds).toFixed(0)} pods/s, ${(r.cpuMs / r.n).toFixed(2)} ordinal CPU-ms per pod ` +
          `(${(r.cpuMsBeyondIdle / r.n).toFixed(2)} beyond idle), ${((r.writes.total || r.writes.revisions) / r.n).toFixed(2)} store writes per pod, ordinal RSS ${mib(r.rssReady)}`,
      );
    }
  }
  console.log(`(bench ran ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  if (!ok) process.exitCode = 1;
}

await main();
