// A set created over orphans of its name (as after `kubectl delete sts --cascade=orphan` and a
// re-create, the way to change a set's immutable fields) adopts them all, keeping their uids, and
// patches several at a time rather than one after another.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from '../support/inprocess.ts';
import { waitUntil } from './harness.ts';
import { StatefulSetController } from '../../src/controllers/statefulset/controller.ts';
import type { Client } from '../../src/client/client.ts';
import { spyClient } from '../support/client-spy.ts';
import type { Obj } from '../../src/api/resource.ts';

let t: TestApi;
let controller: StatefulSetController | undefined;
const patches = { now: 0, max: 0, count: 0 };

/** The test API's client, counting the controller's pod patches under way at once. */
const countingClient = (): Client =>
  spyClient(t.client, {
    patch: async (patch, ...args) => {
      if (args[0].plural !== 'pods') return patch(...args);
      patches.count++;
      patches.max = Math.max(patches.max, ++patches.now);
      try {
        return await patch(...args);
      } finally {
        patches.now--;
      }
    },
  });

before(async () => {
  t = await startTestApi();
});

after(async () => {
  controller?.stop();
  await t.close();
});

test('a new set adopts the orphans that carry its pod names, several at a time', async () => {
  const ns = 'adopt-many';
  await t.client.create(t.client.resource('', 'namespaces'), undefined, { metadata: { name: ns } });
  const podTemplate = { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'db:1' }] } };
  const N = 60;
  const podsRes = t.client.resource('', 'pods');
  const before = new Map<string, string>();
  for (let i = 0; i < N; i++) {
    const p = await t.client.create(podsRes, ns, { metadata: { name: `db-${i}`, labels: { app: 'db' } }, spec: podTemplate.spec });
    before.set(p.metadata.name, p.metadata.uid);
  }
  // A pod whose labels do not match stays an orphan.
  await t.client.create(podsRes, ns, { metadata: { name: `db-${N}`, labels: { app: 'other' } }, spec: podTemplate.spec });

  controller = new StatefulSetController(countingClient());
  await controller.start();
  // OnDelete: the adopted pods are not replaced by a rolling update while the test looks.
  const set = await t.client.create(t.client.resource('apps', 'statefulsets'), ns, {
    metadata: { name: 'db' },
    spec: { serviceName: 'db', replicas: N, selector: { matchLabels: { app: 'db' } }, updateStrategy: { type: 'OnDelete' }, template: podTemplate },
  });
  const ownedBySet = (p: Obj) => (p.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === set.metadata.uid && r.controller);
  await waitUntil(async () => (await t.client.list(podsRes, { namespace: ns })).items.filter(ownedBySet).length === N, 20_000, () => 'not every orphan was adopted');

  const pods = (await t.client.list(podsRes, { namespace: ns })).items;
  for (const p of pods) {
    if (p.metadata.name === `db-${N}`) assert.equal(ownedBySet(p), false, 'a pod that does not match was adopted');
    else assert.equal(p.metadata.uid, before.get(p.metadata.name), `${p.metadata.name} was replaced, not adopted`);
  }
  assert.equal(pods.length, N + 1);
  assert.equal(patches.count, N, 'one patch per adopted pod');
  assert.ok(patches.max > 1, `the controller adopted one pod at a time (${patches.max} at most under way)`);
});
