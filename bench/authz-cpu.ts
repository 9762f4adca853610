// CPU cost of the authorization path, measured as the ordinal process's own CPU time (utime +
// stime from /proc/<pid>/stat) per case rather than wall-clock time, because the machine is shared
// and wall-clock figures move with other people's load. Runs the same cases against one or more
// checkouts in alternation (A/B/A/B...), so a change can be compared with the commit before it:
//   node bench/authz-cpu.ts [--roots /work/wt-authz-base,/work/wt-authz] [--rounds 3]
//        [--cases parallel,ordered,api] [--pods 1000] [--ordered 100] [--api 2000]
// Cases (each on a fresh `ordinal up --runtime sim`, 10 nodes):
//   parallel  Parallel StatefulSet 0 → N with one claim template, until every pod is Ready
//   ordered   OrderedReady 0 → M with one claim template, until every pod is Ready
//   api       K ConfigMap creates then K gets, 8 in flight, as the admin (system:masters, which
//             authorization lets through at once), then the same as a user bound to `edit` in the
//             namespace (the admin impersonating it: every request is decided by RBAC)
// Prints, per root and case, the median over rounds of CPU ms and of wall seconds.
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { adminClient, type AdminClient } from './admin-client.ts';
import { cpuMs } from './proc.ts';
import { awaitOutput } from '../test/support/ordinal-process.ts';

const here = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    roots: { type: 'string' },
    rounds: { type: 'string' },
    cases: { type: 'string' },
    pods: { type: 'string' },
    ordered: { type: 'string' },
    api: { type: 'string' },
  },
});
const ROOTS = (values.roots ?? here).split(',').map((r) => resolve(r));
const ROUNDS = Number(values.rounds ?? 3);
const CASES = (values.cases ?? 'parallel,ordered,api').split(',');
const PODS = Number(values.pods ?? 1000);
const ORDERED = Number(values.ordered ?? 100);
const API_N = Number(values.api ?? 2000);
const NS = 'default';


interface Running {
  proc: ChildProcess;
  api: AdminClient;
  dataDir: string;
  url: string;
}

async function start(root: string): Promise<Running> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'ordinal-authz-cpu-'));
  const flags = (await import(join(root, 'src/cli/node-flags.ts'))).ORDINAL_NODE_FLAGS as string[];
  // Its own process group, ended by that group.
  const proc = spawn(process.execPath, [...flags, join(root, 'src/cli/main.ts'), 'up', '--data-dir', dataDir, '--port', '0', '--nodes', '10', '--sim-start-delay', '0', '--runtime', 'sim'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ORDINAL_LOG_LEVEL: 'warn' },
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d).slice(-5000));
  proc.stderr!.on('data', keep);
  proc.stdout!.on('data', keep);
  const url = (await awaitOutput(proc, /ready at (https:\/\/\S+)/, { text: () => out, timeoutMs: 60_000, notReady: 'no start in 60 s', what: 'ordinal' }))[1]!;
  return { proc, dataDir, url, api: adminClient(url, dataDir, { maxSockets: 8 }) };
}

async function stop(r: Running): Promise<void> {
  r.api.close();
  const exited = new Promise((ok) => r.proc.once('exit', ok));
  try {
    process.kill(-r.proc.pid!, 'SIGTERM');
  } catch {}
  await Promise.race([exited, new Promise((ok) => setTimeout(ok, 10_000))]);
  try {
    process.kill(-r.proc.pid!, 'SIGKILL');
  } catch {}
  rmSync(r.dataDir, { recursive: true, force: true });
}

const isReady = (pod: any) => pod?.status?.phase === 'Running' && pod?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

function statefulSet(name: string, policy: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: 0,
      podManagementPolicy: policy,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.8', volumeMounts: [{ name: 'www', mountPath: '/data' }] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } }],
    },
  };
}

