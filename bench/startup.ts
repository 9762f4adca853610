// Start-up benchmark: how long `ordinal up --runtime sim` takes from process spawn to a ready
// API, and where that time goes.
//
// It starts what users run: bin/ordinal.js (with the V8 flags of its #! line), with Node's compile
// cache in its default place, os.tmpdir()/node-compile-cache, the bench choosing os.tmpdir() through
// TMPDIR (NODE_COMPILE_CACHE unset, as for users: setting it would hide what the process does without).
// Cases (each run is a new process, ended by its process group before the next):
//   fresh     a new data dir every run (CA, keys, store, default objects and RBAC policy created),
//             Node's compile cache warm (primed by one unmeasured start)
//   existing  the same data dir every run (everything already stored), compile cache warm
//   cold      a new data dir and an empty compile cache every run: the first start after `npm ci`
// Each run measures, from the moment of spawn:
//   ready     the "ready at" line on stdout (what tests and users wait for)
//   readyz    the first /readyz answered "ok", asked right after that line (not polled during
//             start-up, so the probe takes no CPU from the process it times)
//   cpu       the process's CPU time (user + system, all threads) when the line came (/proc)
// and, from the process's own "API server ready" log line, its internal phases (ms, each from the
// previous mark: node = Node's boot, modules = module loading, store, pki, cache = the watch cache
// loaded, namespaces and rbac = bootstrap writes, serve = listening and the cluster's Services,
// components = controllers, scheduler, nodes, DNS started, kubeconfig written).
// After each run it checks that readiness still means what tests rely on: the system namespaces,
// the default RBAC policy and the kubernetes Service exist, read with the admin's certificate.
//
//   node bench/startup.ts [--runs 10] [--cases fresh,existing,cold] [--compare DIR]
// --compare DIR alternates runs with another checkout (e.g. a baseline: /work/wt-base-s3), in
// ABBA order, and prints both with the ratio. ORDINAL_BENCH_TARGET=DIR measures that checkout
// instead of this one, as in the other benches.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuMs } from './proc.ts';

const root = resolve(import.meta.dirname, '..');
const target = resolve(process.env.ORDINAL_BENCH_TARGET ?? root);
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    cases: { type: 'string', default: 'fresh,existing,cold' },
    compare: { type: 'string' },
  },
});
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs ${values.runs}: a whole number, 1 or more`);
const CASES = values.cases!.split(',').map((c) => c.trim()).filter(Boolean);
for (const c of CASES) if (!['fresh', 'existing', 'cold'].includes(c)) throw new Error(`unknown case ${c}: fresh, existing or cold`);
const checkouts = [target, ...(values.compare ? [resolve(values.compare)] : [])];
const work = mkdtempSync(join(os.tmpdir(), 'ordinal-bench-startup-'));

interface Run {
  readyMs: number;
  readyzMs: number;
  cpuMs: number;
  /** The process's own figures, when its log line carries them (older checkouts log startupMs only). */
  startupMs?: number;
  startupCpuMs?: number;
  phases?: Record<string, number>;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function nodeFlags(checkout: string): Promise<string[]> {
  return (await import(join(checkout, 'src/cli/node-flags.ts'))).ORDINAL_NODE_FLAGS;
}

function get(port: number, path: string, tls: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = https.request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false, ...tls }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d) => (body += d));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.setTimeout(20_000, () => req.destroy(new Error(`GET ${path}: no answer in 20 s`)));
    req.end();
  });
}

/** What readiness promises: the default objects and RBAC policy are there, and the admin is served. */
async function checkReady(port: number, dataDir: string): Promise<void> {
  const pki = join(dataDir, 'pki');
  const tls = { ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')), rejectUnauthorized: true };
  const want = async (path: string) => {
    const r = await get(port, path, tls);
    if (r.status !== 200) throw new Error(`after readiness, GET ${path} answered ${r.status}: ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body);
  };
  const names = new Set((await want('/api/v1/namespaces')).items.map((n: any) => n.metadata.name));
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) if (!names.has(ns)) throw new Error(`after readiness, namespace ${ns} is missing`);
  await want('/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin');
  await want('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/system:basic-user');
  await want('/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings/system::leader-locking-kube-scheduler');
  await want('/api/v1/namespaces/default/services/kubernetes');
}

