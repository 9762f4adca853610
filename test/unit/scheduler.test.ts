import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { filterNode, toleratesTaint, type NodeState } from '../../src/scheduler/filters.ts';
import { nodeSelectorRequirementMatches } from '../../src/api/selectors/node-selector.ts';
import { claimReadsVolume, claimSchedulingInputs, fitErrorMessage, schedulePod, type ClusterView } from '../../src/scheduler/plan.ts';
import { cachedNodeAllocatable, cachedPodRequests, nodeAllocatable, podRequests } from '../../src/scheduler/resources.ts';

let uid = 0;
function pod(name: string, spec: Obj = {}, labels: Record<string, string> = {}, ns = 'default'): Obj {
  return { metadata: { name, namespace: ns, uid: `uid-${name}-${uid++}`, labels }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec }, status: { phase: 'Pending' } };
}

function node(name: string, opts: { labels?: Record<string, string>; taints?: Obj[]; unschedulable?: boolean; ready?: string; cpu?: string; memory?: string; pods?: string } = {}): Obj {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: {
      conditions: [{ type: 'Ready', status: opts.ready ?? 'True' }],
      allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '16Gi', pods: opts.pods ?? '110', 'ephemeral-storage': '100Gi' },
    },
  };
}

function view(nodes: NodeState[], storage: { claims?: Obj[]; volumes?: Obj[]; classes?: Obj[] } = {}): ClusterView {
  return {
    nodes,
    claim: (ns, name) => storage.claims?.find((c) => c.metadata.namespace === ns && c.metadata.name === name),
    volume: (name) => storage.volumes?.find((v) => v.metadata.name === name),
    storageClass: (name) => storage.classes?.find((c) => c.metadata.name === name),
    storageClasses: () => storage.classes ?? [],
  };
}

const three = (extra: (i: number) => Parameters<typeof node>[1] = () => ({})): NodeState[] => [0, 1, 2].map((i) => ({ node: node(`n${i}`, extra(i)), pods: [] }));
const running = (p: Obj): Obj => ({ ...p, status: { phase: 'Running' } });

test('node selector requirement operators', () => {
  const labels = { zone: 'a', size: '10' };
  const cases: [Obj, boolean][] = [
    [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, true],
    [{ key: 'zone', operator: 'In', values: ['b'] }, false],
    [{ key: 'zone', operator: 'NotIn', values: ['b'] }, true],
    [{ key: 'missing', operator: 'NotIn', values: ['b'] }, true],
    [{ key: 'zone', operator: 'Exists' }, true],
    [{ key: 'missing', operator: 'Exists' }, false],
    [{ key: 'missing', operator: 'DoesNotExist' }, true],
    [{ key: 'zone', operator: 'DoesNotExist' }, false],
    [{ key: 'size', operator: 'Gt', values: ['9'] }, true],
    [{ key: 'size', operator: 'Gt', values: ['10'] }, false],
    [{ key: 'size', operator: 'Lt', values: ['11'] }, true],
    [{ key: 'zone', operator: 'Lt', values: ['11'] }, false],
  ];
  for (const [req, want] of cases) assert.equal(nodeSelectorRequirementMatches(req, labels), want, JSON.stringify(req));
});

test('toleration matching', () => {
  const taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
  const cases: [Obj, boolean][] = [
    [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }, true],
    [{ key: 'dedicated', value: 'db' }, true],
    [{ key: 'dedicated', value: 'web' }, false],
    [{ key: 'dedicated', operator: 'Exists' }, true],
    [{ operator: 'Exists' }, true],
    [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, false],
    [{ key: 'other', operator: 'Exists' }, false],
  ];
  for (const [tol, want] of cases) assert.equal(toleratesTaint(tol, taint), want, JSON.stringify(tol));
});

