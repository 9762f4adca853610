// The volume, endpoints and endpointslice controllers against an in-process API server, observed
// with the real kubectl. The test plays the scheduler (selected-node annotation) and the node
// agent (pod status) itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Obj } from '../../src/api/resource.ts';
import { startTestApi, type TestApi } from '../support/inprocess.ts';
import { kubectlOk, waitUntil, type Cluster } from './harness.ts';
import { VolumeController } from '../../src/controllers/volume/controller.ts';
import { EndpointsController } from '../../src/controllers/endpoints/controller.ts';
import { EndpointSliceController } from '../../src/controllers/endpointslice/controller.ts';
import { GarbageCollector } from '../../src/controllers/garbagecollector/controller.ts';

let t: TestApi;
let dataDir: string;
let c: Cluster;
let volumes: VolumeController;
const stops: (() => void)[] = [];

before(async () => {
  t = await startTestApi();
  dataDir = mkdtempSync(join(tmpdir(), 'ordinal-volumes-'));
  c = { kubeconfig: t.kubeconfig } as Cluster;
  const node: Obj = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } } };
  const created = await t.client.create(r('nodes'), undefined, node);
  await t.client.update(r('nodes'), { ...created, status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2024-01-01T00:00:00Z', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'KubeletReady', message: 'ok' }] } }, 'status');
  volumes = new VolumeController(t.client, { dataDir });
  stops.push(() => volumes.stop());
  await volumes.start();
  for (const ctl of [new EndpointsController(t.client), new EndpointSliceController(t.client), new GarbageCollector(t.client)]) {
    await ctl.start();
    stops.push(() => ctl.stop());
  }
});
after(async () => {
  for (const s of stops) s();
  await t.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const r = (plural: string, group = '') => t.client.resource(group, plural);
const get = (plural: string, ns: string | undefined, name: string, group = '') => t.client.get(r(plural, group), ns, name).catch(() => undefined);
const rows = async (args: string[]) => (await kubectlOk(c, args)).trim().split('\n');

function claim(name: string, o: { cls?: string; size?: string; ann?: Record<string, string> } = {}): Obj {
  const spec: Obj = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: o.size ?? '1Gi' } } };
  if (o.cls) spec.storageClassName = o.cls;
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default', annotations: o.ann }, spec };
}

async function waitBound(name: string): Promise<Obj> {
  let pvc: Obj | undefined;
  await waitUntil(async () => (pvc = await get('persistentvolumeclaims', 'default', name))?.status?.phase === 'Bound', 10_000, () => `claim ${name} Bound: ${JSON.stringify(pvc)}`);
  return pvc!;
}

async function eventsFor(name: string): Promise<Obj[]> {
  return (await t.client.list(r('events'), { namespace: 'default' })).items.filter((e) => e.involvedObject.name === name);
}

test('default StorageClass local-path exists', async () => {
  const sc = await get('storageclasses', undefined, 'local-path', 'storage.k8s.io');
  assert.equal(sc?.provisioner, 'ordinal.dev/local-path');
  assert.equal(sc?.volumeBindingMode, 'WaitForFirstConsumer');
  assert.equal(sc?.reclaimPolicy, 'Delete');
  const table = await rows(['get', 'storageclass']);
  assert.match(table[1], /^local-path \(default\)\s+ordinal\.dev\/local-path\s+Delete\s+WaitForFirstConsumer\s+true\s+\d+s$/);
});

