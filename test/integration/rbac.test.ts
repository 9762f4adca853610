// RBAC as users meet it, with the real kubectl: what a service account or a person may do is what
// Roles and bindings grant, refusals carry upstream's messages, grants cannot escalate, the default
// policy is there and comes back, aggregation builds view/edit/admin, reviews and impersonation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, api, type Cluster } from './harness.ts';

const root = resolve(import.meta.dirname, '../..');
let c: Cluster;

before(async () => {
  c = await startCluster({ command: 'up', args: ['--nodes', '0'] });
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

/** The same cluster through a kubeconfig that presents only this bearer token. */
function asToken(token: string, name: string): Cluster {
  const path = join(c.dataDir, `kubeconfig-${name}`);
  const ca = readFileSync(join(c.dataDir, 'pki', 'ca.crt')).toString('base64');
  writeFileSync(path, `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "${c.url}", certificate-authority-data: ${ca}}
users:
- name: u
  user: {token: "${token.trim()}"}
contexts:
- name: x
  context: {cluster: c, user: u, namespace: default}
current-context: x
`);
  return { ...c, kubeconfig: path };
}

function ordinal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) =>
    execFile(process.execPath, [join(root, 'src/cli/main.ts'), ...args], (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
  );
}

test('a service account without bindings is refused with upstream\'s message, then allowed by a Role and RoleBinding', async () => {
  await kubectlOk(c, ['create', 'serviceaccount', 'dev']);
  const dev = asToken(await kubectlOk(c, ['create', 'token', 'dev']), 'dev');
  const refused = await kubectl(dev, ['get', 'pods']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Error from server \(Forbidden\): pods is forbidden: User "system:serviceaccount:default:dev" cannot list resource "pods" in API group "" in the namespace "default"/);
  const named = await kubectl(dev, ['get', 'pod', 'x']);
  assert.match(named.stderr, /pods "x" is forbidden: User "system:serviceaccount:default:dev" cannot get resource "pods" in API group "" in the namespace "default"/);
  const cluster = await kubectl(dev, ['get', 'nodes']);
  assert.match(cluster.stderr, /nodes is forbidden: User "system:serviceaccount:default:dev" cannot list resource "nodes" in API group "" at the cluster scope/);
  assert.equal((await kubectl(dev, ['auth', 'can-i', 'get', 'pods'])).stdout.trim(), 'no');

  await kubectlOk(c, ['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods,pods/log']);
  await kubectlOk(c, ['create', 'rolebinding', 'dev-pod-reader', '--role=pod-reader', '--serviceaccount=default:dev']);
  const ok = await kubectl(dev, ['get', 'pods']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /No resources found in default namespace/);
  assert.equal((await kubectl(dev, ['auth', 'can-i', 'get', 'pods'])).stdout.trim(), 'yes');
  assert.equal((await kubectl(dev, ['auth', 'can-i', 'delete', 'pods'])).stdout.trim(), 'no');
  // A Role grants only in its namespace.
  await kubectlOk(c, ['create', 'namespace', 'other']);
  assert.match((await kubectl(dev, ['get', 'pods', '-n', 'other'])).stderr, /cannot list resource "pods" in API group "" in the namespace "other"/);
  // Writes are refused with the verb upstream names.
  assert.match((await kubectl(dev, ['create', 'configmap', 'x'])).stderr, /configmaps is forbidden: User "system:serviceaccount:default:dev" cannot create resource "configmaps" in API group "" in the namespace "default"/);

  const list = await kubectlOk(dev, ['auth', 'can-i', '--list']);
  assert.match(list, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
  assert.match(list, /\npods\s+\[\]\s+\[\]\s+\[get list watch\]/);
  assert.match(list, /\npods\/log\s+\[\]\s+\[\]\s+\[get list watch\]/);
  assert.match(list, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
  assert.match(list, /\[\/healthz\]\s+\[\]\s+\[get\]/);

  // Tables: bindings show the role and, wide, the subjects; roles their creation time.
  const wide = await kubectlOk(c, ['get', 'rolebinding', 'dev-pod-reader', '-o', 'wide']);
  assert.match(wide, /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\n/);
  assert.match(wide, /dev-pod-reader\s+Role\/pod-reader\s+\S+\s+default\/dev/);
  assert.match(await kubectlOk(c, ['get', 'role', 'pod-reader']), /^NAME\s+CREATED AT\npod-reader\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
  const described = await kubectlOk(c, ['describe', 'rolebinding', 'dev-pod-reader']);
  assert.match(described, /Role:\n\s+Kind:\s+Role\n\s+Name:\s+pod-reader/);
  assert.match(described, /ServiceAccount\s+dev\s+default/);
});

test('escalation: roles and bindings may only grant what the writer holds, unless it may escalate or bind', async () => {
  await kubectlOk(c, ['create', 'serviceaccount', 'lead']);
  await kubectlOk(c, ['create', 'role', 'rbac-writer', '--verb=create,update,get', '--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io']);
  await kubectlOk(c, ['create', 'role', 'cm-reader', '--verb=get,list', '--resource=configmaps']);
  await kubectlOk(c, ['create', 'rolebinding', 'lead-rbac', '--role=rbac-writer', '--serviceaccount=default:lead']);
  await kubectlOk(c, ['create', 'rolebinding', 'lead-cm', '--role=cm-reader', '--serviceaccount=default:lead']);
  const lead = asToken(await kubectlOk(c, ['create', 'token', 'lead']), 'lead');

  const esc = await kubectl(lead, ['create', 'role', 'nsadmin', '--verb=*', '--resource=*']);
  assert.match(esc.stderr, /Error from server \(Forbidden\): roles\.rbac\.authorization\.k8s\.io "nsadmin" is forbidden: user "system:serviceaccount:default:lead" \(groups=\["system:serviceaccounts" "system:serviceaccounts:default" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["\*"\], Verbs:\["\*"\]\}/);
  // Partly held: only the missing part is listed, verbs merged.
  const partial = await kubectl(lead, ['create', 'role', 'cm-all', '--verb=get,list,delete,patch', '--resource=configmaps']);
  assert.match(partial.stderr, /not currently held:\n\{APIGroups:\[""\], Resources:\["configmaps"\], Verbs:\["delete" "patch"\]\}/);
  // What it holds it may grant.
  await kubectlOk(lead, ['create', 'role', 'cm-reader-copy', '--verb=get', '--resource=configmaps']);
  // Binding a role whose rules it does not hold is refused; binding one it holds is fine.
  const bind = await kubectl(lead, ['create', 'rolebinding', 'grab', '--clusterrole=admin', '--serviceaccount=default:lead']);
  assert.match(bind.stderr, /rolebindings\.rbac\.authorization\.k8s\.io "grab" is forbidden: user "system:serviceaccount:default:lead" .* is attempting to grant RBAC permissions not currently held:\n/);
  await kubectlOk(lead, ['create', 'rolebinding', 'share-cm', '--role=cm-reader', '--serviceaccount=default:dev']);
  // A missing role is a 404 of that role.
  assert.match((await kubectl(lead, ['create', 'rolebinding', 'ghost', '--role=nope', '--serviceaccount=default:dev'])).stderr, /roles\.rbac\.authorization\.k8s\.io "nope" not found/);

  // With `bind` on the role, it may bind it; with `escalate`, it may write any role.
  await kubectlOk(c, ['create', 'role', 'binder', '--verb=bind', '--resource=clusterroles.rbac.authorization.k8s.io', '--resource-name=admin']);
  await kubectlOk(c, ['create', 'rolebinding', 'lead-binder', '--role=binder', '--serviceaccount=default:lead']);
  await waitUntil(async () => (await kubectl(lead, ['create', 'rolebinding', 'grab', '--clusterrole=admin', '--serviceaccount=default:lead'])).code === 0, 5000, () => 'bind allowed');
  await kubectlOk(c, ['create', 'role', 'escalator', '--verb=escalate', '--resource=roles.rbac.authorization.k8s.io']);
  await kubectlOk(c, ['create', 'rolebinding', 'lead-escalator', '--role=escalator', '--serviceaccount=default:lead']);
  await kubectlOk(lead, ['create', 'role', 'nsadmin', '--verb=*', '--resource=*']);

  // Validation as upstream.
  const bad = await kubectl(c, ['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'bad' }, rules: [{ verbs: [], nonResourceURLs: ['/x'] }] }),
  });
  assert.match(bad.stderr, /The Role "bad" is invalid: \n\* rules\[0\]\.verbs: Required value: verbs must contain at least one value\n\* rules\[0\]\.nonResourceURLs: Invalid value: \[\]string\{"\/x"\}: namespaced rules cannot apply to non-resource URLs\n/);
  const ref = await kubectl(c, ['patch', 'rolebinding', 'dev-pod-reader', '--type=merge', '-p', '{"roleRef":{"name":"cm-reader"}}']);
  assert.match(ref.stderr, /roleRef: Invalid value: rbac\.RoleRef\{APIGroup:"rbac\.authorization\.k8s\.io", Kind:"Role", Name:"cm-reader"\}: cannot change roleRef/);
});

test('impersonation: allowed to system:masters and to holders of impersonate, refused otherwise', async () => {
  const as = await kubectl(c, ['get', 'pods', '--as=system:serviceaccount:default:dev']);
  assert.equal(as.code, 0, as.stderr);
  assert.match((await kubectl(c, ['get', 'secrets', '--as=system:serviceaccount:default:dev'])).stderr, /secrets is forbidden: User "system:serviceaccount:default:dev" cannot list resource "secrets"/);
  assert.match((await kubectl(c, ['get', 'pods', '--as=jane', '--as-group=devs'])).stderr, /pods is forbidden: User "jane" cannot list resource "pods"/);
  assert.match(await kubectlOk(c, ['auth', 'whoami', '--as=jane', '--as-group=devs']), /Groups\s+\[devs system:authenticated\]/);

  const dev = asToken(await kubectlOk(c, ['create', 'token', 'dev']), 'dev2');
  const refused = await kubectl(dev, ['get', 'pods', '--as=jane']);
  assert.match(refused.stderr, /Error from server \(Forbidden\): users "jane" is forbidden: User "system:serviceaccount:default:dev" cannot impersonate resource "users" in API group "" at the cluster scope/);
  await kubectlOk(c, ['create', 'clusterrole', 'impersonate-jane', '--verb=impersonate', '--resource=users', '--resource-name=jane']);
  await kubectlOk(c, ['create', 'clusterrolebinding', 'dev-impersonate-jane', '--clusterrole=impersonate-jane', '--serviceaccount=default:dev']);
  await kubectlOk(c, ['create', 'rolebinding', 'jane-pods', '--role=pod-reader', '--user=jane']);
  const allowed = await kubectl(dev, ['get', 'pods', '--as=jane']);
  assert.equal(allowed.code, 0, allowed.stderr);
  // Groups need their own grant.
  assert.match((await kubectl(dev, ['get', 'pods', '--as=jane', '--as-group=admins'])).stderr, /groups "admins" is forbidden: User "system:serviceaccount:default:dev" cannot impersonate resource "groups" in API group "" at the cluster scope/);
  assert.equal((await kubectl(c, ['auth', 'can-i', 'get', 'pods', '--as=jane'])).stdout.trim(), 'yes');
  assert.equal((await kubectl(c, ['auth', 'can-i', 'get', 'pods', '--as=jane', '-n', 'other'])).stdout.trim(), 'no');
});

test('a person from `ordinal kubeconfig --user` sees only what was granted; aggregation builds view', async () => {
  const out = await ordinal(['kubeconfig', '--user', 'alice', '--group', 'devs', '--expiry', '2h', '--data-dir', c.dataDir]);
  assert.equal(out.code, 0, out.stderr);
  const path = join(c.dataDir, 'alice.kubeconfig');
  writeFileSync(path, out.stdout);
  const alice = { ...c, kubeconfig: path };
  assert.match(await kubectlOk(alice, ['auth', 'whoami']), /Username\s+alice\n\s*Groups\s+\[devs system:authenticated\]/);
  assert.match((await kubectl(alice, ['get', 'pods'])).stderr, /User "alice" cannot list resource "pods"/);

  await kubectlOk(c, ['create', 'rolebinding', 'devs-view', '--clusterrole=view', '--group=devs']);
  const pods = await kubectl(alice, ['get', 'pods,configmaps,statefulsets']);
  assert.equal(pods.code, 0, pods.stderr);
  assert.match((await kubectl(alice, ['get', 'secrets'])).stderr, /User "alice" cannot list resource "secrets"/);
  assert.match((await kubectl(alice, ['create', 'configmap', 'a'])).stderr, /User "alice" cannot create resource "configmaps"/);

  // view, edit and admin are aggregated from the system:aggregate-to-* roles: view ⊂ edit ⊂ admin.
  const rules = async (name: string) => JSON.parse(await kubectlOk(c, ['get', 'clusterrole', name, '-o', 'json'])).rules ?? [];
  await waitUntil(async () => (await rules('admin')).some((r: any) => r.resources?.includes('pods/log')), 10_000, () => 'admin aggregated');
  const has = (rs: any[], res: string, verb: string) => rs.some((r) => r.resources?.includes(res) && r.verbs?.includes(verb));
  assert.ok(has(await rules('view'), 'pods', 'list') && !has(await rules('view'), 'secrets', 'get'));
  assert.ok(has(await rules('edit'), 'pods', 'list') && has(await rules('edit'), 'secrets', 'create'));
  assert.ok(has(await rules('admin'), 'roles', 'create') && has(await rules('admin'), 'pods', 'list'));

  // A custom ClusterRole labelled aggregate-to-view joins view, and so what alice may do.
  await kubectlOk(c, ['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'secret-peek', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }],
    }),
  });
  await waitUntil(async () => has(await rules('view'), 'secrets', 'list'), 10_000, () => 'view aggregated secret-peek');
  await waitUntil(async () => (await kubectl(alice, ['get', 'secrets'])).code === 0, 10_000, () => 'alice may list secrets');
  await waitUntil(async () => has(await rules('admin'), 'secrets', 'list'), 10_000, () => 'through edit into admin');
  await kubectlOk(c, ['delete', 'clusterrole', 'secret-peek']);
  await waitUntil(async () => !has(await rules('view'), 'secrets', 'list'), 10_000, () => 'view lost secret-peek');

  // Setting an aggregationRule needs cluster-admin's rights.
  const lead = asToken(await kubectlOk(c, ['create', 'token', 'lead']), 'lead2');
  await kubectlOk(c, ['create', 'clusterrolebinding', 'lead-cr', '--clusterrole=edit', '--serviceaccount=default:lead']);
  await kubectlOk(c, ['create', 'clusterrole', 'cr-writer', '--verb=create', '--resource=clusterroles.rbac.authorization.k8s.io']);
  await kubectlOk(c, ['create', 'clusterrolebinding', 'lead-cr-writer', '--clusterrole=cr-writer', '--serviceaccount=default:lead']);
  const agg = await kubectl(lead, ['create', 'clusterrole', 'mine', '--aggregation-rule=x=y']);
  assert.match(agg.stderr, /clusterroles\.rbac\.authorization\.k8s\.io "mine" is forbidden: must have cluster-admin privileges to use the aggregationRule/);
});

test('access reviews: SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview', async () => {
  const sar = await api(c, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
    spec: { user: 'system:serviceaccount:default:dev', groups: ['system:serviceaccounts'], resourceAttributes: { namespace: 'default', verb: 'list', resource: 'pods' } },
  });
  assert.equal(sar.status, 201);
  assert.deepEqual(sar.json.status, { allowed: true, reason: 'RBAC: allowed by RoleBinding "dev-pod-reader/default" of Role "pod-reader" to ServiceAccount "dev/default"' });
  const no = await api(c, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { user: 'nobody', resourceAttributes: { verb: 'get', resource: 'nodes' } } });
  assert.deepEqual(no.json.status, { allowed: false });
  const url = await api(c, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { groups: ['system:unauthenticated'], nonResourceAttributes: { verb: 'get', path: '/healthz' } } });
  assert.equal(url.json.status.allowed, true);
  const invalid = await api(c, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } });
  assert.equal(invalid.status, 422);
  assert.equal(invalid.json.message, 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified');
  const local = await api(c, 'POST', '/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews', {
    metadata: { namespace: 'default' }, spec: { user: 'jane', resourceAttributes: { namespace: 'other', verb: 'get', resource: 'pods' } },
  });
  assert.equal(local.status, 422);
  assert.match(local.json.message, /spec\.resourceAttributes\.namespace: Invalid value: "other": must match metadata\.namespace/);
  const rules = await api(c, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { spec: {} });
  assert.equal(rules.status, 400);
  assert.equal(rules.json.message, 'no namespace on request');
  // The discovery of the group lists the four, create only.
  const resources = await kubectlOk(c, ['api-resources', '--api-group=authorization.k8s.io', '-o', 'wide']);
  for (const r of ['localsubjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'subjectaccessreviews']) assert.match(resources, new RegExp(`\\n${r}\\s.*\\screate\\s`));
  // Nonresource can-i.
  assert.equal((await kubectl(c, ['auth', 'can-i', 'get', '/healthz', '--as=jane'])).stdout.trim(), 'yes');
  assert.equal((await kubectl(c, ['auth', 'can-i', 'get', '/metrics', '--as=jane'])).stdout.trim(), 'no');
});

test('anonymous: only the public endpoints, everything else 401', async () => {
  const https = await import('node:https');
  const get = (path: string) =>
    new Promise<{ status: number; body: string }>((res, rej) => {
      const req = https.request(new URL(path, c.url), { ca: readFileSync(join(c.dataDir, 'pki', 'ca.crt')) }, (r) => {
        let body = '';
        r.on('data', (d) => (body += d));
        r.on('end', () => res({ status: r.statusCode!, body }));
      });
      req.on('error', rej);
      req.end();
    });
  for (const p of ['/healthz', '/livez', '/readyz', '/version']) assert.equal((await get(p)).status, 200, p);
  assert.equal((await get('/api')).status, 401);
  assert.equal((await get('/api/v1/namespaces/default/pods')).status, 401);
});

test('kubectl auth reconcile, and the default policy reconciled at start', async () => {
  const role = (verbs: string[]) => JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reconciled', namespace: 'default' }, rules: [{ apiGroups: [''], resources: ['services'], verbs }] });
  assert.match(await kubectlOk(c, ['auth', 'reconcile', '-f', '-'], { input: role(['get']) }), /role\.rbac\.authorization\.k8s\.io\/reconciled reconciled/);
  await kubectlOk(c, ['auth', 'reconcile', '-f', '-'], { input: role(['list']) });
  const verbs = JSON.parse(await kubectlOk(c, ['get', 'role', 'reconciled', '-o', 'json'])).rules.flatMap((r: any) => r.verbs);
  assert.deepEqual(verbs.sort(), ['get', 'list']);

  // A user removes a default rule and binding, and protects another role from reconciliation.
  const basic = JSON.parse(await kubectlOk(c, ['get', 'clusterrole', 'system:basic-user', '-o', 'json']));
  assert.equal(basic.metadata.annotations['rbac.authorization.kubernetes.io/autoupdate'], 'true');
  assert.equal(basic.metadata.labels['kubernetes.io/bootstrapping'], 'rbac-defaults');
  await kubectlOk(c, ['patch', 'clusterrole', 'system:basic-user', '--type=json', '-p', '[{"op":"remove","path":"/rules/0"}]']);
  await kubectlOk(c, ['delete', 'clusterrolebinding', 'system:discovery']);
  await kubectlOk(c, ['annotate', 'clusterrole', 'system:heapster', 'rbac.authorization.kubernetes.io/autoupdate=false', '--overwrite']);
  await kubectlOk(c, ['patch', 'clusterrole', 'system:heapster', '--type=json', '-p', '[{"op":"remove","path":"/rules/0"}]']);
  const heapsterRules = JSON.parse(await kubectlOk(c, ['get', 'clusterrole', 'system:heapster', '-o', 'json'])).rules;
  // Without that rule, an ordinary user cannot even ask what it may do.
  const canAsk = async () => (await api(c, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { user: 'jane', groups: ['system:authenticated'], resourceAttributes: { group: 'authorization.k8s.io', verb: 'create', resource: 'selfsubjectaccessreviews' } } })).json.status.allowed;
  assert.equal(await canAsk(), false);
  assert.match((await kubectl(c, ['auth', 'can-i', 'get', 'pods', '--as=jane'])).stderr, /selfsubjectaccessreviews\.authorization\.k8s\.io is forbidden: User "jane" cannot create resource "selfsubjectaccessreviews" in API group "authorization\.k8s\.io" at the cluster scope/);

  await stopCluster(c);
  c = await startCluster({ command: 'up', dataDir: c.dataDir, args: ['--nodes', '0'] });
  const restored = JSON.parse(await kubectlOk(c, ['get', 'clusterrole', 'system:basic-user', '-o', 'json'])).rules;
  assert.ok(restored.some((r: any) => r.resources?.includes('selfsubjectaccessreviews') && r.verbs?.includes('create')), JSON.stringify(restored));
  await kubectlOk(c, ['get', 'clusterrolebinding', 'system:discovery']);
  assert.equal(await canAsk(), true);
  assert.deepEqual(JSON.parse(await kubectlOk(c, ['get', 'clusterrole', 'system:heapster', '-o', 'json'])).rules, heapsterRules);
  // The user's own objects are untouched.
  await kubectlOk(c, ['get', 'rolebinding', 'dev-pod-reader']);
});
