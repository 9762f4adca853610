// The SQLite store keeps only revisions in memory once values are on disk, and the watch cache
// keeps only a short tail of events decoded: what they answer must not change for that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite.ts';
import { WatchCache, encode } from '../../src/storage/cache.ts';

async function withStore(fn: (store: SqliteStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-storage-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  try {
    await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const cm = (name: string, data: Record<string, string> = {}) => JSON.stringify({ kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data });
const KEY = (name: string) => `/registry/core/configmaps/ns/${name}`;

test('sqlite store: values read back from the file after commit, pending ones from memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-storage-'));
  const path = join(dir, 'state.db');
  const store = new SqliteStore(path);
  try {
    const a = await store.create(KEY('a'), cm('a', { v: '1' }));
    const a2 = await store.update(KEY('a'), cm('a', { v: '2' }), a.modRev);
    await store.create(KEY('b'), cm('b'));
    assert.equal((await store.get(KEY('a')))?.value, cm('a', { v: '2' }));
    assert.equal((await store.get(KEY('a')))?.modRev, a2.modRev);
    assert.equal((await store.get(KEY('a')))?.createRev, a.createRev);
    // A write not yet committed is seen at once by get and list.
    const pending = store.update(KEY('b'), cm('b', { v: 'x' }), (await store.get(KEY('b')))!.modRev);
    assert.equal((await store.get(KEY('b')))?.value, cm('b', { v: 'x' }));
    const listed = await store.list('/registry/core/configmaps/');
    assert.deepEqual(listed.kvs.map((kv) => [kv.key, kv.value]), [
      [KEY('a'), cm('a', { v: '2' })],
      [KEY('b'), cm('b', { v: 'x' })],
    ]);
    await pending;
    const del = await store.delete(KEY('a'));
    assert.equal(del.rev, store.currentRevision());
    assert.equal(await store.get(KEY('a')), undefined);
    assert.deepEqual((await store.list('/registry/')).kvs.map((kv) => kv.key), [KEY('b')]);
    await assert.rejects(store.update(KEY('b'), cm('b'), a.modRev), /modified/);

    // The log has every previous value, though memory no longer had it.
    const h = store.history(0, store.currentRevision())!;
    assert.deepEqual(
      h.map((e) => [e.type, e.key, e.prev === undefined ? null : JSON.parse(e.prev).data]),
      [
        ['put', KEY('a'), null],
        ['put', KEY('a'), { v: '1' }],
        ['put', KEY('b'), null],
        ['put', KEY('b'), {}],
        ['delete', KEY('a'), { v: '2' }],
      ],
    );
    assert.deepEqual(store.history(1, 3, '/registry/core/configmaps/ns/b')!.map((e) => e.rev), [3]);
    assert.equal(store.history(0, store.currentRevision() + 1), undefined, 'not yet committed');

  } finally {
    await store.close();
  }
  // A restarted store reads its index from the file.
  const again = new SqliteStore(path);
  try {
    assert.equal((await again.get(KEY('b')))?.value, cm('b', { v: 'x' }));
    assert.equal(again.currentRevision(), 5);
  } finally {
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('watch cache: a watcher resuming from before the in-memory tail gets the events from the log', async () => {
  await withStore(async (store) => {
    const cache = new WatchCache(store, 100);
    await cache.start();
    const first = await store.create(KEY('a'), cm('a', { v: '0' }));
    let rev = first.modRev;
    // Far more bytes than the tail keeps: each value is about 1 MB.
    const big = 'x'.repeat(1 << 20);
    for (let i = 1; i <= 12; i++) rev = (await store.update(KEY('a'), cm('a', { v: String(i), big }), rev)).modRev;
    await store.delete(KEY('a'));
    await cache.waitFor(store.currentRevision());
    const all = cache.eventsSince(0)!;
    assert.deepEqual(
      all.map((e) => [e.type, e.obj.data?.v, e.prevObj?.data?.v, e.obj.metadata.resourceVersion]),
      [['ADDED', '0', undefined, String(first.modRev)], ...Array.from({ length: 12 }, (_, i) => ['MODIFIED', String(i + 1), String(i), String(first.modRev + i + 1)]), ['DELETED', '12', '12', String(first.modRev + 13)]],
    );
    // The newest event is the one watchers got live, not a copy.
    assert.equal(cache.eventsSince(first.modRev + 12)!.length, 1);
    assert.deepEqual(cache.eventsSince(0, '/registry/core/secrets/'), []);
  });
});

test('watch cache: revisions older than the history capacity are gone (410)', async () => {
  await withStore(async (store) => {
    const cache = new WatchCache(store, 5);
    await cache.start();
    let kv = await store.create(KEY('a'), cm('a'));
    const firstRev = kv.modRev;
    for (let i = 0; i < 10; i++) kv = await store.update(KEY('a'), cm('a', { i: String(i) }), kv.modRev);
    await cache.waitFor(kv.modRev);
    assert.equal(cache.eventsSince(firstRev), undefined);
    assert.equal(cache.oldestResumable(), kv.modRev - 5);
    assert.equal(cache.eventsSince(kv.modRev - 5)!.length, 5);
    assert.equal(cache.get(KEY('a'))!.obj.data.i, '9');
  });
});

test('encode: one string per object while it is asked for', () => {
  const o = { kind: 'X', metadata: { name: 'a' } };
  assert.equal(encode(o), JSON.stringify(o));
  assert.equal(encode(o), encode(o));
});

test('watch cache: a subscription triggered by an indexed value gets exactly the changes a selection on it can see', async () => {
  await withStore(async (store) => {
    const cache = new WatchCache(store, 1000);
    const PODS = '/registry/core/pods/';
    cache.addIndex(PODS, 'spec.nodeName', (o) => o.spec?.nodeName || undefined);
    await cache.start();
    const pod = (name: string, node: string, v: number) => JSON.stringify({ kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: node ? { nodeName: node } : {}, status: { v } });
    const onA = (o: { spec?: { nodeName?: string } }) => o.spec?.nodeName === 'a';
    const seenAll: string[] = [];
    const seenTriggered: string[] = [];
    const describe = (e: { type: string; key: string; rev: number }) => `${e.type} ${e.key} ${e.rev}`;
    cache.subscribe(PODS, (e) => {
      // What a watch of spec.nodeName=a would send of this change, looking at every change.
      if ((e.prevObj !== undefined && onA(e.prevObj)) || onA(e.obj)) seenAll.push(describe(e));
    });
    const stop = cache.subscribe(PODS, (e) => seenTriggered.push(describe(e)), { field: 'spec.nodeName', value: 'a' });
    // Pods that appear unscheduled, are placed on a node (a or b), change, move between nodes and go.
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const revs = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const name = `p${rand(12)}`;
      const node = ['', 'a', 'b'][rand(3)];
      const rev = revs.get(name);
      if (rev === undefined) revs.set(name, (await store.create(PODS + 'ns/' + name, pod(name, node, i))).modRev);
      else if (rand(5) === 0) {
        await store.delete(PODS + 'ns/' + name);
        revs.delete(name);
      } else revs.set(name, (await store.update(PODS + 'ns/' + name, pod(name, node, i), rev)).modRev);
    }
    await cache.waitFor(store.currentRevision());
    assert.ok(seenAll.length > 50, `the sequence touches node a often enough (${seenAll.length})`);
    assert.deepEqual(seenTriggered, seenAll);
    // Unsubscribed, it gets nothing more.
    stop();
    const before = seenTriggered.length;
    await store.create(PODS + 'ns/late', pod('late', 'a', 0));
    await cache.waitFor(store.currentRevision());
    assert.equal(seenTriggered.length, before);
    assert.throws(() => cache.subscribe(PODS, () => {}, { field: 'status.phase', value: 'Running' }), /no index on status.phase/);
  });
});