/** Scales a new set to n and waits for n Ready pods; returns CPU ms and wall s of that span. */
async function scaleCase(r: Running, policy: string, n: number, timeoutS: number): Promise<{ cpu: number; wall: number }> {
  const name = policy === 'Parallel' ? 'par' : 'ord';
  await r.api.send('POST', `/api/v1/namespaces/${NS}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: 'None', selector: { app: name }, ports: [{ port: 80 }] } });
  await r.api.send('POST', `/apis/apps/v1/namespaces/${NS}/statefulsets`, statefulSet(name, policy));
  const ready = new Set<string>();
  let done = () => {};
  const all = new Promise<void>((ok) => (done = ok));
  const stopWatch = await r.api.watch(`/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3D${name}`, (type, pod) => {
    if (type !== 'DELETED' && isReady(pod)) ready.add(pod.metadata.name);
    if (ready.size >= n) done();
  });
  // Let start-up work settle so that it is not counted.
  await new Promise((ok) => setTimeout(ok, 1500));
  const c0 = cpuMs(r.proc.pid!);
  const t0 = performance.now();
  await r.api.send('PATCH', `/apis/apps/v1/namespaces/${NS}/statefulsets/${name}/scale`, { spec: { replicas: n } }, 'application/merge-patch+json');
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([all, new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`${policy} 0 → ${n}: ${ready.size} Ready after ${timeoutS} s`)), timeoutS * 1000)))]);
  } finally {
    clearTimeout(timer);
    stopWatch();
  }
  return { cpu: cpuMs(r.proc.pid!) - c0, wall: (performance.now() - t0) / 1000 };
}

/** A request as the admin impersonating `user` (a raw client: the bench admin client sends no extra headers). */
function impersonating(r: Running, agent: https.Agent, user: string) {
  const u = new URL(r.url);
  return (method: string, path: string, body?: unknown) =>
    new Promise<void>((ok, fail) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request({ host: u.hostname, port: u.port, method, path, agent, headers: { Accept: 'application/json', 'Impersonate-User': user, ...(payload ? { 'Content-Type': 'application/json' } : {}) } }, (res) => {
        res.resume();
        res.on('end', () => ((res.statusCode ?? 0) < 300 ? ok() : fail(new Error(`${method} ${path} as ${user}: ${res.statusCode}`))));
      });
      req.on('error', fail);
      req.end(payload);
    });
}

/** K creates then K gets of ConfigMaps, 8 in flight, as the admin and then as a user RBAC decides for. */
async function apiCase(r: Running, k: number): Promise<{ cpu: number; wall: number }> {
  await r.api.send('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, { metadata: { name: 'bench-edit' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bench-user' }] });
  const pki = join(r.dataDir, 'pki');
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) });
  const asUser = impersonating(r, agent, 'bench-user');
  await new Promise((ok) => setTimeout(ok, 1500));
  const c0 = cpuMs(r.proc.pid!);
  const t0 = performance.now();
  let next = 0;
  const worker = async (op: (i: number) => Promise<unknown>) => {
    for (let i = next++; i < k; i = next++) await op(i);
  };
  const run = async (op: (i: number) => Promise<unknown>) => {
    next = 0;
    await Promise.all(Array.from({ length: 8 }, () => worker(op)));
  };
  const cm = (i: number, who: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${who}-${i}` }, data: { i: String(i) } });
  await run((i) => r.api.send('POST', `/api/v1/namespaces/${NS}/configmaps`, cm(i, 'admin')));
  await run((i) => r.api.send('GET', `/api/v1/namespaces/${NS}/configmaps/cm-admin-${i}`));
  await run((i) => asUser('POST', `/api/v1/namespaces/${NS}/configmaps`, cm(i, 'user')));
  await run((i) => asUser('GET', `/api/v1/namespaces/${NS}/configmaps/cm-user-${i}`));
  const f = { cpu: cpuMs(r.proc.pid!) - c0, wall: (performance.now() - t0) / 1000 };
  agent.destroy();
  return f;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  console.log(`authz-cpu: ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${ROUNDS} rounds, roots ${ROOTS.join(' ')}`);
  const results = new Map<string, { cpu: number[]; wall: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const root of ROOTS) {
      for (const c of CASES) {
        const r = await start(root);
        try {
          const f = c === 'parallel' ? await scaleCase(r, 'Parallel', PODS, 300) : c === 'ordered' ? await scaleCase(r, 'OrderedReady', ORDERED, 300) : await apiCase(r, API_N);
          const key = `${root} ${c}`;
          if (!results.has(key)) results.set(key, { cpu: [], wall: [] });
          results.get(key)!.cpu.push(f.cpu);
          results.get(key)!.wall.push(f.wall);
          console.log(`  round ${round + 1} ${key}: ${f.cpu.toFixed(0)} ms CPU, ${f.wall.toFixed(2)} s wall`);
        } finally {
          await stop(r);
        }
      }
    }
  }
  for (const [key, v] of results) console.log(`${key}: median ${median(v.cpu).toFixed(0)} ms CPU (${v.cpu.map((x) => x.toFixed(0)).join(', ')}), ${median(v.wall).toFixed(2)} s wall`);
}

await main();
