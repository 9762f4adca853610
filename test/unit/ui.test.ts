// The live view's pure parts: what a set's row and a node show (src/ui/static/model.js, the same
// module the page runs), which file a /ui/ path gets, and who the default policy lets load it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uiAnswer, isUiPath } from '../../src/ui/serve.ts';
import { bootstrapPolicy } from '../../src/apiserver/authorization/bootstrap-policy.ts';
import { memorySource, RbacAuthorizer } from '../../src/apiserver/authorization/rbac.ts';
import { requestAttributes } from '../../src/apiserver/authorization/attributes.ts';

// A browser module, plain JavaScript: loaded by URL so the type checker leaves it to the browser.
const model: any = await import(new URL('../../src/ui/static/model.js', import.meta.url).href);

const set = (over: Record<string, any> = {}) => ({
  metadata: { name: 'web', namespace: 'default', uid: 'u1', generation: 2 },
  spec: {
    replicas: 3,
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
    volumeClaimTemplates: [{ metadata: { name: 'www' } }],
    ...over.spec,
  },
  status: { observedGeneration: 2, replicas: 3, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 1, currentRevision: 'web-a', updateRevision: 'web-b', ...over.status },
});

const pod = (name: string, rev: string, extra: Record<string, any> = {}) => ({
  metadata: { name, namespace: 'default', labels: { 'controller-revision-hash': rev }, ownerReferences: [{ controller: true, uid: 'u1' }], ...extra.metadata },
  spec: { nodeName: 'n1', containers: [{ name: 'c' }], ...extra.spec },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ ready: true, state: { running: {} } }],
    ...extra.status,
  },
});

const claim = (name: string, phase: string) => ({ metadata: { name, namespace: 'default' }, status: { phase } });

test('a set as its row of ordinals: revisions, readiness, claims and the partition', () => {
  const pods = [
    pod('web-0', 'web-a'),
    pod('web-1', 'web-a', { status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ ready: false, state: { waiting: { reason: 'ContainerCreating' } } }] } }),
    pod('web-2', 'web-b', { spec: { nodeName: 'n2' } }),
    // Not the set's: another owner, another namespace, a name that is no ordinal.
    pod('web-5', 'web-a', { metadata: { ownerReferences: [{ controller: true, uid: 'other' }] } }),
    { ...pod('web-6', 'web-a'), metadata: { ...pod('web-6', 'web-a').metadata, namespace: 'other' } },
    pod('web-x', 'web-a'),
  ];
  const v = model.statefulSetView(set(), pods, [claim('www-web-0', 'Bound'), claim('www-web-1', 'Pending')], []);
  assert.deepEqual(
    v.cells.map((c: any) => [c.name, c.status, c.ready, c.readyText, c.revisionRole, c.node, c.claims.map((x: any) => `${x.name}=${x.phase}`).join()]),
    [
      ['web-0', 'Running', true, '1/1', 'current', 'n1', 'www-web-0=Bound'],
      ['web-1', 'ContainerCreating', false, '0/1', 'current', 'n1', 'www-web-1=Pending'],
      ['web-2', 'Running', true, '1/1', 'update', 'n2', 'www-web-2=Missing'],
    ],
  );
  assert.equal(v.partitionBefore, 2);
  assert.deepEqual(v.progress, { replicas: 3, ready: 2, available: 0, current: 2, updated: 1 });
  assert.equal(v.observed, true);
});

test('scaling: wanted ordinals without pods show as absent, pods beyond replicas stay until gone', () => {
  const up = model.statefulSetView(set({ spec: { replicas: 4 } }), [pod('web-0', 'web-a')], [], []);
  assert.deepEqual(up.cells.map((c: any) => [c.ordinal, c.exists, c.wanted, c.status, c.revisionRole]), [
    [0, true, true, 'Running', 'current'],
    [1, false, true, 'Absent', 'none'],
    [2, false, true, 'Absent', 'none'],
    [3, false, true, 'Absent', 'none'],
  ]);
  const terminating = pod('web-2', 'web-a', { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } });
  const down = model.statefulSetView(set({ spec: { replicas: 1 } }), [pod('web-0', 'web-a'), terminating], [], []);
  assert.deepEqual(down.cells.map((c: any) => [c.name, c.wanted, c.status, c.terminating]), [
    ['web-0', true, 'Running', false],
    ['web-2', false, 'Terminating', true],
  ]);
});

test('the partition line: none at 0 nor for OnDelete; a rolled-out set has one revision, current', () => {
  assert.equal(model.statefulSetView(set({ spec: { updateStrategy: { type: 'RollingUpdate' } } }), [], [], []).partitionBefore, null);
  assert.equal(model.statefulSetView(set({ spec: { updateStrategy: { type: 'OnDelete' } } }), [], [], []).partitionBefore, null);
  assert.equal(model.partitionOf({ spec: {} }), 0);
  assert.equal(model.revisionRole('web-a', 'web-a', 'web-a'), 'current');
  assert.equal(model.revisionRole('web-c', 'web-a', 'web-b'), 'other');
  assert.equal(model.revisionRole('', 'web-a', 'web-b'), 'other');
});

