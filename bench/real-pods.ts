// Real-pod start benchmark (issue 4): a private containerd with the test images, `ordinal up
// --runtime containerd` on its own bridge and pod CIDR, and a Parallel StatefulSet of the nginx
// stand-in (busybox httpd) scaled 0 → N → 0 with the real `kubectl scale`, several times:
//   - total: from the moment `kubectl scale` is started until a watch has seen all N pods Ready;
//   - per pod: its creation observed by the watch → Ready observed (millisecond wall-clock
//     timestamps at arrival), broken down into scheduled, first agent status, sandbox ready (IP),
//     container started, Running observed, Ready observed. With --trace (default) the ordinal
//     process is loaded with bench/real-pods-trace.ts, which timestamps the runtime's calls, every
//     CRI round-trip and the agent's status writes, and samples its event loop.
// Cases: no probe, an httpGet readiness probe on :80 (upstream defaults: period 10 s, timeout 1 s),
// and a volumeClaimTemplate (the tutorial's shape, no probe).
// The floor, measured in the same run against the same containerd while no pod runs:
//   - `ctr run -d` of N containers of the same image and command at once: no CNI (each gets an
//     empty network namespace of its own), started = `ctr run -d` returned (task started);
//   - CRI directly, N at once: RunPodSandbox (pause + netns + CNI bridge, the agent's own config)
//     + CreateContainer + StartContainer, then the first HTTP 200 from the pod's IP.
//   node bench/real-pods.ts [--reps 3] [--pods 20] [--cases noprobe,probe,claims] [--floors ctr,cri]
//        [--no-trace] [--keep-trace] [--cpu-prof DIR] [--timeout 120]
// Needs root, containerd, runc, CNI plugins, busybox-static (test/e2e/containerd/install.sh).
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { kubectl } from '../test/integration/harness.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from '../test/e2e/containerd/real-cluster.ts';
import { run } from '../test/e2e/containerd/containerd.ts';
import { CriClient } from '../src/agent/runtime/cri/client.ts';
import { containerConfigFor, LABELS, sandboxConfigFor } from '../src/agent/runtime/cri/pod-config.ts';
import type { TraceRecord } from './real-pods-trace.ts';
import { adminClient, type AdminClient } from './admin-client.ts';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    reps: { type: 'string' },
    pods: { type: 'string' },
    cases: { type: 'string' },
    floors: { type: 'string' },
    trace: { type: 'boolean', default: true },
    'no-trace': { type: 'boolean', default: false },
    'keep-trace': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    timeout: { type: 'string' },
  },
});
const REPS = Number(values.reps ?? 3);
const N = Number(values.pods ?? 20);
const CASES = (values.cases ?? 'noprobe,probe,claims').split(',').map((s) => s.trim()).filter(Boolean) as CaseName[];
const FLOORS = new Set((values.floors ?? 'ctr,cri').split(',').map((s) => s.trim()));
const TRACE = values.trace && !values['no-trace'];
const TIMEOUT_S = Number(values.timeout ?? 120);
const IMAGE = 'registry.k8s.io/nginx-slim:0.8';
const NS = 'default';

type CaseName = 'noprobe' | 'probe' | 'claims';
const CASE_TEXT: Record<CaseName, string> = {
  noprobe: 'no probe',
  probe: 'readinessProbe httpGet :80 (period 10 s, timeout 1 s)',
  claims: '1 volumeClaimTemplate (1Mi), no probe',
};

// ----------------------------------------------------------------------------- helpers

/** Wall-clock ms with sub-ms resolution: comparable with the trace, which the ordinal process writes with the same clock. */
const wallMs = () => performance.timeOrigin + performance.now();
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => (xs.length ? sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))]! : NaN);
const median = (xs: number[]) => quantile(xs, 0.5);
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

class Aborted extends Error {}

