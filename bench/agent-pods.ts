// The node agents' own CPU per pod, apart from the API server and the store: simulated node agents
// (NodeAgent + SimRuntime, as `ordinal up --runtime sim` runs them) start pods bound to them,
// each mounting a claim, against a minimal in-memory client. The client keeps objects in a map and
// delivers watch events in a microtask, as the in-process client does, so the agents, their pod
// informers and their event recorders do all their usual work while the API's own cost is left out.
// It prints the CPU from the first pod bound to the last pod Running and Ready (median of runs).
//
//   node bench/agent-pods.ts [--pods 10000] [--nodes 100] [--runs 3] [--target DIR] [--cpu-prof] [--alloc-prof]
//
// --target (or ORDINAL_BENCH_TARGET) measures another checkout's agent (A/B against a baseline).
import { parseArgs } from 'node:util';
// Only warnings: ten thousand pods' info lines would cost more than the agents.
process.env.ORDINAL_LOG_LEVEL ??= 'warn';
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

const { values } = parseArgs({
  options: {
    pods: { type: 'string' },
    nodes: { type: 'string' },
    runs: { type: 'string' },
    target: { type: 'string' },
    'cpu-prof': { type: 'boolean' },
    'alloc-prof': { type: 'boolean' },
  },
});
const PODS = Number(values.pods ?? 10_000);
const NODES = Number(values.nodes ?? 100);
const RUNS = Number(values.runs ?? 3);
const target = resolve(values.target ?? process.env.ORDINAL_BENCH_TARGET ?? join(import.meta.dirname, '..'));
const load = (p: string) => import(pathToFileURL(join(target, p)).href);

type Obj = Record<string, any>;
const { NodeAgent } = await load('src/agent/agent.ts');
const { SimRuntime } = await load('src/agent/runtime/sim.ts');
const { ApiError } = await load('src/apiserver/errors.ts');

interface Res {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}
const KINDS: Record<string, string> = { pods: 'Pod', nodes: 'Node', leases: 'Lease', events: 'Event', persistentvolumeclaims: 'PersistentVolumeClaim', persistentvolumes: 'PersistentVolume' };
const CLUSTER_SCOPED = new Set(['nodes', 'persistentvolumes']);

/** Objects by resource and namespace/name; watch events delivered in one microtask per batch. */
class MemoryClient {
  private readonly objects = new Map<string, Map<string, Obj>>();
  private readonly watchers = new Set<{ plural: string; node?: string; onEvent: (type: string, obj: Obj) => void }>();
  private pending: [string, string, Obj][] = [];
  private scheduled = false;
  private rv = 1;
  private uid = 0;
  writes = 0;
  onPodWrite: ((pod: Obj) => void) | undefined;

