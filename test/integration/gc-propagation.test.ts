// Deletion propagation as upstream's garbage collector carries it out, at a size where doing it
// one object at a time shows:
// - Foreground: every dependent is deleted, by the workers together; one without dependents of its
//   own goes in the background (no foregroundDeletion finalizer of its own), one with dependents in
//   the foreground. The owner waits only for dependents whose reference blocks owner deletion, and
//   a dependent that another, live owner keeps loses its reference instead of being deleted.
// - Orphan: the dependents are released several at a time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from '../support/inprocess.ts';
import { waitUntil } from './harness.ts';
import { GarbageCollector } from '../../src/controllers/garbagecollector/controller.ts';
import type { Client } from '../../src/client/client.ts';
import { spyClient } from '../support/client-spy.ts';
import type { Obj } from '../../src/api/resource.ts';

let t: TestApi;
let gc: GarbageCollector | undefined;

interface Call {
  verb: 'delete' | 'patch';
  name: string;
  propagationPolicy?: string;
}
const calls: Call[] = [];
const inFlight = { now: 0, max: { delete: 0, patch: 0 } };

/** The test API's client, recording the collector's deletes and patches and how many were under way at once. */
function recordingClient(): Client {
  const track = async <T>(verb: 'delete' | 'patch', call: Call, p: Promise<T>): Promise<T> => {
    calls.push(call);
    inFlight.now++;
    inFlight.max[verb] = Math.max(inFlight.max[verb], inFlight.now);
    try {
      return await p;
    } finally {
      inFlight.now--;
    }
  };
  return spyClient(t.client, {
    delete: (del, ...args) => track('delete', { verb: 'delete', name: args[2], propagationPolicy: args[3]?.propagationPolicy }, del(...args)),
    patch: (patch, ...args) => track('patch', { verb: 'patch', name: args[2] }, patch(...args)),
  });
}

before(async () => {
  t = await startTestApi();
  gc = new GarbageCollector(recordingClient());
  await gc.start();
});

after(async () => {
  gc?.stop();
  await t.close();
});

const cms = () => t.client.resource('', 'configmaps');
const NS = 'default';
const refTo = (owner: Obj, blockOwnerDeletion = true) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name, uid: owner.metadata.uid, blockOwnerDeletion });
const make = (name: string, metadata: Obj = {}) => t.client.create(cms(), NS, { metadata: { name, ...metadata } });
const exists = async (name: string) => {
  try {
    return await t.client.get(cms(), NS, name);
  } catch {
    return undefined;
  }
};
const reset = () => {
  calls.length = 0;
  inFlight.max = { delete: 0, patch: 0 };
};

test('foreground: dependents deleted by the workers together, leaves in the background, the owner after its blocking dependents', async () => {
  reset();
  const owner = await make('fg-owner');
  const N = 100;
  for (let i = 0; i < N; i++) await make(`fg-leaf-${i}`, { ownerReferences: [refTo(owner)] });
  // A dependent with a dependent of its own, which is held by a finalizer: it goes in the foreground.
  const mid = await make('fg-mid', { ownerReferences: [refTo(owner)] });
  await make('fg-grandchild', { ownerReferences: [refTo(mid)], finalizers: ['example.com/hold'] });
  // A dependent whose reference does not block owner deletion, held by a finalizer: the owner does not wait for it.
  await make('fg-free', { ownerReferences: [refTo(owner, false)], finalizers: ['example.com/hold'] });
  // A dependent another, live owner keeps: it stays, without the reference to the deleted owner.
  const keeper = await make('fg-keeper');
  await make('fg-shared', { ownerReferences: [refTo(owner), refTo(keeper)] });

  await t.client.delete(cms(), NS, 'fg-owner', { propagationPolicy: 'Foreground' });
  await waitUntil(async () => !(await exists(`fg-leaf-${N - 1}`)) && !(await exists('fg-leaf-0')), 20_000, () => 'the leaves were not deleted');
  // fg-mid waits for its grandchild, and the owner for fg-mid.
  await waitUntil(async () => !!(await exists('fg-grandchild'))?.metadata.deletionTimestamp, 10_000, () => 'the grandchild was not deleted');
  const midNow = await exists('fg-mid');
  assert.ok(midNow?.metadata.deletionTimestamp, 'fg-mid is being deleted');
  assert.deepEqual(midNow.metadata.finalizers, ['foregroundDeletion']);
  assert.ok((await exists('fg-owner'))?.metadata.deletionTimestamp, 'the owner waits for fg-mid');

  await t.client.patch(cms(), NS, 'fg-grandchild', 'application/merge-patch+json', { metadata: { finalizers: null } });
  await waitUntil(async () => !(await exists('fg-owner')), 10_000, () => 'the owner was not deleted after its blocking dependents');
  assert.equal(await exists('fg-mid'), undefined);
  // fg-free was deleted too, but its finalizer holds it, and the owner did not wait for it.
  assert.ok((await exists('fg-free'))?.metadata.deletionTimestamp, 'fg-free is being deleted');
  const shared = await exists('fg-shared');
  assert.ok(shared && !shared.metadata.deletionTimestamp, 'fg-shared, kept by a live owner, was deleted');
  assert.deepEqual(
    shared.metadata.ownerReferences.map((r: Obj) => r.name),
    ['fg-keeper'],
  );

  const deletes = calls.filter((c) => c.verb === 'delete');
  const policyOf = (name: string) => deletes.filter((c) => c.name === name).map((c) => c.propagationPolicy);
  for (let i = 0; i < N; i++) assert.deepEqual(policyOf(`fg-leaf-${i}`), ['Background'], `fg-leaf-${i}`);
  assert.deepEqual(policyOf('fg-mid'), ['Foreground']);
  assert.deepEqual(policyOf('fg-shared'), []);
  assert.ok(inFlight.max.delete > 1, `the collector deleted one dependent at a time (${inFlight.max.delete} at most under way)`);
  await t.client.patch(cms(), NS, 'fg-free', 'application/merge-patch+json', { metadata: { finalizers: null } });
});

test('orphan: the dependents are released several at a time, then the owner goes', async () => {
  reset();
  const owner = await make('or-owner');
  const N = 100;
  for (let i = 0; i < N; i++) await make(`or-dep-${i}`, { ownerReferences: [refTo(owner)] });
  await t.client.delete(cms(), NS, 'or-owner', { propagationPolicy: 'Orphan' });
  await waitUntil(async () => !(await exists('or-owner')), 20_000, () => 'the owner was not deleted');
  for (let i = 0; i < N; i++) {
    const dep = await exists(`or-dep-${i}`);
    assert.ok(dep && !dep.metadata.deletionTimestamp, `or-dep-${i} was deleted`);
    assert.equal(dep.metadata.ownerReferences, undefined, `or-dep-${i} still names its owner`);
  }
  assert.ok(inFlight.max.patch > 1, `the collector released one dependent at a time (${inFlight.max.patch} at most under way)`);
});
