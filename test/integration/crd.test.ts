// CustomResourceDefinitions end to end, driven by the real kubectl and @kubernetes/client-node:
// an operator-style CRD applies, its objects are validated, defaulted and pruned by the schema,
// shown with their printer columns, explained, scaled, watched by an informer, collected by
// ownerReferences, served in a second version, and deleted with their definition.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, api, fixture, type Cluster } from './harness.ts';

let c: Cluster;

before(async () => {
  c = await startCluster();
  await kubectlOk(c, ['apply', '-f', fixture('crd-dbcluster.yaml')]);
  await kubectlOk(c, ['wait', '--for', 'condition=established', '--timeout=20s', 'crd/dbclusters.db.example.com']);
});

after(async () => {
  if (c) {
    await stopCluster(c);
    removeCluster(c);
  }
});

const db = (name: string, spec: Record<string, unknown>, ns = 'default') => JSON.stringify({ apiVersion: 'db.example.com/v1', kind: 'DBCluster', metadata: { name, namespace: ns }, spec });

test('the CRD is established and listed with NAME and CREATED AT', async () => {
  const crd = JSON.parse(await kubectlOk(c, ['get', 'crd', 'dbclusters.db.example.com', '-o', 'json']));
  const cond = Object.fromEntries(crd.status.conditions.map((x: any) => [x.type, x.status]));
  assert.deepEqual(cond, { NamesAccepted: 'True', Established: 'True' });
  assert.deepEqual(crd.status.storedVersions, ['v1']);
  assert.equal(crd.status.acceptedNames.kind, 'DBCluster');
  assert.deepEqual(crd.spec.conversion, { strategy: 'None' });
  const out = await kubectlOk(c, ['get', 'crd']);
  assert.match(out, /^NAME\s+CREATED AT\n/);
  assert.match(out, /dbclusters\.db\.example\.com\s+\d{4}-\d\d-\d\dT/);
  const resources = await kubectlOk(c, ['api-resources', '--api-group=db.example.com']);
  assert.match(resources, /dbclusters\s+dbc\s+db\.example\.com\/v1\s+true\s+DBCluster/);
});

test('invalid CRDs are refused with upstream messages', async () => {
  const bad = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example',
      scope: 'Galaxy',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [
        { name: 'v1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } } } },
        { name: 'v2', served: true, storage: false },
      ],
    },
  };
  const r = await kubectl(c, ['create', '-f', '-'], { input: JSON.stringify(bad) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The CustomResourceDefinition "widgets\.example\.com" is invalid/);
  assert.match(r.stderr, /metadata\.name: Invalid value: "widgets\.example\.com": must be spec\.names\.plural\+"\."\+spec\.group/);
  assert.match(r.stderr, /spec\.group: Invalid value: "example": should be a domain with at least one dot/);
  assert.match(r.stderr, /spec\.scope: Unsupported value: "Galaxy": supported values: "Cluster", "Namespaced"/);
  assert.match(r.stderr, /spec\.versions: Invalid value: .*must have exactly one version marked as storage version/);
  assert.match(r.stderr, /spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.type: Required value: must not be empty for specified object fields/);
  assert.match(r.stderr, /spec\.versions\[1\]\.schema\.openAPIV3Schema: Required value: schemas are required/);
});

