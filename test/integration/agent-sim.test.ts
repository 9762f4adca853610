// Three simulated nodes and the scheduler against an in-process API server, driven and observed
// with the real kubectl.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { startTestApi, type TestApi } from '../support/inprocess.ts';
import { kubectl, kubectlOk, kubectlStream, waitUntil, type Cluster } from './harness.ts';
import { NodeAgent, type NodeAgentOptions } from '../../src/agent/agent.ts';
import { SimRuntime } from '../../src/agent/runtime/sim.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';

let api: TestApi;
let c: Cluster;
const agents: NodeAgent[] = [];
let scheduler: Scheduler;

const newAgent = (i: number, more: Partial<NodeAgentOptions> = {}) =>
  new NodeAgent(api.client, {
    nodeName: `sim-${i}`,
    runtime: new SimRuntime({ startDelayMs: 300, stopDelayMs: 200 }),
    podCIDR: `10.244.${i}.0/24`,
    internalIP: `192.0.2.${i + 1}`,
    backoffBaseMs: 300,
    backoffMaxMs: 2000,
    ...more,
  });

before(async () => {
  api = await startTestApi();
  c = { kubeconfig: api.kubeconfig } as Cluster;
  for (let i = 0; i < 3; i++) agents.push(newAgent(i));
  await Promise.all(agents.map((a) => a.start()));
  scheduler = new Scheduler(api.client, { retryIntervalMs: 5000 });
  await scheduler.start();
});

after(async () => {
  scheduler?.stop();
  for (const a of agents) a.stop();
  await api?.close();
});

const apply = (yaml: string) => kubectlOk(c, ['apply', '-f', '-'], { input: yaml });
const getPod = async (name: string): Promise<Obj> => JSON.parse(await kubectlOk(c, ['get', 'pod', name, '-o', 'json']));
const podLine = async (name: string) => (await kubectl(c, ['get', 'pod', name, '--no-headers'])).stdout.trim().split(/\s+/);
const waitForPod = (name: string, pred: (p: Obj) => boolean, ms = 10_000) =>
  waitUntil(async () => {
    const r = await kubectl(c, ['get', 'pod', name, '-o', 'json']);
    return r.code === 0 && pred(JSON.parse(r.stdout));
  }, ms, () => `pod ${name} did not reach the expected state`);
const isReady = (p: Obj) => p.status?.phase === 'Running' && p.status.conditions?.some((x: Obj) => x.type === 'Ready' && x.status === 'True');

function podYaml(name: string, extra = '', annotations = '', labels = ''): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
${labels ? `  labels:\n${labels}\n` : ''}${annotations ? `  annotations:\n${annotations}\n` : ''}spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: app
    image: registry.k8s.io/nginx-slim:0.21