test('filters: one reason per node, in upstream order', () => {
  const cases: { name: string; pod: Obj; node: Obj; pods?: Obj[]; want: string[] }[] = [
    { name: 'fits', pod: pod('a'), node: node('n'), want: [] },
    { name: 'cordoned', pod: pod('a'), node: node('n', { unschedulable: true }), want: ['node(s) were unschedulable'] },
    { name: 'cordoned but tolerated', pod: pod('a', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }), node: node('n', { unschedulable: true }), want: [] },
    { name: 'not ready', pod: pod('a'), node: node('n', { ready: 'False' }), want: ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'] },
    { name: 'unknown', pod: pod('a'), node: node('n', { ready: 'Unknown' }), want: ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }'] },
    { name: 'NoSchedule taint', pod: pod('a'), node: node('n', { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }), want: ['node(s) had untolerated taint {k: v}'] },
    { name: 'NoExecute taint', pod: pod('a'), node: node('n', { taints: [{ key: 'k', effect: 'NoExecute' }] }), want: ['node(s) had untolerated taint {k: }'] },
    { name: 'PreferNoSchedule only scores', pod: pod('a'), node: node('n', { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] }), want: [] },
    { name: 'tolerated taint', pod: pod('a', { tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }] }), node: node('n', { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }), want: [] },
    { name: 'nodeSelector', pod: pod('a', { nodeSelector: { disk: 'ssd' } }), node: node('n'), want: ["node(s) didn't match Pod's node affinity/selector"] },
    { name: 'nodeSelector match', pod: pod('a', { nodeSelector: { disk: 'ssd' } }), node: node('n', { labels: { disk: 'ssd' } }), want: [] },
    {
      name: 'required node affinity (terms are ORed)',
      pod: pod('a', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } } }),
      node: node('n', { labels: { zone: 'a' } }),
      want: [],
    },
    {
      name: 'required node affinity mismatch',
      pod: pod('a', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }] } } } }),
      node: node('n', { labels: { zone: 'a' } }),
      want: ["node(s) didn't match Pod's node affinity/selector"],
    },
    {
      name: 'matchFields metadata.name',
      pod: pod('a', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['other'] }] }] } } } }),
      node: node('n'),
      want: ["node(s) didn't match Pod's node affinity/selector"],
    },
    { name: 'cpu', pod: pod('a', { containers: [{ name: 'c', resources: { requests: { cpu: '3' } } }] }), node: node('n'), pods: [running(pod('x', { containers: [{ name: 'c', resources: { requests: { cpu: '1500m' } } }] }))], want: ['Insufficient cpu'] },
    { name: 'cpu from limits', pod: pod('a', { containers: [{ name: 'c', resources: { limits: { cpu: '5' } } }] }), node: node('n'), want: ['Insufficient cpu'] },
    { name: 'cpu and memory', pod: pod('a', { containers: [{ name: 'c', resources: { requests: { cpu: '5', memory: '17Gi' } } }] }), node: node('n'), want: ['Insufficient cpu', 'Insufficient memory'] },
    { name: 'finished pods free their requests', pod: pod('a', { containers: [{ name: 'c', resources: { requests: { cpu: '3' } } }] }), node: node('n'), pods: [{ ...pod('x', { containers: [{ name: 'c', resources: { requests: { cpu: '3' } } }] }), status: { phase: 'Succeeded' } }], want: [] },
    { name: 'pod count', pod: pod('a'), node: node('n', { pods: '1' }), pods: [running(pod('x'))], want: ['Too many pods'] },
  ];
  for (const c of cases) {
    const state = { node: c.node, pods: c.pods ?? [] };
    assert.deepEqual(filterNode(c.pod, state, [state]).reasons, c.want, c.name);
  }
});

test('pod requests: containers summed, init containers as a maximum, sidecars added', () => {
  const p = pod('a', {
    initContainers: [{ name: 'i', resources: { requests: { cpu: '2' } } }, { name: 's', restartPolicy: 'Always', resources: { requests: { cpu: '100m', memory: '1Mi' } } }],
    containers: [{ name: 'a', resources: { requests: { cpu: '250m', memory: '64Mi' } } }, { name: 'b', resources: { requests: { cpu: '0.5' } } }],
  });
  assert.deepEqual(podRequests(p), { cpu: 2000, memory: 65 * 1024 * 1024, 'ephemeral-storage': 0 });
});

