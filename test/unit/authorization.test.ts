// The pure parts of authorization: request attributes, rule matching, the RBAC authorizer over a
// fixed policy, forbidden messages, coverage and escalation text, reconciliation, aggregation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestAttributes } from '../../src/apiserver/authorization/attributes.ts';
import { ruleAllows } from '../../src/apiserver/authorization/rules.ts';
import { forbiddenError } from '../../src/apiserver/authorization/forbidden.ts';
import { AuthorizerChain } from '../../src/apiserver/authorization/chain.ts';
import { memorySource, RbacAuthorizer } from '../../src/apiserver/authorization/rbac.ts';
import { compactRules, compactString, covers } from '../../src/apiserver/authorization/covers.ts';
import { reconcileBinding, reconcileRole } from '../../src/apiserver/authorization/reconcile.ts';
import { bootstrapPolicy } from '../../src/apiserver/authorization/bootstrap-policy.ts';
import { impersonate } from '../../src/apiserver/authorization/impersonation.ts';
import { EscalationCheck } from '../../src/apiserver/authorization/escalation.ts';
import { aggregatedRules, rulesEqual } from '../../src/controllers/clusterroleaggregation/aggregate.ts';
import type { Attributes } from '../../src/apiserver/authorization/types.ts';

const bob = { user: 'bob', groups: ['devs', 'system:authenticated'] };
const attrs = (method: string, url: string) => {
  const u = new URL(url, 'https://x');
  return requestAttributes(bob, method, u.pathname, u.searchParams);
};
const pick = (a: Attributes) => [a.verb, a.resourceRequest, a.apiGroup, a.resource, a.subresource, a.namespace, a.name];

test('request attributes as upstream RequestInfo derives them', () => {
  assert.deepEqual(pick(attrs('GET', '/api/v1/namespaces/default/pods')), ['list', true, '', 'pods', '', 'default', '']);
  assert.deepEqual(pick(attrs('GET', '/api/v1/namespaces/default/pods?watch=true')), ['watch', true, '', 'pods', '', 'default', '']);
  assert.deepEqual(pick(attrs('GET', '/api/v1/namespaces/default/pods?watch=false')), ['list', true, '', 'pods', '', 'default', '']);
  assert.deepEqual(pick(attrs('GET', '/api/v1/watch/namespaces/default/pods/p')), ['watch', true, '', 'pods', '', 'default', 'p']);
  assert.deepEqual(pick(attrs('GET', '/api/v1/namespaces/default/pods/p/log')), ['get', true, '', 'pods', 'log', 'default', 'p']);
  assert.deepEqual(pick(attrs('POST', '/api/v1/namespaces/default/pods/p/exec')), ['create', true, '', 'pods', 'exec', 'default', 'p']);
  assert.deepEqual(pick(attrs('DELETE', '/apis/apps/v1/namespaces/ns/statefulsets')), ['deletecollection', true, 'apps', 'statefulsets', '', 'ns', '']);
  assert.deepEqual(pick(attrs('PATCH', '/apis/apps/v1/namespaces/ns/statefulsets/web/scale')), ['patch', true, 'apps', 'statefulsets', 'scale', 'ns', 'web']);
  // A namespace is its own namespace; its status and finalize are its subresources.
  assert.deepEqual(pick(attrs('GET', '/api/v1/namespaces/foo')), ['get', true, '', 'namespaces', '', 'foo', 'foo']);
  assert.deepEqual(pick(attrs('PUT', '/api/v1/namespaces/foo/finalize')), ['update', true, '', 'namespaces', 'finalize', 'foo', 'foo']);
  assert.deepEqual(pick(attrs('GET', '/api/v1/nodes')), ['list', true, '', 'nodes', '', '', '']);
  // A list narrowed to one name is authorized on that name.
  assert.deepEqual(pick(attrs('GET', '/api/v1/namespaces/d/secrets?fieldSelector=metadata.name%3Ds1')), ['list', true, '', 'secrets', '', 'd', 's1']);
  // Non-resource paths: lower-cased method.
  const h = attrs('GET', '/healthz');
  assert.deepEqual([h.verb, h.resourceRequest, h.path], ['get', false, '/healthz']);
  assert.deepEqual([attrs('HEAD', '/apis/apps').verb, attrs('GET', '/api/v1').resourceRequest], ['head', false]);
});

