// The pure decisions of `ordinal migrate`: key mapping and etcd-sized transactions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyLayout } from '../../src/storage/etcd/keys.ts';
import { batches, planMigration } from '../../src/storage/migrate/plan.ts';
import { storedResources } from '../../src/apiserver/stored-resources.ts';

const layout = new KeyLayout(storedResources(), '/registry');

test('rows map to kube-apiserver keys; keys that are not objects are skipped', () => {
  const plan = planMigration(
    [
      { key: '/registry/apps/statefulsets/default/web', value: '{"a":1}' },
      { key: '/registry/core/services/default/web', value: '{}' },
      { key: '/registry/core/endpoints/default/web', value: '{}' },
      { key: '/registry/db.example.com/dbclusters/default/orders', value: '{}' },
      { key: '/registry/apiextensions.k8s.io/customresourcedefinitions/dbclusters.db.example.com', value: '{}' },
      { key: 'meta', value: '{}' },
    ],
    layout,
  );
  assert.deepEqual(plan.puts.map((p) => p.etcdKey), [
    '/registry/statefulsets/default/web',
    '/registry/services/specs/default/web',
    '/registry/services/endpoints/default/web',
    '/registry/db.example.com/dbclusters/default/orders',
    '/registry/apiextensions.k8s.io/customresourcedefinitions/dbclusters.db.example.com',
  ]);
  assert.equal(plan.puts[0].value, '{"a":1}');
  assert.deepEqual(plan.skipped, ['meta']);
});

test('another prefix is honoured', () => {
  const plan = planMigration([{ key: '/registry/core/pods/default/web-0', value: '{}' }], new KeyLayout(storedResources(), '/other/'));
  assert.equal(plan.puts[0].etcdKey, '/other/pods/default/web-0');
});

test('batches stay under the operation and byte limits, in order', () => {
  const puts = Array.from({ length: 250 }, (_, i) => ({ etcdKey: `/registry/k${i}`, value: 'x'.repeat(10) }));
  const byOps = batches(puts, 100, 1 << 20);
  assert.deepEqual(byOps.map((b) => b.length), [100, 100, 50]);
  assert.deepEqual(byOps.flat(), puts);
  const big = [{ etcdKey: 'a', value: 'x'.repeat(600) }, { etcdKey: 'b', value: 'x'.repeat(600) }, { etcdKey: 'c', value: 'x'.repeat(2000) }, { etcdKey: 'd', value: 'x' }];
  assert.deepEqual(batches(big, 100, 1500).map((b) => b.map((p) => p.etcdKey)), [['a', 'b'], ['c'], ['d']]);
  assert.deepEqual(batches([], 100, 10), []);
});
