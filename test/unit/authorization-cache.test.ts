// The RBAC decision cache: answers cached without the object name still decide per name exactly
// as an uncached evaluation would (resourceNames, upstream's visit order and reasons, errors), and
// any change to a role or binding is seen by the very next question (the policy generation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RbacAuthorizer, RBAC_BUCKETS, type RbacSource } from '../../src/apiserver/authorization/rbac.ts';
import { answerFor, DecisionCache, MAX_ANSWERS, questionKey } from '../../src/apiserver/authorization/decision-cache.ts';
import { ruleAllows } from '../../src/apiserver/authorization/rules.ts';
import { ALLOW, NO_OPINION, type Attributes } from '../../src/apiserver/authorization/types.ts';
import type { Obj } from '../../src/api/resource.ts';
import { NodeAuthorizer, staticAnswer } from '../../src/apiserver/authorization/node/authorizer.ts';
import { nodeUser } from '../../src/apiserver/authorization/node/identity.ts';
import { nodeRules } from '../../src/apiserver/authorization/bootstrap-policy.ts';

const G = 'rbac.authorization.k8s.io';
const crb = (name: string, role: string, subjects: object[]) => ({ kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: role }, subjects });
const rb = (ns: string, name: string, kind: string, role: string, subjects: object[]) => ({ kind: 'RoleBinding', metadata: { name, namespace: ns }, roleRef: { apiGroup: G, kind, name: role }, subjects });
const cr = (name: string, rules: object[]) => ({ kind: 'ClusterRole', metadata: { name }, rules });
const role = (ns: string, name: string, rules: object[]) => ({ kind: 'Role', metadata: { name, namespace: ns }, rules });

