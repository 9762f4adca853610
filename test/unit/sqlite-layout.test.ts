// The SQLite file holds each value once, in the log row of the change that wrote it: compaction
// must keep every value still current or still needed as a replayable change's previous value, and
// files of the first layout (values also in kv, previous values copied into the log) must open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../src/storage/sqlite.ts';
import { readSqliteObjects } from '../../src/storage/migrate/migrate.ts';

const KEY = (name: string) => `/registry/core/configmaps/ns/${name}`;
const cm = (name: string, v: string) => JSON.stringify({ kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data: { v } });

function tempFile(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-sqlite-layout-'));
  return { dir, path: join(dir, 'state.db') };
}

function logRevs(path: string): number[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare('SELECT rev FROM log ORDER BY rev').all() as { rev: number }[]).map((r) => r.rev);
  } finally {
    db.close();
  }
}

test('sqlite store: compaction keeps current values and the previous values of changes still replayable', async () => {
  const { dir, path } = tempFile();
  const store = new SqliteStore(path, { historyLimit: 1_000_000 });
  try {
    const a1 = await store.create(KEY('a'), cm('a', '1')); // rev 1
    const a2 = await store.update(KEY('a'), cm('a', '2'), a1.modRev); // rev 2
    await store.create(KEY('b'), cm('b', '1')); // rev 3
    await store.delete(KEY('b')); // rev 4
    await store.create(KEY('c'), cm('c', '1')); // rev 5
    await store.compact(3);
    const a3 = await store.update(KEY('a'), cm('a', '3'), a2.modRev); // rev 6
    await store.delete(KEY('c')); // rev 7
    assert.equal(store.compactedRevision(), 3);
    // Replaced at 2 (rev 1 goes); b's value at 3 is replaced by its deletion at 4, after the compaction: it stays.
    assert.deepEqual(logRevs(path), [2, 3, 4, 5, 6, 7]);
    const h = store.history(3, store.currentRevision())!;
    assert.deepEqual(
      h.map((e) => [e.rev, e.type, e.key, JSON.parse(e.value).data.v, e.prev === undefined ? null : JSON.parse(e.prev).data.v, e.prevModRev ?? null]),
      [
        [4, 'delete', KEY('b'), '1', '1', 3],
        [5, 'put', KEY('c'), '1', null, null],
        [6, 'put', KEY('a'), '3', '2', 2],
        [7, 'delete', KEY('c'), '1', '1', 5],
      ],
    );
    assert.equal(store.history(2, store.currentRevision()), undefined, 'compacted');

    await store.compact(7);
    // a's value at 6 is current; everything else up to 7 was replaced or deleted.
    assert.deepEqual(logRevs(path), [6]);
    assert.equal((await store.get(KEY('a')))?.value, cm('a', '3'));
    assert.deepEqual(store.history(7, 7), []);
    assert.equal(a3.modRev, 6);
  } finally {
    await store.close();
  }
  const again = new SqliteStore(path);
  try {
    assert.equal(again.compactedRevision(), 7);
    assert.equal(again.currentRevision(), 7);
    assert.deepEqual((await again.list('/registry/')).kvs.map((kv) => [kv.key, kv.value, kv.createRev, kv.modRev]), [[KEY('a'), cm('a', '3'), 1, 6]]);
    const a4 = await again.update(KEY('a'), cm('a', '4'), 6);
    assert.deepEqual(again.history(7, a4.modRev)!.map((e) => [e.rev, e.prev && JSON.parse(e.prev).data.v]), [[8, '3']]);
  } finally {
    await again.close();
  }
  assert.deepEqual(readSqliteObjects(path), [{ key: KEY('a'), value: cm('a', '4') }]);
  rmSync(dir, { recursive: true, force: true });
});

