import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import {
  computeSubsets,
  desiredEndpoints,
  endpointsLabels,
  endpointsObject,
  endpointsUpToDate,
  findPort,
  managesService,
  repackSubsets,
  truncateSubsets,
} from '../../src/controllers/endpoints/compute.ts';
import { TriggerTimeTracker } from '../../src/controllers/endpoints/trigger-time.ts';
import { desiredGroups, planSlices, portsKey, sliceEndpoint } from '../../src/controllers/endpointslice/reconcile.ts';

const svc = (o: { name?: string; ports?: Obj[]; clusterIP?: string; publishNotReady?: boolean; labels?: Record<string, string> } = {}): Obj => ({
  metadata: { name: o.name ?? 'nginx', namespace: 'default', uid: 'svc-uid', labels: o.labels ?? { app: 'nginx' }, creationTimestamp: '2024-01-01T00:00:00Z' },
  spec: { selector: { app: 'nginx' }, clusterIP: o.clusterIP ?? 'None', ports: o.ports ?? [{ name: 'web', port: 80, targetPort: 80, protocol: 'TCP' }], publishNotReadyAddresses: o.publishNotReady },
});

function pod(name: string, ip: string | undefined, o: { ready?: boolean; hostname?: string; subdomain?: string; deleting?: boolean; phase?: string; ports?: Obj[]; labels?: Record<string, string>; ns?: string } = {}): Obj {
  return {
    metadata: { name, namespace: o.ns ?? 'default', uid: `uid-${name}`, labels: o.labels ?? { app: 'nginx' }, deletionTimestamp: o.deleting ? '2024-01-01T00:00:09Z' : undefined, creationTimestamp: '2024-01-01T00:00:01Z' },
    spec: { hostname: o.hostname, subdomain: o.subdomain, nodeName: 'node-1', containers: [{ name: 'c', ports: o.ports ?? [{ name: 'web', containerPort: 80, protocol: 'TCP' }] }] },
    status: {
      phase: o.phase ?? 'Running',
      podIP: ip,
      podIPs: ip ? [{ ip }] : undefined,
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: '2024-01-01T00:00:05Z' }],
    },
  };
}

const web = (i: number, ip: string | undefined, o: Parameters<typeof pod>[2] = {}) => pod(`web-${i}`, ip, { hostname: `web-${i}`, subdomain: 'nginx', ...o });

test('managed services: a selector and not ExternalName', () => {
  assert.equal(managesService(svc()), true);
  assert.equal(managesService({ metadata: { name: 'x' }, spec: {} }), false);
  assert.equal(managesService({ metadata: { name: 'x' }, spec: { selector: {} } }), false);
  assert.equal(managesService({ metadata: { name: 'x' }, spec: { type: 'ExternalName', selector: { a: 'b' } } }), false);
});

test('headless StatefulSet service: ready addresses with hostnames, sorted by IP', () => {
  const subsets = computeSubsets(svc(), [web(1, '10.244.0.9'), web(0, '10.244.0.10'), pod('other', '10.244.0.3', { labels: { app: 'x' } })]);
  assert.deepEqual(subsets, [
    {
      addresses: [
        { ip: '10.244.0.10', hostname: 'web-0', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-0', uid: 'uid-web-0' } },
        { ip: '10.244.0.9', hostname: 'web-1', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'uid-web-1' } },
      ],
      ports: [{ name: 'web', port: 80, protocol: 'TCP' }],
    },
  ]);
});

test('hostname only when the subdomain names the service', () => {
  const [ss] = computeSubsets(svc(), [pod('a', '10.0.0.1', { hostname: 'a', subdomain: 'other' }), pod('b', '10.0.0.2', { hostname: 'b', subdomain: 'nginx' }), pod('c', '10.0.0.3', { subdomain: 'nginx' })]);
  assert.deepEqual(
    ss.addresses.map((a: Obj) => a.hostname),
    [undefined, 'b', undefined],
  );
});

