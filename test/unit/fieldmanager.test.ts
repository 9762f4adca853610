import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resources } from '../../src/api/registry.ts';
import { ApiError } from '../../src/apiserver/errors.ts';
import { decodeFieldsV1, encodeFieldsV1, FieldSet, pathString } from '../../src/apiserver/fieldmanager/fieldset.ts';
import { compare, merge, toFieldSet } from '../../src/apiserver/fieldmanager/typed.ts';
import { apply, recordUpdate } from '../../src/apiserver/fieldmanager/index.ts';
import { capUpdateManagers, decodeManaged, managerFromUserAgent } from '../../src/apiserver/fieldmanager/managers.ts';
import { components } from '../../src/api/schema.ts';

const sts = resources.find((r) => r.kind === 'StatefulSet')!;
const cm = resources.find((r) => r.kind === 'ConfigMap')!;
const stsSchema = components[sts.schema];
const fields = (s: FieldSet) => encodeFieldsV1(s);

test('fieldsV1 round-trips, with `.` for members that have children', () => {
  const cases: Record<string, unknown>[] = [
    { 'f:data': { 'f:a': {}, 'f:b': {} } },
    { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
    { 'f:metadata': { 'f:finalizers': { '.': {}, 'v:"a"': {} } } },
  ];
  for (const c of cases) assert.deepEqual(encodeFieldsV1(decodeFieldsV1(c)), c);
});

test('set operations', () => {
  const a = decodeFieldsV1({ 'f:a': {}, 'f:b': { 'f:c': {}, 'f:d': {} } });
  const b = decodeFieldsV1({ 'f:b': { 'f:c': {} }, 'f:e': {} });
  assert.deepEqual(fields(a.difference(b)), { 'f:a': {}, 'f:b': { 'f:d': {} } });
  assert.deepEqual(fields(a.intersection(b)), { 'f:b': { 'f:c': {} } });
  assert.deepEqual(fields(a.union(b)), { 'f:a': {}, 'f:b': { 'f:c': {}, 'f:d': {} }, 'f:e': {} });
  assert.ok(a.difference(a).empty());
  assert.deepEqual(a.paths(), [['f:a'], ['f:b', 'f:c'], ['f:b', 'f:d']]);
});

test('paths print as upstream prints them in conflicts', () => {
  const table: [string[], string][] = [
    [['f:spec', 'f:replicas'], '.spec.replicas'],
    [['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:image'], '.spec.template.spec.containers[name="nginx"].image'],
    [['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}'], '.spec.ports[port=80,protocol="TCP"]'],
    [['f:metadata', 'f:finalizers', 'v:"x"'], '.metadata.finalizers[="x"]'],
    [['f:args', 'i:2'], '.args[2]'],
  ];
  for (const [p, s] of table) assert.equal(pathString(p), s);
});

test('field sets follow list types and map keys from the schema', () => {
  const obj = {
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'nginx' } },
      template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1', ports: [{ containerPort: 80, name: 'web' }], args: ['a', 'b'] }], volumes: [{ name: 'v', emptyDir: {} }] } },
    },
  };
  const got = fields(toFieldSet(obj, stsSchema)) as any;
  const c = got['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}'];
  assert.deepEqual(Object.keys(c).sort(), ['.', 'f:args', 'f:image', 'f:name', 'f:ports']);
  // args: atomic; ports: keyed by containerPort and protocol (its default fills the missing key).
  assert.deepEqual(c['f:args'], {});
  assert.deepEqual(Object.keys(c['f:ports']), ['k:{"containerPort":80,"protocol":"TCP"}']);
  assert.deepEqual(got['f:spec']['f:template']['f:spec']['f:volumes']['k:{"name":"v"}']['f:emptyDir'], {});
  assert.deepEqual(got['f:spec']['f:selector'], {}, 'a label selector is atomic');
});