/** A policy that can change under the authorizer, announcing each change as the watch cache does. */
function mutableSource() {
  const buckets: Record<string, string> = { Role: RBAC_BUCKETS.roles, ClusterRole: RBAC_BUCKETS.clusterRoles, RoleBinding: RBAC_BUCKETS.roleBindings, ClusterRoleBinding: RBAC_BUCKETS.clusterRoleBindings };
  const objs = new Map<string, Obj>();
  const listeners = new Map<string, Set<() => void>>();
  const keyOf = (o: Obj) => `${buckets[o.kind]}${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
  const fire = (o: Obj) => {
    for (const fn of listeners.get(buckets[o.kind]!) ?? []) fn();
  };
  const src: RbacSource = {
    list: (bucket, prefix) => [...objs].filter(([k]) => k.startsWith(prefix ?? bucket)).map(([, o]) => o),
    get: (key) => objs.get(key),
    onChange: (bucket, fn) => {
      if (!listeners.has(bucket)) listeners.set(bucket, new Set());
      listeners.get(bucket)!.add(fn);
      return () => listeners.get(bucket)!.delete(fn);
    },
  };
  return {
    src,
    put: (o: Obj) => {
      objs.set(keyOf(o), o);
      fire(o);
    },
    remove: (o: Obj) => {
      objs.delete(keyOf(o));
      fire(o);
    },
  };
}

const bob = { user: 'bob', groups: ['devs', 'system:authenticated'] };
const req = (verb: string, resource: string, name = '', namespace = 'd', user = bob): Attributes => ({ user, verb, resourceRequest: true, path: '', namespace, apiGroup: '', apiVersion: 'v1', resource, subresource: '', name });

test('cached answers decide each name as the rules do: names, order of grants, reasons', () => {
  const s = mutableSource();
  s.put(cr('one-secret', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }]));
  s.put(role('d', 'two-secrets', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a', 'b'] }]));
  s.put(crb('bob-one', 'one-secret', [{ kind: 'User', apiGroup: G, name: 'bob' }]));
  s.put(rb('d', 'devs-two', 'Role', 'two-secrets', [{ kind: 'Group', apiGroup: G, name: 'devs' }]));
  const rbac = new RbacAuthorizer(s.src);
  // "a" is granted first by the ClusterRoleBinding (visited first), "b" only by the RoleBinding.
  assert.equal(rbac.authorize(req('get', 'secrets', 'a')).reason, 'RBAC: allowed by ClusterRoleBinding "bob-one" of ClusterRole "one-secret" to User "bob"');
  assert.equal(rbac.authorize(req('get', 'secrets', 'b')).reason, 'RBAC: allowed by RoleBinding "devs-two/d" of Role "two-secrets" to Group "devs"');
  assert.equal(rbac.authorize(req('get', 'secrets', 'c')).decision, 'NoOpinion');
  // A list has no name, and no name-limited rule covers it.
  assert.equal(rbac.authorize(req('list', 'secrets')).decision, 'NoOpinion');
  // Elsewhere the RoleBinding does not apply.
  assert.equal(rbac.authorize(req('get', 'secrets', 'b', 'e')).decision, 'NoOpinion');
  assert.equal(rbac.authorize(req('get', 'secrets', 'a', 'e')).decision, 'Allow');
});

test('a change to any role or binding is seen by the next question', () => {
  const s = mutableSource();
  const rbac = new RbacAuthorizer(s.src);
  const g0 = rbac.generation;
  assert.equal(rbac.authorize(req('get', 'pods', 'p')).decision, 'NoOpinion');
  const reader = cr('reader', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
  const binding = crb('bob-reads', 'reader', [{ kind: 'User', apiGroup: G, name: 'bob' }]);
  s.put(binding);
  assert.ok(rbac.generation > g0, 'a binding change moves the generation');
  // Bound to a role that does not exist yet: the error is the reason.
  assert.deepEqual(rbac.authorize(req('get', 'pods', 'p')), NO_OPINION('RBAC: clusterrole.rbac.authorization.k8s.io "reader" not found'));
  s.put(reader);
  assert.equal(rbac.authorize(req('get', 'pods', 'p')).decision, 'Allow');
  assert.equal(rbac.authorize(req('get', 'pods', 'q')).decision, 'Allow');
  // The role narrowed to one name: the cached "any name" answer must not survive.
  s.put(cr('reader', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }]));
  assert.equal(rbac.authorize(req('get', 'pods', 'p')).decision, 'Allow');
  assert.equal(rbac.authorize(req('get', 'pods', 'q')).decision, 'NoOpinion');
  s.remove(binding);
  assert.equal(rbac.authorize(req('get', 'pods', 'p')).decision, 'NoOpinion');
  // A namespaced Role change is seen too.
  s.put(role('d', 'w', [{ verbs: ['create'], apiGroups: [''], resources: ['configmaps'] }]));
  s.put(rb('d', 'w', 'Role', 'w', [{ kind: 'User', apiGroup: G, name: 'bob' }]));
  assert.equal(rbac.authorize(req('create', 'configmaps')).decision, 'Allow');
  s.put(role('d', 'w', [{ verbs: ['delete'], apiGroups: [''], resources: ['configmaps'] }]));
  assert.equal(rbac.authorize(req('create', 'configmaps')).decision, 'NoOpinion');
  rbac.close();
});

test('the same answers as rule-by-rule evaluation, over a grid of users, verbs, resources and names', () => {
  const s = mutableSource();
  const rules = [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] },
    { verbs: ['*'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['cfg'] },
    { verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] },
    { verbs: ['get'], nonResourceURLs: ['/metrics', '/logs/*'] },
  ];
  s.put(cr('mixed', rules));
  s.put(crb('mixed', 'mixed', [{ kind: 'Group', apiGroup: G, name: 'devs' }]));
  const rbac = new RbacAuthorizer(s.src);
  const users = [bob, { user: 'eve', groups: ['system:authenticated'] }];
  for (const user of users) {
    for (const verb of ['get', 'list', 'update', 'delete']) {
      for (const [resource, subresource] of [['pods', ''], ['pods', 'log'], ['pods', 'status'], ['configmaps', ''], ['secrets', '']]) {
        for (const name of ['', 'cfg', 'other']) {
          const a = { ...req(verb, resource!, name, 'd', user), subresource: subresource! };
          const expected = user === bob && rules.some((r) => ruleAllows(a, r));
          // Twice: the first fills the cache, the second reads it.
          for (let i = 0; i < 2; i++) assert.equal(rbac.authorize(a).decision, expected ? 'Allow' : 'NoOpinion', `${user.user} ${verb} ${resource}/${subresource} ${name}`);
        }
      }
    }
    for (const path of ['/metrics', '/logs/x', '/healthz']) {
      const a: Attributes = { ...req('get', ''), user, resourceRequest: false, path };
      const expected = user === bob && path !== '/healthz';
      assert.equal(rbac.authorize(a).decision, expected ? 'Allow' : 'NoOpinion', `${user.user} ${path}`);
    }
  }
});

test('DecisionCache: one computation per question without the name, regardless of the identity object; bounded; generation', () => {
  const c = new DecisionCache();
  let computed = 0;
  const compute = () => {
    computed++;
    return { grants: [{ names: new Set(['a']), result: ALLOW('named') }, { result: ALLOW('any') }], otherwise: NO_OPINION() };
  };
  assert.equal(c.lookup(req('get', 'pods', 'a'), compute).reason, 'named');
  assert.equal(c.lookup(req('get', 'pods', 'z'), compute).reason, 'any');
  // An equal identity in another object shares the answers.
  assert.equal(c.lookup(req('get', 'pods', 'z', 'd', { user: 'bob', groups: [...bob.groups] }), compute).reason, 'any');
  assert.equal(computed, 1);
  // Another group set is another identity.
  c.lookup(req('get', 'pods', 'z', 'd', { user: 'bob', groups: ['system:authenticated'] }), compute);
  assert.equal(computed, 2);
  c.invalidate();
  c.lookup(req('get', 'pods', 'a'), compute);
  assert.equal(computed, 3);
  // Endless distinct questions (a fuzzer's paths) never hold more than MAX_ANSWERS.
  for (let i = 0; i < MAX_ANSWERS + 10; i++) c.lookup({ ...req('get', ''), resourceRequest: false, path: `/x/${i}` }, compute);
  assert.ok((c as unknown as { size: number }).size <= MAX_ANSWERS);
  assert.equal(answerFor({ grants: [], otherwise: NO_OPINION('r') }, 'n').reason, 'r');
  assert.notEqual(questionKey(req('get', 'pods')), questionKey(req('get', 'pods', '', 'e')));
});

test('the Node authorizer\'s cached static answers equal rule-by-rule evaluation of the system:node rules', () => {
  const rules = nodeRules();
  const node = nodeUser('n1');
  const a = new NodeAuthorizer();
  const resources: [string, string, string][] = [['', 'events', ''], ['events.k8s.io', 'events', ''], ['', 'services', ''], ['', 'endpoints', ''], ['', 'namespaces', ''], ['storage.k8s.io', 'volumeattachments', ''], ['certificates.k8s.io', 'certificatesigningrequests', ''], ['authentication.k8s.io', 'tokenreviews', ''], ['authorization.k8s.io', 'subjectaccessreviews', ''], ['apps', 'deployments', ''], ['', 'nodes', 'proxy']];
  let allowed = 0;
  for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) {
    for (const [group, resource, subresource] of resources) {
      for (const name of ['', 'x']) {
        const q: Attributes = { user: node, verb, resourceRequest: true, path: '', namespace: 'd', apiGroup: group, apiVersion: 'v1', resource, subresource, name };
        const expected = rules.some((r) => ruleAllows(q, r));
        if (expected) allowed++;
        assert.equal(answerFor(staticAnswer(rules, q), name).decision === 'Allow', expected, `${verb} ${group}/${resource}/${subresource} ${name}`);
        for (let i = 0; i < 2; i++) assert.equal(a.authorize(q).decision, expected ? 'Allow' : 'NoOpinion', `${verb} ${group}/${resource}/${subresource} ${name}`);
      }
    }
  }
  assert.ok(allowed > 10, 'the grid covers allowed requests too');
});