test('WaitForFirstConsumer: a claim waits for the selected node, then is provisioned and bound', async () => {
  await t.client.create(r('persistentvolumeclaims'), 'default', claim('www-web-0'));
  let pvc = (await get('persistentvolumeclaims', 'default', 'www-web-0'))!;
  assert.equal(pvc.spec.storageClassName, 'local-path', 'admission assigns the default class');
  assert.deepEqual(pvc.metadata.finalizers, ['kubernetes.io/pvc-protection']);
  await waitUntil(async () => (await eventsFor('www-web-0')).some((e) => e.reason === 'WaitForFirstConsumer'));
  const waiting = (await eventsFor('www-web-0')).find((e) => e.reason === 'WaitForFirstConsumer')!;
  assert.equal(waiting.message, 'waiting for first consumer to be created before binding');
  assert.equal(waiting.type, 'Normal');
  assert.match((await rows(['get', 'pvc', 'www-web-0']))[1], /^www-web-0\s+Pending\s+local-path\s+<unset>\s+\d+s$/);

  // The scheduler's part.
  await t.client.patch(r('persistentvolumeclaims'), 'default', 'www-web-0', 'application/merge-patch+json', { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'node-1' } } });
  pvc = await waitBound('www-web-0');
  const pvName = `pvc-${pvc.metadata.uid}`;
  assert.equal(pvc.spec.volumeName, pvName);
  assert.equal(pvc.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
  assert.equal(pvc.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
  assert.equal(pvc.metadata.annotations['volume.kubernetes.io/storage-provisioner'], 'ordinal.dev/local-path');
  assert.deepEqual(pvc.status, { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });

  const pv = (await get('persistentvolumes', undefined, pvName))!;
  assert.equal(pv.status.phase, 'Bound');
  assert.equal(pv.spec.local.path, join(dataDir, 'volumes', pvName));
  assert.ok(existsSync(pv.spec.local.path), 'directory made');
  assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0], { key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] });
  assert.equal(pv.spec.claimRef.uid, pvc.metadata.uid);
  assert.deepEqual([...pv.metadata.finalizers].sort(), ['kubernetes.io/pv-controller', 'kubernetes.io/pv-protection']);

  assert.match((await rows(['get', 'pvc', 'www-web-0']))[1], /^www-web-0\s+Bound\s+pvc-[0-9a-f-]+\s+1Gi\s+RWO\s+local-path\s+<unset>\s+\d+s$/);
  const pvRow = (await rows(['get', 'pv', pvName]))[1];
  assert.match(pvRow, new RegExp(`^${pvName}\\s+1Gi\\s+RWO\\s+Delete\\s+Bound\\s+default/www-web-0\\s+local-path\\s+<unset>\\s+\\d+s$`));
  await waitUntil(async () => (await eventsFor('www-web-0')).some((e) => e.reason === 'ProvisioningSucceeded'));
  assert.equal((await eventsFor('www-web-0')).find((e) => e.reason === 'ProvisioningSucceeded')!.message, `Successfully provisioned volume ${pvName} using ordinal.dev/local-path`);

  // Deleting the claim (Delete policy): the volume and its directory go.
  await t.client.delete(r('persistentvolumeclaims'), 'default', 'www-web-0');
  await waitUntil(async () => !(await get('persistentvolumeclaims', 'default', 'www-web-0')), 10_000, () => 'claim gone');
  await waitUntil(async () => !(await get('persistentvolumes', undefined, pvName)), 10_000, () => 'volume gone');
  assert.equal(existsSync(pv.spec.local.path), false, 'directory removed');
});

test('Immediate class: provisioned on a Ready node at once; Retain leaves the volume Released', async () => {
  await t.client.create(r('storageclasses', 'storage.k8s.io'), undefined, {
    metadata: { name: 'fast' },
    provisioner: 'ordinal.dev/local-path',
    reclaimPolicy: 'Retain',
    volumeBindingMode: 'Immediate',
  });
  await t.client.create(r('persistentvolumeclaims'), 'default', claim('data', { cls: 'fast', size: '2Gi' }));
  const pvc = await waitBound('data');
  const pv = (await get('persistentvolumes', undefined, pvc.spec.volumeName))!;
  assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, ['node-1']);
  await t.client.delete(r('persistentvolumeclaims'), 'default', 'data');
  await waitUntil(async () => (await get('persistentvolumes', undefined, pv.metadata.name))?.status?.phase === 'Released', 10_000, () => 'Released');
  assert.ok(existsSync(pv.spec.local.path), 'retained data stays');
  const row = (await rows(['get', 'pv', pv.metadata.name]))[1];
  assert.match(row, /\s+2Gi\s+RWO\s+Retain\s+Released\s+default\/data\s+fast\s+/);
});

test('static binding: pre-created volumes, smallest that fits', async () => {
  for (const [name, size] of [['manual-a', '1Gi'], ['manual-b', '2Gi'], ['manual-c', '5Gi']]) {
    await t.client.create(r('persistentvolumes'), undefined, {
      metadata: { name },
      spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', hostPath: { path: `/tmp/${name}` } },
    });
  }
  await waitUntil(async () => (await get('persistentvolumes', undefined, 'manual-a'))?.status?.phase === 'Available', 10_000, () => 'Available');
  assert.match((await rows(['get', 'pv', 'manual-a']))[1], /^manual-a\s+1Gi\s+RWO\s+Retain\s+Available\s+manual\s+<unset>\s+\d+s$/);
  await t.client.create(r('persistentvolumeclaims'), 'default', claim('static-1', { cls: 'manual', size: '1500Mi' }));
  await t.client.create(r('persistentvolumeclaims'), 'default', claim('static-2', { cls: 'manual', size: '1500Mi' }));
  const [c1, c2] = [await waitBound('static-1'), await waitBound('static-2')];
  assert.deepEqual([c1.spec.volumeName, c2.spec.volumeName].sort(), ['manual-b', 'manual-c']);
  assert.equal((await get('persistentvolumes', undefined, 'manual-b'))!.status.phase, 'Bound');
  assert.equal((await get('persistentvolumes', undefined, 'manual-a'))!.status.phase, 'Available');
  assert.deepEqual(c1.status.capacity, { storage: c1.spec.volumeName === 'manual-b' ? '2Gi' : '5Gi' });
});

