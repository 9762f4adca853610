// The Node authorizer's decisions and NodeRestriction's refusals, as table tests over a small graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeAuthorizer } from '../../src/apiserver/authorization/node/authorizer.ts';
import { NodeGraph } from '../../src/apiserver/authorization/node/graph.ts';
import { nodeIdentity, nodeUser } from '../../src/apiserver/authorization/node/identity.ts';
import { nodeRestriction, forbiddenLabels } from '../../src/apiserver/authorization/node/restriction.ts';
import { fieldRequirements } from '../../src/apiserver/authorization/node/selectors.ts';
import { podRefs } from '../../src/apiserver/authorization/node/pod-refs.ts';
import { ApiError } from '../../src/apiserver/errors.ts';
import type { Attributes, WriteAttempt } from '../../src/apiserver/authorization/types.ts';
import type { Obj } from '../../src/api/resource.ts';

const n1 = nodeUser('n1');

function pod(name: string, node: string, extra: Obj = {}): Obj {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(extra.metadata ?? {}) },
    spec: {
      nodeName: node,
      serviceAccountName: `sa-${name}`,
      containers: [{ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: `env-${name}`, key: 'k' } } }], envFrom: [{ secretRef: { name: `envsec-${name}` } }] }],
      volumes: [
        { name: 'v', secret: { secretName: `sec-${name}` } },
        { name: 'p', projected: { sources: [{ configMap: { name: `cm-${name}` } }, { secret: { name: `psec-${name}` } }] } },
        { name: 'data', persistentVolumeClaim: { claimName: `data-${name}` } },
        { name: 'eph', ephemeral: { volumeClaimTemplate: {} } },
      ],
      ...(extra.spec ?? {}),
    },
  };
}

function attrs(verb: string, resource: string, name = '', more: Partial<Attributes> = {}): Attributes {
  return { user: n1, verb, resourceRequest: true, path: '', namespace: 'default', apiGroup: '', apiVersion: 'v1', resource, subresource: '', name, ...more };
}

function authorizer(): NodeAuthorizer {
  const g = new NodeGraph();
  g.setPod(pod('p1', 'n1'));
  g.setPod(pod('p2', 'n2'));
  g.setPod(pod('pending', ''));
  g.setPersistentVolume({ metadata: { name: 'pv1' }, spec: { claimRef: { namespace: 'default', name: 'data-p1' } } });
  g.setPersistentVolume({ metadata: { name: 'pv2' }, spec: { claimRef: { namespace: 'default', name: 'data-p2' } } });
  return new NodeAuthorizer(g);
}

test('identity: a node is system:node:<name> in system:nodes, both', () => {
  assert.equal(nodeIdentity(n1), 'n1');
  assert.equal(nodeIdentity({ user: 'system:node:n1', groups: ['system:authenticated'] }), undefined);
  assert.equal(nodeIdentity({ user: 'bob', groups: ['system:nodes'] }), undefined);
  assert.equal(nodeIdentity({ user: 'system:node:', groups: ['system:nodes'] }), '');
});

test('pod references: every way a pod names a secret, config map, claim and service account', () => {
  const r = podRefs(pod('p1', 'n1', { spec: { imagePullSecrets: [{ name: 'pull' }] } }));
  assert.deepEqual(r.secrets.sort(), ['envsec-p1', 'psec-p1', 'pull', 'sec-p1']);
  assert.deepEqual(r.configMaps.sort(), ['cm-p1', 'env-p1']);
  assert.deepEqual(r.claims.sort(), ['data-p1', 'p1-eph']);
  assert.equal(r.serviceAccount, 'sa-p1');
});

test('field selectors parse as upstream requirements', () => {
  assert.deepEqual(fieldRequirements('spec.nodeName=n1,status.phase!=Failed'), [{ field: 'spec.nodeName', op: '=', value: 'n1' }, { field: 'status.phase', op: '!=', value: 'Failed' }]);
  assert.deepEqual(fieldRequirements('spec.nodeName==a\\,b'), [{ field: 'spec.nodeName', op: '=', value: 'a,b' }]);
  assert.deepEqual(fieldRequirements(''), []);
});