async function withDeadline<T>(what: string, seconds: number, progress: () => string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Aborted(`${what}: aborted after ${seconds} s (${progress()})`)), seconds * 1000);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU jiffies of the whole machine: busy and all. */
function machineJiffies(): { busy: number; all: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const all = cpu.reduce((a, b) => a + b, 0);
  const idle = cpu[3]! + (cpu[4] ?? 0);
  return { busy: all - idle, all };
}

interface ProcInfo {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime: its own CPU and that of the children it has reaped (runc, CNI plugins, kubectl, ctr). */
  jiffies: number;
  cmdline: string;
}
function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.push({ pid: Number(d), ppid: Number(f[1]), jiffies: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
const HZ = 100;

interface CpuMark {
  m: { busy: number; all: number };
  /** jiffies per pid of the processes that are ours: ordinal, containerd, its shims and their containers, this process (with kubectl/ctr it reaped) */
  ours: Map<number, { jiffies: number; role: 'ordinal' | 'containerd' | 'shims' | 'bench' }>;
}
function cpuMark(real: RealCluster): CpuMark {
  const all = processes();
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const ours = new Map<number, { jiffies: number; role: 'ordinal' | 'containerd' | 'shims' | 'bench' }>();
  const addTree = (p: ProcInfo, role: 'ordinal' | 'containerd' | 'shims' | 'bench') => {
    if (ours.has(p.pid)) return;
    ours.set(p.pid, { jiffies: p.jiffies, role });
    for (const c of children.get(p.pid) ?? []) addTree(c, role);
  };
  for (const p of all) {
    if (p.pid === real.cluster.proc.pid) addTree(p, 'ordinal');
    else if (p.pid === real.cd.pid) addTree(p, 'containerd');
    else if (p.pid === process.pid) ours.set(p.pid, { jiffies: p.jiffies, role: 'bench' });
    else if (p.cmdline.startsWith('/usr/bin/containerd-shim') && p.cmdline.includes(real.cd.socket)) addTree(p, 'shims');
  }
  return { m: machineJiffies(), ours };
}
/**
 * CPU seconds between two marks: machine-wide, by ordinal, containerd (with the CNI plugins it ran),
 * the shims (with runc and the containers), this process (with kubectl and ctr), and by everything
 * else on the machine (other users' work: the machine is shared).
 */
function cpuSpent(a: CpuMark, b: CpuMark) {
  const by = { ordinal: 0, containerd: 0, shims: 0, bench: 0 };
  for (const [pid, x] of b.ours) by[x.role] += (x.jiffies - (a.ours.get(pid)?.jiffies ?? 0)) / HZ;
  const machine = (b.m.busy - a.m.busy) / HZ;
  const wall = (b.m.all - a.m.all) / HZ / os.cpus().length;
  return { machine, ...by, others: machine - by.ordinal - by.containerd - by.shims - by.bench, wall };
}
type CpuSpent = ReturnType<typeof cpuSpent>;

// ----------------------------------------------------------------------------- API access

type Api = AdminClient;

function apiFor(real: RealCluster): Api {
  return adminClient(real.cluster.url, real.cluster.dataDir, { maxSockets: 4, clock: wallMs });
}

// ----------------------------------------------------------------------------- objects

function statefulSet(name: CaseName) {
  const container: any = { name: 'nginx', image: IMAGE, ports: [{ containerPort: 80, name: 'web' }] };
  if (name === 'probe') container.readinessProbe = { httpGet: { path: '/', port: 80 } };
  if (name === 'claims') container.volumeMounts = [{ name: 'www', mountPath: '/usr/share/nginx/html' }];
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: `bench-${name}` },
    spec: {
      serviceName: 'bench',
      replicas: 0,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { app: `bench-${name}` } },
      template: { metadata: { labels: { app: `bench-${name}`, bench: 'real-pods' } }, spec: { terminationGracePeriodSeconds: 5, containers: [container] } },
      ...(name === 'claims' ? { volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } }] } : {}),
    },
  };
}

const isReady = (pod: any) => pod?.status?.phase === 'Running' && pod?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;

// ----------------------------------------------------------------------------- pods as the watch sees them