test('rule matching: wildcards, subresources, names, URLs', () => {
  const get = attrs('GET', '/api/v1/namespaces/d/pods/p');
  const log = attrs('GET', '/api/v1/namespaces/d/pods/p/log');
  assert.ok(ruleAllows(get, { verbs: ['get'], apiGroups: [''], resources: ['pods'] }));
  assert.ok(!ruleAllows(log, { verbs: ['get'], apiGroups: [''], resources: ['pods'] }), 'pods does not cover pods/log');
  assert.ok(ruleAllows(log, { verbs: ['get'], apiGroups: [''], resources: ['*/log'] }));
  assert.ok(!ruleAllows(log, { verbs: ['get'], apiGroups: [''], resources: ['pods/*'] }), 'pods/* is not a wildcard');
  assert.ok(ruleAllows(log, { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }));
  assert.ok(ruleAllows(get, { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }));
  assert.ok(!ruleAllows(attrs('GET', '/api/v1/namespaces/d/pods'), { verbs: ['list'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }));
  assert.ok(!ruleAllows(get, { verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }));
  const h = attrs('GET', '/healthz/etcd');
  assert.ok(ruleAllows(h, { verbs: ['get'], nonResourceURLs: ['/healthz/*'] }));
  assert.ok(!ruleAllows(attrs('GET', '/healthz'), { verbs: ['get'], nonResourceURLs: ['/healthz/*'] }));
  assert.ok(!ruleAllows(h, { verbs: ['get'], apiGroups: ['*'], resources: ['*'] }), 'resource rules never cover paths');
});

test('forbidden messages and details, as upstream', () => {
  const s = (e: ReturnType<typeof forbiddenError>) => e.toStatus();
  assert.deepEqual(s(forbiddenError(attrs('GET', '/api/v1/namespaces/default/pods/p/log'), '')), {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
    message: 'pods "p" is forbidden: User "bob" cannot get resource "pods/log" in API group "" in the namespace "default"',
    details: { name: 'p', kind: 'pods' },
  });
  assert.equal(forbiddenError(attrs('GET', '/apis/apps/v1/statefulsets'), '').message, 'statefulsets.apps is forbidden: User "bob" cannot list resource "statefulsets" in API group "apps" at the cluster scope');
  const path = s(forbiddenError({ ...attrs('GET', '/'), user: { user: 'system:anonymous', groups: [] } }, ''));
  assert.equal(path.message, 'forbidden: User "system:anonymous" cannot get path "/"');
  assert.deepEqual(path.details, {});
  assert.equal(forbiddenError(attrs('GET', '/api/v1/nodes'), 'RBAC: clusterrole.rbac.authorization.k8s.io "x" not found').message, 'nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "x" not found');
});

const crb = (name: string, role: string, subjects: object[]) => ({ kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects });
const rb = (ns: string, name: string, kind: string, role: string, subjects: object[]) => ({ kind: 'RoleBinding', metadata: { name, namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role }, subjects });
const cr = (name: string, rules: object[]) => ({ kind: 'ClusterRole', metadata: { name }, rules });
const role = (ns: string, name: string, rules: object[]) => ({ kind: 'Role', metadata: { name, namespace: ns }, rules });

test('the RBAC authorizer: users, groups, service accounts; namespaces; reasons; rules listing', () => {
  const rbac = new RbacAuthorizer(memorySource([
    cr('reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]),
    role('d', 'writer', [{ verbs: ['create'], apiGroups: [''], resources: ['configmaps'] }]),
    crb('devs-read', 'reader', [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' }]),
    rb('d', 'sa-write', 'Role', 'writer', [{ kind: 'ServiceAccount', name: 'app' }]),
    rb('d', 'sa-read', 'ClusterRole', 'reader', [{ kind: 'ServiceAccount', name: 'other', namespace: 'e' }]),
    rb('d', 'dangling', 'Role', 'missing', [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'carol' }]),
    crb('sa-no-ns', 'reader', [{ kind: 'ServiceAccount', name: 'app' }]),
  ]));
  const chain = new AuthorizerChain([rbac]);
  const a = (user: { user: string; groups: string[] }, method: string, url: string) => {
    const u = new URL(url, 'https://x');
    return chain.authorize(requestAttributes(user, method, u.pathname, u.searchParams));
  };
  assert.deepEqual(a(bob, 'GET', '/api/v1/namespaces/x/pods'), { decision: 'Allow', reason: 'RBAC: allowed by ClusterRoleBinding "devs-read" of ClusterRole "reader" to Group "devs"' });
  assert.equal(a(bob, 'DELETE', '/api/v1/namespaces/x/pods/p').decision, 'NoOpinion');
  const app = { user: 'system:serviceaccount:d:app', groups: ['system:serviceaccounts'] };
  assert.deepEqual(a(app, 'POST', '/api/v1/namespaces/d/configmaps'), { decision: 'Allow', reason: 'RBAC: allowed by RoleBinding "sa-write/d" of Role "writer" to ServiceAccount "app/d"' });
  assert.equal(a(app, 'POST', '/api/v1/namespaces/e/configmaps').decision, 'NoOpinion', 'a RoleBinding grants only in its namespace');
  assert.equal(a(app, 'GET', '/api/v1/namespaces/d/pods').decision, 'NoOpinion', 'a ClusterRoleBinding service account without namespace names nobody');
  const other = { user: 'system:serviceaccount:e:other', groups: [] };
  assert.equal(a(other, 'GET', '/api/v1/namespaces/d/pods').decision, 'Allow');
  assert.equal(a(other, 'GET', '/api/v1/namespaces/e/pods').decision, 'NoOpinion');
  assert.deepEqual(a({ user: 'carol', groups: [] }, 'GET', '/api/v1/namespaces/d/pods'), { decision: 'NoOpinion', reason: 'RBAC: role.rbac.authorization.k8s.io "missing" not found' });
  assert.equal(a({ user: 'root', groups: ['system:masters'] }, 'DELETE', '/api/v1/nodes/n').decision, 'Allow');
  const rules = chain.rulesFor(app, 'd');
  assert.deepEqual(rules.resourceRules, [{ verbs: ['create'], apiGroups: [''], resources: ['configmaps'], resourceNames: [] }]);
  assert.equal(rules.incomplete, false);
});

test('coverage, compaction and the escalation message', () => {
  const owner = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'] }, { verbs: ['get'], nonResourceURLs: ['/healthz/*'] }];
  assert.equal(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }]).covered, true);
  assert.equal(covers(owner, [{ verbs: ['get'], nonResourceURLs: ['/healthz/x'] }]).covered, true);
  const { missing } = covers(owner, [{ verbs: ['get', 'delete', 'patch'], apiGroups: [''], resources: ['configmaps', 'secrets'] }]);
  assert.deepEqual(compactRules(missing).map(compactString).sort(), ['{APIGroups:[""], Resources:["configmaps"], Verbs:["delete" "patch"]}', '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete" "patch"]}']);
  assert.equal(compactString({ verbs: ['get'], nonResourceURLs: ['/x'] }), '{NonResourceURLs:["/x"], Verbs:["get"]}');
  // A named rule does not cover the unnamed request.
  assert.equal(covers([{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]).covered, false);

  const src = memorySource([role('d', 'cm', [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]), rb('d', 'b', 'Role', 'cm', [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }])]);
  const rbac = new RbacAuthorizer(src);
  const check = new EscalationCheck(new AuthorizerChain([rbac]), rbac, src);
  const w = (rules: object[]) => ({ operation: 'create' as const, kind: 'Role', group: 'rbac.authorization.k8s.io', obj: { metadata: { name: 'r', namespace: 'd' }, rules }, user: bob });
  assert.doesNotThrow(() => check.check(w([{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }])));
  assert.throws(() => check.check(w([{ verbs: ['*'], apiGroups: [''], resources: ['*'] }])), {
    message: 'roles.rbac.authorization.k8s.io "r" is forbidden: user "bob" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["*"], Verbs:["*"]}',
  });
  assert.doesNotThrow(() => check.check({ ...w([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]), user: { user: 'root', groups: ['system:masters'] } }));
});

test('reconciliation adds what is missing, keeps what is there, recreates a changed roleRef, skips autoupdate=false', () => {
  const expected = { kind: 'ClusterRole', metadata: { name: 'x', labels: { a: '1' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }] };
  assert.equal(reconcileRole(expected, undefined).op, 'create');
  const existing = { kind: 'ClusterRole', metadata: { name: 'x', uid: 'u', labels: { a: '2' } }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, { verbs: ['watch'], apiGroups: [''], resources: ['nodes'] }] };
  const r = reconcileRole(expected, existing);
  assert.equal(r.op, 'update');
  if (r.op !== 'update') return;
  assert.deepEqual(r.obj.rules, [...existing.rules, { verbs: ['list'], apiGroups: [''], resources: ['pods'] }]);
  assert.deepEqual(r.obj.metadata.labels, { a: '2' });
  assert.equal(r.obj.metadata.annotations['rbac.authorization.kubernetes.io/autoupdate'], 'true');
  assert.equal(reconcileRole(expected, r.obj).op, 'none', 'reconciled once, nothing more to do');
  assert.equal(reconcileRole(expected, { ...existing, metadata: { name: 'x', annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } } }).op, 'none');

  const b = { kind: 'ClusterRoleBinding', metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'x' }, subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'g' }] };
  const more = reconcileBinding(b, { ...b, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'u' }] });
  assert.equal(more.op, 'update');
  if (more.op === 'update') assert.deepEqual(more.obj.subjects.map((s: { name: string }) => s.name), ['u', 'g']);
  assert.equal(reconcileBinding(b, { ...b, roleRef: { ...b.roleRef, name: 'y' } }).op, 'recreate');
  assert.equal(reconcileBinding(b, b).op, 'none');
});

test('the bootstrap policy: every binding resolves; discovery, basic-user and public info as upstream binds them', () => {
  const p = bootstrapPolicy();
  const names = new Set(p.clusterRoles.map((r) => r.metadata.name));
  for (const b of p.clusterRoleBindings) assert.ok(names.has(b.roleRef.name), b.metadata.name);
  const rbac = new RbacAuthorizer(memorySource([...p.clusterRoles, ...p.clusterRoleBindings, ...p.roles, ...p.roleBindings]));
  const path = (user: { user: string; groups: string[] }, p2: string) => rbac.authorize({ ...requestAttributes(user, 'GET', p2, new URLSearchParams()) }).decision;
  const anon = { user: 'system:anonymous', groups: ['system:unauthenticated'] };
  assert.equal(path(anon, '/healthz'), 'Allow');
  assert.equal(path(anon, '/version'), 'Allow');
  assert.equal(path(anon, '/apis'), 'NoOpinion');
  assert.equal(path(bob, '/apis/apps/v1'), 'Allow');
  assert.equal(path(bob, '/metrics'), 'NoOpinion');
  // As upstream 1.32, system:node is bound to no one: a node's reads of Secrets are the Node authorizer's to decide.
  assert.equal(path({ user: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] }, '/api/v1/namespaces/d/secrets/s'), 'NoOpinion');
  assert.equal(path({ user: 'system:bootstrap:abc', groups: ['system:bootstrappers', 'system:authenticated'] }, '/api/v1/namespaces/d/secrets/s'), 'NoOpinion');
});

test('impersonation: identity, checks and the groups upstream adds', () => {
  const rbac = new RbacAuthorizer(memorySource([
    cr('imp', [{ verbs: ['impersonate'], apiGroups: [''], resources: ['users', 'groups'] }, { verbs: ['impersonate'], apiGroups: [''], resources: ['serviceaccounts'] }]),
    crb('b', 'imp', [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }]),
  ]));
  const chain = new AuthorizerChain([rbac]);
  assert.deepEqual(impersonate(bob, {}, chain), bob);
  assert.deepEqual(impersonate(bob, { 'impersonate-user': ['jane'], 'impersonate-group': ['g1', 'g2'] }, chain), { user: 'jane', groups: ['g1', 'g2', 'system:authenticated'] });
  assert.deepEqual(impersonate(bob, { 'impersonate-user': ['system:serviceaccount:ns:sa'] }, chain), { user: 'system:serviceaccount:ns:sa', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'] });
  assert.deepEqual(impersonate(bob, { 'impersonate-user': ['system:anonymous'] }, chain), { user: 'system:anonymous', groups: ['system:unauthenticated'] });
  assert.throws(() => impersonate({ user: 'eve', groups: [] }, { 'impersonate-user': ['jane'] }, chain), { message: 'users "jane" is forbidden: User "eve" cannot impersonate resource "users" in API group "" at the cluster scope' });
  assert.throws(() => impersonate(bob, { 'impersonate-user': ['jane'], 'impersonate-uid': ['1'] }, chain), { message: 'uids.authentication.k8s.io "1" is forbidden: User "bob" cannot impersonate resource "uids" in API group "authentication.k8s.io" at the cluster scope' });
  assert.throws(() => impersonate(bob, { 'impersonate-group': ['g'] }, chain), { message: 'requested [{Group  g    }] without impersonating a user' });
});

test('aggregation: selectors in order, roles by name, each rule once, the role itself excluded', () => {
  const agg = { metadata: { name: 'view' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { v: 'true' } }] }, rules: [] };
  const all = [
    agg,
    { metadata: { name: 'b', labels: { v: 'true' } }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] },
    { metadata: { name: 'a', labels: { v: 'true' } }, rules: [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], apiGroups: [''], resources: ['pods'] }] },
    { metadata: { name: 'c' }, rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] },
  ];
  const rules = aggregatedRules(agg, all);
  assert.deepEqual(rules.map((r) => r.verbs[0]), ['list', 'get']);
  assert.ok(rulesEqual(rules, rules) && !rulesEqual([], rules));
});