test("the set's events: only its own, newest first, at most eight", () => {
  const ev = (name: string, kind: string, reason: string, t: string, ns = 'default') => ({ metadata: { namespace: ns }, involvedObject: { kind, name, namespace: ns }, reason, type: 'Normal', message: reason, lastTimestamp: t });
  const events = [
    ev('web', 'StatefulSet', 'Old', '2026-01-01T00:00:01Z'),
    ev('web', 'StatefulSet', 'New', '2026-01-01T00:00:09Z'),
    ev('web', 'Pod', 'PodEvent', '2026-01-01T00:00:05Z'),
    ev('web', 'StatefulSet', 'ElsewhereNs', '2026-01-01T00:00:05Z', 'other'),
    ev('db', 'StatefulSet', 'OtherSet', '2026-01-01T00:00:05Z'),
  ];
  assert.deepEqual(model.statefulSetView(set(), [], [], events).events.map((e: any) => e.reason), ['New', 'Old']);
  const many = Array.from({ length: 12 }, (_, i) => ev('web', 'StatefulSet', `R${i}`, `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`));
  assert.deepEqual(model.eventsFor(many, 'StatefulSet', 'default', 'web').map((e: any) => e.reason), ['R11', 'R10', 'R9', 'R8', 'R7', 'R6', 'R5', 'R4']);
});

test('a node: Ready, taints as kubectl prints them, its pods in name order', () => {
  const node = {
    metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
    spec: { unschedulable: true, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] },
    status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
  };
  const v = model.nodeView(node, [pod('web-10', 'a'), pod('web-2', 'a'), pod('db-0', 'a', { spec: { nodeName: 'n2' } })]);
  assert.equal(v.ready, 'Unknown');
  assert.equal(v.readyReason, 'NodeStatusUnknown');
  assert.equal(v.unschedulable, true);
  assert.deepEqual(v.taints, ['dedicated=db:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  assert.deepEqual(v.roles, ['control-plane']);
  assert.equal(v.address, '10.0.0.1');
  assert.deepEqual(v.pods.map((p: any) => p.name), ['web-2', 'web-10']);
});

test('errors show the Status message; ages are short', () => {
  const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"' };
  assert.equal(model.errorText(403, JSON.stringify(status)), `403 Forbidden: ${status.message}`);
  assert.equal(model.errorText(502, 'Bad Gateway\n'), '502: Bad Gateway');
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(model.shortAge('2026-01-01T00:00:00Z', t0 + 5_000), '5s');
  assert.equal(model.shortAge('2026-01-01T00:00:00Z', t0 + 600_000), '10m');
  assert.equal(model.shortAge('2026-01-01T00:00:00Z', t0 + 3 * 3600_000), '3h');
  assert.equal(model.shortAge('2026-01-01T00:00:00Z', t0 + 5 * 86400_000), '5d');
  assert.equal(model.ordinalOf('web-01', 'web'), -1);
  assert.equal(model.ordinalOf('web-0', 'web'), 0);
  assert.equal(model.ordinalOf('webx-1', 'web'), -1);
});

test('which file a /ui/ request gets', () => {
  const files = new Set(['index.html', 'app.js', 'ui.css']);
  assert.deepEqual(uiAnswer('GET', '/ui', files), { kind: 'redirect', location: 'ui/' });
  assert.deepEqual(uiAnswer('GET', '/ui/', files), { kind: 'file', name: 'index.html' });
  assert.deepEqual(uiAnswer('HEAD', '/ui/app.js', files), { kind: 'file', name: 'app.js' });
  assert.deepEqual(uiAnswer('GET', '/ui/../server.ts', files), { kind: 'not-found' });
  assert.deepEqual(uiAnswer('GET', '/ui/%2e%2e/serve.ts', files), { kind: 'not-found' });
  assert.deepEqual(uiAnswer('GET', '/ui/static/app.js', files), { kind: 'not-found' });
  assert.deepEqual(uiAnswer('POST', '/ui/', files), { kind: 'method' });
  assert.equal(isUiPath('/ui'), true);
  assert.equal(isUiPath('/ui/x'), true);
  assert.equal(isUiPath('/uix'), false);
  assert.equal(isUiPath('/api/v1/ui'), false);
});

test('the default policy: any authenticated user may get /ui and /ui/*, nobody else, nothing more', () => {
  const p = bootstrapPolicy();
  const rbac = new RbacAuthorizer(memorySource([...p.clusterRoles, ...p.clusterRoleBindings, ...p.roles, ...p.roleBindings]));
  const decide = (user: { user: string; groups: string[] }, method: string, path: string) => rbac.authorize(requestAttributes(user, method, path, new URLSearchParams())).decision;
  const alice = { user: 'alice', groups: ['system:authenticated'] };
  const anon = { user: 'system:anonymous', groups: ['system:unauthenticated'] };
  assert.equal(decide(alice, 'GET', '/ui'), 'Allow');
  assert.equal(decide(alice, 'GET', '/ui/'), 'Allow');
  assert.equal(decide(alice, 'GET', '/ui/app.js'), 'Allow');
  assert.equal(decide(alice, 'POST', '/ui/'), 'NoOpinion');
  assert.equal(decide(alice, 'GET', '/uix'), 'NoOpinion');
  assert.equal(decide(anon, 'GET', '/ui/'), 'NoOpinion');
  // The page's data stays the caller's own: the role grants no resource.
  assert.equal(decide(alice, 'GET', '/api/v1/namespaces/default/pods'), 'NoOpinion');
});
