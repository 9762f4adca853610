// CRD validation rules (x-kubernetes-validations, CEL) end to end with the real kubectl: a CRD with
// a plain rule, a messageExpression, a transition rule on oldSelf and rules on list items; invalid
// objects refused with upstream's 422 output, valid ones accepted, transition rules on update only,
// a tightened rule ratcheted to a warning, and a CRD whose rule does not compile refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, api, type Cluster } from './harness.ts';

let c: Cluster;

const crd = (extraNameRule = false) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'caches.cel.example.com' },
  spec: {
    group: 'cel.example.com',
    scope: 'Namespaced',
    names: { plural: 'caches', singular: 'cache', kind: 'Cache', listKind: 'CacheList' },
    versions: [{
      name: 'v1',
      served: true,
      storage: true,
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: {
              type: 'object',
              'x-kubernetes-validations': [
                { rule: 'self.minReplicas <= self.maxReplicas', message: 'minReplicas must not exceed maxReplicas' },
                { rule: 'self.replicas <= self.maxReplicas', messageExpression: "'replicas ' + string(self.replicas) + ' is above maxReplicas ' + string(self.maxReplicas)" },
                { rule: "!has(self.memory) || quantity(self.memory).isLessThan(quantity('64Gi'))" },
              ],
              properties: {
                replicas: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self >= oldSelf', message: 'replicas may not decrease' }] },
                minReplicas: { type: 'integer' },
                maxReplicas: { type: 'integer' },
                engine: { type: 'string', enum: ['redis', 'memcached'] },
                memory: { type: 'string' },
                name: { type: 'string', 'x-kubernetes-validations': extraNameRule ? [{ rule: "self.startsWith('cache-')", message: 'name must start with cache-' }] : [] },
                ports: {
                  type: 'array',
                  'x-kubernetes-list-type': 'map',
                  'x-kubernetes-list-map-keys': ['name'],
                  items: {
                    type: 'object',
                    required: ['name'],
                    properties: { name: { type: 'string' }, port: { type: 'integer' } },
                    'x-kubernetes-validations': [{ rule: 'self.port > 1024', reason: 'FieldValueForbidden', fieldPath: '.port', message: 'privileged ports are not allowed' }],
                  },
                },
              },
            },
          },
        },
      },
    }],
  },
});

const cache = (name: string, spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'cel.example.com/v1', kind: 'Cache', metadata: { name, namespace: 'default' }, spec });
const good = { replicas: 2, minReplicas: 1, maxReplicas: 5, engine: 'redis', memory: '1Gi', name: 'legacy', ports: [{ name: 'main', port: 6379 }] };

before(async () => {
  c = await startCluster();
  await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify(crd()) });
  await kubectlOk(c, ['wait', '--for', 'condition=established', '--timeout=20s', 'crd/caches.cel.example.com']);
});

after(async () => {
  if (c) {
    await stopCluster(c);
    removeCluster(c);
  }
});

test('a valid object is accepted', async () => {
  const out = await kubectlOk(c, ['create', '-f', '-'], { input: cache('ok', good) });
  assert.match(out, /cache\.cel\.example\.com\/ok created/);
});

