// The garbage collector's decision for one object (planFor), as upstream's attemptToDeleteItem
// and processDeletingDependentsItem decide: owners classified as live, gone or waiting for their
// dependents, and the propagation a dependent is deleted with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFor } from '../../src/controllers/garbagecollector/plan.ts';
import { OwnerGraph } from '../../src/controllers/garbagecollector/graph.ts';
import type { Obj, ResourceDef } from '../../src/api/resource.ts';

const R = { kind: 'ConfigMap' } as ResourceDef;
const known = () => true;
const DELETED = '2026-12-07T00:00:00Z';
const ref = (uid: string, blockOwnerDeletion = true) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: uid, uid, blockOwnerDeletion });
const obj = (uid: string, meta: Obj = {}): Obj => ({ metadata: { name: uid, namespace: 'default', uid, ...meta } });

function graphOf(...objs: Obj[]): OwnerGraph {
  const g = new OwnerGraph();
  for (const o of objs) g.upsert(R, o);
  return g;
}

test('a foreground-deleting owner has its dependents not yet deleting judged, and waits only for blocking ones', () => {
  const owner = obj('owner', { deletionTimestamp: DELETED, finalizers: ['foregroundDeletion'] });
  const a = obj('a', { ownerReferences: [ref('owner')] });
  const b = obj('b', { ownerReferences: [ref('owner')], deletionTimestamp: DELETED, finalizers: ['hold'] });
  const free = obj('free', { ownerReferences: [ref('owner', false)] });
  const plan = planFor(owner, graphOf(owner, a, b, free), known);
  assert.equal(plan.kind, 'deleteDependents');
  assert.deepEqual(plan.kind === 'deleteDependents' && plan.dependents.map((d) => d.obj.metadata.uid).sort(), ['a', 'free']);
  // b blocks while it is there, even being deleted; nothing else to start.
  assert.deepEqual(planFor(owner, graphOf(owner, b), known), { kind: 'none' });
  // Only a non-blocking dependent left: the owner goes.
  assert.deepEqual(planFor(owner, graphOf(owner, { ...free, metadata: { ...free.metadata, deletionTimestamp: DELETED } }), known), { kind: 'removeFinalizer', finalizer: 'foregroundDeletion' });
  assert.deepEqual(planFor(owner, graphOf(owner), known), { kind: 'removeFinalizer', finalizer: 'foregroundDeletion' });
});

test('a dependent of an owner waiting for its dependents goes in the background, or in the foreground when it has dependents', () => {
  const owner = obj('owner', { deletionTimestamp: DELETED, finalizers: ['foregroundDeletion'] });
  const leaf = obj('leaf', { ownerReferences: [ref('owner')] });
  assert.deepEqual(planFor(leaf, graphOf(owner, leaf), known), { kind: 'deleteObject', owners: [], propagation: 'Background' });
  const mid = obj('mid', { ownerReferences: [ref('owner')] });
  const child = obj('child', { ownerReferences: [ref('mid')] });
  assert.deepEqual(planFor(mid, graphOf(owner, mid, child), known), { kind: 'deleteObject', owners: [], propagation: 'Foreground' });
  // An owner being deleted otherwise (background, or foreground done) is still an owner.
  const going = obj('owner', { deletionTimestamp: DELETED, finalizers: ['hold'] });
  assert.deepEqual(planFor(leaf, graphOf(going, leaf), known), { kind: 'none' });
});

test('owners gone: deleted once they are confirmed, with the propagation a finalizer already asks for', () => {
  const dep = obj('dep', { ownerReferences: [ref('gone')] });
  assert.deepEqual(planFor(dep, graphOf(dep), known), { kind: 'deleteObject', owners: [ref('gone')], propagation: 'Background' });
  const orphaning = obj('dep', { ownerReferences: [ref('gone')], finalizers: ['orphan'] });
  assert.equal((planFor(orphaning, graphOf(orphaning), known) as { propagation: string }).propagation, 'Orphan');
  // An owner of a kind the collector does not watch is never judged gone.
  assert.deepEqual(planFor(dep, graphOf(dep), () => false), { kind: 'none' });
});

test('a live owner keeps a dependent: references to owners gone or waiting for their dependents are dropped', () => {
  const live = obj('live');
  const waiting = obj('waiting', { deletionTimestamp: DELETED, finalizers: ['foregroundDeletion'] });
  const dep = obj('dep', { ownerReferences: [ref('live'), ref('waiting'), ref('gone')] });
  assert.deepEqual(planFor(dep, graphOf(live, waiting, dep), known), { kind: 'dropOwnerReferences', uids: ['gone', 'waiting'] });
  const kept = obj('kept', { ownerReferences: [ref('live')] });
  assert.deepEqual(planFor(kept, graphOf(live, kept), known), { kind: 'none' });
});