test('compare finds changed and removed fields only', () => {
  const a = { data: { a: '1', b: '2', c: '3' } };
  const b = { data: { a: '1', b: 'x', d: '4' } };
  const cmpr = compare(a, b, components[cm.schema]);
  assert.deepEqual(fields(cmpr.changed), { 'f:data': { 'f:b': {}, 'f:d': {} } });
  assert.deepEqual(fields(cmpr.removed), { 'f:data': { 'f:c': {} } });
  const same = compare(a, structuredClone(a), components[cm.schema]);
  assert.ok(same.changed.empty() && same.removed.empty());
});

test('merge: maps by field, keyed lists by key, atomic lists whole', () => {
  const live = { spec: { template: { spec: { containers: [{ name: 'a', image: 'a:1', args: ['x'] }, { name: 'b', image: 'b:1' }] } } } };
  const config = { spec: { template: { spec: { containers: [{ name: 'b', image: 'b:2' }, { name: 'c', image: 'c:1' }, { name: 'a', args: ['y', 'z'] }] } } } };
  const out = merge(live, config, stsSchema) as any;
  assert.deepEqual(out.spec.template.spec.containers, [
    { name: 'b', image: 'b:2' },
    { name: 'c', image: 'c:1' },
    { name: 'a', image: 'a:1', args: ['y', 'z'] },
  ]);
});

const W = (manager: string) => ({ manager, apiVersion: 'apps/v1' });
const base = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default' } };
const cfg = (spec: object) => ({ ...base, spec });

test('apply: owns what it sets; a second manager changing it conflicts; force takes it over', () => {
  const first = apply(sts, undefined, cfg({ replicas: 2, serviceName: 'nginx' }), { writer: W('alice'), force: false, now: '2026-01-01T00:00:00Z' });
  assert.equal(first.metadata.managedFields.length, 1);
  assert.deepEqual(first.metadata.managedFields[0], {
    manager: 'alice', operation: 'Apply', apiVersion: 'apps/v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1',
    fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:serviceName': {} } },
  });
  // Same value: shared, no conflict.
  const shared = apply(sts, first, cfg({ replicas: 2 }), { writer: W('bob'), force: false, now: '2026-01-01T00:00:01Z' });
  assert.deepEqual(shared.metadata.managedFields.map((e: any) => e.manager), ['alice', 'bob']);
  // Different value: conflict with upstream's message.
  assert.throws(() => apply(sts, first, cfg({ replicas: 3 }), { writer: W('bob'), force: false, now: 'x' }), (e: ApiError) => {
    assert.equal(e.code, 409);
    assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas');
    assert.deepEqual(e.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.replicas' }]);
    return true;
  });
  const forced = apply(sts, first, cfg({ replicas: 3 }), { writer: W('bob'), force: true, now: '2026-01-01T00:00:02Z' });
  assert.equal(forced.spec.replicas, 3);
  const byName = Object.fromEntries(forced.metadata.managedFields.map((e: any) => [e.manager, e.fieldsV1]));
  assert.deepEqual(byName, { alice: { 'f:spec': { 'f:serviceName': {} } }, bob: { 'f:spec': { 'f:replicas': {} } } });
});

test('apply: fields a manager stops applying go, unless another manager owns them', () => {
  const one = apply(cm, undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } }, { writer: W('alice'), force: false, now: 't1' });
  const two = apply(cm, one, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { b: '2' } }, { writer: W('bob'), force: false, now: 't2' });
  const three = apply(cm, two, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, { writer: W('alice'), force: false, now: 't3' });
  assert.deepEqual(three.data, { b: '2' }, 'a dropped (alice alone), b kept (bob owns it too)');
  assert.deepEqual(three.metadata.managedFields.map((e: any) => e.manager), ['bob'], 'an applier that owns nothing has no entry');
});

test('apply with the same configuration changes nothing, managedFields included', () => {
  const c = cfg({ replicas: 2 });
  // Stored objects are defaulted (the store does that after apply, on a copy of its own); the same
  // apply again changes nothing.
  const one = structuredClone(apply(sts, undefined, structuredClone(c), { writer: W('a'), force: false, now: 't1' }));
  sts.strategy.default(one);
  const two = structuredClone(apply(sts, one, structuredClone(c), { writer: W('a'), force: false, now: 't2' }));
  sts.strategy.default(two);
  assert.deepEqual(two, one);
});

