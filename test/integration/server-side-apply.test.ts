// Server-side apply and managedFields end to end, driven by the real kubectl (apply --server-side,
// --force-conflicts, --field-manager, diff, get --show-managed-fields) and @kubernetes/client-node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, api, fixture, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  if (c) {
    await stopCluster(c);
    removeCluster(c);
  }
});

const getJson = async (...args: string[]) => JSON.parse(await kubectlOk(c, ['get', ...args, '-o', 'json']));
const managers = (o: any) => (o.metadata.managedFields ?? []).map((e: any) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`);

test("the tutorial's web.yaml applied server-side twice: the second apply changes nothing", async () => {
  const out1 = await kubectlOk(c, ['apply', '--server-side', '-f', fixture('web.yaml')]);
  assert.match(out1, /service\/nginx serverside-applied/);
  assert.match(out1, /statefulset.apps\/web serverside-applied/);
  const sts1 = await getJson('statefulset', 'web', '--show-managed-fields');
  const applied = sts1.metadata.managedFields.find((e: any) => e.manager === 'kubectl' && e.operation === 'Apply');
  assert.ok(applied, managers(sts1).join(','));
  assert.equal(applied.apiVersion, 'apps/v1');
  assert.equal(applied.fieldsType, 'FieldsV1');
  assert.match(applied.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const spec = applied.fieldsV1['f:spec'];
  assert.deepEqual(spec['f:replicas'], {});
  assert.deepEqual(spec['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}']['.'], {});
  assert.ok(spec['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}']['f:ports']['k:{"containerPort":80,"protocol":"TCP"}']);
  // Defaults the server filled in belong to nobody.
  assert.equal(spec['f:podManagementPolicy'], undefined);
  const out2 = await kubectlOk(c, ['apply', '--server-side', '-f', fixture('web.yaml')]);
  assert.match(out2, /statefulset.apps\/web serverside-applied/);
  // The controller writes the set's status meanwhile: compare what apply would change.
  const sts2 = await getJson('statefulset', 'web', '--show-managed-fields');
  assert.equal(sts2.metadata.generation, sts1.metadata.generation);
  assert.deepEqual(sts2.metadata.managedFields.find((e: any) => e.manager === 'kubectl'), applied);
  const svc1 = await getJson('service', 'nginx');
  await kubectlOk(c, ['apply', '--server-side', '-f', fixture('web.yaml')]);
  assert.equal((await getJson('service', 'nginx')).metadata.resourceVersion, svc1.metadata.resourceVersion, 'no new resourceVersion');
});

test('managedFields are shown only with --show-managed-fields', async () => {
  const plain = await kubectlOk(c, ['get', 'svc', 'nginx', '-o', 'yaml']);
  assert.doesNotMatch(plain, /managedFields/);
  const shown = await kubectlOk(c, ['get', 'svc', 'nginx', '-o', 'yaml', '--show-managed-fields']);
  assert.match(shown, /  managedFields:\n  - apiVersion: v1\n    fieldsType: FieldsV1\n    fieldsV1:\n      f:metadata:\n        f:labels:\n          f:app: \{\}\n/);
  assert.match(shown, /      f:spec:\n        f:clusterIP: \{\}\n/);
  assert.match(shown, /          k:\{"port":80,"protocol":"TCP"\}:\n            \.: \{\}\n/);
  assert.match(shown, /    manager: kubectl\n    operation: Apply\n/);
});

test('a second manager changing an owned field conflicts; --force-conflicts takes it over', async () => {
  const other = 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  replicas: 3\n';
  const r = await kubectl(c, ['apply', '--server-side', '--field-manager=scaler', '-f', '-'], { input: other });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/);
  assert.match(r.stderr, /Please review the fields above--they currently have other managers/);
  // The raw answer: 409 Conflict with one FieldManagerConflict cause.
  const raw = await api(c, 'PATCH', '/apis/apps/v1/namespaces/default/statefulsets/web?fieldManager=scaler', other, { 'Content-Type': 'application/apply-patch+yaml' });
  assert.equal(raw.status, 409);
  assert.equal(raw.json.reason, 'Conflict');
  assert.deepEqual(raw.json.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' }]);
  await kubectlOk(c, ['apply', '--server-side', '--field-manager=scaler', '--force-conflicts', '-f', '-'], { input: other });
  const sts = await getJson('statefulset', 'web', '--show-managed-fields');
  assert.equal(sts.spec.replicas, 3);
  const byName = Object.fromEntries(sts.metadata.managedFields.map((e: any) => [e.manager, e.fieldsV1]));
  assert.deepEqual(byName.scaler, { 'f:spec': { 'f:replicas': {} } });
  assert.equal(byName.kubectl['f:spec']['f:replicas'], undefined, 'kubectl lost the field');
  // kubectl re-applying web.yaml (replicas: 2) now conflicts with scaler ...
  const back = await kubectl(c, ['apply', '--server-side', '-f', fixture('web.yaml')]);
  assert.notEqual(back.code, 0);
  assert.match(back.stderr, /conflict with "scaler": \.spec\.replicas/);
  // ... until it stops setting replicas: then it applies, and scaler's value stays.
  const withoutReplicas = readFileSync(fixture('web.yaml'), 'utf8').replace('  replicas: 2\n', '');
  await kubectlOk(c, ['apply', '--server-side', '-f', '-'], { input: withoutReplicas });
  assert.equal((await getJson('statefulset', 'web')).spec.replicas, 3);
});

test('fields an applier stops applying are removed', async () => {
  const cm = (data: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data });
  await kubectlOk(c, ['apply', '--server-side', '-f', '-'], { input: cm({ a: '1', b: '2' }) });
  await kubectlOk(c, ['apply', '--server-side', '-f', '-'], { input: cm({ a: '1' }) });
  assert.deepEqual((await getJson('configmap', 'settings')).data, { a: '1' });
});

test('kubectl diff: server-side dry runs, exit 1 with a diff when something would change', async () => {
  const changed = readFileSync(fixture('web.yaml'), 'utf8').replace('nginx-slim:0.8', 'nginx-slim:0.9').replace('  replicas: 2\n', '');
  const d = await kubectl(c, ['diff', '--server-side', '-f', '-'], { input: changed });
  assert.equal(d.code, 1, d.stderr);
  assert.match(d.stdout, /-\s+- image: registry.k8s.io\/nginx-slim:0.8\n\+\s+- image: registry.k8s.io\/nginx-slim:0.9/);
  // Nothing was stored.
  assert.equal((await getJson('statefulset', 'web')).spec.template.spec.containers[0].image, 'registry.k8s.io/nginx-slim:0.8');
  const same = readFileSync(fixture('web.yaml'), 'utf8').replace('  replicas: 2\n', '');
  const none = await kubectl(c, ['diff', '--server-side', '-f', '-'], { input: same });
  assert.equal(none.code, 0, none.stdout + none.stderr);
});

test('switching from client-side to server-side apply takes over without conflicts', async () => {
  const v1 = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: upgrade\n  labels:\n    tier: web\ndata:\n  a: "1"\n  b: "2"\n';
  await kubectlOk(c, ['apply', '-f', '-'], { input: v1 });
  const before = await getJson('configmap', 'upgrade', '--show-managed-fields');
  assert.deepEqual(managers(before), ['kubectl-client-side-apply/Update']);
  const v2 = v1.replace('  b: "2"\n', '  c: "3"\n');
  const out = await kubectlOk(c, ['apply', '--server-side', '-f', '-'], { input: v2 });
  assert.match(out, /configmap\/upgrade serverside-applied/);
  const afterSsa = await getJson('configmap', 'upgrade', '--show-managed-fields');
  // kubectl moved the client-side entry to its apply manager (csaupgrade), and keeps the annotation under its own.
  assert.deepEqual(managers(afterSsa), ['kubectl/Apply', 'kubectl-last-applied/Apply']);
  // b was owned through the client-side entry that kubectl migrated: it goes.
  assert.deepEqual(afterSsa.data, { a: '1', c: '3' });
  // The annotation follows what was applied, so going back to client-side apply still works.
  const last = JSON.parse(afterSsa.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
  assert.deepEqual(last.data, { a: '1', c: '3' });
});

test('apply to a custom kind, with its schema defaults; and through client-node', async () => {
  await kubectlOk(c, ['apply', '-f', fixture('crd-dbcluster.yaml')]);
  await kubectlOk(c, ['wait', '--for', 'condition=established', '--timeout=20s', 'crd/dbclusters.db.example.com']);
  const db = 'apiVersion: db.example.com/v1\nkind: DBCluster\nmetadata:\n  name: ssa\nspec:\n  engine: postgres\n  instances: 2\n';
  await kubectlOk(c, ['apply', '--server-side', '-f', '-'], { input: db });
  const o = await getJson('dbcluster', 'ssa', '--show-managed-fields');
  assert.equal(o.spec.version, '16');
  assert.deepEqual(o.metadata.managedFields.map((e: any) => [e.manager, e.operation, e.apiVersion, e.fieldsV1]), [['kubectl', 'Apply', 'db.example.com/v1', { 'f:spec': { 'f:engine': {}, 'f:instances': {} } }]]);
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  const body = { apiVersion: 'db.example.com/v1', kind: 'DBCluster', metadata: { name: 'ssa', namespace: 'default' }, spec: { engine: 'postgres', instances: 4 } };
  await assert.rejects(objects.patch(body, undefined, undefined, 'operator', false, k8s.PatchStrategy.ServerSideApply), (e: any) => e.code === 409);
  const forced: any = await objects.patch(body, undefined, undefined, 'operator', true, k8s.PatchStrategy.ServerSideApply);
  assert.equal(forced.spec.instances, 4);
  // Created by apply when missing (201), and dry-run stores nothing.
  const fresh = { ...body, metadata: { name: 'fresh', namespace: 'default' } };
  await objects.patch(fresh, undefined, 'All', 'operator', false, k8s.PatchStrategy.ServerSideApply);
  assert.equal((await kubectl(c, ['get', 'dbcluster', 'fresh'])).code, 1);
  const created = await api(c, 'PATCH', '/apis/db.example.com/v1/namespaces/default/dbclusters/fresh?fieldManager=operator', JSON.stringify(fresh), { 'Content-Type': 'application/apply-patch+yaml' });
  assert.equal(created.status, 201);
});

test('apply requests need a field manager and a schema-valid body; force is for apply alone', async () => {
  const cm = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '1' } });
  const noManager = await api(c, 'PATCH', '/api/v1/namespaces/default/configmaps/x', cm, { 'Content-Type': 'application/apply-patch+yaml' });
  assert.equal(noManager.status, 422);
  assert.equal(noManager.json.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  const unknown = await api(c, 'PATCH', '/api/v1/namespaces/default/configmaps/x?fieldManager=m', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, bogus: 1 }), { 'Content-Type': 'application/apply-patch+yaml' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.message, 'failed to create typed patch object (/v1, Kind=ConfigMap): .bogus: field not declared in schema');
  const forced = await api(c, 'PATCH', '/api/v1/namespaces/default/configmaps/settings?force=true', { data: { z: '1' } }, { 'Content-Type': 'application/merge-patch+json' });
  assert.equal(forced.status, 422);
  assert.equal(forced.json.message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
});

test('every write records its manager: create, edit-like updates, scale, status', async () => {
  await kubectlOk(c, ['create', 'configmap', 'made', '--from-literal=k=v']);
  await kubectlOk(c, ['label', 'configmap', 'made', 'team=db']);
  const o = await getJson('configmap', 'made', '--show-managed-fields');
  assert.deepEqual(managers(o), ['kubectl-create/Update', 'kubectl-label/Update']);
  assert.deepEqual(o.metadata.managedFields[1].fieldsV1, { 'f:metadata': { 'f:labels': { '.': {}, 'f:team': {} } } });
  // A status write through the API is recorded with its subresource.
  await kubectlOk(c, ['patch', 'configmap', 'made', '--type=merge', '-p', '{"data":{"k":"w"}}', '--field-manager', 'editor']);
  assert.deepEqual(managers(await getJson('configmap', 'made', '--show-managed-fields')).sort(), ['editor/Update', 'kubectl-create/Update', 'kubectl-label/Update']);
  const sts = await getJson('statefulset', 'web', '--show-managed-fields');
  await kubectlOk(c, ['patch', 'statefulset', 'web', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { availableReplicas: sts.status?.availableReplicas ?? 0 } }), '--field-manager', 'status-writer']);
  // The statefulset controller's own status writes (in-process) are deliberately not recorded.
  const after = await getJson('statefulset', 'web', '--show-managed-fields');
  assert.ok(!managers(after).some((m: string) => m.startsWith('ordinal/')), managers(after).join(','));
});