test('which pods count', () => {
  const cases: { name: string; pod: Obj; publish?: boolean; want: 'ready' | 'notReady' | 'none' }[] = [
    { name: 'running ready', pod: web(0, '10.0.0.1'), want: 'ready' },
    { name: 'not ready', pod: web(0, '10.0.0.1', { ready: false }), want: 'notReady' },
    { name: 'not ready, publishNotReadyAddresses', pod: web(0, '10.0.0.1', { ready: false }), publish: true, want: 'ready' },
    { name: 'no IP yet', pod: web(0, undefined), want: 'none' },
    { name: 'terminating', pod: web(0, '10.0.0.1', { deleting: true }), want: 'none' },
    { name: 'terminating, publishNotReadyAddresses', pod: web(0, '10.0.0.1', { deleting: true }), publish: true, want: 'ready' },
    { name: 'succeeded', pod: web(0, '10.0.0.1', { phase: 'Succeeded' }), want: 'none' },
    { name: 'failed', pod: web(0, '10.0.0.1', { phase: 'Failed' }), publish: true, want: 'none' },
    { name: 'other namespace', pod: pod('x', '10.0.0.1', { ns: 'kube-system' }), want: 'none' },
  ];
  for (const tc of cases) {
    const subsets = computeSubsets(svc({ publishNotReady: tc.publish }), [tc.pod]);
    const got = subsets.length === 0 ? 'none' : subsets[0].addresses ? 'ready' : 'notReady';
    assert.equal(got, tc.want, tc.name);
  }
});

test('named target ports resolve per pod; unresolvable pods are left out of that port', () => {
  const s = svc({ clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] });
  const subsets = computeSubsets(s, [
    pod('a', '10.0.0.1', { ports: [{ name: 'web', containerPort: 8080, protocol: 'TCP' }] }),
    pod('b', '10.0.0.2', { ports: [{ name: 'web', containerPort: 9090, protocol: 'TCP' }] }),
    pod('c', '10.0.0.3', { ports: [{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }] }),
    pod('d', '10.0.0.4', { ports: [{ name: 'web', containerPort: 8080, protocol: 'UDP' }] }),
  ]);
  assert.deepEqual(
    subsets.map((ss) => [ss.addresses.map((a: Obj) => a.ip), ss.ports]),
    [
      [['10.0.0.1'], [{ name: 'http', port: 8080, protocol: 'TCP' }]],
      [['10.0.0.2'], [{ name: 'http', port: 9090, protocol: 'TCP' }]],
    ],
  );
  assert.equal(findPort(pod('x', '1.1.1.1'), { port: 80, targetPort: 81 }), 81);
  assert.equal(findPort(pod('x', '1.1.1.1'), { port: 80, targetPort: 'nope' }), undefined);
});

test('repacking: addresses with the same ports share a subset, ready wins over not ready', () => {
  const a = (ip: string) => ({ ip, targetRef: { uid: ip } });
  const p = (name: string, port: number) => ({ name, port, protocol: 'TCP' });
  const packed = repackSubsets([
    { addresses: [a('10.0.0.2')], ports: [p('web', 80)] },
    { addresses: [a('10.0.0.1')], ports: [p('web', 80)] },
    { addresses: [a('10.0.0.1')], ports: [p('metrics', 9100)] },
    { addresses: [a('10.0.0.2')], ports: [p('metrics', 9100)] },
    { notReadyAddresses: [a('10.0.0.3')], ports: [p('web', 80)] },
    { addresses: [a('10.0.0.3')], ports: [p('web', 80)] },
  ]);
  assert.deepEqual(packed, [
    { addresses: [a('10.0.0.1'), a('10.0.0.2')], ports: [p('metrics', 9100)] },
    { addresses: [a('10.0.0.1'), a('10.0.0.2'), a('10.0.0.3')], ports: [p('web', 80)] },
  ]);
  // Same address sets: one subset with both ports.
  assert.deepEqual(repackSubsets([
    { addresses: [a('10.0.0.2')], ports: [p('web', 80)] },
    { addresses: [a('10.0.0.1')], ports: [p('web', 80)] },
    { addresses: [a('10.0.0.1')], ports: [p('metrics', 9100)] },
    { addresses: [a('10.0.0.2')], ports: [p('metrics', 9100)] },
  ]), [{ addresses: [a('10.0.0.1'), a('10.0.0.2')], ports: [p('metrics', 9100), p('web', 80)] }]);
});

test('repacking: differing address sets per port become separate subsets', () => {
  const s = svc({
    clusterIP: '10.96.0.9',
    ports: [
      { name: 'web', port: 80, targetPort: 'web', protocol: 'TCP' },
      { name: 'admin', port: 81, targetPort: 'admin', protocol: 'TCP' },
    ],
  });
  const subsets = computeSubsets(s, [
    pod('a', '10.0.0.1', { ports: [{ name: 'web', containerPort: 80 }, { name: 'admin', containerPort: 81 }] }),
    pod('b', '10.0.0.2', { ports: [{ name: 'web', containerPort: 80 }], ready: false }),
  ]);
  assert.deepEqual(
    subsets.map((ss) => ({ ready: (ss.addresses ?? []).map((x: Obj) => x.ip), notReady: (ss.notReadyAddresses ?? []).map((x: Obj) => x.ip), ports: ss.ports.map((x: Obj) => x.name) })),
    [
      { ready: ['10.0.0.1'], notReady: [], ports: ['admin'] },
      { ready: ['10.0.0.1'], notReady: ['10.0.0.2'], ports: ['web'] },
    ],
  );
});