/** When the watch first saw each step of one pod (wall ms). */
interface PodSeen {
  name: string;
  uid: string;
  created: number;
  scheduled?: number;
  /** The agent's first status write (Pending, startTime set). */
  accepted?: number;
  /** podIP and a running container in the same write (the agent reports them together). */
  running?: number;
  ready?: number;
  deleted?: number;
}

class PodWatch {
  readonly pods = new Map<string, PodSeen>(); // by uid
  private waiters: Array<() => void> = [];

  onEvent(type: string, pod: any, at: number): void {
    if (pod?.metadata?.labels?.bench !== 'real-pods') return;
    const uid: string = pod.metadata.uid;
    let p = this.pods.get(uid);
    if (!p) this.pods.set(uid, (p = { name: pod.metadata.name, uid, created: at }));
    if (type === 'DELETED') p.deleted ??= at;
    if (pod.spec?.nodeName) p.scheduled ??= at;
    if (pod.status?.startTime) p.accepted ??= at;
    if (pod.status?.podIP && pod.status?.containerStatuses?.some((c: any) => c.state?.running)) p.running ??= at;
    if (isReady(pod)) p.ready ??= at;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when cond holds, re-checked after every event (and every 100 ms for conditions outside the watch). */
  until(cond: () => boolean | Promise<boolean>): Promise<void> {
    return new Promise((res) => {
      let done = false;
      const check = async () => {
        if (done) return;
        if (await cond()) {
          done = true;
          clearInterval(timer);
          res();
        } else this.waiters.push(check);
      };
      const timer = setInterval(() => void check(), 100);
      void check();
    });
  }

  of(set: string, since: number): PodSeen[] {
    return [...this.pods.values()].filter((p) => p.name.startsWith(`${set}-`) && p.created >= since);
  }
}

// ----------------------------------------------------------------------------- the trace

function readTrace(file: string | undefined, from: number, to: number): TraceRecord[] {
  if (!file || !existsSync(file)) return [];
  const out: TraceRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line) as TraceRecord;
    if (r.t0 >= from && r.t0 <= to) out.push(r);
  }
  return out;
}

/** Per pod, from the trace: when the agent began the sandbox, when it was ready, container created/started, first probe success. */
interface PodTrace {
  sandboxStart?: number;
  sandboxEnd?: number;
  createEnd?: number;
  startEnd?: number;
  probeOk?: number;
  probes: number;
  statusWrites: number;
}

function podTraces(trace: TraceRecord[]): Map<string, PodTrace> {
  const byPod = new Map<string, PodTrace>();
  const get = (pod: string) => {
    let t = byPod.get(pod);
    if (!t) byPod.set(pod, (t = { probes: 0, statusWrites: 0 }));
    return t;
  };
  const podOfContainer = new Map<string, string>();
  for (const r of trace) {
    if (r.kind === 'runtime' && r.op === 'createContainer' && r.pod && r.id) podOfContainer.set(r.id, r.pod);
  }
  for (const r of trace) {
    if (r.kind === 'runtime') {
      const pod = r.pod ?? (r.id ? podOfContainer.get(r.id) : undefined);
      if (!pod) continue;
      const t = get(pod);
      if (r.op === 'runPodSandbox' && r.ok) {
        t.sandboxStart ??= r.t0;
        t.sandboxEnd ??= r.t1;
      } else if (r.op === 'createContainer' && r.ok) t.createEnd ??= r.t1;
      else if (r.op === 'startContainer' && r.ok) t.startEnd ??= r.t1;
      else if (r.op === 'probe' && r.note?.startsWith('readiness defined')) {
        t.probes++;
        if (r.note.endsWith('true')) t.probeOk ??= r.t1;
      }
    } else if (r.kind === 'status' && r.op === 'update pods/status' && r.pod) get(r.pod).statusWrites++;
  }
  return byPod;
}

/** Count, median and p90 duration of each CRI method and runtime call in the trace. */
function callStats(trace: TraceRecord[], kind: 'cri' | 'runtime'): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const r of trace) {
    if (r.kind !== kind) continue;
    let xs = m.get(r.op);
    if (!xs) m.set(r.op, (xs = []));
    xs.push(r.t1 - r.t0);
  }
  return m;
}