${extra ? `${extra}\n` : ''}`;
}

test('three simulated nodes register Ready with leases', async () => {
  const out = await kubectlOk(c, ['get', 'nodes', '-o', 'wide']);
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 4, out);
  for (const l of lines.slice(1)) assert.match(l, /^sim-\d\s+Ready\s+<none>\s+\S+\s+v1\.32\.0\s+192\.0\.2\.\d\s+<none>\s+Ordinal simulated node\s+\S+\s+sim:\/\/1\.0$/);
  const node: Obj = JSON.parse(await kubectlOk(c, ['get', 'node', 'sim-1', '-o', 'json']));
  assert.equal(node.spec.podCIDR, '10.244.1.0/24');
  assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'sim-1');
  assert.equal(node.status.capacity.pods, '110');
  const lease: Obj = JSON.parse(await kubectlOk(c, ['get', 'lease', '-n', 'kube-node-lease', 'sim-1', '-o', 'json']));
  assert.equal(lease.spec.holderIdentity, 'sim-1');
  assert.equal(lease.spec.leaseDurationSeconds, 40);
  assert.equal(lease.metadata.ownerReferences[0].kind, 'Node');
});

test('pods are scheduled, spread, and run 1/1 with IPs; watch shows Pending → ContainerCreating → Running', async () => {
  const watch = kubectlStream(c, ['get', 'pods', '-w', '-l', 'app=spread']);
  try {
    await apply(['s0', 's1', 's2'].map((n) => podYaml(n, '', '', '    app: spread')).join('---\n'));
    for (const n of ['s0', 's1', 's2']) await waitForPod(n, isReady);
    await watch.waitFor(/s2\s+1\/1\s+Running/);
  } finally {
    await watch.stop();
  }
  const w = watch.output();
  for (const n of ['s0', 's1', 's2']) {
    const states = w.split('\n').filter((l) => l.startsWith(`${n} `)).map((l) => l.split(/\s+/).slice(1, 3).join(' '));
    assert.equal(states[0], '0/1 Pending', w);
    assert.ok(states.includes('0/1 ContainerCreating'), w);
    assert.equal(states.at(-1), '1/1 Running', w);
    assert.ok(states.indexOf('0/1 ContainerCreating') < states.indexOf('1/1 Running'), w);
  }
  const wide = await kubectlOk(c, ['get', 'pods', '-o', 'wide', '-l', 'app=spread', '--no-headers']);
  const rows = wide.trim().split('\n').map((l) => l.split(/\s+/));
  assert.deepEqual(rows.map((r) => r.slice(1, 4)), [['1/1', 'Running', '0'], ['1/1', 'Running', '0'], ['1/1', 'Running', '0']]);
  assert.equal(new Set(rows.map((r) => r[6])).size, 3, `spread over three nodes:\n${wide}`);
  for (const r of rows) assert.match(r[5], new RegExp(`^10\\.244\\.${r[6].slice(4)}\\.\\d+$`), wide);
  const p = await getPod('s0');
  assert.equal(p.status.hostIP, `192.0.2.${Number(p.spec.nodeName.slice(4)) + 1}`);
  assert.match(p.status.containerStatuses[0].containerID, /^sim:\/\/[0-9a-f]{64}$/);
  assert.deepEqual(p.status.conditions.map((x: Obj) => x.type), ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  const events = await kubectlOk(c, ['get', 'events', '--field-selector', 'involvedObject.name=s0', '-o', 'custom-columns=REASON:.reason,MSG:.message', '--no-headers']);
  assert.match(events, new RegExp(`Scheduled\\s+Successfully assigned default/s0 to ${p.spec.nodeName}`));
  assert.match(events, /Started\s+Started container app/);
});

test('nodeSelector, taints and unschedulable retries', async () => {
  await kubectlOk(c, ['label', 'node', 'sim-2', 'disk=ssd']);
  await kubectlOk(c, ['taint', 'node', 'sim-0', 'dedicated=db:NoSchedule']);
  try {
    await apply(podYaml('sel', '  nodeSelector:\n    disk: ssd'));
    await waitForPod('sel', (p) => p.spec.nodeName === 'sim-2');
    // Tolerating pods may use the tainted node; the others never do.
    await apply(podYaml('tol', '  nodeSelector:\n    kubernetes.io/hostname: sim-0\n  tolerations:\n  - key: dedicated\n    operator: Equal\n    value: db\n    effect: NoSchedule'));
    await waitForPod('tol', (p) => p.spec.nodeName === 'sim-0');
    await apply(podYaml('notol', '  nodeSelector:\n    kubernetes.io/hostname: sim-0'));
    await waitForPod('notol', (p) => p.status?.conditions?.some((x: Obj) => x.type === 'PodScheduled' && x.reason === 'Unschedulable'));
    const p = await getPod('notol');
    const cond = p.status.conditions.find((x: Obj) => x.type === 'PodScheduled');
    assert.equal(
      cond.message,
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    assert.deepEqual(await podLine('notol').then((l) => l.slice(1, 3)), ['0/1', 'Pending']);
    const ev = await kubectlOk(c, ['get', 'events', '--field-selector', 'involvedObject.name=notol,reason=FailedScheduling', '-o', 'jsonpath={.items[*].type}']);
    assert.match(ev, /Warning/);
    // Removing the taint lets it through without any other nudge.
    await kubectlOk(c, ['taint', 'node', 'sim-0', 'dedicated=db:NoSchedule-']);
    await waitForPod('notol', isReady);
  } finally {
    await kubectl(c, ['taint', 'node', 'sim-0', 'dedicated=db:NoSchedule-']);
  }
});

test('ZooKeeper-style anti-affinity puts one pod per node; a fourth stays Pending', async () => {
  const anti = `  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector:
          matchExpressions:
          - key: app
            operator: In
            values: [zk]
        topologyKey: kubernetes.io/hostname`;
  await apply(['zk-0', 'zk-1', 'zk-2', 'zk-3'].map((n) => podYaml(n, anti, '', '    app: zk')).join('---\n'));
  await waitUntil(async () => {
    const pods: Obj[] = JSON.parse(await kubectlOk(c, ['get', 'pods', '-l', 'app=zk', '-o', 'json'])).items;
    return pods.filter((p) => p.spec.nodeName).length === 3 && pods.some((p) => p.status?.conditions?.some((x: Obj) => x.reason === 'Unschedulable'));
  }, 10_000, () => 'three zk pods bound, one unschedulable');
  const pods: Obj[] = JSON.parse(await kubectlOk(c, ['get', 'pods', '-l', 'app=zk', '-o', 'json'])).items;
  assert.equal(new Set(pods.filter((p) => p.spec.nodeName).map((p) => p.spec.nodeName)).size, 3);
  const pending = pods.find((p) => !p.spec.nodeName)!;
  assert.match(pending.status.conditions.find((x: Obj) => x.type === 'PodScheduled').message, /^0\/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules\./);
  // Deleting one frees its node for the pending one.
  const victim = pods.find((p) => p.spec.nodeName)!;
  await kubectlOk(c, ['delete', 'pod', victim.metadata.name]);
  await waitForPod(pending.metadata.name, (p) => p.spec.nodeName === victim.spec.nodeName);
  await kubectlOk(c, ['delete', 'pods', '-l', 'app=zk', '--wait=false']);
});

test('graceful deletion waits about the stop delay, then the pod is gone', async () => {
  await apply(podYaml('del'));
  await waitForPod('del', isReady);
  const watch = kubectlStream(c, ['get', 'pod', 'del', '-w']);
  await watch.waitFor(/del\s+1\/1\s+Running/);
  const t0 = Date.now();
  await kubectlOk(c, ['delete', 'pod', 'del']);
  const took = Date.now() - t0;
  await watch.stop();
  assert.ok(took >= 200 && took < 3000, `delete took ${took} ms`);
  assert.equal((await kubectl(c, ['get', 'pod', 'del'])).code, 1);
  assert.match(watch.output(), /del\s+1\/1\s+Terminating/);
  assert.match(watch.output(), /del\s+0\/1\s+Completed/);
});

test('finalizers keep a stopped pod until they are removed', async () => {
  await apply(podYaml('fin').replace('  name: fin\n', '  name: fin\n  finalizers: [example.com/hold]\n'));
  await waitForPod('fin', isReady);
  await kubectlOk(c, ['delete', 'pod', 'fin', '--wait=false']);
  await waitForPod('fin', (p) => p.status.phase === 'Succeeded' && p.status.containerStatuses[0].state.terminated);
  await kubectlOk(c, ['patch', 'pod', 'fin', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
  await waitUntil(async () => (await kubectl(c, ['get', 'pod', 'fin'])).code === 1);
});

test('test hooks: NotReady, crash, CrashLoopBackOff with growing restarts, completion', async () => {
  await apply(podYaml('hook'));
  await waitForPod('hook', isReady);
  await kubectlOk(c, ['annotate', 'pod', 'hook', 'sim.ordinal.dev/ready=false']);
  await waitUntil(async () => (await podLine('hook')).slice(1, 3).join(' ') === '0/1 Running');
  await kubectlOk(c, ['annotate', 'pod', 'hook', 'sim.ordinal.dev/ready-']);
  await waitUntil(async () => (await podLine('hook')).slice(1, 3).join(' ') === '1/1 Running');

  await kubectlOk(c, ['annotate', 'pod', 'hook', 'sim.ordinal.dev/crash=1']);
  await waitForPod('hook', (p) => isReady(p) && p.status.containerStatuses[0].restartCount === 1);
  const crashed = await getPod('hook');
  assert.equal(crashed.status.containerStatuses[0].lastState.terminated.exitCode, 1);

  const watch = kubectlStream(c, ['get', 'pod', 'hook', '-w']);
  await kubectlOk(c, ['annotate', 'pod', 'hook', 'sim.ordinal.dev/fail=true']);
  await waitForPod('hook', (p) => p.status.containerStatuses[0].restartCount >= 4, 15_000);
  await watch.stop();
  const line = await podLine('hook');
  assert.ok(['CrashLoopBackOff', 'Error'].includes(line[2]), line.join(' '));
  assert.match(watch.output(), /hook\s+0\/1\s+CrashLoopBackOff\s+\d/);
  const restarts = [...watch.output().matchAll(/hook\s+\S+\s+\S+\s+(\d+)/g)].map((m) => Number(m[1]));
  assert.ok(restarts.at(-1)! > restarts[0], `restarts grow: ${restarts}`);
  const p = await getPod('hook');
  assert.equal(p.status.phase, 'Running');
  assert.equal(p.status.containerStatuses[0].ready, false);
  await kubectlOk(c, ['annotate', 'pod', 'hook', 'sim.ordinal.dev/fail-']);
  await waitForPod('hook', isReady, 10_000);

  // restartPolicy Never: containers that exit 0 make the pod Succeeded; exit 1 makes it Failed.
  await apply(podYaml('done', '  restartPolicy: Never', '    sim.ordinal.dev/complete: "true"'));
  await waitForPod('done', (p) => p.status.phase === 'Succeeded');
  assert.deepEqual((await podLine('done')).slice(1, 3), ['0/1', 'Completed']);
  await apply(podYaml('bad', '  restartPolicy: Never', '    sim.ordinal.dev/fail: "true"'));
  await waitForPod('bad', (p) => p.status.phase === 'Failed');
  assert.deepEqual((await podLine('bad')).slice(1, 3), ['0/1', 'Error']);
});

test('readinessProbe initialDelaySeconds delays Ready', async () => {
  await apply(podYaml('probe', '    readinessProbe:\n      initialDelaySeconds: 1\n      httpGet:\n        path: /\n        port: 80'));
  await waitForPod('probe', (p) => p.status.phase === 'Running');
  const first = await getPod('probe');
  const started = Date.parse(first.status.containerStatuses[0].state.running.startedAt);
  await waitForPod('probe', isReady);
  const ready = (await getPod('probe')).status.conditions.find((x: Obj) => x.type === 'Ready');
  assert.ok(Date.parse(ready.lastTransitionTime) - started >= 1000, 'Ready at least 1 s after the container started');
});

test('volumes: missing claim, delayed binding on the selected node, and the pod back to its data', async () => {
  await apply(podYaml('vol', '    volumeMounts:\n    - name: www\n      mountPath: /data\n  volumes:\n  - name: www\n    persistentVolumeClaim:\n      claimName: www-vol'));
  await waitForPod('vol', (p) => p.status?.conditions?.some((x: Obj) => x.reason === 'Unschedulable'));
  assert.match((await getPod('vol')).status.conditions[0].message, /^0\/3 nodes are available: persistentvolumeclaim "www-vol" not found\./);

  await apply(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-test
provisioner: example.com/test
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: www-vol
spec:
  storageClassName: local-test
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`);
  // The scheduler asks for the volume on a node and waits; play the provisioner here.
  let selected = '';
  await waitUntil(async () => {
    const claim: Obj = JSON.parse(await kubectlOk(c, ['get', 'pvc', 'www-vol', '-o', 'json']));
    selected = claim.metadata.annotations?.['volume.kubernetes.io/selected-node'] ?? '';
    return !!selected;
  });
  assert.equal((await getPod('vol')).spec.nodeName, undefined, 'not bound before its claim');
  await apply(`apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-vol
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  storageClassName: local-test
  hostPath:
    path: /tmp/pv-vol
  claimRef:
    namespace: default
    name: www-vol
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - key: kubernetes.io/hostname
          operator: In
          values: [${selected}]
`);
  const claims = api.client.resource('', 'persistentvolumeclaims');
  await api.client.patch(claims, 'default', 'www-vol', 'application/merge-patch+json', { spec: { volumeName: 'pv-vol' } });
  await api.client.patch(claims, 'default', 'www-vol', 'application/merge-patch+json', { status: { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } }, 'status');
  await waitForPod('vol', (p) => p.spec.nodeName === selected && isReady(p));

  // Recreated, it goes back to the node holding its data.
  await kubectlOk(c, ['delete', 'pod', 'vol']);
  await apply(podYaml('vol', '  volumes:\n  - name: www\n    persistentVolumeClaim:\n      claimName: www-vol'));
  await waitForPod('vol', (p) => p.spec.nodeName === selected && isReady(p));
});