  resource(group: string, plural: string): Res {
    return { group, version: 'v1', plural, kind: KINDS[plural] ?? plural, namespaced: !CLUSTER_SCOPED.has(plural) };
  }
  private bucket(plural: string): Map<string, Obj> {
    let b = this.objects.get(plural);
    if (!b) this.objects.set(plural, (b = new Map()));
    return b;
  }
  private key(r: Res, ns: string | undefined, name: string): string {
    return r.namespaced ? `${ns ?? 'default'}/${name}` : name;
  }
  private notify(type: string, plural: string, obj: Obj): void {
    this.pending.push([type, plural, obj]);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const batch = this.pending;
      this.pending = [];
      for (const [t, p, o] of batch) for (const w of this.watchers) if (w.plural === p && (!w.node || o.spec?.nodeName === w.node)) w.onEvent(t, o);
    });
  }
  private store(r: Res, obj: Obj, type: string): Obj {
    this.writes++;
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    this.bucket(r.plural).set(this.key(r, stored.metadata.namespace, stored.metadata.name), stored);
    this.notify(type, r.plural, stored);
    if (r.plural === 'pods') this.onPodWrite?.(stored);
    return stored;
  }
  async get(r: Res, ns: string | undefined, name: string): Promise<Obj> {
    const o = this.bucket(r.plural).get(this.key(r, ns, name));
    if (!o) throw new ApiError(404, 'NotFound', `${r.plural} "${name}" not found`);
    return o;
  }
  async list(r: Res, opts: { fieldSelector?: string } = {}): Promise<{ items: Obj[]; resourceVersion: string }> {
    const node = /spec\.nodeName=(.*)/.exec(opts.fieldSelector ?? '')?.[1];
    const items = [...this.bucket(r.plural).values()].filter((o) => !node || o.spec?.nodeName === node);
    return { items, resourceVersion: String(this.rv) };
  }
  watch(r: Res, opts: { fieldSelector?: string }, onEvent: (type: string, obj: Obj) => void): () => void {
    const w = { plural: r.plural, node: /spec\.nodeName=(.*)/.exec(opts.fieldSelector ?? '')?.[1], onEvent };
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }
  async create(r: Res, ns: string | undefined, obj: Obj): Promise<Obj> {
    const meta = { ...obj.metadata, uid: obj.metadata?.uid ?? `uid-${++this.uid}` };
    if (r.namespaced) meta.namespace = ns ?? meta.namespace ?? 'default';
    if (this.bucket(r.plural).has(this.key(r, meta.namespace, meta.name))) throw new ApiError(409, 'AlreadyExists', `${r.plural} "${meta.name}" already exists`);
    return this.store(r, { apiVersion: r.group ? `${r.group}/v1` : 'v1', kind: r.kind, ...obj, metadata: meta }, 'ADDED');
  }
  async update(r: Res, obj: Obj, subresource?: string): Promise<Obj> {
    const old = await this.get(r, obj.metadata.namespace, obj.metadata.name);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== old.metadata.resourceVersion) throw new ApiError(409, 'Conflict', 'the object has been modified');
    // A status write changes only the status, as the API server's.
    const next = subresource === 'status' ? { ...old, status: obj.status } : obj;
    return this.store(r, next, 'MODIFIED');
  }
  async patch(r: Res, ns: string | undefined, name: string, _type: string, patch: Obj): Promise<Obj> {
    const old = await this.get(r, ns, name);
    return this.store(r, { ...old, ...patch, metadata: { ...old.metadata, ...(patch.metadata ?? {}) } }, 'MODIFIED');
  }
  async delete(r: Res, ns: string | undefined, name: string): Promise<void> {
    const b = this.bucket(r.plural);
    const k = this.key(r, ns, name);
    const o = b.get(k);
    if (!o) throw new ApiError(404, 'NotFound', `${r.plural} "${name}" not found`);
    b.delete(k);
    this.notify('DELETED', r.plural, o);
  }
  /** Puts an object in as it is (a claim the volume controller made). */
  seed(r: Res, obj: Obj): void {
    this.bucket(r.plural).set(this.key(r, obj.metadata.namespace, obj.metadata.name), { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }
}

const running = (p: Obj) => p.status?.phase === 'Running' && p.status.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True');

async function run(profile: boolean, allocations: boolean): Promise<{ cpuMs: number; seconds: number; writes: number }> {
  const client = new MemoryClient();
  const agents: any[] = [];
  for (let i = 0; i < NODES; i++) {
    const agent = new NodeAgent(client, {
      nodeName: `node-${i}`,
      runtime: new SimRuntime({ startDelayMs: 0 }),
      podCIDR: `10.${(i >> 8) & 255}.${i & 255}.0/24`,
      capacity: { pods: '250' },
      housekeepingMs: 10_000,
    });
    await agent.start();
    agents.push(agent);
  }
  const claims = client.resource('', 'persistentvolumeclaims');
  const pods = client.resource('', 'pods');
  for (let i = 0; i < PODS; i++) {
    client.seed(claims, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `www-web-${i}`, namespace: 'default', uid: `claim-${i}` },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: `pvc-${i}`, storageClassName: 'standard' },
      status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } },
    });
  }
  let ready = 0;
  const done = Promise.withResolvers<void>();
  const seen = new Set<string>();
  client.onPodWrite = (p) => {
    if (!seen.has(p.metadata.uid) && running(p)) {
      seen.add(p.metadata.uid);
      if (++ready === PODS) done.resolve();
    }
  };
  const session = profile || allocations ? new Session() : undefined;
  session?.connect();
  if (profile) {
    await session!.post('Profiler.enable');
    await session!.post('Profiler.start');
  }
  // Every allocation sampled, also what the GC has collected since: what the pods cost the GC.
  if (allocations) await session!.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // Bound pods arrive as the scheduler's bindings would, a batch at a time.
  for (let i = 0; i < PODS; i++) {
    await client.create(pods, 'default', {
      metadata: { name: `web-${i}`, namespace: 'default', labels: { app: 'web' } },
      spec: {
        nodeName: `node-${i % NODES}`,
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.24', ports: [{ containerPort: 80, name: 'web' }], volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }] }],
        volumes: [{ name: 'www', persistentVolumeClaim: { claimName: `www-web-${i}` } }],
      },
      status: { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] },
    });
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await done.promise;
  // What the pods' start set off (claim looks, events) settles within the next seconds.
  await new Promise((r) => setTimeout(r, 3000));
  const used = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  if (profile) {
    const { profile: prof } = await session!.post('Profiler.stop');
    const file = `/tmp/agent-pods-${process.pid}-${Date.now()}.cpuprofile`;
    writeFileSync(file, JSON.stringify(prof));
    console.log(`  profile: ${file}`);
  }
  if (allocations) {
    const { profile: prof } = await session!.post('HeapProfiler.stopSampling');
    const file = `/tmp/agent-pods-${process.pid}-${Date.now()}.heapprofile`;
    writeFileSync(file, JSON.stringify(prof));
    console.log(`  allocation profile: ${file}`);
  }
  session?.disconnect();
  for (const a of agents) a.stop();
  return { cpuMs: (used.user + used.system) / 1000, seconds, writes: client.writes };
}

console.log(`# agent-pods: ${PODS} pods with a claim each on ${NODES} simulated nodes, in-memory client; target ${target}; node ${process.version}`);
const results: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const last = i === RUNS - 1;
  const r = await run(!!values['cpu-prof'] && last, !!values['alloc-prof'] && last);
  results.push(r.cpuMs);
  console.log(`  run ${i + 1}: ${r.cpuMs.toFixed(0)} CPU-ms = ${(r.cpuMs / PODS).toFixed(3)} CPU-ms per pod (incl. 3 s settling), ${r.seconds.toFixed(1)} s, ${(r.writes / PODS).toFixed(2)} writes per pod`);
  await new Promise((r) => setTimeout(r, 500));
}
results.sort((a, b) => a - b);
const median = results[Math.floor(results.length / 2)]!;
console.log(`median: ${median.toFixed(0)} CPU-ms = ${(median / PODS).toFixed(3)} CPU-ms per pod`);
process.exit(0);