// ----------------------------------------------------------------------------- results

interface ScaleResult {
  kind: CaseName;
  total: number; // ms, kubectl scale started → last Ready seen
  kubectlMs: number; // kubectl scale's own run time
  firstCreated: number; // ms after t0
  perPod: number[]; // created → Ready, ms
  steps: Record<string, number[]>; // per pod, ms after its creation was observed
  down: number; // ms, kubectl scale 0 → all pods gone and their sandboxes removed
  cpu: CpuSpent;
  trace: TraceRecord[];
}

interface FloorResult {
  kind: 'ctr' | 'cri';
  total: number;
  started: number[]; // ms after launch
  sandbox?: number[];
  serving?: number[];
  cleanup: number;
  cpu: CpuSpent;
}

// ----------------------------------------------------------------------------- one scale 0 → N → 0

async function scaleCase(real: RealCluster, api: Api, pw: PodWatch, cri: CriClient, kind: CaseName, traceFile: string | undefined): Promise<ScaleResult> {
  const set = `bench-${kind}`;
  const c0 = cpuMark(real);
  const t0 = wallMs();
  const k = await kubectl(real.cluster, ['scale', `statefulset/${set}`, `--replicas=${N}`]);
  const kubectlMs = wallMs() - t0;
  if (k.code !== 0) throw new Error(`kubectl scale failed: ${k.stderr}`);
  const progress = () => {
    const ps = pw.of(set, t0 - 1000);
    return `${ps.length} created, ${ps.filter((p) => p.scheduled).length} scheduled, ${ps.filter((p) => p.running).length} running, ${ps.filter((p) => p.ready).length} Ready`;
  };
  await withDeadline(`${set} 0 → ${N}`, TIMEOUT_S, progress, pw.until(() => pw.of(set, t0 - 1000).filter((p) => p.ready && !p.deleted).length >= N));
  const tReady = wallMs();
  const c1 = cpuMark(real);
  const pods = pw.of(set, t0 - 1000);
  const total = Math.max(...pods.map((p) => p.ready!)) - t0;

  // Down again, until the pods are gone from the API and their sandboxes from containerd.
  const d0 = wallMs();
  const kd = await kubectl(real.cluster, ['scale', `statefulset/${set}`, '--replicas=0']);
  if (kd.code !== 0) throw new Error(`kubectl scale failed: ${kd.stderr}`);
  const names = new Set(pods.map((p) => p.name));
  await withDeadline(`${set} ${N} → 0`, TIMEOUT_S, progress, pw.until(async () => pods.every((p) => p.deleted) && !(await cri.listPodSandbox()).some((s) => names.has(s.metadata.name))));
  const down = wallMs() - d0;
  await sleep(300); // let the trace's 100 ms flush catch up
  const trace = readTrace(traceFile, t0, tReady);

  const traces = podTraces(trace);
  const steps: Record<string, number[]> = { scheduled: [], 'agent status': [], 'sandbox begun': [], 'sandbox ready (IP)': [], 'container created': [], 'container started': [], 'Running seen': [], 'probe ok': [], 'Ready seen': [] };
  const add = (k: string, p: PodSeen, at: number | undefined) => {
    if (at !== undefined) steps[k]!.push(at - p.created);
  };
  for (const p of pods) {
    const t = traces.get(p.name);
    add('scheduled', p, p.scheduled);
    add('agent status', p, p.accepted);
    add('sandbox begun', p, t?.sandboxStart);
    add('sandbox ready (IP)', p, t?.sandboxEnd);
    add('container created', p, t?.createEnd);
    add('container started', p, t?.startEnd);
    add('Running seen', p, p.running);
    add('probe ok', p, t?.probeOk);
    add('Ready seen', p, p.ready);
  }
  return {
    kind,
    total,
    kubectlMs,
    firstCreated: Math.min(...pods.map((p) => p.created)) - t0,
    perPod: pods.map((p) => p.ready! - p.created),
    steps,
    down,
    cpu: cpuSpent(c0, c1),
    trace,
  };
}

