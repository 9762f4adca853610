// The SQLite writer thread can be started before the store knows its file (ordinal's entry point
// does so, so that the thread boots while modules load): writes made through a store that took
// such a thread must be committed to that store's file, exactly as with a thread of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../src/storage/sqlite.ts';
import { opensSqliteStore, startSqliteWriterEarly } from '../../src/storage/sqlite-writer-start.ts';

function committedKeys(path: string): string[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare('SELECT key FROM log ORDER BY rev').all() as { key: string }[]).map((r) => r.key);
  } finally {
    db.close();
  }
}

test('a store that takes the early writer commits to its own file; the next store starts a thread of its own', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-writer-start-'));
  try {
    startSqliteWriterEarly();
    // Let the early thread boot with no file, as it does while the modules load.
    await new Promise((r) => setTimeout(r, 200));
    const first = new SqliteStore(join(dir, 'a.db'));
    await first.create('/registry/core/configmaps/ns/a', '{"v":1}');
    const kv = await first.create('/registry/core/configmaps/ns/b', '{"v":2}');
    await first.update('/registry/core/configmaps/ns/b', '{"v":3}', kv.modRev);
    // The early thread was taken once: this store gets a new one.
    const second = new SqliteStore(join(dir, 'b.db'));
    await second.create('/registry/core/configmaps/ns/c', '{"v":4}');
    assert.deepEqual(committedKeys(join(dir, 'a.db')), ['/registry/core/configmaps/ns/a', '/registry/core/configmaps/ns/b', '/registry/core/configmaps/ns/b']);
    assert.deepEqual(committedKeys(join(dir, 'b.db')), ['/registry/core/configmaps/ns/c']);
    // Reopened, the first file holds the last value.
    const again = new SqliteStore(join(dir, 'a.db'));
    assert.equal((await again.get('/registry/core/configmaps/ns/b'))?.value, '{"v":3}');
    await Promise.all([first.close(), second.close(), again.close()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the writer is started early only for commands that open the SQLite store', () => {
  assert.equal(opensSqliteStore(['up']), true);
  assert.equal(opensSqliteStore(['up', '--runtime', 'sim', '--store', 'sqlite']), true);
  assert.equal(opensSqliteStore(['server', '--store=sqlite']), true);
  assert.equal(opensSqliteStore(['server', '--store', 'etcd', '--etcd-servers', 'https://127.0.0.1:2379']), false);
  assert.equal(opensSqliteStore(['up', '--store=etcd']), false);
  assert.equal(opensSqliteStore(['up', '--help']), false);
  assert.equal(opensSqliteStore([]), false);
  assert.equal(opensSqliteStore(['agent']), false);
});