test('objects are validated by the schema with field paths (422)', async () => {
  const r = await kubectl(c, ['create', '-f', '-'], { input: db('bad', { engine: 'oracle', instances: 12, version: 'x1', backup: { schedule: 'a'.repeat(30) }, users: [{ roles: [] }] }) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The DBCluster "bad" is invalid/);
  assert.match(r.stderr, /spec\.engine: Unsupported value: "oracle": supported values: "postgres", "mysql"/);
  assert.match(r.stderr, /spec\.instances: Invalid value: 12: spec\.instances in body should be less than or equal to 9/);
  assert.match(r.stderr, /spec\.version: Invalid value: "x1": spec\.version in body should match '\^\[0-9\]\+\(\\\.\[0-9\]\+\)\*\$'/);
  assert.match(r.stderr, /spec\.backup\.schedule: Too long/);
  assert.match(r.stderr, /spec\.users\[0\]\.name: Required value/);

  const typed = await api(c, 'POST', '/apis/db.example.com/v1/namespaces/default/dbclusters', JSON.parse(db('typed', { engine: 'mysql', instances: 'three' })));
  assert.equal(typed.status, 422);
  assert.equal(typed.json.reason, 'Invalid');
  assert.equal(typed.json.details.kind, 'DBCluster');
  assert.equal(typed.json.details.group, 'db.example.com');
  assert.deepEqual(typed.json.details.causes.map((x: any) => x.field), ['spec.instances']);
  assert.match(typed.json.message, /spec\.instances: Invalid value: "string": spec\.instances in body must be of type integer: "string"/);

  const missing = await api(c, 'POST', '/apis/db.example.com/v1/namespaces/default/dbclusters', JSON.parse(db('missing', {})));
  assert.equal(missing.status, 422);
  assert.match(missing.json.message, /spec\.engine: Required value/);
});

test('defaults are applied and unknown fields pruned (Strict refuses them)', async () => {
  const strict = await kubectl(c, ['create', '-f', '-'], { input: db('strict', { engine: 'postgres', color: 'red' }) });
  assert.notEqual(strict.code, 0);
  assert.match(strict.stderr, /unknown field "spec\.color"/);

  const warned = await api(c, 'POST', '/apis/db.example.com/v1/namespaces/default/dbclusters', JSON.parse(db('pruned', { engine: 'postgres', color: 'red', storage: { storageClass: null } })));
  assert.equal(warned.status, 201);
  assert.match(String(warned.headers.warning), /unknown field \\?"spec\.color\\?"/);
  const got = JSON.parse(await kubectlOk(c, ['get', 'dbcluster', 'pruned', '-o', 'json']));
  assert.equal(got.spec.color, undefined);
  assert.equal(got.spec.instances, 1);
  assert.equal(got.spec.version, '16');
  assert.deepEqual(got.spec.storage, { size: '1Gi', storageClass: null });
  assert.equal(got.metadata.generation, 1);
});

test('kubectl get shows the printer columns; status and scale subresources work', async () => {
  await kubectlOk(c, ['create', '-f', '-'], { input: db('main', { engine: 'postgres', instances: 3, storage: { size: '10Gi' } }) });
  // Status is only written through /status.
  await kubectlOk(c, ['patch', 'dbc', 'main', '--type=merge', '-p', '{"status":{"readyInstances":7}}']);
  assert.equal(JSON.parse(await kubectlOk(c, ['get', 'dbc', 'main', '-o', 'json'])).status, undefined);
  await kubectlOk(c, ['patch', 'dbc', 'main', '--subresource=status', '--type=merge', '-p',
    JSON.stringify({ status: { instances: 3, readyInstances: 2, selector: 'app=main', conditions: [{ type: 'Ready', status: 'False' }] } })]);
  const table = await kubectlOk(c, ['get', 'dbclusters', 'main']);
  assert.match(table, /^NAME\s+ENGINE\s+INSTANCES\s+READY\s+STATUS\s+AGE\n/);
  assert.match(table, /main\s+postgres\s+3\s+2\s+False\s+\d+s\n/);
  const wide = await kubectlOk(c, ['get', 'dbc', 'main', '-o', 'wide']);
  assert.match(wide, /STORAGE/);
  assert.match(wide, /10Gi/);

  assert.match(await kubectlOk(c, ['scale', 'dbc', 'main', '--replicas=5']), /dbcluster\.db\.example\.com\/main scaled/);
  const scaled = JSON.parse(await kubectlOk(c, ['get', 'dbc', 'main', '-o', 'json']));
  assert.equal(scaled.spec.instances, 5);
  assert.equal(scaled.metadata.generation, 2);
  const scale = await api(c, 'GET', '/apis/db.example.com/v1/namespaces/default/dbclusters/main/scale');
  assert.deepEqual({ kind: scale.json.kind, spec: scale.json.spec, status: scale.json.status }, { kind: 'Scale', spec: { replicas: 5 }, status: { replicas: 3, selector: 'app=main' } });
  const tooMany = await kubectl(c, ['scale', 'dbc', 'main', '--replicas=10']);
  assert.notEqual(tooMany.code, 0);
  assert.match(tooMany.stderr, /spec\.instances in body should be less than or equal to 9/);

  // `kubectl get all` includes kinds in the category all.
  assert.match(await kubectlOk(c, ['get', 'all']), /dbcluster\.db\.example\.com\/main/);
  // Selectors: labels and metadata.name.
  await kubectlOk(c, ['label', 'dbc', 'main', 'tier=gold']);
  assert.match(await kubectlOk(c, ['get', 'dbc', '-l', 'tier=gold', '-o', 'name']), /^dbcluster\.db\.example\.com\/main\n$/);
  assert.match(await kubectlOk(c, ['get', 'dbc', '--field-selector', 'metadata.name=main', '-o', 'name']), /^dbcluster\.db\.example\.com\/main\n$/);
  const badField = await kubectl(c, ['get', 'dbc', '--field-selector', 'spec.engine=postgres']);
  assert.notEqual(badField.code, 0);
});

test('strategic merge patches are refused with 415; JSON and merge patches work', async () => {
  await kubectlOk(c, ['create', '-f', '-'], { input: db('patched', { engine: 'mysql' }) });
  const smp = await api(c, 'PATCH', '/apis/db.example.com/v1/namespaces/default/dbclusters/patched', { spec: { instances: 2 } }, { 'Content-Type': 'application/strategic-merge-patch+json' });
  assert.equal(smp.status, 415);
  assert.equal(smp.json.message, 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
  await kubectlOk(c, ['patch', 'dbc', 'patched', '--type=json', '-p', '[{"op":"replace","path":"/spec/instances","value":4}]']);
  assert.equal(JSON.parse(await kubectlOk(c, ['get', 'dbc', 'patched', '-o', 'json'])).spec.instances, 4);
});

test('kubectl explain shows the schema (OpenAPI v3 and v2)', async () => {
  const out = await kubectlOk(c, ['explain', 'dbclusters.spec']);
  assert.match(out, /KIND:\s+DBCluster/);
  assert.match(out, /engine\s+<string> -required-/);
  assert.match(out, /Which database engine runs\./);
  assert.match(out, /instances\s+<integer>/);
  const v2 = await kubectlOk(c, ['explain', 'dbc.spec.instances', '--output=plaintext-openapiv2']);
  assert.match(v2, /Number of instances\./);
  const v3 = await api(c, 'GET', '/openapi/v3/apis/db.example.com/v1');
  const patch = v3.json.paths['/apis/db.example.com/v1/namespaces/{namespace}/dbclusters/{name}'].patch;
  assert.deepEqual(Object.keys(patch.requestBody.content), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']);
});

test('an informer (client-node makeInformer) watches custom objects', async () => {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const path = '/apis/db.example.com/v1/namespaces/default/dbclusters';
  const informer = k8s.makeInformer(kc, path, () => custom.listNamespacedCustomObject({ group: 'db.example.com', version: 'v1', namespace: 'default', plural: 'dbclusters' }) as any);
  const seen: string[] = [];
  informer.on('add', (o: any) => seen.push(`add ${o.metadata.name}`));
  informer.on('update', (o: any) => seen.push(`update ${o.metadata.name} ${o.spec.instances}`));
  informer.on('delete', (o: any) => seen.push(`delete ${o.metadata.name}`));
  await informer.start();
  try {
    await waitUntil(() => seen.includes('add main'), 10_000, () => JSON.stringify(seen));
    await custom.createNamespacedCustomObject({ group: 'db.example.com', version: 'v1', namespace: 'default', plural: 'dbclusters', body: JSON.parse(db('watched', { engine: 'postgres' })) });
    await kubectlOk(c, ['patch', 'dbc', 'watched', '--type=merge', '-p', '{"spec":{"instances":2}}']);
    await kubectlOk(c, ['delete', 'dbc', 'watched']);
    await waitUntil(() => seen.includes('delete watched'), 10_000, () => JSON.stringify(seen));
    assert.deepEqual(seen.filter((s) => s.includes('watched')), ['add watched', 'update watched 2', 'delete watched']);
  } finally {
    await informer.stop();
  }
});

test('dependents are collected through ownerReferences', async () => {
  const owner = JSON.parse(await kubectlOk(c, ['create', '-o', 'json', '-f', '-'], { input: db('owner', { engine: 'postgres' }) }));
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owned-config', ownerReferences: [{ apiVersion: 'db.example.com/v1', kind: 'DBCluster', name: 'owner', uid: owner.metadata.uid }] } };
  await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify(cm) });
  await kubectlOk(c, ['delete', 'dbc', 'owner']);
  await waitUntil(async () => (await kubectl(c, ['get', 'cm', 'owned-config'])).code !== 0, 15_000, () => 'configmap owned by the deleted DBCluster is still there');
});

test('a dependent whose owner is of a kind not yet served is collected once the kind is served and the owner is not there', async () => {
  // Upstream's collector retries an owner whose kind it cannot map; once the kind is served, the
  // owner is looked up, found missing, and the dependent deleted.
  const ref = { apiVersion: 'late.example.org/v1', kind: 'Widget', name: 'gone', uid: '6b3c1f2e-0000-4000-8000-000000000001' };
  await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late-owner-config', ownerReferences: [ref] } }) });
  // While the kind is unknown, the dependent is left alone.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await kubectl(c, ['get', 'cm', 'late-owner-config'])).code, 0);
  const widgets = {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.late.example.org' },
    spec: { group: 'late.example.org', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
  };
  await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify(widgets) });
  await waitUntil(async () => (await kubectl(c, ['get', 'cm', 'late-owner-config'])).code !== 0, 15_000, () => 'the configmap whose Widget owner does not exist is still there');
  await kubectlOk(c, ['delete', 'crd', 'widgets.late.example.org']);
});