// ----------------------------------------------------------------------------- floors

async function ctrFloor(real: RealCluster, rep: number): Promise<FloorResult> {
  const ids = Array.from({ length: N }, (_, i) => `bench-floor-${process.pid}-${rep}-${i}`);
  const c0 = cpuMark(real);
  const t0 = wallMs();
  try {
    const started = await Promise.all(
      ids.map(
        (id) =>
          new Promise<number>((res, rej) => {
            const p = spawn('ctr', ['-a', real.cd.socket, '-n', 'k8s.io', 'run', '-d', IMAGE, id], { stdio: ['ignore', 'ignore', 'pipe'] });
            let err = '';
            p.stderr!.on('data', (d) => (err += d));
            p.on('exit', (code) => (code === 0 ? res(wallMs() - t0) : rej(new Error(`ctr run ${id}: ${code} ${err}`))));
          }),
      ),
    );
    const total = wallMs() - t0;
    const c1 = cpuMark(real);
    const d0 = wallMs();
    await removeCtrContainers(real, ids);
    return { kind: 'ctr', total, started, cleanup: wallMs() - d0, cpu: cpuSpent(c0, c1) };
  } catch (err) {
    await removeCtrContainers(real, ids);
    throw err;
  }
}

async function removeCtrContainers(real: RealCluster, ids: string[]): Promise<void> {
  const ctr = (args: string[]) => run('ctr', ['-a', real.cd.socket, '-n', 'k8s.io', ...args]);
  await Promise.all(
    ids.map(async (id) => {
      await ctr(['tasks', 'delete', '-f', id]);
      await ctr(['containers', 'rm', id]);
    }),
  );
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((res) => {
    const req = http.get(url, { timeout: 1000, agent: false }, (r) => {
      r.resume();
      res((r.statusCode ?? 0) === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => res(false));
  });
}

async function criFloor(real: RealCluster, cri: CriClient, rep: number): Promise<FloorResult> {
  const logRoot = join(real.cluster.dataDir, 'bench-floor-logs');
  const sandboxes: string[] = [];
  const c0 = cpuMark(real);
  const t0 = wallMs();
  try {
    const each = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const pod = { metadata: { name: `floor-${rep}-${i}`, namespace: 'bench-floor', uid: randomUUID() }, spec: { containers: [{ name: 'nginx', image: IMAGE }] } };
        const logDirectory = join(logRoot, pod.metadata.uid);
        mkdirSync(join(logDirectory, 'nginx'), { recursive: true });
        const sc = sandboxConfigFor(pod, { logDirectory, dnsServer: real.net.gateway });
        // Not labelled as ours: the agent's container poll must not see these.
        delete sc.labels![LABELS.managed];
        const id = await cri.runPodSandbox(sc);
        sandboxes.push(id);
        const tSandbox = wallMs() - t0;
        const { ip } = await cri.podSandboxStatus(id);
        const cc = containerConfigFor(pod, pod.spec.containers[0]!, { attempt: 0, image: `${IMAGE}`, env: [], mounts: [] });
        delete cc.labels![LABELS.managed];
        const cid = await cri.createContainer(id, cc, sc);
        await cri.startContainer(cid);
        const tStarted = wallMs() - t0;
        for (;;) {
          if (await httpOk(`http://${ip}/`)) break;
          if (wallMs() - t0 > TIMEOUT_S * 1000) throw new Error(`CRI floor pod ${pod.metadata.name} (${ip}) never served`);
          await sleep(10);
        }
        return { tSandbox, tStarted, tServing: wallMs() - t0 };
      }),
    );
    const total = wallMs() - t0;
    const c1 = cpuMark(real);
    const d0 = wallMs();
    await removeSandboxes(cri, sandboxes.splice(0));
    rmSync(logRoot, { recursive: true, force: true });
    return {
      kind: 'cri',
      total,
      sandbox: each.map((e) => e.tSandbox),
      started: each.map((e) => e.tStarted),
      serving: each.map((e) => e.tServing),
      cleanup: wallMs() - d0,
      cpu: cpuSpent(c0, c1),
    };
  } finally {
    await removeSandboxes(cri, sandboxes);
  }
}