test('ZooKeeper-style anti-affinity: no two matching pods on one hostname', () => {
  const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['zk'] }] }, topologyKey: 'kubernetes.io/hostname' }] } };
  const nodes = three();
  nodes[0].pods = [running(pod('zk-0', { affinity: anti, nodeName: 'n0' }, { app: 'zk' }))];
  nodes[1].pods = [running(pod('zk-1', { affinity: anti, nodeName: 'n1' }, { app: 'zk' }))];
  assert.deepEqual(schedulePod(pod('zk-2', { affinity: anti }, { app: 'zk' }), view(nodes)), { kind: 'bind', node: 'n2' });
  nodes[2].pods = [running(pod('zk-2', { affinity: anti, nodeName: 'n2' }, { app: 'zk' }))];
  const d = schedulePod(pod('zk-3', { affinity: anti }, { app: 'zk' }), view(nodes));
  assert.deepEqual(d, {
    kind: 'unschedulable',
    message: "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
  });
  // A pod without the terms is still kept away by the existing pods' anti-affinity when it matches them.
  const plain = schedulePod(pod('other', {}, { app: 'zk' }), view(nodes));
  assert.equal(plain.kind, 'unschedulable');
  assert.match((plain as { message: string }).message, /3 node\(s\) didn't satisfy existing pods anti-affinity rules/);
  // Other namespaces are not affected by default.
  assert.equal(schedulePod(pod('zk-x', { affinity: anti }, { app: 'zk' }, 'other'), view(nodes)).kind, 'bind');
});

test('required pod affinity: first pod anywhere, the rest follow', () => {
  const aff = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' }] } };
  const nodes = three();
  assert.equal(schedulePod(pod('c0', { affinity: aff }, { app: 'cache' }), view(nodes)).kind, 'bind');
  nodes[1].pods = [running(pod('c0', {}, { app: 'cache' }))];
  assert.deepEqual(schedulePod(pod('c1', { affinity: aff }, { app: 'cache' }), view(nodes)), { kind: 'bind', node: 'n1' });
  assert.deepEqual(schedulePod(pod('web', { affinity: aff }, { app: 'web' }), view(nodes)), { kind: 'bind', node: 'n1' });
});

test('spreading: the node with the fewest pods wins; PreferNoSchedule taints are avoided', () => {
  const nodes = three();
  nodes[0].pods = [running(pod('x'))];
  nodes[1].pods = [running(pod('y'))];
  assert.deepEqual(schedulePod(pod('a'), view(nodes)), { kind: 'bind', node: 'n2' });
  const tainted = three((i) => (i === 0 ? { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] } : {}));
  tainted[1].pods = [running(pod('y'))];
  tainted[2].pods = [running(pod('z'))];
  assert.deepEqual(schedulePod(pod('a'), view(tainted)), { kind: 'bind', node: 'n1' });
});

test('unschedulable messages sum reasons across nodes as upstream does', () => {
  const nodes = [
    { node: node('n0', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }), pods: [] },
    { node: node('n1'), pods: [] },
    { node: node('n2'), pods: [] },
  ];
  const d = schedulePod(pod('a', { nodeSelector: { disk: 'ssd' } }), view(nodes));
  assert.deepEqual(d, {
    kind: 'unschedulable',
    message:
      "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  });
  assert.equal(
    fitErrorMessage(pod('b'), 2, { reasons: new Map([['n0', ['Insufficient cpu', 'Insufficient memory']], ['n1', ['Insufficient cpu']]]) }),
    '0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
  );
  assert.equal(schedulePod(pod('c'), view([])).kind, 'unschedulable');
});

// --------------------------------------------------------------------------- volumes

const wffc = { metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'ordinal.dev/local-path', volumeBindingMode: 'WaitForFirstConsumer' };
const immediate = { metadata: { name: 'fast' }, provisioner: 'x', volumeBindingMode: 'Immediate' };
const claim = (name: string, extra: Obj = {}): Obj => ({ metadata: { name, namespace: 'default', ...(extra.metadata ?? {}) }, spec: { ...(extra.spec ?? {}) }, status: { phase: 'Pending', ...(extra.status ?? {}) } });
const withClaim = (name: string, claimName: string) => pod(name, { volumes: [{ name: 'www', persistentVolumeClaim: { claimName } }] });
const pvOn = (name: string, nodeName: string): Obj => ({
  metadata: { name },
  spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] }] } } },
});

