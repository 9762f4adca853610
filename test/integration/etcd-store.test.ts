// The etcd driver against a real etcd: the Store contract's revisions, guards, change stream and
// compaction, and the layout an operator sees with etcdctl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { etcdMissing, startEtcd, type Etcd } from '../support/etcd.ts';
import { EtcdStore, prefixEnd } from '../../src/storage/etcd/store.ts';
import { KeyLayout } from '../../src/storage/etcd/keys.ts';
import { compactRound } from '../../src/storage/etcd/compactor.ts';
import { storedResources } from '../../src/apiserver/stored-resources.ts';
import { StoreError, type StoreEvent } from '../../src/storage/types.ts';
import { WatchCache } from '../../src/storage/cache.ts';

const skip = etcdMissing();
let etcd: Etcd;
const stores: EtcdStore[] = [];

function newStore(): EtcdStore {
  const s = new EtcdStore({ servers: [etcd.url], layout: new KeyLayout(storedResources()) });
  stores.push(s);
  return s;
}

before(async () => {
  if (!skip) etcd = await startEtcd();
});
after(async () => {
  for (const s of stores) await s.close();
  await etcd?.remove();
});

const code = (c: StoreError['code']) => (err: unknown) => err instanceof StoreError && err.code === c;

test('revisions: create, guarded update and delete are etcd transactions on the mod revision', { skip }, async () => {
  const s = newStore();
  await s.open();
  const key = '/registry/apps/statefulsets/default/web';
  const a = await s.create(key, '{"metadata":{"name":"web"}}');
  assert.equal(a.createRev, a.modRev);
  assert.equal(s.currentRevision(), a.modRev);
  await assert.rejects(s.create(key, '{}'), code('exists'));
  const b = await s.update(key, '{"metadata":{"name":"web"},"spec":{}}', a.modRev);
  assert.ok(b.modRev > a.modRev);
  assert.equal(b.createRev, a.createRev);
  await assert.rejects(s.update(key, '{}', a.modRev), code('conflict'));
  await assert.rejects(s.update('/registry/apps/statefulsets/default/none', '{}', 1), code('notfound'));
  const got = await s.get(key);
  assert.deepEqual(got, { key, value: '{"metadata":{"name":"web"},"spec":{}}', createRev: a.createRev, modRev: b.modRev });
  // What an operator sees: the upstream key and the JSON value.
  assert.match(await etcd.ctl(['get', '/registry/statefulsets/default/web', '--print-value-only']), /"spec":\{\}/);
  await assert.rejects(s.delete(key, a.modRev), code('conflict'));
  const d = await s.delete(key, b.modRev);
  assert.ok(d.rev > b.modRev);
  await assert.rejects(s.delete(key), code('notfound'));
  assert.equal(await s.get(key), undefined);
});

test('list is one snapshot at a revision, in Ordinal key order, across pages', { skip }, async () => {
  const s = newStore();
  for (let i = 0; i < 1200; i++) await s.create(`/registry/core/configmaps/many/c${String(i).padStart(4, '0')}`, `{"i":${i}}`);
  await s.create('/registry/core/services/many/svc', '{}');
  const { kvs, rev } = await s.list('/registry/');
  const mine = kvs.filter((kv) => kv.key.includes('/many/'));
  assert.equal(mine.length, 1201);
  assert.equal(rev, s.currentRevision());
  const keys = kvs.map((kv) => kv.key);
  assert.deepEqual(keys, [...keys].sort());
  assert.equal((await s.list('/registry/core/services/')).kvs.length, 1);
});

test('paging goes on past keys that are not UTF-8 (another program\'s, ignored)', { skip }, async () => {
  const s = newStore();
  await s.open();
  await s.create('/registry/core/configmaps/odd/a', '{"n":"a"}');
  // More than a page of them in a row, so that some page of the list ends on one.
  const foreign = '/registry/zz-another-program/';
  for (let i = 0; i < 1500; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => s.client.put(Buffer.concat([Buffer.from(`${foreign}k${String(i + j).padStart(4, '0')}`), Buffer.from([0xff, 0xfe])]), 'x')));
  }
  await s.create('/registry/core/configmaps/zodd/z', '{"n":"z"}');
  try {
    const { kvs } = await s.list('/registry/');
    assert.ok(kvs.every((kv) => !kv.key.includes('zz-another-program')));
    assert.deepEqual(kvs.filter((kv) => /odd\//.test(kv.key)).map((kv) => kv.key), ['/registry/core/configmaps/odd/a', '/registry/core/configmaps/zodd/z']);
  } finally {
    await s.client.deleteRange(foreign, prefixEnd(foreign));
  }
});