async function removeSandboxes(cri: CriClient, ids: string[]): Promise<void> {
  await Promise.all(
    ids.map(async (id) => {
      await cri.stopPodSandbox(id).catch(() => {});
      await cri.removePodSandbox(id).catch(() => {});
    }),
  );
}

// ----------------------------------------------------------------------------- report

function conditions(real: RealCluster): Promise<string[]> {
  return (async () => {
    const cd = (await run('containerd', ['--version'])).stdout.trim().split(' ').slice(2).join(' ');
    const runc = (await run('runc', ['--version'])).stdout.split('\n')[0]!.trim();
    const cpu = os.cpus();
    const cfg = readFileSync(join(real.cd.dir, 'config.toml'), 'utf8');
    const snap = /snapshotter = "([^"]+)"/.exec(cfg)?.[1] ?? '?';
    const cgroups = existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'v1';
    return [
      `machine: ${cpu.length} × ${cpu[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, cgroups ${cgroups}; node ${process.version}`,
      `containerd ${cd} (private instance, snapshotter ${snap}, runc.v2 shim, cgroupfs), ${runc}; CNI bridge ${real.net.bridge} ${real.net.cidr} + host-local IPAM + loopback (/usr/lib/cni)`,
      `image ${IMAGE}: busybox httpd on :80 under a TERM-forwarding sh wrapper (one ~1 MB layer, imported, never pulled); pause image likewise`,
      `ordinal up --runtime containerd, one node; ${N} pods per scale, ${REPS} repetitions of 0 → ${N} → 0 per case; trace hook ${TRACE ? 'on' : 'off'}`,
    ];
  })();
}

function row(label: string, xs: number[], extra = ''): string {
  return `  ${label.padEnd(34)} median ${f0(median(xs)).padStart(6)} ms   p90 ${f0(quantile(xs, 0.9)).padStart(6)} ms   max ${f0(Math.max(...xs)).padStart(6)} ms${extra}`;
}

function cpuLine(cs: CpuSpent[]): string {
  const m = (f: (c: CpuSpent) => number) => median(cs.map(f)).toFixed(2);
  return (
    `  CPU (median): ${m((c) => c.machine)} s of ${m((c) => c.wall * os.cpus().length)} s available on ${os.cpus().length} cores: ordinal ${m((c) => c.ordinal)}, containerd+CNI ${m((c) => c.containerd)}, ` +
    `shims+runc+containers ${m((c) => c.shims)}, bench+kubectl/ctr ${m((c) => c.bench)}, other users of the machine ${m((c) => c.others)} s`
  );
}