test('volumes: a missing claim keeps the pod pending', () => {
  assert.deepEqual(schedulePod(withClaim('web-0', 'www-web-0'), view(three())), {
    kind: 'unschedulable',
    message: '0/3 nodes are available: persistentvolumeclaim "www-web-0" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
  });
});

test('volumes: a bound local volume brings the pod back to its node', () => {
  const storage = { claims: [claim('www-web-0', { spec: { volumeName: 'pv-1' }, status: { phase: 'Bound' } })], volumes: [pvOn('pv-1', 'n1')], classes: [wffc] };
  assert.deepEqual(schedulePod(withClaim('web-0', 'www-web-0'), view(three(), storage)), { kind: 'bind', node: 'n1' });
  const cordoned = three((i) => (i === 1 ? { unschedulable: true } : {}));
  const d = schedulePod(withClaim('web-0', 'www-web-0'), view(cordoned, storage));
  assert.deepEqual(d, {
    kind: 'unschedulable',
    message: '0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had volume node affinity conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
  });
});

test('volumes: WaitForFirstConsumer claims get a selected node, then the pod waits for binding', () => {
  const nodes = three();
  nodes[0].pods = [running(pod('x'))];
  const pending = claim('www-web-0', { spec: {} });
  const d = schedulePod(withClaim('web-0', 'www-web-0'), view(nodes, { claims: [pending], classes: [wffc] }));
  assert.deepEqual(d, { kind: 'selectNode', node: 'n1', claims: ['www-web-0'] });
  const annotated = claim('www-web-0', { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'n2' } } });
  assert.deepEqual(schedulePod(withClaim('web-0', 'www-web-0'), view(nodes, { claims: [annotated], classes: [wffc] })), { kind: 'waitForClaims', node: 'n2', claims: ['www-web-0'] });
  // The selected node went away from the feasible set: choose again.
  const cordoned = three((i) => (i === 2 ? { unschedulable: true } : {}));
  assert.equal(schedulePod(withClaim('web-0', 'www-web-0'), view(cordoned, { claims: [annotated], classes: [wffc] })).kind, 'selectNode');
});

test('volumes: unbound Immediate (or classless) claims wait for binding', () => {
  const want = {
    kind: 'unschedulable',
    message: '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
  };
  assert.deepEqual(schedulePod(withClaim('a', 'c'), view(three(), { claims: [claim('c', { spec: { storageClassName: 'fast' } })], classes: [immediate, wffc] })), want);
  assert.deepEqual(schedulePod(withClaim('a', 'c'), view(three(), { claims: [claim('c', { spec: { storageClassName: '' } })], classes: [wffc] })), want);
  assert.deepEqual(schedulePod(withClaim('a', 'c'), view(three(), { claims: [claim('c')], classes: [] })), want);
  // Once bound (a pre-created volume without node affinity), any node does.
  const bound = claim('c', { spec: { volumeName: 'pv' }, status: { phase: 'Bound' } });
  assert.equal(schedulePod(withClaim('a', 'c'), view(three(), { claims: [bound], volumes: [{ metadata: { name: 'pv' }, spec: {} }] })).kind, 'bind');
});

test('claim updates that change nothing a decision reads do not retry its pods', () => {
  const pending = claim('www-web-0', { spec: { storageClassName: 'local-path' } });
  const selected = claim('www-web-0', { spec: { storageClassName: 'local-path' }, metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'n1' } } });
  // The binder writes volumeName first, the Bound phase after: only the second matters.
  const named = claim('www-web-0', { spec: { storageClassName: 'local-path', volumeName: 'pv-1' }, metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'n1', 'pv.kubernetes.io/bind-completed': 'yes' } } });
  const bound: Obj = { ...named, status: { phase: 'Bound' } };
  assert.notEqual(claimSchedulingInputs(pending), claimSchedulingInputs(selected));
  assert.equal(claimSchedulingInputs(selected), claimSchedulingInputs(named));
  assert.notEqual(claimSchedulingInputs(named), claimSchedulingInputs(bound));
  assert.notEqual(claimSchedulingInputs(bound), claimSchedulingInputs({ ...bound, metadata: { ...bound.metadata, deletionTimestamp: 'now' } }));
  // A volume is read only for the claim bound to it.
  assert.equal(claimReadsVolume(named, 'pv-1'), false);
  assert.equal(claimReadsVolume(bound, 'pv-1'), true);
  assert.equal(claimReadsVolume(bound, 'pv-2'), false);
});

