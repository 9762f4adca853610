// The garbage collector asks the API whether a dependent's owner is really gone before deleting
// the dependent, as upstream's does; like upstream's absentOwnerCache, it remembers owners found
// gone, so that the dependents of one deleted owner do not each ask again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from '../support/inprocess.ts';
import { waitUntil } from './harness.ts';
import { GarbageCollector, GC_WORKERS } from '../../src/controllers/garbagecollector/controller.ts';
import type { Client } from '../../src/client/client.ts';
import { spyClient } from '../support/client-spy.ts';

let t: TestApi;
let gc: GarbageCollector | undefined;
/** Names of the objects the collector read with a GET, one entry per call. */
const gets: string[] = [];

before(async () => {
  t = await startTestApi();
});

after(async () => {
  gc?.stop();
  await t.close();
});

/** The test API's client, counting the collector's GETs. */
const countingClient = (): Client => spyClient(t.client, { get: (get, ...args) => (gets.push(args[2]), get(...args)) });

test('dependents of a deleted owner are deleted, and the owner is looked up only a few times, not once per dependent', async () => {
  gc = new GarbageCollector(countingClient());
  await gc.start();
  const cms = t.client.resource('', 'configmaps');
  const owner = await t.client.create(cms, 'default', { metadata: { name: 'owner' } });
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid };
  const N = 100;
  for (let i = 0; i < N; i++) await t.client.create(cms, 'default', { metadata: { name: `dep-${i}`, ownerReferences: [ref] } });
  // A dependent of an owner that lives on is kept.
  const keeper = await t.client.create(cms, 'default', { metadata: { name: 'keeper' } });
  await t.client.create(cms, 'default', {
    metadata: { name: 'kept', ownerReferences: [ref, { apiVersion: 'v1', kind: 'ConfigMap', name: 'keeper', uid: keeper.metadata.uid }] },
  });

  await t.client.delete(cms, 'default', 'owner', { propagationPolicy: 'Background' });
  const remaining = async () => (await t.client.list(cms, { namespace: 'default' })).items.map((o) => o.metadata.name).filter((n: string) => n.startsWith('dep-'));
  await waitUntil(async () => (await remaining()).length === 0, 20_000, () => 'every dependent deleted');

  const ownerGets = gets.filter((n) => n === 'owner').length;
  // Workers that asked before the first answer came each asked once.
  assert.ok(ownerGets >= 1 && ownerGets <= GC_WORKERS, `owner looked up ${ownerGets} times for ${N} dependents`);
  // The dependent with a live owner is still there.
  const kept = await t.client.get(cms, 'default', 'kept');
  assert.deepEqual(
    kept.metadata.ownerReferences.map((r: { name: string }) => r.name),
    ['keeper'],
    'the reference to the deleted owner is dropped, the live one kept',
  );
});