function report(results: ScaleResult[], floors: FloorResult[]): void {
  console.log('');
  const ctr = floors.filter((f) => f.kind === 'ctr');
  const cri = floors.filter((f) => f.kind === 'cri');
  if (ctr.length) {
    console.log(`Floor A: ${N} × \`ctr run -d\` at once (same image and command; no CNI: each container gets an empty netns of its own; ctr's own start-up included)`);
    console.log(`  total to all tasks started: ${ctr.map((f) => f0(f.total)).join(', ')} ms (median ${f0(median(ctr.map((f) => f.total)))} ms)`);
    console.log(row('per container: launch → started', ctr.flatMap((f) => f.started)));
    console.log(`  cleanup (tasks delete -f, containers rm): median ${f0(median(ctr.map((f) => f.cleanup)))} ms`);
    console.log(cpuLine(ctr.map((f) => f.cpu)));
  }
  if (cri.length) {
    console.log(`Floor B: ${N} pods through CRI directly at once (RunPodSandbox with pause + netns + the agent's CNI bridge, CreateContainer, StartContainer; HTTP from the host)`);
    console.log(`  total to all serving: ${cri.map((f) => f0(f.total)).join(', ')} ms (median ${f0(median(cri.map((f) => f.total)))} ms)`);
    console.log(row('per pod: launch → sandbox ready', cri.flatMap((f) => f.sandbox!)));
    console.log(row('per pod: launch → container started', cri.flatMap((f) => f.started)));
    console.log(row('per pod: launch → first HTTP 200', cri.flatMap((f) => f.serving!)));
    console.log(`  cleanup (StopPodSandbox + RemovePodSandbox, all at once): median ${f0(median(cri.map((f) => f.cleanup)))} ms`);
    console.log(cpuLine(cri.map((f) => f.cpu)));
  }
  for (const kind of CASES) {
    const rs = results.filter((r) => r.kind === kind);
    if (!rs.length) continue;
    console.log(`StatefulSet Parallel 0 → ${N} (${CASE_TEXT[kind]}): \`kubectl scale\` started → all ${N} Ready seen`);
    console.log(`  total: ${rs.map((r) => f0(r.total)).join(', ')} ms (median ${f0(median(rs.map((r) => r.total)))} ms = ${(N / (median(rs.map((r) => r.total)) / 1000)).toFixed(1)} pods/s); kubectl scale itself ${f0(median(rs.map((r) => r.kubectlMs)))} ms, first pod created +${f0(median(rs.map((r) => r.firstCreated)))} ms`);
    console.log(row('per pod: created seen → Ready seen', rs.flatMap((r) => r.perPod)));
    console.log(`  breakdown, ms after the pod's creation was seen (median / p90 over ${rs.length * N} pods):`);
    const names = Object.keys(rs[0]!.steps);
    for (const s of names) {
      const xs = rs.flatMap((r) => r.steps[s]!);
      if (xs.length) console.log(`    ${s.padEnd(22)} ${f0(median(xs)).padStart(6)} / ${f0(quantile(xs, 0.9)).padStart(6)}${xs.length < rs.length * N ? `  (${xs.length} pods)` : ''}`);
    }
    console.log(`  scale ${N} → 0 (pods gone, sandboxes removed): ${rs.map((r) => f0(r.down)).join(', ')} ms`);
    console.log(cpuLine(rs.map((r) => r.cpu)));
    const trace = rs.flatMap((r) => r.trace);
    if (trace.length) {
      const cri = callStats(trace, 'cri');
      const calls = [...cri.entries()].sort((a, b) => b[1].reduce((x, y) => x + y, 0) - a[1].reduce((x, y) => x + y, 0));
      console.log(`  CRI calls during scale-up (per scale-up: count; latency median / p90 ms): ` + calls.map(([op, xs]) => `${op} ${(xs.length / rs.length).toFixed(0)}× ${f0(median(xs))}/${f0(quantile(xs, 0.9))}`).join(', '));
      const rt = callStats(trace, 'runtime');
      console.log(`  runtime calls (median ms): ` + [...rt.entries()].map(([op, xs]) => `${op} ${f0(median(xs))} (${(xs.length / rs.length).toFixed(0)}×)`).join(', '));
      const writes = trace.filter((r) => r.kind === 'status' && r.op === 'update pods/status');
      console.log(`  pod status writes by the agent per pod: ${(writes.length / rs.length / N).toFixed(1)}; median write ${median(writes.map((w) => w.t1 - w.t0)).toFixed(1)} ms`);
      const loop = trace.filter((r) => r.kind === 'loop').map((r) => /p50=([\d.]+) max=([\d.]+)/.exec(r.note ?? '')!);
      if (loop.length) console.log(`  ordinal event loop delay per second: median p50 ${median(loop.map((m) => Number(m[1]))).toFixed(1)} ms, worst max ${Math.max(...loop.map((m) => Number(m[2]))).toFixed(0)} ms`);
    }
  }
}