test('invalid objects are refused with upstream output: plain rule, messageExpression, list item with reason and fieldPath, failed rule', async () => {
  const r = await kubectl(c, ['create', '-f', '-'], { input: cache('bad', { ...good, replicas: 9, minReplicas: 6, memory: '128Gi', ports: [{ name: 'main', port: 80 }] }) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The Cache "bad" is invalid/);
  assert.match(r.stderr, /\* spec: Invalid value: "object": minReplicas must not exceed maxReplicas/);
  assert.match(r.stderr, /\* spec: Invalid value: "object": replicas 9 is above maxReplicas 5/);
  assert.match(r.stderr, /\* spec: Invalid value: "object": failed rule: !has\(self\.memory\) \|\| quantity\(self\.memory\)\.isLessThan\(quantity\('64Gi'\)\)/);
  assert.match(r.stderr, /\* spec\.ports\[0\]\.port: Forbidden: privileged ports are not allowed/);

  const res = await api(c, 'POST', '/apis/cel.example.com/v1/namespaces/default/caches', JSON.parse(cache('bad2', { ...good, maxReplicas: 0 })));
  assert.equal(res.status, 422);
  assert.equal(res.json.reason, 'Invalid');
  assert.deepEqual(res.json.details.causes, [
    { reason: 'FieldValueInvalid', message: 'Invalid value: "object": minReplicas must not exceed maxReplicas', field: 'spec' },
    { reason: 'FieldValueInvalid', message: 'Invalid value: "object": replicas 2 is above maxReplicas 0', field: 'spec' },
  ]);
  const none = await kubectl(c, ['get', 'caches', 'bad', 'bad2']);
  assert.notEqual(none.code, 0);
});

test('a schema violation that changes the shape blocks the rules, with upstream note', async () => {
  const r = await kubectl(c, ['create', '-f', '-'], { input: cache('shape', { ...good, engine: 'mongo', minReplicas: 9 }) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /spec\.engine: Unsupported value: "mongo": supported values: "redis", "memcached"/);
  assert.match(r.stderr, /<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation/);
  assert.doesNotMatch(r.stderr, /minReplicas must not exceed/);
});

test('the transition rule (oldSelf) runs on update only: replicas may grow, not shrink', async () => {
  await kubectlOk(c, ['create', '-f', '-'], { input: cache('grow', { ...good, replicas: 1 }) });
  const up = await kubectlOk(c, ['patch', 'cache', 'grow', '--type=merge', '-p', '{"spec":{"replicas":3}}']);
  assert.match(up, /cache\.cel\.example\.com\/grow patched/);
  const down = await kubectl(c, ['patch', 'cache', 'grow', '--type=merge', '-p', '{"spec":{"replicas":2}}']);
  assert.notEqual(down.code, 0);
  assert.match(down.stderr, /The Cache "grow" is invalid: spec\.replicas: Invalid value: "integer": replicas may not decrease/);
  const got = JSON.parse(await kubectlOk(c, ['get', 'cache', 'grow', '-o', 'json']));
  assert.equal(got.spec.replicas, 3);
});

test('a tightened rule does not lock existing objects: an unchanged failing value is a warning', async () => {
  await kubectlOk(c, ['replace', '-f', '-'], { input: JSON.stringify({ ...crd(true), metadata: { ...crd().metadata, resourceVersion: JSON.parse(await kubectlOk(c, ['get', 'crd', 'caches.cel.example.com', '-o', 'json'])).metadata.resourceVersion } }) });
  // The new rule applies to new objects...
  const fresh = await kubectl(c, ['create', '-f', '-'], { input: cache('fresh', good) });
  assert.notEqual(fresh.code, 0);
  assert.match(fresh.stderr, /spec\.name: Invalid value: "string": name must start with cache-/);
  // ...and an update of an old object that leaves `name` alone passes, warned.
  const r = await kubectl(c, ['patch', 'cache', 'ok', '--type=merge', '-p', '{"spec":{"replicas":4}}']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Warning: spec\.name: Invalid value: "string": name must start with cache-/);
  // Changing it to another bad value is refused.
  const bad = await kubectl(c, ['patch', 'cache', 'ok', '--type=merge', '-p', '{"spec":{"name":"other"}}']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec\.name: Invalid value: "string": name must start with cache-/);
});

test('a CRD whose rule does not compile is refused with upstream message', async () => {
  const broken = crd();
  broken.metadata.name = 'brokens.cel.example.com';
  broken.spec.names = { plural: 'brokens', singular: 'broken', kind: 'Broken', listKind: 'BrokenList' };
  const spec = broken.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  spec['x-kubernetes-validations'] = [{ rule: 'self.replica > 1' } as never, { rule: 'self.minReplicas' } as never];
  const r = await kubectl(c, ['create', '-f', '-'], { input: JSON.stringify(broken) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The CustomResourceDefinition "brokens\.cel\.example\.com" is invalid/);
  assert.ok(r.stderr.includes(`spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.replica > 1", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:5: undefined field 'replica'`), r.stderr);
  assert.ok(r.stderr.includes('x-kubernetes-validations[1].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.minReplicas"') && r.stderr.includes('cel expression must evaluate to a bool'), r.stderr);
  const gone = await kubectl(c, ['get', 'crd', 'brokens.cel.example.com']);
  assert.notEqual(gone.code, 0);
});