async function startOnce(checkout: string, dataDir: string, cacheTmpDir: string, check: boolean): Promise<Run> {
  const port = await freePort();
  const args = [...(await nodeFlags(checkout)), join(checkout, 'bin/ordinal.js'), 'up', '--runtime', 'sim', '--data-dir', dataDir, '--port', String(port), '--dns-port', '0'];
  const { NODE_COMPILE_CACHE: _, ...inherited } = process.env;
  const env = { ...inherited, TMPDIR: cacheTmpDir, ORDINAL_LOG_LEVEL: 'info' };
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
  let stdout = '';
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-200_000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  try {
    const { readyMs, cpu } = await new Promise<{ readyMs: number; cpu: number }>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`not ready in 60 s:\n${stdout}\n${stderr.slice(-3000)}`)), 60_000);
      proc.stdout!.on('data', (d) => {
        stdout += d;
        if (/ready at https/.test(stdout)) {
          const readyMs = performance.now() - t0;
          clearTimeout(timer);
          res({ readyMs, cpu: cpuMs(proc.pid!) });
        }
      });
      proc.once('exit', (code) => rej(new Error(`exited with ${code} before ready:\n${stderr.slice(-3000)}`)));
    });
    const readyz = await get(port, '/readyz');
    const readyzMs = performance.now() - t0;
    if (readyz.status !== 200 || readyz.body !== 'ok') throw new Error(`/readyz answered ${readyz.status} ${readyz.body}`);
    if (check) await checkReady(port, dataDir);
    // The "ready" log line comes on stderr just before stdout's line; give the pipe a moment.
    const line = await waitFor(() => stderr.split('\n').find((l) => l.includes('"API server ready"')), 2000);
    const logged = line ? JSON.parse(line) : {};
    return { readyMs, readyzMs, cpuMs: cpu, startupMs: logged.startupMs, startupCpuMs: logged.startupCpuMs, phases: logged.phasesMs };
  } finally {
    try {
      process.kill(-proc.pid!, 'SIGTERM');
    } catch {}
    const killer = setTimeout(() => {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {}
    }, 10_000);
    await exited;
    clearTimeout(killer);
  }
}

async function waitFor<T>(f: () => T | undefined, ms: number): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

let dirs = 0;
const newDir = (what: string) => mkdtempSync(join(work, `${what}-${dirs++}-`));

async function runCase(name: string): Promise<Map<string, Run[]>> {
  const results = new Map<string, Run[]>(checkouts.map((c) => [c, []]));
  // Warm caches and stored state: one unmeasured start per checkout.
  const warmCache = new Map<string, string>();
  const existing = new Map<string, string>();
  for (const c of checkouts) {
    if (name === 'cold') continue;
    const cache = newDir('cache');
    const dataDir = newDir('data');
    await startOnce(c, dataDir, cache, false);
    warmCache.set(c, cache);
    if (name === 'existing') existing.set(c, dataDir);
    else rmSync(dataDir, { recursive: true, force: true });
  }
  for (let i = 0; i < RUNS; i++) {
    // ABBA: neither checkout always runs first (right after the other's exit).
    const order = i % 2 === 0 ? checkouts : [...checkouts].reverse();
    for (const c of order) {
      const dataDir = existing.get(c) ?? newDir('data');
      const cache = warmCache.get(c) ?? newDir('cache');
      const run = await startOnce(c, dataDir, cache, true);
      results.get(c)!.push(run);
      if (!existing.has(c)) rmSync(dataDir, { recursive: true, force: true });
      if (!warmCache.has(c)) rmSync(cache, { recursive: true, force: true });
    }
  }
  return results;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (xs: number[]) => (xs.length ? `${median(xs).toFixed(0).padStart(5)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})` : '    -');

function report(name: string, results: Map<string, Run[]>): void {
  const [a, b] = checkouts;
  const rows: [string, (r: Run) => number | undefined][] = [
    ['spawn → /readyz ok, ms', (r) => r.readyzMs],
    ['spawn → "ready at" line, ms', (r) => r.readyMs],
    ['CPU-ms at ready (/proc)', (r) => r.cpuMs],
    ['startupMs (process own)', (r) => r.startupMs],
    ['startupCpuMs (process own)', (r) => r.startupCpuMs],
  ];
  const phaseNames = [...new Set(checkouts.flatMap((c) => results.get(c)!.flatMap((r) => Object.keys(r.phases ?? {}))))];
  for (const p of phaseNames) rows.push([`  phase ${p}`, (r) => r.phases?.[p]]);
  console.log(`\n## ${name} (${RUNS} runs each; median (min–max))`);
  console.log(`${'figure'.padEnd(30)} ${'this'.padEnd(18)}${b ? ` ${'compare'.padEnd(18)} ratio` : ''}`);
  for (const [label, f] of rows) {
    const xa = results.get(a!)!.map(f).filter((x): x is number => typeof x === 'number');
    const xb = b ? results.get(b)!.map(f).filter((x): x is number => typeof x === 'number') : [];
    const ratio = xa.length && xb.length ? (median(xa) / median(xb)).toFixed(2) : '';
    console.log(`${label.padEnd(30)} ${fmt(xa).padEnd(18)}${b ? ` ${fmt(xb).padEnd(18)} ${ratio}` : ''}`);
  }
}

console.log(`# Ordinal start-up benchmark (${new Date().toISOString()})`);
console.log(`this: ${target}${checkouts[1] ? `; compare: ${checkouts[1]} (alternating, ABBA)` : ''}`);
console.log(`node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`bin/ordinal.js up --runtime sim --dns-port 0 (one simulated node, all controllers), SQLite store; compile cache in $TMPDIR/node-compile-cache`);
try {
  for (const c of CASES) report(c, await runCase(c));
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`\nload average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