// ----------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const why = realClusterUnavailable();
  if (why) {
    console.log(`SKIP real pods benchmark: ${why}`);
    process.exit(2);
  }
  const traceFile = TRACE ? join(os.tmpdir(), `ordinal-pod-trace-${process.pid}.jsonl`) : undefined;
  const nodeOptions = process.env.NODE_OPTIONS;
  const extra: string[] = [];
  if (traceFile) {
    rmSync(traceFile, { force: true });
    process.env.ORDINAL_POD_TRACE = traceFile;
    extra.push(`--import=${pathToFileURL(join(root, 'bench/real-pods-trace.ts')).href}`);
  }
  if (values['cpu-prof']) {
    mkdirSync(values['cpu-prof'], { recursive: true });
    extra.push('--cpu-prof', `--cpu-prof-dir=${resolve(values['cpu-prof'])}`);
  }
  // Only the ordinal process is a node child of ours; the variable is put back right after it started.
  if (extra.length) process.env.NODE_OPTIONS = [nodeOptions ?? '', ...extra].join(' ').trim();
  const t = wallMs();
  let real: RealCluster;
  try {
    real = await startRealCluster();
  } finally {
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
    delete process.env.ORDINAL_POD_TRACE;
  }
  console.log(`cluster up in ${f0(wallMs() - t)} ms (containerd, images imported, ordinal up --runtime containerd on ${real.net.bridge})`);
  const api = apiFor(real);
  const cri = new CriClient(real.cd.socket);
  const pw = new PodWatch();
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    console.log('interrupted: cleaning up');
  });
  try {
    for (const line of await conditions(real)) console.log(line);
    await api.send('POST', `/api/v1/namespaces/${NS}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bench' }, spec: { clusterIP: 'None', selector: { bench: 'real-pods' }, ports: [{ name: 'web', port: 80 }] } });
    for (const kind of CASES) await api.send('POST', `/apis/apps/v1/namespaces/${NS}/statefulsets`, statefulSet(kind));
    await api.watch(`/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=bench%3Dreal-pods`, (type, obj, at) => pw.onEvent(type, obj, at));
    const results: ScaleResult[] = [];
    const floors: FloorResult[] = [];
    // Interleaved, so that drift over the run (page cache, IPAM files, containerd's stores) hits every case alike.
    for (let rep = 0; rep < REPS && !interrupted; rep++) {
      if (FLOORS.has('ctr')) {
        const f = await ctrFloor(real, rep);
        floors.push(f);
        console.log(`rep ${rep + 1}: ctr run ×${N}: all started in ${f0(f.total)} ms (median container ${f0(median(f.started))} ms)`);
      }
      if (FLOORS.has('cri') && !interrupted) {
        const f = await criFloor(real, cri, rep);
        floors.push(f);
        console.log(`rep ${rep + 1}: CRI ×${N}: all serving in ${f0(f.total)} ms (median pod: sandbox ${f0(median(f.sandbox!))}, started ${f0(median(f.started))}, serving ${f0(median(f.serving!))} ms)`);
      }
      for (const kind of CASES) {
        if (interrupted) break;
        const r = await scaleCase(real, api, pw, cri, kind, traceFile);
        results.push(r);
        console.log(`rep ${rep + 1}: ${kind}: 0 → ${N} Ready in ${f0(r.total)} ms (median pod ${f0(median(r.perPod))} ms, p90 ${f0(quantile(r.perPod, 0.9))} ms); ${N} → 0 in ${f0(r.down)} ms`);
      }
    }
    report(results, floors);
  } catch (err) {
    console.log(String(err instanceof Error ? err.stack : err));
    real.dumpLogs();
    process.exitCode = 1;
  } finally {
    api.close();
    cri.close();
    await real.stop();
    if (traceFile && process.exitCode !== 1 && !values['keep-trace']) rmSync(traceFile, { force: true });
    else if (traceFile) console.log(`trace kept in ${traceFile}`);
    if (values['cpu-prof']) {
      const files = readdirSync(values['cpu-prof']).filter((f) => f.endsWith('.cpuprofile'));
      console.log(`CPU profile(s) of the ordinal process in ${values['cpu-prof']}: ${files.join(', ')}`);
    }
  }
}

await main();
