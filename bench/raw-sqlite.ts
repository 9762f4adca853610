// The disk's floor and ceiling for the SQLite store: one fsync per write, and group commits of
// 100, with the store's own settings, on the same disk as the benchmarks' data dirs.
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { tempDir } from '../test/integration/harness.ts';

export function rawSqlite(n: number): { perCommit: number; batched: number } {
  const dir = tempDir('ordinal-bench-sqlite-');
  const db = new DatabaseSync(join(dir, 'raw.db'));
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;');
  const ins = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?)');
  const value = 'x'.repeat(900);
  let t = performance.now();
  for (let i = 0; i < n; i++) ins.run(`a${i}`, value);
  const perCommit = n / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < n * 5; i += 100) {
    db.exec('BEGIN');
    for (let j = i; j < i + 100; j++) ins.run(`b${j}`, value);
    db.exec('COMMIT');
  }
  const batched = (n * 5) / ((performance.now() - t) / 1000);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { perCommit, batched };
}
