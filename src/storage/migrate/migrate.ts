// `ordinal migrate`'s effects: read the current objects from a stopped cluster's SQLite file and
// write them to etcd under kube-apiserver's key layout. Only the objects move: resourceVersions
// become etcd's revisions (clients re-list, as after any etcd restore), while uids, names,
// generations and everything else in the objects stay as they were. The SQLite change log is
// history and is not carried over.
import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { Etcd3 } from 'etcd3';
import { etcdClientOptions, prefixEnd } from '../etcd/store.ts';
import { KeyLayout, type GroupResource } from '../etcd/keys.ts';
import { batches, planMigration, type SourceRow } from './plan.ts';
import { hasColumn, readIndex } from '../sqlite-schema.ts';

export interface MigrateOptions {
  sqliteFile: string;
  servers: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  prefix: string;
  /** Replace whatever is under the prefix instead of refusing. */
  overwrite: boolean;
  builtins: GroupResource[];
  progress?: (written: number, total: number) => void;
}

export interface MigrateResult {
  written: number;
  skipped: string[];
  /** Keys removed from under the prefix first (overwrite only). */
  removed: number;
  /** etcd's revision after the last write. */
  revision: number;
}

export function readSqliteObjects(file: string): SourceRow[] {
  if (!existsSync(file)) throw new Error(`${file} does not exist: is --from-data-dir the data dir of a cluster on the SQLite store?`);
  // Read-only, so a mistaken path or a running server is never changed by the migration.
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    // Files of the first layout keep current values in kv; later ones only in the log (sqlite-schema.ts).
    if (hasColumn(db, 'kv', 'value')) return db.prepare('SELECT key, value FROM kv ORDER BY key').all() as unknown as SourceRow[];
    const value = db.prepare('SELECT value FROM log WHERE rev = ?');
    return [...readIndex(db)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, e]) => ({ key, value: (value.get(e.modRev) as { value: string }).value }));
  } finally {
    db.close();
  }
}

export async function migrateSqliteToEtcd(o: MigrateOptions): Promise<MigrateResult> {
  const layout = new KeyLayout(o.builtins, o.prefix);
  const plan = planMigration(readSqliteObjects(o.sqliteFile), layout);
  const client = new Etcd3(etcdClientOptions(o));
  const under = Buffer.from(`${layout.prefix}/`);
  const end = prefixEnd(`${layout.prefix}/`);
  try {
    const existing = await client.kv.range({ key: under, range_end: end, count_only: true });
    const count = Number(existing.count ?? 0);
    let removed = 0;
    if (count > 0) {
      if (!o.overwrite) throw new Error(`etcd already holds ${count} keys under ${layout.prefix}/: refusing to overwrite them (stop the servers using it and pass --overwrite to replace them)`);
      const del = await client.kv.deleteRange({ key: under, range_end: end });
      removed = Number(del.deleted ?? 0);
    }
    let written = 0;
    let revision = 0;
    for (const batch of batches(plan.puts)) {
      // Each key must still be absent: a server started against this etcd meanwhile must not have
      // its writes replaced silently.
      const res = await client.kv.txn({
        compare: batch.map((p) => ({ key: Buffer.from(p.etcdKey), target: 'Create' as const, result: 'Equal' as const, create_revision: 0 })),
        success: batch.map((p) => ({ request_put: { key: Buffer.from(p.etcdKey), value: Buffer.from(p.value) } })),
      });
      if (!res.succeeded) throw new Error(`keys appeared under ${layout.prefix}/ while migrating (is a server using this etcd?); ${written} of ${plan.puts.length} objects were written`);
      revision = Number(res.header?.revision ?? 0);
      written += batch.length;
      o.progress?.(written, plan.puts.length);
    }
    return { written, skipped: plan.skipped, removed, revision };
  } finally {
    client.close();
  }
}
