// The pod worker's own status writes, coming back through the informer, need no sync of their own;
// a write made after a conflict sits on others' changes, so its version still brings a sync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import type { Client } from '../../src/client/client.ts';
import type { EventRecorder } from '../../src/client/events.ts';
import { ApiError } from '../../src/apiserver/errors.ts';
import { PodWorker, type WorkerContext } from '../../src/agent/pod-worker.ts';
import { SimRuntime } from '../../src/agent/runtime/sim.ts';

/** A worker's context on node-1 with a silent event recorder; a test passes what it varies. */
function workerContext(client: Client, runtime: SimRuntime, currentPod: () => Obj | undefined, overrides: Partial<WorkerContext> = {}): WorkerContext {
  return {
    client,
    runtime,
    events: { event() {} } as unknown as EventRecorder,
    nodeName: 'node-1',
    hostIP: '192.0.2.1',
    backoffBaseMs: 1000,
    backoffMaxMs: 2000,
    terminalPhaseOnDelete: true,
    currentPod,
    finished() {},
    ...overrides,
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), what);
}

/**
 * A worker started on `pod` against a fake API that stores each status write (spec unchanged, a
 * new resourceVersion) and hands it to the worker, as the in-process watch does; the runtime's
 * changes kick the worker. `pod.current` is the stored pod, `pod.writes` every version written.
 */