test('a second version is served with None conversion; a cluster-scoped CRD works', async () => {
  const crd = JSON.parse(await kubectlOk(c, ['get', 'crd', 'dbclusters.db.example.com', '-o', 'json']));
  const v1 = crd.spec.versions[0];
  const beta = { ...v1, name: 'v1beta1', storage: false, additionalPrinterColumns: undefined };
  crd.spec.versions = [v1, beta];
  await kubectlOk(c, ['replace', '-f', '-'], { input: JSON.stringify(crd) });
  await waitUntil(async () => (await api(c, 'GET', '/apis/db.example.com/v1beta1')).status === 200, 10_000, () => 'v1beta1 is not served');
  const group = await api(c, 'GET', '/apis/db.example.com');
  assert.deepEqual(group.json.versions.map((v: any) => v.version), ['v1', 'v1beta1']);
  assert.equal(group.json.preferredVersion.version, 'v1');
  const asBeta = await api(c, 'GET', '/apis/db.example.com/v1beta1/namespaces/default/dbclusters/main');
  assert.equal(asBeta.status, 200);
  assert.equal(asBeta.json.apiVersion, 'db.example.com/v1beta1');
  assert.equal(asBeta.json.spec.instances, 5);
  const created = await api(c, 'POST', '/apis/db.example.com/v1beta1/namespaces/default/dbclusters', { apiVersion: 'db.example.com/v1beta1', kind: 'DBCluster', metadata: { name: 'beta' }, spec: { engine: 'mysql' } });
  assert.equal(created.status, 201);
  assert.equal(created.json.apiVersion, 'db.example.com/v1beta1');
  const asV1 = await api(c, 'GET', '/apis/db.example.com/v1/namespaces/default/dbclusters/beta');
  assert.equal(asV1.json.apiVersion, 'db.example.com/v1');
  // Without printer columns a version shows NAME and AGE.
  const t = await api(c, 'GET', '/apis/db.example.com/v1beta1/namespaces/default/dbclusters', undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  assert.deepEqual(t.json.columnDefinitions.map((d: any) => d.name), ['Name', 'Age']);

  const clusterCrd = {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'regions.infra.example.org' },
    spec: { group: 'infra.example.org', scope: 'Cluster', names: { plural: 'regions', kind: 'Region' },
      versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
  };
  await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify(clusterCrd) });
  await kubectlOk(c, ['wait', '--for', 'condition=established', '--timeout=20s', 'crd/regions.infra.example.org']);
  await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'infra.example.org/v1alpha1', kind: 'Region', metadata: { name: 'eu' }, spec: { anything: { goes: [1, 'two'] } } }) });
  const region = JSON.parse(await kubectlOk(c, ['get', 'region', 'eu', '-o', 'json']));
  assert.deepEqual(region.spec, { anything: { goes: [1, 'two'] } });
  assert.equal(region.metadata.namespace, undefined);
});

