// The audit log (--audit-policy-file, --audit-log-path), read back as an operator would: one JSON
// event a line, for an allowed request, a refused one and an impersonated one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, tempDir, type Cluster } from './harness.ts';

let c: Cluster;
after(async () => {
  if (c) {
    await stopCluster(c);
    removeCluster(c);
  }
});

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/version", "/openapi*", "/api", "/api/*", "/apis", "/apis/*"]
- level: None
  userGroups: ["system:serviceaccounts:kube-system", "system:nodes"]
- level: RequestResponse
  resources: [{ group: "", resources: ["configmaps"] }]
- level: Metadata
`;

test('audit: allowed, refused and impersonated requests each leave a line', { timeout: 120_000 }, async () => {
  const dir = tempDir('ordinal-audit-');
  const policy = join(dir, 'policy.yaml');
  const log = join(dir, 'audit.log');
  writeFileSync(policy, POLICY);
  c = await startCluster({ args: ['--nodes', '0', '--audit-policy-file', policy, '--audit-log-path', log] });
  await kubectlOk(c, ['create', 'configmap', 'settings', '--from-literal=a=b']);
  await kubectlOk(c, ['get', 'pods']);
  const refused = await kubectl(c, ['get', 'secrets', '--as=jane']);
  assert.match(refused.stderr, /secrets is forbidden: User "jane" cannot list resource "secrets"/);

  const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  for (const e of events) {
    assert.equal(e.kind, 'Event');
    assert.equal(e.apiVersion, 'audit.k8s.io/v1');
    assert.equal(e.stage, 'ResponseComplete');
    assert.match(e.auditID, /^[0-9a-f-]{36}$/);
    assert.match(e.requestReceivedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  }
  const create = events.find((e) => e.verb === 'create' && e.objectRef?.resource === 'configmaps');
  assert.ok(create, 'the configmap create');
  assert.equal(create.level, 'RequestResponse');
  assert.equal(create.requestObject.data.a, 'b');
  assert.equal(create.responseObject.metadata.name, 'settings');
  assert.deepEqual(create.responseStatus, { metadata: {}, code: 201 });

  const list = events.find((e) => e.verb === 'list' && e.objectRef?.resource === 'pods');
  assert.ok(list, 'the pod list');
  assert.equal(list.level, 'Metadata');
  assert.equal(list.requestURI, '/api/v1/namespaces/default/pods?limit=500');
  assert.equal(list.user.username, 'ordinal-admin');
  assert.ok(list.user.groups.includes('system:masters'));
  assert.deepEqual(list.sourceIPs, ['127.0.0.1']);
  assert.match(list.userAgent, /^kubectl\//);
  assert.deepEqual(list.objectRef, { resource: 'pods', namespace: 'default', apiVersion: 'v1' });
  assert.equal(list.annotations['authorization.k8s.io/decision'], 'allow');
  assert.equal(list.requestObject, undefined);

  const denied = events.find((e) => e.verb === 'list' && e.objectRef?.resource === 'secrets');
  assert.ok(denied, 'the refused secret list');
  assert.equal(denied.user.username, 'ordinal-admin');
  assert.equal(denied.impersonatedUser.username, 'jane');
  assert.deepEqual(denied.impersonatedUser.groups, ['system:authenticated']);
  assert.equal(denied.responseStatus.code, 403);
  assert.equal(denied.responseStatus.reason, 'Forbidden');
  assert.equal(denied.annotations['authorization.k8s.io/decision'], 'forbid');
  assert.equal(denied.annotations['authorization.k8s.io/reason'], '');
});

test('audit: a policy that does not load stops the start with its reason', async () => {
  const dir = tempDir('ordinal-audit-');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n');
  await assert.rejects(startCluster({ args: ['--nodes', '0', '--audit-policy-file', policy, '--audit-log-path', join(dir, 'a.log')] }), /loaded illegal policy with 0 rules/);
});