test('Node authorizer: decisions and reasons', () => {
  const a = authorizer();
  const rel = "no relationship found between node 'n1' and this object";
  const cases: [Attributes, 'Allow' | 'NoOpinion', string][] = [
    [attrs('get', 'secrets', 'sec-p1'), 'Allow', ''],
    [attrs('get', 'secrets', 'psec-p1'), 'Allow', ''],
    [attrs('get', 'secrets', 'envsec-p1'), 'Allow', ''],
    [attrs('watch', 'secrets', 'sec-p1'), 'Allow', ''],
    [attrs('get', 'secrets', 'sec-p2'), 'NoOpinion', rel],
    [attrs('get', 'secrets', 'sec-pending'), 'NoOpinion', rel],
    [attrs('list', 'secrets'), 'NoOpinion', 'No Object name found'],
    [attrs('update', 'secrets', 'sec-p1'), 'NoOpinion', 'can only read resources of this type'],
    [attrs('get', 'secrets', 'sec-p1', { namespace: '' }), 'NoOpinion', 'can only read namespaced object of this type'],
    [attrs('get', 'configmaps', 'cm-p1'), 'Allow', ''],
    [attrs('get', 'configmaps', 'env-p1'), 'Allow', ''],
    [attrs('get', 'configmaps', 'cm-p2'), 'NoOpinion', rel],
    [attrs('get', 'persistentvolumeclaims', 'data-p1'), 'Allow', ''],
    [attrs('get', 'persistentvolumeclaims', 'p1-eph'), 'Allow', ''],
    [attrs('list', 'persistentvolumeclaims'), 'NoOpinion', 'can only get individual resources of this type'],
    [attrs('patch', 'persistentvolumeclaims', 'data-p1', { subresource: 'status' }), 'Allow', ''],
    [attrs('patch', 'persistentvolumeclaims', 'data-p2', { subresource: 'status' }), 'NoOpinion', rel],
    [attrs('get', 'persistentvolumes', 'pv1', { namespace: '' }), 'Allow', ''],
    [attrs('get', 'persistentvolumes', 'pv2', { namespace: '' }), 'NoOpinion', rel],
    [attrs('create', 'serviceaccounts', 'sa-p1', { subresource: 'token' }), 'Allow', ''],
    [attrs('create', 'serviceaccounts', 'sa-p2', { subresource: 'token' }), 'NoOpinion', rel],
    [attrs('get', 'serviceaccounts', 'sa-p1'), 'NoOpinion', 'can only create tokens for individual service accounts'],
    [attrs('get', 'nodes', 'n1', { namespace: '' }), 'Allow', ''],
    [attrs('get', 'nodes', 'n2', { namespace: '' }), 'NoOpinion', "node 'n1' cannot read 'n2', only its own Node object"],
    [attrs('list', 'nodes', '', { namespace: '' }), 'NoOpinion', "node 'n1' cannot read all nodes, only its own Node object"],
    [attrs('patch', 'nodes', 'n2', { namespace: '' }), 'Allow', ''],
    [attrs('update', 'nodes', 'n1', { namespace: '', subresource: 'status' }), 'Allow', ''],
    [attrs('delete', 'nodes', 'n1', { namespace: '' }), 'NoOpinion', ''],
    [attrs('get', 'pods', 'p1'), 'Allow', ''],
    [attrs('get', 'pods', 'p2'), 'NoOpinion', rel],
    [attrs('list', 'pods', '', { namespace: '', fieldSelector: 'spec.nodeName=n1' }), 'Allow', ''],
    [attrs('watch', 'pods', '', { namespace: '', fieldSelector: 'spec.nodeName=n2' }), 'NoOpinion', 'can only list/watch pods with spec.nodeName field selector'],
    [attrs('list', 'pods', '', { namespace: '' }), 'NoOpinion', 'can only list/watch pods with spec.nodeName field selector'],
    [attrs('update', 'pods', 'p2', { subresource: 'status' }), 'Allow', ''],
    [attrs('update', 'pods', 'p1'), 'NoOpinion', ''],
    [attrs('create', 'pods', 'p1', { subresource: 'eviction' }), 'Allow', ''],
    [attrs('create', 'pods', 'p1', { subresource: 'exec' }), 'NoOpinion', ''],
    [attrs('update', 'leases', 'n1', { apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease' }), 'Allow', ''],
    [attrs('update', 'leases', 'n2', { apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease' }), 'NoOpinion', 'can only access node lease with the same name as the requesting node'],
    [attrs('get', 'leases', 'n1', { apiGroup: 'coordination.k8s.io' }), 'NoOpinion', 'can only access leases in the "kube-node-lease" system namespace'],
    [attrs('list', 'leases', '', { apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease' }), 'NoOpinion', 'can only get, create, update, patch, or delete a node lease'],
    // Not subdivided: the static system:node rules.
    [attrs('create', 'events'), 'Allow', ''],
    [attrs('list', 'services'), 'Allow', ''],
    [attrs('create', 'certificatesigningrequests', '', { apiGroup: 'certificates.k8s.io', namespace: '' }), 'Allow', ''],
    [attrs('list', 'endpointslices', '', { apiGroup: 'discovery.k8s.io' }), 'NoOpinion', ''],
    [attrs('delete', 'statefulsets', 'web', { apiGroup: 'apps' }), 'NoOpinion', ''],
  ];
  for (const [at, decision, reason] of cases) {
    const r = a.authorize(at);
    assert.deepEqual([r.decision, r.reason], [decision, reason], `${at.verb} ${at.resource}/${at.subresource} ${at.name}`);
  }
  // Not a node: no opinion, whatever it asks.
  assert.equal(a.authorize({ ...attrs('get', 'secrets', 'sec-p1'), user: { user: 'bob', groups: [] } }).decision, 'NoOpinion');
  assert.equal(a.authorize({ ...attrs('get', 'secrets', 'sec-p1'), user: { user: 'system:node:', groups: ['system:nodes'] } }).reason, 'unknown node for user "system:node:"');
});

test('Node graph follows pods as they move, change and go', () => {
  const a = authorizer();
  const g = a.graph;
  g.setPod(pod('p1', 'n1'), true);
  assert.equal(a.authorize(attrs('get', 'secrets', 'sec-p1')).decision, 'NoOpinion');
  g.setPod(pod('p2', 'n1'));
  assert.equal(a.authorize(attrs('get', 'secrets', 'sec-p2')).decision, 'Allow');
  // Two pods on the node refer to one secret: it stays reachable until both are gone.
  g.setPod(pod('p3', 'n1', { spec: { volumes: [{ name: 'v', secret: { secretName: 'sec-p2' } }] } }));
  g.setPod(pod('p2', 'n1'), true);
  assert.equal(a.authorize(attrs('get', 'secrets', 'sec-p2')).decision, 'Allow');
  g.setPod(pod('p3', 'n1'), true);
  assert.equal(a.authorize(attrs('get', 'secrets', 'sec-p2')).decision, 'NoOpinion');
  // A mirror pod reaches its node only.
  g.setPod(pod('m', 'n1', { metadata: { annotations: { 'kubernetes.io/config.mirror': 'x' } } }));
  assert.equal(a.authorize(attrs('get', 'pods', 'm')).decision, 'Allow');
  assert.equal(a.authorize(attrs('get', 'secrets', 'sec-m')).decision, 'NoOpinion');
});

test('Node graph: a status write of the same pod keeps its references; a new uid, node or ephemeral container recomputes them', () => {
  const a = authorizer();
  const g = a.graph;
  // Same uid and node: nothing recomputed, even if the (immutable) spec given differs.
  g.setPod(pod('p1', 'n1', { spec: { volumes: [] } }));
  assert.equal(a.authorize(attrs('get', 'secrets', 'sec-p1')).decision, 'Allow');
  // A new pod under the same name (new uid) is looked at afresh.
  g.setPod(pod('p1', 'n1', { metadata: { uid: 'other' }, spec: { volumes: [] } }));
  assert.equal(a.authorize(attrs('get', 'secrets', 'sec-p1')).decision, 'NoOpinion');
  // An added ephemeral container may bring references of its own.
  g.setPod(pod('p1', 'n1', { metadata: { uid: 'other' }, spec: { volumes: [], ephemeralContainers: [{ name: 'dbg', envFrom: [{ secretRef: { name: 'debug-sec' } }] }] } }));
  assert.equal(a.authorize(attrs('get', 'secrets', 'debug-sec')).decision, 'Allow');
  // Moving to another node moves every reference.
  g.setPod(pod('p1', 'n2', { metadata: { uid: 'other' }, spec: { volumes: [], ephemeralContainers: [{ name: 'dbg', envFrom: [{ secretRef: { name: 'debug-sec' } }] }] } }));
  assert.equal(a.authorize(attrs('get', 'secrets', 'debug-sec')).decision, 'NoOpinion');
  assert.equal(a.authorize({ ...attrs('get', 'secrets', 'debug-sec'), user: nodeUser('n2') }).decision, 'Allow');
});

function refusal(w: WriteAttempt, lookups = { pod: (_ns: string, n: string) => ({ p1: pod('p1', 'n1'), p2: pod('p2', 'n2') } as Record<string, Obj>)[n], node: (n: string) => (n === 'n1' ? { metadata: { name: 'n1', uid: 'node-uid' } } : undefined) }): string | undefined {
  try {
    nodeRestriction(w, lookups);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 403);
    return err.message;
  }
}

test('NodeRestriction: pods', () => {
  const w = (x: Partial<WriteAttempt>): WriteAttempt => ({ operation: 'update', kind: 'Pod', group: '', obj: pod('p1', 'n1'), user: n1, ...x });
  assert.equal(refusal(w({ subresource: 'status', old: pod('p1', 'n1') })), undefined);
  assert.equal(refusal(w({ subresource: 'status', obj: pod('p2', 'n2'), old: pod('p2', 'n2') })), 'pods "p2" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself');
  assert.equal(refusal(w({ subresource: 'status', obj: pod('p1', 'n1', { metadata: { labels: { a: 'b' } } }), old: pod('p1', 'n1') })), 'pods "p1" is forbidden: node "n1" cannot update labels through pod status');
  assert.equal(refusal(w({ operation: 'delete', obj: pod('p2', 'n2'), old: pod('p2', 'n2') })), 'pods "Unknown" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself');
  assert.equal(refusal(w({ operation: 'delete', obj: pod('p1', 'n1'), old: pod('p1', 'n1') })), undefined);
  assert.equal(refusal(w({ operation: 'create' })), 'pods "p1" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods');
  assert.equal(refusal(w({ old: pod('p1', 'n1') })), 'pods "p1" is forbidden: unexpected operation "UPDATE", node "n1" can only create and delete mirror pods');
  const mirror = (spec: Obj, owners: Obj[]) => ({ metadata: { name: 'm', namespace: 'default', annotations: { 'kubernetes.io/config.mirror': 'h' }, ownerReferences: owners }, spec: { nodeName: 'n1', containers: [{ name: 'c' }], ...spec } });
  const own = { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true };
  assert.equal(refusal(w({ operation: 'create', obj: mirror({}, [own]) })), undefined);
  assert.equal(refusal(w({ operation: 'create', obj: mirror({ nodeName: 'n2' }, [own]) })), 'pods "m" is forbidden: node "n1" can only create pods with spec.nodeName set to itself');
  assert.equal(refusal(w({ operation: 'create', obj: mirror({}, []) })), 'pods "m" is forbidden: node "n1" can only create pods with an owner reference set to itself');
  assert.equal(refusal(w({ operation: 'create', obj: mirror({}, [{ ...own, uid: 'x' }]) })), 'pods "m" is forbidden: node n1 UID mismatch: expected x got node-uid');
  assert.equal(refusal(w({ operation: 'create', obj: mirror({ serviceAccountName: 'default' }, [own]) })), 'pods "m" is forbidden: node "n1" can not create pods that reference a service account');
  assert.equal(refusal(w({ operation: 'create', obj: mirror({ volumes: [{ name: 'v', secret: { secretName: 's' } }] }, [own]) })), 'pods "m" is forbidden: node "n1" can not create pods that reference secrets');
  assert.equal(refusal(w({ operation: 'create', subresource: 'eviction', name: 'p2', namespace: 'default', obj: { metadata: { name: 'p2' } } })), 'pods "p2" is forbidden: node n1 can only evict pods with spec.nodeName set to itself');
  assert.equal(refusal(w({ operation: 'create', subresource: 'eviction', name: 'p1', namespace: 'default', obj: { metadata: { name: 'p1' } } })), undefined);
  assert.equal(refusal(w({ subresource: 'exec' })), `pods "p1" is forbidden: unexpected pod subresource "exec", only 'status' and 'eviction' are allowed`);
  // Anyone else passes.
  assert.equal(refusal(w({ operation: 'delete', obj: pod('p2', 'n2'), old: pod('p2', 'n2'), user: { user: 'bob', groups: [] } })), undefined);
});

test('NodeRestriction: nodes, leases, tokens, CSRs', () => {
  const node = (name: string, labels: Obj = {}, taints?: Obj[]) => ({ metadata: { name, labels }, spec: taints ? { taints } : {} });
  const w = (x: Partial<WriteAttempt>): WriteAttempt => ({ operation: 'update', kind: 'Node', group: '', obj: node('n1'), old: node('n1'), user: n1, ...x });
  assert.equal(refusal(w({})), undefined);
  assert.equal(refusal(w({ obj: node('n2'), old: node('n2'), name: 'n2' })), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  assert.equal(refusal(w({ operation: 'create', obj: node('n1', { 'kubernetes.io/hostname': 'n1', 'node-role.kubernetes.io/control-plane': '' }) })), 'nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-role.kubernetes.io/control-plane');
  assert.equal(refusal(w({ obj: node('n1', { 'node-restriction.kubernetes.io/pool': 'a', 'example.com/x': 'y' }) })), 'nodes "n1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/pool');
  assert.equal(refusal(w({ obj: node('n1', { 'topology.kubernetes.io/zone': 'a', 'x.node.kubernetes.io/y': 'z', 'example.com/x': 'y' }) })), undefined);
  assert.equal(refusal(w({ obj: node('n1', {}, [{ key: 'k', effect: 'NoSchedule' }]) })), 'nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
  assert.equal(refusal(w({ subresource: 'status', obj: node('n2'), old: node('n2'), name: 'n2' })), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  assert.equal(refusal(w({ operation: 'delete', obj: node('n2'), old: node('n2'), name: 'n2' })), 'nodes "Unknown" is forbidden: node "n1" is not allowed to modify node "n2"');
  assert.deepEqual(forbiddenLabels(['a.k8s.io/x', 'kubelet.kubernetes.io/y', 'foo', 'kubernetes.io/hostname']), ['a.k8s.io/x']);

  const lease = (name: string, namespace = 'kube-node-lease') => ({ metadata: { name, namespace } });
  const l = (x: Partial<WriteAttempt>): WriteAttempt => ({ operation: 'create', kind: 'Lease', group: 'coordination.k8s.io', obj: lease('n1'), user: n1, ...x });
  assert.equal(refusal(l({})), undefined);
  assert.equal(refusal(l({ obj: lease('n2') })), 'leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node');
  assert.equal(refusal(l({ obj: lease('n1', 'default') })), 'leases.coordination.k8s.io "n1" is forbidden: can only access leases in the "kube-node-lease" system namespace');

  const tr = (ref: Obj | undefined): WriteAttempt => ({ operation: 'create', kind: 'ServiceAccount', group: '', subresource: 'token', name: 'sa-p1', namespace: 'default', obj: { spec: { boundObjectRef: ref } }, user: n1 });
  assert.equal(refusal(tr({ apiVersion: 'v1', kind: 'Pod', name: 'p1', uid: 'uid-p1' })), undefined);
  assert.equal(refusal(tr(undefined)), 'serviceaccounts "Unknown" is forbidden: node requested token not bound to a pod');
  assert.equal(refusal(tr({ apiVersion: 'v1', kind: 'Pod', name: 'p2', uid: 'uid-p2' })), 'serviceaccounts "Unknown" is forbidden: node requested token bound to a pod scheduled on a different node');
  assert.equal(refusal(tr({ apiVersion: 'v1', kind: 'Pod', name: 'p1', uid: 'other' })), 'serviceaccounts "Unknown" is forbidden: the UID in the bound object reference (other) does not match the UID in record. The object might have been deleted and then recreated');
});
