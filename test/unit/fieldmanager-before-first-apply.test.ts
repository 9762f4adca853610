// Upstream's skipNonAppliedManager: an object without field management gets it at its first apply,
// where what it already holds is recorded as an Update by "before-first-apply"; updates of such an
// object do not start tracking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resources } from '../../src/api/registry.ts';
import { ApiError } from '../../src/apiserver/errors.ts';
import { apply, BEFORE_FIRST_APPLY, recordUpdate } from '../../src/apiserver/fieldmanager/index.ts';

const cm = resources.find((r) => r.kind === 'ConfigMap')!;
const sts = resources.find((r) => r.kind === 'StatefulSet')!;
const NOW = '2024-05-01T12:00:00Z';
const w = (manager: string) => ({ manager, apiVersion: 'v1' });
const live = () => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', uid: 'u', labels: { team: 'db' } }, data: { a: '1', b: '2' } });
const config = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });

test('the first apply to an untracked object records its fields under before-first-apply and conflicts with them', () => {
  assert.throws(
    () => apply(cm, live(), config({ a: 'changed' }), { writer: w('mgr'), force: false, now: NOW }),
    (err: unknown) => err instanceof ApiError && err.code === 409 && err.message === 'Apply failed with 1 conflict: conflict with "before-first-apply" using v1 at 2024-05-01T12:00:00Z: .data.a',
  );
  // Applying values the object already has does not conflict; both managers then own them.
  const same = apply(cm, live(), config({ a: '1' }), { writer: w('mgr'), force: false, now: NOW });
  const entries = same.metadata.managedFields;
  assert.deepEqual(entries.map((e: any) => [e.manager, e.operation, e.apiVersion, e.time]), [['mgr', 'Apply', 'v1', NOW], [BEFORE_FIRST_APPLY, 'Update', 'v1', NOW]]);
  assert.deepEqual(entries[1].fieldsV1, { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:team': {} } } });
  assert.deepEqual(entries[0].fieldsV1, { 'f:data': { 'f:a': {} } });
});

test('forced, the applier takes the fields over; before-first-apply keeps the rest', () => {
  const out = apply(cm, live(), config({ a: 'changed' }), { writer: w('mgr'), force: true, now: NOW });
  assert.equal(out.data.a, 'changed');
  const bfa = out.metadata.managedFields.find((e: any) => e.manager === BEFORE_FIRST_APPLY);
  assert.deepEqual(bfa.fieldsV1, { 'f:data': { '.': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:team': {} } } });
});

test('managedFields reset with [{}] count as untracked', () => {
  const reset = { ...live(), metadata: { ...live().metadata, managedFields: [{}] } };
  assert.throws(() => apply(cm, reset, config({ b: '3' }), { writer: w('mgr'), force: false, now: NOW }), /conflict with "before-first-apply"/);
});

test('a tracked object is applied to as before: no before-first-apply', () => {
  const tracked = { ...live(), metadata: { ...live().metadata, managedFields: [{ manager: 'other', operation: 'Update', apiVersion: 'v1', time: NOW, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:b': {} } } }] } };
  const out = apply(cm, tracked, config({ a: 'x' }), { writer: w('mgr'), force: false, now: NOW });
  assert.deepEqual(out.metadata.managedFields.map((e: any) => e.manager), ['mgr', 'other']);
});

test('the status subresource: before-first-apply records status only, with the subresource', () => {
  const set = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's', namespace: 'default', uid: 'u' }, spec: { replicas: 1 }, status: { replicas: 1, availableReplicas: 1 } };
  const out = apply(sts, set, { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, status: { replicas: 1 } }, { writer: { manager: 'ctl', apiVersion: 'apps/v1', subresource: 'status' }, force: false, now: NOW });
  const bfa = out.metadata.managedFields.find((e: any) => e.manager === BEFORE_FIRST_APPLY);
  assert.equal(bfa.subresource, 'status');
  // A struct is not a member of its own, unlike a map (status has no '.', data and labels have one).
  assert.deepEqual(bfa.fieldsV1, { 'f:status': { 'f:availableReplicas': {}, 'f:replicas': {} } });
});

test('an update of an untracked object does not start tracking; a create does', () => {
  const next = { ...live(), data: { a: '9', b: '2' } };
  recordUpdate(cm, live(), next, w('kubectl-edit'), NOW);
  assert.equal((next.metadata as any).managedFields, undefined);
  const cleared: any = { ...live(), metadata: { ...live().metadata, managedFields: [{}] }, data: { a: '9' } };
  recordUpdate(cm, { ...live(), metadata: { ...live().metadata, managedFields: [{ manager: 'x', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } }] } }, cleared, w('kubectl-patch'), NOW);
  assert.equal(cleared.metadata.managedFields, undefined, '[{}] clears them for good, the writer included');
  const created: any = live();
  recordUpdate(cm, undefined, created, w('kubectl-create'), NOW);
  assert.deepEqual(created.metadata.managedFields.map((e: any) => e.manager), ['kubectl-create']);
});