test('sqlite store: a file of the first layout opens with its objects, revisions and history', async () => {
  const { dir, path } = tempFile();
  // The first layout, as its writer left it: values in kv, previous values copied into the log,
  // history up to 2 compacted (a's value at 1 was current then, and is no longer in the log).
  const db = new DatabaseSync(path);
  db.exec(`
    PRAGMA journal_mode = WAL;
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE log (rev INTEGER PRIMARY KEY, type INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, create_rev INTEGER NOT NULL, prev TEXT, prev_mod_rev INTEGER);
    CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  `);
  const kv = db.prepare('INSERT INTO kv VALUES (?, ?, ?, ?)');
  const log = db.prepare('INSERT INTO log VALUES (?, ?, ?, ?, ?, ?, ?)');
  kv.run(KEY('a'), cm('a', '1'), 1, 1);
  kv.run(KEY('b'), cm('b', '2'), 2, 3);
  log.run(3, 0, KEY('b'), cm('b', '2'), 2, cm('b', '1'), 2);
  log.run(4, 0, KEY('c'), cm('c', '1'), 4, null, null);
  log.run(5, 1, KEY('c'), cm('c', '1'), 4, cm('c', '1'), 4);
  db.prepare('INSERT INTO meta VALUES (?, ?)').run('rev', 5);
  db.prepare('INSERT INTO meta VALUES (?, ?)').run('compacted', 2);
  db.close();
  assert.deepEqual(readSqliteObjects(path).map((r) => r.key), [KEY('a'), KEY('b')], 'the first layout is read as it is');

  const store = new SqliteStore(path);
  try {
    assert.equal(store.currentRevision(), 5);
    assert.deepEqual((await store.list('/registry/')).kvs.map((x) => [x.key, x.value, x.createRev, x.modRev]), [
      [KEY('a'), cm('a', '1'), 1, 1],
      [KEY('b'), cm('b', '2'), 2, 3],
    ]);
    assert.deepEqual(
      store.history(2, 5)!.map((e) => [e.rev, e.type, JSON.parse(e.value).data.v, e.prev && JSON.parse(e.prev).data.v]),
      [
        [3, 'put', '2', '1'],
        [4, 'put', '1', undefined],
        [5, 'delete', '1', '1'],
      ],
    );
    // New changes use the new layout; a's previous value is the row put back for it.
    const a = await store.update(KEY('a'), cm('a', '2'), 1);
    await store.delete(KEY('b'));
    assert.deepEqual(store.history(5, store.currentRevision())!.map((e) => [e.rev, e.type, JSON.parse(e.value).data.v, e.prev && JSON.parse(e.prev).data.v]), [
      [6, 'put', '2', '1'],
      [7, 'delete', '2', '2'],
    ]);
    assert.equal(a.modRev, 6);
  } finally {
    await store.close();
  }
  assert.deepEqual(readSqliteObjects(path), [{ key: KEY('a'), value: cm('a', '2') }]);
  rmSync(dir, { recursive: true, force: true });
});

test('sqlite store: the file index is brought up to date in bulk, and a restart replays the changes logged after it', async () => {
  const { dir, path } = tempFile();
  const store = new SqliteStore(path);
  const n = 5000;
  try {
    await Promise.all(Array.from({ length: n }, (_, i) => store.create(KEY(`k${i}`), cm(`k${i}`, '1'))));
    // Changes to keys indexed already and not yet: updates and deletions on both sides of the index's revision.
    await store.delete(KEY('k0'));
    await store.update(KEY('k1'), cm('k1', '2'), 2);
    const late = await store.create(KEY('late'), cm('late', '1'));
    await store.delete(KEY('late'));
    await store.update(KEY(`k${n - 1}`), cm(`k${n - 1}`, '2'), n);
    assert.equal(late.modRev, n + 3);
  } finally {
    await store.close();
  }
  const db = new DatabaseSync(path, { readOnly: true });
  const indexed = (db.prepare("SELECT value FROM meta WHERE name = 'indexed'").get() as { value: number }).value;
  const rows = (db.prepare('SELECT COUNT(*) AS n FROM kv').get() as { n: number }).n;
  db.close();
  assert.ok(indexed >= 4096 && indexed < n + 5, `indexed to ${indexed}`);
  assert.equal(rows > 4000, true, `${rows} keys in the file's index`);

  const again = new SqliteStore(path);
  try {
    const listed = (await again.list('/registry/')).kvs;
    assert.equal(listed.length, n - 1);
    assert.equal(listed.some((kv) => kv.key === KEY('k0') || kv.key === KEY('late')), false);
    // scan (how the watch cache loads) hands over the same, the changed keys' new values included.
    const scanned: { key: string; value: string; createRev: number; modRev: number }[] = [];
    assert.equal(again.scan('/registry/', (kv) => scanned.push(kv)), n + 5);
    assert.deepEqual(scanned.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), listed);
    assert.equal(scanned.find((kv) => kv.key === KEY('k1'))?.value, cm('k1', '2'));
    assert.deepEqual(await again.get(KEY('k1')), { key: KEY('k1'), value: cm('k1', '2'), createRev: 2, modRev: n + 2 });
    assert.deepEqual(await again.get(KEY(`k${n - 1}`)), { key: KEY(`k${n - 1}`), value: cm(`k${n - 1}`, '2'), createRev: n, modRev: n + 5 });
    assert.equal(again.currentRevision(), n + 5);
  } finally {
    await again.close();
  }
  assert.equal(readSqliteObjects(path).length, n - 1);
  rmSync(dir, { recursive: true, force: true });
});