test('deleting the CRD deletes its objects first, then the CRD', async () => {
  await kubectlOk(c, ['create', 'namespace', 'other']);
  await kubectlOk(c, ['create', '-f', '-'], { input: db('elsewhere', { engine: 'postgres' }, 'other') });
  const before = JSON.parse(await kubectlOk(c, ['get', 'dbc', '-A', '-o', 'json']));
  assert.ok(before.items.length >= 3);
  await kubectlOk(c, ['delete', 'crd', 'dbclusters.db.example.com', '--timeout=30s']);
  const gone = await kubectl(c, ['get', 'crd', 'dbclusters.db.example.com']);
  assert.match(gone.stderr, /NotFound/);
  const list = await api(c, 'GET', '/apis/db.example.com/v1/dbclusters');
  assert.equal(list.status, 404);
  // Re-created, the kind starts empty: the objects were deleted, not hidden.
  await kubectlOk(c, ['apply', '-f', fixture('crd-dbcluster.yaml')]);
  await kubectlOk(c, ['wait', '--for', 'condition=established', '--timeout=20s', 'crd/dbclusters.db.example.com']);
  await waitUntil(async () => (await api(c, 'GET', '/apis/db.example.com/v1/dbclusters')).status === 200, 10_000);
  const after = await api(c, 'GET', '/apis/db.example.com/v1/dbclusters');
  assert.deepEqual(after.json.items, []);
});

test('custom objects go with their namespace, and are served again after a restart', async () => {
  await kubectlOk(c, ['create', 'namespace', 'doomed']);
  await kubectlOk(c, ['create', '-f', '-'], { input: db('inside', { engine: 'postgres' }, 'doomed') });
  await kubectlOk(c, ['create', '-f', '-'], { input: db('kept', { engine: 'mysql', instances: 2 }) });
  await kubectlOk(c, ['delete', 'namespace', 'doomed', '--timeout=30s']);
  assert.equal((await api(c, 'GET', '/apis/db.example.com/v1/namespaces/doomed/dbclusters/inside')).status, 404);

  // Re-applying the unchanged definition is a no-op (client-side apply patches the CRD).
  assert.match(await kubectlOk(c, ['apply', '-f', fixture('crd-dbcluster.yaml')]), /unchanged/);

  await stopCluster(c);
  c = await startCluster({ dataDir: c.dataDir });
  const got = JSON.parse(await kubectlOk(c, ['get', 'dbc', 'kept', '-o', 'json']));
  assert.equal(got.spec.instances, 2);
  assert.match(await kubectlOk(c, ['get', 'dbc']), /^NAME\s+ENGINE\s+INSTANCES/);
});
