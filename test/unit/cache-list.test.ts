// The watch cache's list(): whole buckets, namespace prefixes and pages after a key, compared with
// a model of the store through random creates, updates and deletes. A whole list keeps the
// bucket's entries in key order until one changes; lists in between read that array, the others
// look keys up: both must give the same answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite.ts';
import { WatchCache } from '../../src/storage/cache.ts';

const BUCKET = '/registry/core/configmaps/';
const NAMESPACES = ['a', 'b', 'b2', 'c'];

test('watch cache list: whole, by namespace and paged, the same whether the sorted entries are kept or not', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-cache-list-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  try {
    const cache = new WatchCache(store, 10_000);
    await cache.start();
    /** key → [modRev, version] */
    const model = new Map<string, [number, number]>();
    const check = (what: string) => {
      const keys = [...model.keys()].sort();
      const seen = (list: { key: string; obj: any; modRev: number }[]) => list.map((c) => `${c.key}@${c.modRev}:${c.obj.data.v}`);
      const expect = (ks: string[]) => ks.map((k) => `${k}@${model.get(k)![0]}:${model.get(k)![1]}`);
      const prefixes = [BUCKET, ...NAMESPACES.map((ns) => `${BUCKET}${ns}/`)];
      for (const prefix of prefixes) {
        const under = keys.filter((k) => k.startsWith(prefix));
        assert.deepEqual(seen(cache.list(BUCKET, prefix)), expect(under), `${what}: ${prefix}`);
        // Pages after each key of the list, and after keys before, inside and past it.
        for (const limit of [1, 3, Infinity]) {
          for (const after of [...under.filter((_, i) => i % 3 === 0), BUCKET, `${prefix}zzz`, `${BUCKET}a`, `${BUCKET}b/`]) {
            // The keys after `after`, up to the first one not under the prefix (a continue key
            // is always under its list's prefix; one before it gives nothing or the first keys).
            const want: string[] = [];
            for (const k of keys.filter((k) => k > after)) {
              if (!k.startsWith(prefix) || want.length === limit) break;
              want.push(k);
            }
            assert.deepEqual(seen(cache.list(BUCKET, prefix, after, limit)), expect(want), `${what}: ${prefix} after ${after} limit ${limit}`);
          }
        }
        assert.equal(cache.countAfter(BUCKET, prefix), under.length);
      }
    };
    for (let round = 0; round < 30; round++) {
      const ops = 1 + random(8);
      for (let i = 0; i < ops; i++) {
        const key = `${BUCKET}${NAMESPACES[random(NAMESPACES.length)]}/cm-${random(12)}`;
        const cur = model.get(key);
        const v = round * 100 + i;
        const value = (name: string) => JSON.stringify({ kind: 'ConfigMap', metadata: { name, namespace: key.split('/')[4] }, data: { v: String(v) } });
        if (!cur) model.set(key, [(await store.create(key, value(key.split('/')[5]))).modRev, v]);
        else if (random(3) === 0) {
          await store.delete(key, cur[0]);
          model.delete(key);
        } else model.set(key, [(await store.update(key, value(key.split('/')[5]), cur[0])).modRev, v]);
      }
      await cache.waitFor(store.currentRevision());
      // Pages first (no kept entries since the change), then a whole list (keeps them), then pages again (reading them).
      check(`round ${round}, before a whole list`);
      cache.list(BUCKET);
      check(`round ${round}, after a whole list`);
    }
    cache.close();
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