function workerOnStoredPod(runtime: SimRuntime, initial: Obj, overrides: Partial<WorkerContext> = {}) {
  let rv = Number(initial.metadata.resourceVersion);
  const pod = { current: initial, writes: [] as Obj[] };
  let w: PodWorker | undefined;
  const client = {
    resource: (_g: string, plural: string) => ({ plural }),
    get: async () => pod.current,
    update: async (_r: unknown, body: Obj) => {
      pod.current = { ...body, spec: pod.current.spec, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      pod.writes.push(pod.current);
      w!.podEvent(pod.current);
      return pod.current;
    },
  } as unknown as Client;
  const unsubscribe = runtime.subscribe(() => w!.kick());
  w = new PodWorker(workerContext(client, runtime, () => pod.current, overrides), initial);
  w.podEvent(initial);
  const worker = w;
  return {
    pod,
    worker,
    stop(): void {
      unsubscribe();
      worker.stop();
    },
  };
}

test('a worker knows its own status writes, and not a write it made after a conflict', async () => {
  const runtime = new SimRuntime({ startDelayMs: 0 });
  await runtime.updateRuntimeConfig({ podCIDR: '10.244.1.0/24' });
  let rv = 10;
  let current: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-0', namespace: 'default', uid: 'u-1', resourceVersion: String(rv) },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'nginx:1.27' }] },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  };
  const writes: Obj[] = [];
  let conflicts = 0;
  /** A change of someone else's, stored while the worker's next write is on its way. */
  let othersChange: ((p: Obj) => Obj) | undefined;
  const client = {
    resource: (_g: string, plural: string) => ({ plural }),
    get: async () => current,
    update: async (_r: unknown, body: Obj) => {
      if (othersChange) {
        current = { ...othersChange(current), metadata: { ...othersChange(current).metadata, resourceVersion: String(++rv) } };
        othersChange = undefined;
      }
      if (body.metadata.resourceVersion !== current.metadata.resourceVersion) {
        conflicts++;
        throw new ApiError(409, 'Conflict', 'the object has been modified');
      }
      current = { ...body, spec: current.spec, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      writes.push(current);
      return current;
    },
  } as unknown as Client;
  const ctx = workerContext(client, runtime, () => current);
  const w = new PodWorker(ctx, current);
  w.kick();
  await until(() => writes.length === 2 && writes[1]!.status.phase === 'Running', 'two status writes: ContainerCreating, then Running');
  assert.equal(w.wroteVersion(writes[0]!), true);
  assert.equal(w.wroteVersion(writes[1]!), true);
  assert.equal(w.wroteVersion({ metadata: { resourceVersion: '9' } }), false, 'a version of before');

  // Someone annotates the pod (the sim's readiness hook): not the worker's, so it syncs, and its write is its own.
  current = { ...current, metadata: { ...current.metadata, annotations: { 'sim.ordinal.dev/ready': 'false' }, resourceVersion: String(++rv) } };
  const annotated = current;
  assert.equal(w.wroteVersion(annotated), false);
  w.kick();
  await until(() => writes.length === 3, 'a third write: NotReady');
  assert.equal(writes[2]!.status.conditions.find((c: Obj) => c.type === 'Ready').status, 'False');
  assert.equal(w.wroteVersion(writes[2]!), true);

  // The hook goes; the write that follows meets a conflict (someone's label went in first): the write after it is not the worker's own.
  current = { ...current, metadata: { ...current.metadata, annotations: {}, resourceVersion: String(++rv) } };
  othersChange = (p) => ({ ...p, metadata: { ...p.metadata, labels: { team: 'b' } } });
  w.kick();
  await until(() => writes.length === 4, 'a fourth write: Ready again, after a conflict');
  assert.equal(conflicts, 1);
  assert.deepEqual(writes[3]!.metadata.labels, { team: 'b' }, 'written over the fresh pod');
  assert.equal(w.wroteVersion(writes[3]!), false, 'the informer brings it to a sync');
  w.stop();
  runtime.close();
});

test('versions heard during a sync bring another sync only when they are not its own writes', async () => {
  const runtime = new SimRuntime({ startDelayMs: 0 });
  await runtime.updateRuntimeConfig({ podCIDR: '10.244.1.0/24' });
  let syncs = 0;
  const podUpdated = runtime.podUpdated.bind(runtime);
  // The runtime hears of the pod once at the start of every sync that finds it.
  runtime.podUpdated = (p: Obj) => {
    syncs++;
    podUpdated(p);
  };
  let rv = 10;
  let current: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-0', namespace: 'default', uid: 'u-1', resourceVersion: String(rv) },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'nginx:1.27' }] },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  };
  const writes: Obj[] = [];
  /** Someone else's change, stored right after the worker's next write and heard before that write answers. */
  let othersChange: ((p: Obj) => Obj) | undefined;
  let w: PodWorker | undefined;
  const client = {
    resource: (_g: string, plural: string) => ({ plural }),
    get: async () => current,
    update: async (_r: unknown, body: Obj) => {
      assert.equal(body.metadata.resourceVersion, current.metadata.resourceVersion);
      current = { ...body, spec: current.spec, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      const written = current;
      writes.push(written);
      // As the in-process watch does: the write's event reaches the informer before the write's reply.
      w!.podEvent(written);
      if (othersChange) {
        current = { ...othersChange(current), metadata: { ...othersChange(current).metadata, resourceVersion: String(++rv) } };
        othersChange = undefined;
        w!.podEvent(current);
      }
      await new Promise((r) => setTimeout(r, 1));
      return written;
    },
  } as unknown as Client;
  const ctx = workerContext(client, runtime, () => current);
  w = new PodWorker(ctx, current);
  w.podEvent(current);
  await until(() => writes.length === 2 && writes[1]!.status.phase === 'Running', 'two status writes: ContainerCreating, then Running');
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(syncs, 1, 'its own two writes, heard during the sync, ask for no second sync');
  assert.equal(writes.length, 2);

  // Someone's label, heard while idle: one sync, which writes nothing.
  current = { ...current, metadata: { ...current.metadata, labels: { team: 'a' }, resourceVersion: String(++rv) } };
  syncs = 0;
  w.podEvent(current);
  await until(() => syncs >= 1, 'a sync for the label');
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(writes.length, 2, 'a label changes no status');
  assert.equal(syncs, 1);
  // Someone resets the status: the worker writes it back, and someone's annotation (the sim's
  // readiness hook), stored right after that write, is heard during the sync: it brings one more.
  othersChange = (p) => ({ ...p, metadata: { ...p.metadata, annotations: { 'sim.ordinal.dev/ready': 'false' } } });
  current = { ...current, status: { ...current.status, phase: 'Pending' }, metadata: { ...current.metadata, resourceVersion: String(++rv) } };
  syncs = 0;
  w.podEvent(current);
  await until(() => writes.length === 4, 'the worker writes Running back, then NotReady for the annotation it heard during that sync');
  assert.equal(syncs, 2);
  assert.equal(writes[2]!.status.phase, 'Running');
  assert.equal(writes[3]!.status.conditions.find((c: Obj) => c.type === 'Ready').status, 'False');
  w.stop();
  runtime.close();
});

test('init containers run to completion first, a sidecar keeps running, restart counts carry over', async () => {
  const runtime = new SimRuntime({ startDelayMs: 0, initRunMs: 10 });
  await runtime.updateRuntimeConfig({ podCIDR: '10.244.1.0/24' });
  const { pod, stop } = workerOnStoredPod(runtime, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'db-0', namespace: 'default', uid: 'u-2', resourceVersion: '10' },
    spec: {
      nodeName: 'node-1',
      initContainers: [
        { name: 'setup', image: 'busybox:1.36' },
        { name: 'proxy', image: 'envoy:1.30', restartPolicy: 'Always' },
      ],
      containers: [{ name: 'db', image: 'postgres:16' }],
    },
    // Reported before (an agent restart): the restart count carries over.
    status: { phase: 'Pending', containerStatuses: [{ name: 'db', restartCount: 3 }], conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  });
  await until(() => pod.current.status.phase === 'Running' && pod.current.status.containerStatuses?.[0]?.state?.running !== undefined, 'db running');
  const s = pod.current.status;
  assert.deepEqual(
    s.initContainerStatuses.map((c: Obj) => [c.name, Object.keys(c.state)[0], c.state.terminated?.reason]),
    [
      ['setup', 'terminated', 'Completed'],
      ['proxy', 'running', undefined],
    ],
  );
  assert.equal(s.containerStatuses[0].restartCount, 3);
  assert.equal(s.conditions.find((c: Obj) => c.type === 'Initialized').status, 'True');
  // Nothing of the regular container ran before the init container had finished.
  const first = pod.writes.findIndex((x) => x.status.containerStatuses[0].state.running);
  assert.ok(first > 0 && pod.writes.slice(0, first).some((x) => x.status.initContainerStatuses[0].state.running || x.status.conditions.find((c: Obj) => c.type === 'Initialized').status === 'False'));
  stop();
  runtime.close();
});

test('the delete that ends a stopped pod is tried again after it fails, until the API answers', async () => {
  const runtime = new SimRuntime({ startDelayMs: 0 });
  await runtime.updateRuntimeConfig({ podCIDR: '10.244.1.0/24' });
  let rv = 10;
  let current: Obj | undefined = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-3', namespace: 'default', uid: 'u-3', resourceVersion: String(rv) },
    spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 30, containers: [{ name: 'app', image: 'nginx:1.27' }] },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  };
  let deletes = 0;
  let finished = false;
  const client = {
    resource: (_g: string, plural: string) => ({ plural }),
    get: async () => current,
    update: async (_r: unknown, body: Obj) => {
      current = { ...body, spec: current!.spec, metadata: { ...current!.metadata, resourceVersion: String(++rv) } };
      return current;
    },
    delete: async (_r: unknown, _ns: string, _name: string, opts: Obj) => {
      assert.deepEqual(opts, { gracePeriodSeconds: 0, preconditions: { uid: 'u-3' } });
      // The first one meets a server that was killed while the request was on its way.
      if (++deletes === 1) throw new Error('read ECONNRESET');
      current = undefined;
      w.kick();
    },
  } as unknown as Client;
  const ctx = workerContext(client, runtime, () => current, {
    finished() {
      finished = true;
    },
  });
  const w = new PodWorker(ctx, current!);
  w.kick();
  await until(() => current?.status.phase === 'Running', 'the pod runs');
  current = { ...current!, metadata: { ...current!.metadata, deletionTimestamp: '2026-01-01T00:00:30Z', deletionGracePeriodSeconds: 30, resourceVersion: String(++rv) } };
  w.podEvent(current);
  await until(() => deletes === 1, 'the first delete, which fails');
  assert.equal(w.isDone(), true, 'the containers are stopped: a successor may start');
  assert.equal(current?.status.phase, 'Succeeded');
  for (let i = 0; i < 400 && !finished; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(deletes, 2, 'the delete was made again');
  assert.equal(current, undefined, 'the pod is gone from the API');
  assert.equal(finished, true, 'the worker finished once the pod was gone');
  w.stop();
  runtime.close();
});

test('a pod whose containers all exited and will not restart is finished; one that restarts is not', async () => {
  /** Runs one pod whose container exits 0 after 20 ms, under `restartPolicy`, and returns its statuses seen and whether its sandbox is gone. */
  async function run(restartPolicy: string): Promise<{ phases: string[]; sandboxes: number; restarts: number }> {
    const runtime = new SimRuntime({ startDelayMs: 0 });
    await runtime.updateRuntimeConfig({ podCIDR: '10.244.1.0/24' });
    const { pod, worker, stop } = workerOnStoredPod(
      runtime,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'job-0', namespace: 'default', uid: `u-${restartPolicy}`, resourceVersion: '10', annotations: { 'sim.ordinal.dev/run-for': '20ms' } },
        spec: { nodeName: 'node-1', restartPolicy, containers: [{ name: 'work', image: 'busybox:1.36' }] },
        status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }] },
      },
      { backoffBaseMs: 10, backoffMaxMs: 20 },
    );
    if (restartPolicy === 'Never') await until(() => worker.isDone(), 'the finished pod is torn down');
    else await until(() => (pod.current.status.containerStatuses?.[0]?.restartCount ?? 0) >= 2, 'the container restarted twice');
    const sandboxes = (await runtime.listPodSandboxes()).length;
    const restarts = pod.current.status.containerStatuses[0].restartCount;
    const phases: string[] = pod.writes.map((x) => x.status.phase);
    stop();
    runtime.close();
    return { phases, sandboxes, restarts };
  }
  const never = await run('Never');
  assert.equal(never.phases.at(-1), 'Succeeded');
  assert.equal(never.sandboxes, 0, 'a finished pod keeps no sandbox');
  assert.equal(never.restarts, 0);
  const always = await run('Always');
  assert.ok(!always.phases.includes('Succeeded'), `a restarting pod never finishes: ${always.phases.join(',')}`);
  assert.equal(always.sandboxes, 1, 'a restarting pod keeps its sandbox');
});