test('the watch delivers every change in revision order with the writer\'s decoded object, and progress past foreign keys', { skip }, async () => {
  const s = newStore();
  const writer = newStore();
  const start = await s.consistentRevision();
  const got: StoreEvent[] = [];
  let progress = 0;
  const stop = s.watch(start, (events, p) => {
    got.push(...events);
    if (p) progress = p;
  });
  const obj = { metadata: { name: 'p' } };
  const key = '/registry/core/pods/w/p';
  const c = await s.create(key, JSON.stringify(obj), { obj });
  const u = await writer.update(key, '{"metadata":{"name":"p"},"x":1}', c.modRev);
  const d = await s.delete(key);
  // A key outside the layout still moves the revision.
  await etcd.ctl(['put', 'someone-else', 'x']);
  const foreign = await s.consistentRevision();
  const deadline = Date.now() + 10_000;
  while (progress < foreign && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  stop();
  assert.deepEqual(
    got.map((e) => [e.type, e.rev, e.key]),
    [['put', c.modRev, key], ['put', u.modRev, key], ['delete', d.rev, key]],
  );
  assert.equal(got[0].decoded?.obj, obj, 'the writer\'s own object rides along');
  assert.equal(got[1].decoded, undefined, 'another server\'s write is decoded by the cache');
  // A live put names the revision it replaced (its previous value may be left out, as the contract allows).
  assert.equal(got[1].prevModRev, c.modRev);
  assert.equal(got[2].value, '{"metadata":{"name":"p"},"x":1}');
  assert.equal(got[2].prev, '{"metadata":{"name":"p"},"x":1}');
  assert.equal(got[2].prevModRev, u.modRev);
  assert.equal(progress, foreign);
});

test('two caches on one etcd agree, and a consistent read waits for the other server\'s write', { skip }, async () => {
  const a = newStore();
  const b = newStore();
  const ca = new WatchCache(a);
  const cb = new WatchCache(b);
  await ca.start();
  await cb.start();
  const kv = await a.create('/registry/core/configmaps/two/x', '{"metadata":{"name":"x"}}');
  await cb.waitFor(await b.consistentRevision());
  assert.equal(cb.get('/registry/core/configmaps/two/x')?.obj.metadata.resourceVersion, String(kv.modRev));
  assert.equal(cb.revision(), ca.revision() >= kv.modRev ? cb.revision() : -1);
  ca.close();
  cb.close();
});

test('compaction: upstream\'s protocol over compact_rev_key, one winner per round, and 410 territory after', { skip }, async () => {
  const a = newStore();
  const b = newStore();
  const compacted: number[] = [];
  const compact = async (rev: number) => {
    compacted.push(rev);
    await a.compact(rev);
  };
  // Round 1 records the revision; nothing is compacted on the first round.
  let ra = await compactRound(a.client, 0, 0, compact);
  assert.equal(ra.compacted, undefined);
  // Another server that has not seen the key loses and learns its version.
  const rb = await compactRound(b.client, 0, 0, compact);
  assert.equal(rb.compacted, undefined);
  assert.equal(rb.version, ra.version);
  await a.create('/registry/core/configmaps/c/after', '{}');
  ra = await compactRound(a.client, ra.version, ra.rev, compact);
  assert.equal(compacted.length, 1);
  assert.equal(ra.compacted, compacted[0]);
  assert.equal(a.compactedRevision(), compacted[0]);
  await assert.rejects(etcd.ctl(['get', 'x', `--rev=${compacted[0] - 1}`]), /compacted/);
  // A server that only watches learns of the compaction from the key's change.
  const watcher = newStore();
  const from = await watcher.consistentRevision();
  const stop = watcher.watch(from, () => {});
  await new Promise((r) => setTimeout(r, 300));
  ra = await compactRound(a.client, ra.version, ra.rev, compact);
  const deadline = Date.now() + 5000;
  while (watcher.compactedRevision() < compacted[1] && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  stop();
  assert.equal(watcher.compactedRevision(), compacted[1]);
});

test('the change stream survives an etcd restart and resumes where it stood', { skip }, async () => {
  const s = newStore();
  const from = await s.consistentRevision();
  const got: StoreEvent[] = [];
  const stop = s.watch(from, (events) => got.push(...events));
  const before = await s.create('/registry/core/configmaps/restart/before', '{}');
  const port = Number(new URL(etcd.url).port);
  await etcd.stop();
  etcd = await startEtcd({ dataDir: etcd.dataDir, port });
  // Another server writes while this one's stream is reconnecting.
  const other = newStore();
  const after = await other.create('/registry/core/configmaps/restart/after', '{}');
  const deadline = Date.now() + 20_000;
  while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  stop();
  assert.deepEqual(got.map((e) => [e.key, e.rev]), [['/registry/core/configmaps/restart/before', before.modRev], ['/registry/core/configmaps/restart/after', after.modRev]]);
  // And this server's own writes go through again.
  await s.create('/registry/core/configmaps/restart/again', '{}');
});