test('pvc-protection: a claim in use shows Terminating until its pod is gone', async () => {
  await t.client.create(r('persistentvolumeclaims'), 'default', claim('used', { ann: { 'volume.kubernetes.io/selected-node': 'node-1' } }));
  await waitBound('used');
  await t.client.create(r('pods'), 'default', {
    metadata: { name: 'user' },
    spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'used' } }] },
  });
  await t.client.delete(r('persistentvolumeclaims'), 'default', 'used');
  await new Promise((res) => setTimeout(res, 300));
  assert.match((await rows(['get', 'pvc', 'used']))[1], /^used\s+Terminating\s+pvc-/);
  await t.client.delete(r('pods'), 'default', 'user', { gracePeriodSeconds: 0 });
  await waitUntil(async () => !(await get('persistentvolumeclaims', 'default', 'used')), 10_000, () => 'claim released after pod deletion');
});

test('restart: a controller started later picks up where things are, without duplicate volumes', async () => {
  volumes.stop();
  await t.client.create(r('persistentvolumeclaims'), 'default', claim('late', { ann: { 'volume.kubernetes.io/selected-node': 'node-1' } }));
  await new Promise((res) => setTimeout(res, 100));
  assert.equal((await get('persistentvolumeclaims', 'default', 'late'))!.status.phase, 'Pending');
  volumes = new VolumeController(t.client, { dataDir });
  await volumes.start();
  const pvc = await waitBound('late');
  const mine = (await t.client.list(r('persistentvolumes'))).items.filter((v) => v.spec.claimRef?.name === 'late');
  assert.deepEqual(mine.map((v) => v.metadata.name), [pvc.spec.volumeName]);
  // An already-consistent world causes no writes on a second restart.
  const before = (await get('persistentvolumeclaims', 'default', 'late'))!.metadata.resourceVersion;
  volumes.stop();
  volumes = new VolumeController(t.client, { dataDir });
  await volumes.start();
  await new Promise((res) => setTimeout(res, 200));
  assert.equal((await get('persistentvolumeclaims', 'default', 'late'))!.metadata.resourceVersion, before);
});

test('pvc-protection: pods are watched only while a claim is deleting, and a pod seen before that still holds it', async () => {
  volumes.stop();
  volumes = new VolumeController(t.client, { dataDir, podWatchLingerMs: 200 });
  await volumes.start();
  await t.client.create(r('persistentvolumeclaims'), 'default', claim('held', { ann: { 'volume.kubernetes.io/selected-node': 'node-1' } }));
  await waitBound('held');
  // Made while no claim is deleting: no pod is watched, so the controller first hears of it when it lists.
  await t.client.create(r('pods'), 'default', {
    metadata: { name: 'holder' },
    spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'held' } }] },
  });
  // An unscheduled pod naming the claim does not hold it (upstream's rule), nor does another claim's pod.
  await t.client.create(r('pods'), 'default', {
    metadata: { name: 'waiting' },
    spec: { containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'held' } }] },
  });
  assert.equal(volumes.watchingPods, false, 'no claim is deleting yet');
  await t.client.delete(r('persistentvolumeclaims'), 'default', 'held');
  await waitUntil(async () => volumes.watchingPods, 5_000, () => 'pods watched once a claim is deleting');
  await new Promise((res) => setTimeout(res, 300));
  assert.deepEqual((await get('persistentvolumeclaims', 'default', 'held'))?.metadata.finalizers, ['kubernetes.io/pvc-protection'], 'held by the scheduled pod');
  await t.client.delete(r('pods'), 'default', 'holder', { gracePeriodSeconds: 0 });
  await waitUntil(async () => !(await get('persistentvolumeclaims', 'default', 'held')), 10_000, () => 'claim released after its pod is gone');
  await waitUntil(async () => !volumes.watchingPods, 5_000, () => 'pods no longer watched once no claim is deleting');
  await t.client.delete(r('pods'), 'default', 'waiting', { gracePeriodSeconds: 0 });
});

