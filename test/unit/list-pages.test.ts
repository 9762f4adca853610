// Pages from the watch cache: a limited list visits no more than the page, and the count of what
// remains is the length an unlimited list would have had, for namespaces and after any key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatchCache } from '../../src/storage/cache.ts';
import type { Store } from '../../src/storage/types.ts';

const B = '/registry/core/configmaps/';
const keys = [
  ...['a', 'b', 'c', 'd'].map((n) => `${B}ns1/${n}`),
  ...['a', 'b'].map((n) => `${B}ns10/${n}`),
  ...['x', 'y', 'z'].map((n) => `${B}ns2/${n}`),
  '/registry/core/configmapsx/ns1/q',
  '/registry/core/pods/ns1/p',
];

async function cache(): Promise<WatchCache> {
  const kvs = keys.map((key, i) => ({ key, value: JSON.stringify({ metadata: { name: key } }), createRev: i + 1, modRev: i + 1 }));
  const store = { driver: 'fake', currentRevision: () => kvs.length, compactedRevision: () => 0, list: async () => ({ kvs, rev: kvs.length }), watch: () => () => {} } as unknown as Store;
  const c = new WatchCache(store);
  await c.start();
  return c;
}

test('list with a limit gives the first entries of the unlimited list; countAfter its length', async () => {
  const c = await cache();
  try {
    for (const prefix of [B, `${B}ns1/`, `${B}ns10/`, `${B}ns2/`, `${B}ns3/`, `${B}ns0/`]) {
      for (const afterKey of [undefined, `${B}ns1/a`, `${B}ns1/d`, `${B}ns10/b`, `${B}ns2/y`, `${B}ns2/z`, `${B}zz`, '/registry/core/configmaps/']) {
        const all = c.list(B, prefix, afterKey);
        assert.equal(c.countAfter(B, prefix, afterKey), all.length, `${prefix} after ${afterKey}`);
        for (const limit of [1, 2, 3, 100]) assert.deepEqual(c.list(B, prefix, afterKey, limit).map((e) => e.key), all.slice(0, limit).map((e) => e.key));
      }
    }
    assert.deepEqual(c.list(B, `${B}ns1/`).map((e) => e.key), keys.slice(0, 4), 'ns10 is not under ns1/');
    assert.equal(c.countAfter('/registry/core/none/'), 0);
  } finally {
    c.close();
  }
});