test('recordUpdate: the writer takes changed fields from others; timestamps move only when it takes some', () => {
  const live = apply(sts, undefined, cfg({ replicas: 2, serviceName: 'nginx' }), { writer: W('alice'), force: false, now: 't1' });
  const next = structuredClone(live);
  next.spec.replicas = 5;
  recordUpdate(sts, live, next, W('kubectl-scale'), 't2');
  const byName = Object.fromEntries(next.metadata.managedFields.map((e: any) => [e.manager, e]));
  assert.deepEqual(byName.alice.fieldsV1, { 'f:spec': { 'f:serviceName': {} } });
  assert.deepEqual(byName['kubectl-scale'], { manager: 'kubectl-scale', operation: 'Update', apiVersion: 'apps/v1', time: 't2', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
  // An update that changes nothing keeps the list (the same entries).
  const again = structuredClone(next);
  recordUpdate(sts, next, again, W('other'), 't3');
  assert.equal(again.metadata.managedFields, next.metadata.managedFields);
  // Status on the main resource is not tracked (it is written through /status).
  const st = structuredClone(next);
  st.status = { replicas: 1 };
  recordUpdate(sts, next, st, W('ctrl'), 't4');
  assert.equal(st.metadata.managedFields, next.metadata.managedFields);
  const viaStatus = structuredClone(st);
  viaStatus.status = { replicas: 2 };
  recordUpdate(sts, st, viaStatus, { ...W('ctrl'), subresource: 'status' }, 't5');
  assert.deepEqual(viaStatus.metadata.managedFields.at(-1), { manager: 'ctrl', operation: 'Update', apiVersion: 'apps/v1', time: 't5', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:replicas': {} } }, subresource: 'status' });
});

test('recordUpdate: managedFields sent by the client replace the stored ones; [{}] clears them', () => {
  const live = apply(sts, undefined, cfg({ replicas: 2 }), { writer: W('alice'), force: false, now: 't1' });
  const next = structuredClone(live);
  next.metadata.managedFields = [{}];
  recordUpdate(sts, live, next, W('x'), 't2');
  assert.equal(next.metadata.managedFields, undefined);
});

test('more than ten update managers fold the oldest into ancient-changes', () => {
  const list = Array.from({ length: 12 }, (_, i) => ({ manager: `m${String(i).padStart(2, '0')}`, operation: 'Update', apiVersion: 'v1', time: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { [`f:k${i}`]: {} } } }));
  const m = decodeManaged(list);
  capUpdateManagers(m);
  const names = [...m.values()].map((e) => e.manager).sort();
  assert.equal(names.length, 10);
  assert.ok(names.includes('ancient-changes'));
  const bucket = [...m.values()].find((e) => e.manager === 'ancient-changes')!;
  assert.deepEqual(fields(bucket.set), { 'f:data': { 'f:k0': {}, 'f:k1': {}, 'f:k2': {} } });
});

test('manager names from user agents', () => {
  assert.equal(managerFromUserAgent('kubectl/v1.32.0 (linux/amd64) kubernetes/abc'), 'kubectl');
  assert.equal(managerFromUserAgent('kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/abc/statefulset-controller'), 'kube-controller-manager');
  assert.equal(managerFromUserAgent(undefined), '');
  assert.equal(managerFromUserAgent('x'.repeat(200)).length, 128);
});

test('multiple conflicts are grouped by manager', () => {
  const one = apply(sts, undefined, cfg({ replicas: 2, serviceName: 'a' }), { writer: W('alice'), force: false, now: 't1' });
  assert.throws(() => apply(sts, one, cfg({ replicas: 3, serviceName: 'b' }), { writer: W('bob'), force: false, now: 't2' }), (e: ApiError) => {
    assert.equal(e.message, 'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n- .spec.serviceName');
    return true;
  });
});