async function runPod(name: string, ip: string, ready: boolean) {
  const pod = await t.client.create(r('pods'), 'default', {
    metadata: { name, labels: { app: 'nginx' } },
    spec: { hostname: name, subdomain: 'nginx', nodeName: 'node-1', containers: [{ name: 'nginx', image: 'nginx', ports: [{ name: 'web', containerPort: 80 }] }] },
  });
  await setStatus(pod, ip, ready);
}

async function setStatus(pod: Obj, ip: string, ready: boolean) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = {
    phase: 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    hostIP: '192.168.0.2',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }],
  };
  const current = await t.client.get(r('pods'), 'default', pod.metadata.name);
  await t.client.update(r('pods'), { ...current, status: { ...current.status, ...status } }, 'status');
}

test('headless service: Endpoints and EndpointSlices list ready pods with hostnames', async () => {
  await t.client.create(r('services'), 'default', {
    metadata: { name: 'nginx', labels: { app: 'nginx' } },
    spec: { clusterIP: 'None', selector: { app: 'nginx' }, ports: [{ name: 'web', port: 80 }] },
  });
  await runPod('web-0', '10.244.0.5', true);
  await runPod('web-1', '10.244.0.6', false);
  let ep: Obj | undefined;
  await waitUntil(async () => (ep = await get('endpoints', 'default', 'nginx'))?.subsets?.[0]?.notReadyAddresses?.length === 1, 10_000, () => JSON.stringify(ep));
  assert.equal(ep!.metadata.labels['service.kubernetes.io/headless'], '');
  assert.equal(ep!.metadata.labels.app, 'nginx');
  assert.ok(ep!.metadata.annotations['endpoints.kubernetes.io/last-change-trigger-time']);
  const [ss] = ep!.subsets;
  assert.deepEqual(ss.addresses.map((a: Obj) => [a.ip, a.hostname, a.nodeName, a.targetRef.name]), [['10.244.0.5', 'web-0', 'node-1', 'web-0']]);
  assert.deepEqual(ss.notReadyAddresses.map((a: Obj) => a.hostname), ['web-1']);
  assert.deepEqual(ss.ports, [{ name: 'web', port: 80, protocol: 'TCP' }]);
  assert.match((await rows(['get', 'endpoints', 'nginx']))[1], /^nginx\s+10\.244\.0\.5:80\s+\d+s$/);

  const sliceList = async () => (await t.client.list(r('endpointslices', 'discovery.k8s.io'), { namespace: 'default', labelSelector: 'kubernetes.io/service-name=nginx' })).items;
  let slices: Obj[] = [];
  await waitUntil(async () => (slices = await sliceList()).some((s) => s.endpoints?.length === 2), 10_000, () => JSON.stringify(slices));
  assert.equal(slices.length, 1);
  const slice = slices[0];
  assert.match(slice.metadata.name, /^nginx-[a-z0-9]{5}$/);
  assert.equal(slice.addressType, 'IPv4');
  assert.equal(slice.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
  assert.equal(slice.metadata.ownerReferences[0].kind, 'Service');
  assert.deepEqual(slice.ports, [{ name: 'web', port: 80, protocol: 'TCP' }]);
  const byName = Object.fromEntries(slice.endpoints.map((e: Obj) => [e.targetRef.name, e]));
  assert.deepEqual(byName['web-0'].conditions, { ready: true, serving: true, terminating: false });
  assert.deepEqual(byName['web-1'].conditions, { ready: false, serving: false, terminating: false });
  assert.equal(byName['web-0'].hostname, 'web-0');
  assert.equal(byName['web-0'].nodeName, 'node-1');
  const sliceRow = (await rows(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=nginx']))[1];
  assert.match(sliceRow, /^nginx-[a-z0-9]{5}\s+IPv4\s+80\s+10\.244\.0\.5,10\.244\.0\.6\s+\d+s$/);

  // web-1 turns Ready.
  await setStatus(await t.client.get(r('pods'), 'default', 'web-1'), '10.244.0.6', true);
  await waitUntil(async () => (await get('endpoints', 'default', 'nginx'))?.subsets?.[0]?.addresses?.length === 2, 10_000, () => 'both ready');
  assert.match((await rows(['get', 'endpoints', 'nginx']))[1], /^nginx\s+10\.244\.0\.5:80,10\.244\.0\.6:80\s+\d+s$/);

  // The Service goes: its Endpoints are deleted, its slices collected.
  await t.client.delete(r('services'), 'default', 'nginx');
  await waitUntil(async () => !(await get('endpoints', 'default', 'nginx')), 10_000, () => 'endpoints gone');
  await waitUntil(async () => (await sliceList()).length === 0, 10_000, () => 'slices gone');
});