test('a restarted agent adopts its running pods: same IPs, no restarts, no second copy', async () => {
  await apply(podYaml('keep', '  nodeName: sim-1'));
  await waitForPod('keep', isReady);
  const before: Obj = await getPod('keep');
  agents[1].stop();
  agents[1] = newAgent(1);
  await agents[1].start();
  await new Promise((r) => setTimeout(r, 800));
  const afterPod: Obj = await getPod('keep');
  assert.equal(afterPod.status.podIP, before.status.podIP);
  assert.equal(afterPod.status.containerStatuses[0].restartCount, 0);
  assert.equal(afterPod.status.containerStatuses[0].containerID, before.status.containerStatuses[0].containerID);
  assert.equal(afterPod.status.containerStatuses[0].state.running.startedAt, before.status.containerStatuses[0].state.running.startedAt);
  // Its image too: nothing changed, so nothing was written (a restart of 10,000 pods wrote each one's status, imageID emptied).
  assert.match(before.status.containerStatuses[0].imageID, /@sha256:/);
  assert.equal(afterPod.status.containerStatuses[0].imageID, before.status.containerStatuses[0].imageID);
  assert.equal(afterPod.metadata.resourceVersion, before.metadata.resourceVersion, 'the adopted pod\'s status was written again');
  // New pods on the restarted node get IPs distinct from the adopted ones.
  await apply(podYaml('fresh', '  nodeName: sim-1'));
  await waitForPod('fresh', isReady);
  assert.notEqual((await getPod('fresh')).status.podIP, before.status.podIP);
  // And graceful deletion still works for an adopted pod.
  await kubectlOk(c, ['delete', 'pod', 'keep']);
  assert.equal((await kubectl(c, ['get', 'pod', 'keep'])).code, 1);
});

test('a deleted Node is not registered again by its running agent', async () => {
  const agent = newAgent(9, { leaseRenewMs: 100, nodeStatusReportMs: 100 });
  try {
    await agent.start();
    assert.equal((await kubectl(c, ['get', 'node', 'sim-9'])).code, 0);
    // As upstream's kubelet, which registers once per start: pod GC then removes the node's pods
    // after its quarantine, rather than racing a new registration.
    await kubectlOk(c, ['delete', 'node', 'sim-9']);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await kubectl(c, ['get', 'node', 'sim-9'])).code, 1, 'the agent registered its deleted Node again');
  } finally {
    agent.stop();
  }
});
