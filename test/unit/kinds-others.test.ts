import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../../src/api/field-errors.ts';
import { strategyFor } from '../../src/api/kinds/index.ts';
import type { Obj } from '../../src/api/resource.ts';
import { isConfigMapKey, isDNS1123Label, isQualifiedName } from '../../src/api/validation/names.ts';
import { compareQuantity, parseQuantity } from '../../src/api/validation/quantity.ts';

const create = (kind: string, o: Obj) => {
  const s = strategyFor(kind);
  s.default(o);
  s.prepareForCreate(o);
  return s.validate(o).map(formatFieldError);
};

const update = (kind: string, old: Obj, mut: (o: Obj) => void) => {
  const s = strategyFor(kind);
  const o = structuredClone(old);
  mut(o);
  s.default(o);
  s.prepareForUpdate(o, old);
  return { obj: o, errs: s.validateUpdate(o, old).map(formatFieldError) };
};

const claim = (): Obj => ({ metadata: { name: 'www-web-0', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });

test('pvc defaults, create and validation', () => {
  const o = claim();
  assert.deepEqual(create('PersistentVolumeClaim', o), []);
  assert.equal(o.spec.volumeMode, 'Filesystem');
  assert.deepEqual(o.status, { phase: 'Pending' });
  assert.deepEqual(create('PersistentVolumeClaim', { metadata: { name: 'c', namespace: 'd' }, spec: {} }), [
    'spec.accessModes: Required value: at least 1 access mode is required',
    'spec.resources[storage]: Required value',
  ]);
});

test('pvc updates: volumeName once, expansion only when bound', () => {
  const old = claim();
  create('PersistentVolumeClaim', old);
  assert.deepEqual(update('PersistentVolumeClaim', old, (o) => (o.spec.volumeName = 'pv-1')).errs, []);
  const r = update('PersistentVolumeClaim', old, (o) => (o.spec.resources.requests.storage = '2Gi'));
  assert.equal(r.errs.length, 1);
  assert.ok(r.errs[0].startsWith('spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n'));
  const bound = structuredClone(old);
  bound.status = { phase: 'Bound', capacity: { storage: '1Gi' } };
  bound.spec.volumeName = 'pv-1';
  assert.deepEqual(update('PersistentVolumeClaim', bound, (o) => (o.spec.resources.requests.storage = '2Gi')).errs, []);
  assert.deepEqual(update('PersistentVolumeClaim', bound, (o) => (o.spec.resources.requests.storage = '512Mi')).errs, [
    'spec.resources.requests.storage: Forbidden: field can not be less than status.capacity',
  ]);
});

test('pv defaults and validation', () => {
  const pv: Obj = { metadata: { name: 'pv-1' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } } };
  assert.deepEqual(create('PersistentVolume', pv), []);
  assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(pv.spec.volumeMode, 'Filesystem');
  assert.equal(pv.status.phase, 'Pending');
  assert.deepEqual(create('PersistentVolume', { metadata: { name: 'pv-2' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } }), [
    'spec: Required value: must specify a volume type',
  ]);
  assert.deepEqual(
    create('PersistentVolume', { metadata: { name: 'pv-3' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/a' }, nfs: { server: 's', path: '/' } } }),
    ['spec.nfs: Forbidden: may not specify more than 1 volume type'],
  );
});

test('namespace', () => {
  const ns: Obj = { metadata: { name: 'prod' } };
  assert.deepEqual(create('Namespace', ns), []);
  assert.deepEqual(ns.spec.finalizers, ['kubernetes']);
  assert.deepEqual(ns.status, { phase: 'Active' });
  assert.equal(ns.metadata.labels['kubernetes.io/metadata.name'], 'prod');
  assert.deepEqual(create('Namespace', { metadata: { name: 'my.ns' } }), ['metadata.name: Invalid value: "my.ns": must not contain dots']);
});

test('configmap and secret', () => {
  assert.deepEqual(create('ConfigMap', { metadata: { name: 'c', namespace: 'd' }, data: { 'a.b': 'x', 'bad key': 'y' } }), [
    "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
  ]);
  const sec: Obj = { metadata: { name: 's', namespace: 'd' }, stringData: { password: 'hunter2' } };
  assert.deepEqual(create('Secret', sec), []);
  assert.equal(sec.type, 'Opaque');
  assert.deepEqual(sec.data, { password: Buffer.from('hunter2').toString('base64') });
  assert.equal(sec.stringData, undefined);
  assert.deepEqual(create('Secret', { metadata: { name: 's', namespace: 'd' }, type: 'kubernetes.io/tls', data: {} }), ['data[tls.crt]: Required value', 'data[tls.key]: Required value']);
  const old: Obj = { metadata: { name: 's', namespace: 'd' }, type: 'Opaque', data: {} };
  assert.deepEqual(update('Secret', old, (o) => (o.type = 'kubernetes.io/tls')).errs.slice(0, 1), ['type: Invalid value: "kubernetes.io/tls": field is immutable']);
});

test('controllerrevision', () => {
  assert.deepEqual(create('ControllerRevision', { metadata: { name: 'web-abc', namespace: 'd' }, revision: -1 }), [
    'data: Required value: data is mandatory',
    'revision: Invalid value: -1: must be greater than or equal to 0',
  ]);
  const old: Obj = { metadata: { name: 'web-abc', namespace: 'd' }, data: { spec: { template: {} } }, revision: 1 };
  assert.deepEqual(update('ControllerRevision', old, (o) => (o.revision = 4)).errs, []);
  assert.equal(update('ControllerRevision', old, (o) => (o.data = { x: 1 })).errs[0].split(': ').slice(-1)[0], 'field is immutable');
});

test('storageclass', () => {
  const sc: Obj = { metadata: { name: 'standard' }, provisioner: 'ordinal.dev/hostpath' };
  assert.deepEqual(create('StorageClass', sc), []);
  assert.equal(sc.reclaimPolicy, 'Delete');
  assert.equal(sc.volumeBindingMode, 'Immediate');
  assert.deepEqual(create('StorageClass', { metadata: { name: 'x' } }), ['provisioner: Required value']);
  assert.deepEqual(update('StorageClass', sc, (o) => (o.parameters = { a: 'b' })).errs, ['parameters: Forbidden: updates to parameters are forbidden.']);
});

test('endpoints, endpointslice, pdb, lease', () => {
  assert.deepEqual(
    create('Endpoints', { metadata: { name: 'nginx', namespace: 'd' }, subsets: [{ addresses: [{ ip: '10.0.0.1', hostname: 'web-0' }], ports: [{ port: 80 }] }] }),
    [],
  );
  assert.deepEqual(create('EndpointSlice', { metadata: { name: 'nginx-abc', namespace: 'd' }, endpoints: [] }), ['addressType: Required value']);
  assert.deepEqual(create('PodDisruptionBudget', { metadata: { name: 'p', namespace: 'd' }, spec: { maxUnavailable: '120%' } }), [
    'spec.maxUnavailable: Invalid value: 120%: must not be greater than 100%',
  ]);
  assert.deepEqual(create('Lease', { metadata: { name: 'l', namespace: 'd' }, spec: { leaseDurationSeconds: 0 } }), [
    'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
  ]);
});

test('metadata validation shared by all kinds', () => {
  assert.deepEqual(create('ConfigMap', { metadata: { namespace: 'd' } }), ['metadata.name: Required value: name or generateName is required']);
  assert.deepEqual(create('ConfigMap', { metadata: { name: 'c', namespace: 'd', labels: { 'a/b/c': 'x' } } }), [
    "metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
  ]);
  assert.deepEqual(create('ConfigMap', { metadata: { generateName: 'web-', name: 'web-x1', namespace: 'd' } }), []);
  assert.deepEqual(create('PersistentVolume', { metadata: { name: 'p', namespace: 'd' }, spec: { capacity: { storage: '1' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/x' } } }), [
    'metadata.namespace: Forbidden: not allowed on this type',
  ]);
  assert.deepEqual(
    create('ConfigMap', {
      metadata: { name: 'c', namespace: 'd', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u1', controller: true }, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u2', controller: true }] },
    }).map((m) => m.replace(/Invalid value: .*?: Only/, 'Invalid value: …: Only')),
    ['metadata.ownerReferences: Invalid value: …: Only one reference can have Controller set to true. Found "true" in references for StatefulSet/web and StatefulSet/db'],
  );
});

test('name and quantity helpers', () => {
  assert.deepEqual(isDNS1123Label('web-0'), []);
  assert.deepEqual(isDNS1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
  assert.deepEqual(isQualifiedName('example.com/name'), []);
  assert.deepEqual(isQualifiedName('/name'), ['prefix part must be non-empty']);
  assert.deepEqual(isConfigMapKey('..a'), ["must not start with '..'"]);
  const q = (s: string) => parseQuantity(s)!;
  assert.equal(compareQuantity(q('1Gi'), q('1024Mi')), 0);
  assert.equal(compareQuantity(q('500m'), q('0.5')), 0);
  assert.equal(compareQuantity(q('1e3'), q('1k')), 0);
  assert.equal(compareQuantity(q('1G'), q('1Gi')), -1);
  assert.equal(parseQuantity('1.5.5'), undefined);
  assert.equal(parseQuantity('10 Gi'), undefined);
});