test('headless service without ports: addresses without ports; ClusterIP service without ports: none', () => {
  assert.deepEqual(computeSubsets(svc({ ports: [] }), [web(0, '10.0.0.1')]).map((ss) => [ss.addresses.length, ss.ports]), [[1, undefined]]);
  assert.deepEqual(computeSubsets(svc({ ports: [], clusterIP: '10.96.0.4' }), [web(0, '10.0.0.1')]), []);
});

test('labels: service labels plus the headless marker', () => {
  assert.deepEqual(endpointsLabels(svc()), { app: 'nginx', 'service.kubernetes.io/headless': '' });
  assert.deepEqual(endpointsLabels(svc({ clusterIP: '10.96.0.3', labels: { app: 'x', 'service.kubernetes.io/headless': '' } })), { app: 'x' });
});

test('truncation to 1000 addresses, not-ready ones first', () => {
  const addrs = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ ip: `${prefix}.${i}` }));
  const subsets = [
    { addresses: addrs(600, 'r'), notReadyAddresses: addrs(300, 'n') },
    { addresses: addrs(300, 's'), notReadyAddresses: addrs(100, 'm') },
  ];
  assert.equal(truncateSubsets(subsets), true);
  assert.deepEqual(subsets.map((s) => [s.addresses?.length ?? 0, s.notReadyAddresses?.length ?? 0]), [[600, 75], [300, 25]]);
  const big = [{ addresses: addrs(1500, 'r'), notReadyAddresses: addrs(5, 'n') }];
  assert.equal(truncateSubsets(big), true);
  assert.deepEqual([big[0].addresses.length, big[0].notReadyAddresses], [1000, undefined]);
  assert.equal(truncateSubsets([{ addresses: addrs(10, 'r') }]), false);
});

test('no-op detection ignores pod resourceVersions; object carries annotations', () => {
  const s = svc();
  const want = desiredEndpoints(s, [web(0, '10.0.0.1')]);
  const obj = endpointsObject(s, want, undefined, '2024-01-01T00:00:05Z');
  assert.equal(obj.metadata.annotations['endpoints.kubernetes.io/last-change-trigger-time'], '2024-01-01T00:00:05Z');
  const stored = structuredClone(obj);
  stored.subsets[0].addresses[0].targetRef.resourceVersion = '77';
  assert.equal(endpointsUpToDate(stored, want), true);
  assert.equal(endpointsUpToDate(stored, desiredEndpoints(s, [web(0, '10.0.0.1', { ready: false })])), false);
  assert.equal(endpointsUpToDate({ ...stored, metadata: { ...stored.metadata, labels: {} } }, want), false);
});

test('trigger time: earliest change since the last sync', () => {
  const t = new TriggerTimeTracker();
  const s = svc();
  const p0 = web(0, '10.0.0.1');
  assert.equal(t.compute('default/nginx', s, [p0]), '2024-01-01T00:00:00Z', 'first sync counts the service');
  assert.equal(t.compute('default/nginx', s, [p0]), undefined, 'nothing changed');
  const p1 = web(1, '10.0.0.2');
  p1.status.conditions[0].lastTransitionTime = '2024-01-01T00:01:00Z';
  assert.equal(t.compute('default/nginx', s, [p0, p1]), '2024-01-01T00:01:00Z');
});

test('endpointslice endpoints: conditions, hostname, targetRef, nodeName', () => {
  assert.deepEqual(sliceEndpoint(web(0, '10.0.0.1'), svc(), '10.0.0.1'), {
    addresses: ['10.0.0.1'],
    conditions: { ready: true, serving: true, terminating: false },
    hostname: 'web-0',
    targetRef: { kind: 'Pod', namespace: 'default', name: 'web-0', uid: 'uid-web-0' },
    nodeName: 'node-1',
  });
  assert.deepEqual(sliceEndpoint(web(0, '10.0.0.1', { deleting: true }), svc(), '10.0.0.1').conditions, { ready: false, serving: true, terminating: true });
  assert.deepEqual(sliceEndpoint(web(0, '10.0.0.1', { ready: false }), svc(), '10.0.0.1').conditions, { ready: false, serving: false, terminating: false });
  assert.deepEqual(sliceEndpoint(web(0, '10.0.0.1', { ready: false, deleting: true }), svc({ publishNotReady: true }), '10.0.0.1').conditions, { ready: true, serving: true, terminating: true });
  // Terminating pods stay in slices (unlike Endpoints).
  const groups = desiredGroups(svc(), [web(0, '10.0.0.1', { deleting: true }), web(1, undefined)]);
  assert.equal([...groups.values()][0].endpoints.length, 1);
});