test('requests and allocatable are parsed once per object version', () => {
  const n = node('n0', { cpu: '2500m', memory: '1Gi', pods: '10' });
  assert.deepEqual(cachedNodeAllocatable(n), nodeAllocatable(n));
  assert.equal(cachedNodeAllocatable(n), cachedNodeAllocatable(n));
  assert.deepEqual(cachedNodeAllocatable(n), { cpu: 2500, memory: 2 ** 30, 'ephemeral-storage': 100 * 2 ** 30, pods: 10 });
  const p = pod('a', { containers: [{ name: 'c', resources: { requests: { cpu: '250m', memory: '64Mi' } } }] });
  assert.deepEqual(cachedPodRequests(p), podRequests(p));
  assert.equal(cachedPodRequests(p), cachedPodRequests(p));
  // A new version of the object is a new object, with its own figures.
  const resized = { ...p, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }] } };
  assert.equal(cachedPodRequests(resized).cpu, 1000);
  // Resource fit uses them: a node full of requests rejects the pod.
  const full: NodeState = { node: node('n1', { cpu: '1' }), pods: [running(pod('x', { containers: [{ name: 'c', resources: { requests: { cpu: '900m' } } }] }))] };
  assert.deepEqual(filterNode(p, full, [full]).reasons, ['Insufficient cpu']);
});

test('inter-pod affinity by zone: domains are the values of the topology key, unlabelled nodes have none', () => {
  const zone = 'topology.kubernetes.io/zone';
  // n0 and n1 in zone a, n2 in zone b, n3 without a zone.
  const nodes: NodeState[] = ['a', 'a', 'b', undefined].map((z, i) => ({ node: node(`n${i}`, { labels: z ? { [zone]: z } : {} }), pods: [] }));
  const term = { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: zone };
  const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
  const aff = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
  nodes[0].pods = [running(pod('db-0', { affinity: anti, nodeName: 'n0' }, { app: 'db' }))];
  const reasonsFor = (p: Obj) => nodes.map((n) => filterNode(p, n, nodes).reasons.join());
  // Its own anti-affinity: zone a is taken; the unlabelled node is no domain at all.
  assert.deepEqual(reasonsFor(pod('db-1', { affinity: anti }, { app: 'db' })), ["node(s) didn't match pod anti-affinity rules", "node(s) didn't match pod anti-affinity rules", '', '']);
  // The existing pod's anti-affinity keeps matching pods out of zone a.
  assert.deepEqual(reasonsFor(pod('x', {}, { app: 'db' })), ["node(s) didn't satisfy existing pods anti-affinity rules", "node(s) didn't satisfy existing pods anti-affinity rules", '', '']);
  // Required affinity: only zone a holds a peer; an unlabelled node never qualifies.
  assert.deepEqual(reasonsFor(pod('web', { affinity: aff }, { app: 'web' })), ['', '', "node(s) didn't match pod affinity rules", "node(s) didn't match pod affinity rules"]);
  // A peer on the unlabelled node still counts as existing somewhere: the first-pod exception is gone.
  const lone: NodeState[] = [{ node: node('m0', { labels: { [zone]: 'a' } }), pods: [] }, { node: node('m1'), pods: [running(pod('db-9', { nodeName: 'm1' }, { app: 'db' }))] }];
  assert.deepEqual(lone.map((n) => filterNode(pod('db-10', { affinity: aff }, { app: 'db' }), n, lone).reasons.join()), ["node(s) didn't match pod affinity rules", "node(s) didn't match pod affinity rules"]);
  lone[1].pods = [];
  assert.deepEqual(lone.map((n) => filterNode(pod('db-10', { affinity: aff }, { app: 'db' }), n, lone).reasons.join()), ['', "node(s) didn't match pod affinity rules"]);
});