test('planSlices: placeholder, creation, fill, chunking, deletion', () => {
  const s = svc();
  let n = 0;
  const store = (plan: ReturnType<typeof planSlices>, existing: Obj[]) => {
    const deleted = new Set(plan.delete.map((x) => x.metadata.name));
    const updated = new Map(plan.update.map((x) => [x.metadata.name, x]));
    return [
      ...existing.filter((x) => !deleted.has(x.metadata.name)).map((x) => updated.get(x.metadata.name) ?? x),
      ...plan.create.map((x) => ({ ...x, metadata: { ...x.metadata, name: `nginx-${n++}` } })),
    ];
  };
  // No pods: one empty placeholder.
  let plan = planSlices(s, [], desiredGroups(s, []));
  assert.equal(plan.create.length, 1);
  assert.deepEqual(plan.create[0].endpoints, []);
  assert.equal(plan.create[0].ports, undefined);
  assert.equal(plan.create[0].metadata.generateName, 'nginx-');
  assert.deepEqual(plan.create[0].metadata.labels, {
    app: 'nginx',
    'service.kubernetes.io/headless': '',
    'kubernetes.io/service-name': 'nginx',
    'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
  });
  assert.deepEqual(plan.create[0].metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'nginx', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
  let slices = store(plan, []);
  assert.deepEqual(planSlices(s, slices, desiredGroups(s, [])), { create: [], update: [], delete: [] }, 'placeholder is stable');

  // 250 pods: placeholder goes, three slices of ≤100 come.
  const pods = Array.from({ length: 250 }, (_, i) => web(i, `10.1.${Math.floor(i / 200)}.${i % 200}`));
  plan = planSlices(s, slices, desiredGroups(s, pods));
  assert.deepEqual([plan.create.map((x) => x.endpoints.length), plan.delete.length], [[100, 100, 50], 1]);
  slices = store(plan, slices);
  assert.deepEqual(planSlices(s, slices, desiredGroups(s, pods)), { create: [], update: [], delete: [] }, 'steady state writes nothing');

  // One pod turns unready: only its slice is rewritten.
  pods[5] = web(5, pods[5].status.podIP, { ready: false });
  plan = planSlices(s, slices, desiredGroups(s, pods));
  assert.deepEqual([plan.create.length, plan.update.length, plan.delete.length], [0, 1, 0]);
  slices = store(plan, slices);

  // A new pod fills the slice with room instead of making a new one.
  pods.push(web(250, '10.2.0.1'));
  plan = planSlices(s, slices, desiredGroups(s, pods));
  assert.deepEqual([plan.create.length, plan.update.length, plan.update[0]?.endpoints.length], [0, 1, 51]);
  slices = store(plan, slices);

  // Scale to 0: slices deleted, one placeholder kept or made.
  plan = planSlices(s, slices, desiredGroups(s, []));
  assert.equal(plan.create.length + slices.length - plan.delete.length, 1);
});

test('planSlices groups endpoints by resolved ports', () => {
  const s = svc({ clusterIP: '10.96.0.7', ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] });
  const groups = desiredGroups(s, [
    pod('a', '10.0.0.1', { ports: [{ name: 'web', containerPort: 8080 }] }),
    pod('b', '10.0.0.2', { ports: [{ name: 'web', containerPort: 9090 }] }),
    pod('c', '10.0.0.3', { ports: [] }),
  ]);
  assert.equal(groups.size, 3);
  const plan = planSlices(s, [], groups);
  assert.deepEqual(plan.create.map((x) => portsKey(x.ports)).sort(), [portsKey([]), portsKey([{ name: 'http', port: 8080, protocol: 'TCP' }]), portsKey([{ name: 'http', port: 9090, protocol: 'TCP' }])].sort());
  assert.equal(plan.create[0].metadata.labels['service.kubernetes.io/headless'], undefined);
});
