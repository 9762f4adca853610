// The pure half of `ordinal migrate`: which etcd keys the SQLite rows become, and how they are cut
// into transactions that etcd accepts. No I/O here, so the decisions are table-tested.
import type { KeyLayout } from '../etcd/keys.ts';

export interface SourceRow {
  /** Ordinal's internal key, '/registry/<group>/<resource>/[<ns>/]<name>'. */
  key: string;
  value: string;
}

export interface Put {
  etcdKey: string;
  value: string;
}

export interface MigrationPlan {
  puts: Put[];
  /** Rows whose key is not an Ordinal object key: reported, never written. */
  skipped: string[];
}

/**
 * etcd's defaults bound one request: --max-txn-ops 128 operations and --max-request-bytes 1.5 MiB.
 * Batches stay under both with room for the request's own framing.
 */
export const MAX_TXN_OPS = 100;
export const MAX_TXN_BYTES = 1024 * 1024;

export function planMigration(rows: Iterable<SourceRow>, layout: KeyLayout): MigrationPlan {
  const puts: Put[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const { key, value } of rows) {
    let etcdKey: string;
    try {
      etcdKey = layout.toEtcd(key);
    } catch {
      skipped.push(key);
      continue;
    }
    // A key that does not map back to itself would be invisible to the server after the move
    // (or collide with another): better to refuse than to lose it quietly.
    if (layout.fromEtcd(etcdKey) !== key) throw new Error(`key ${key} has no etcd form that maps back to it (${etcdKey})`);
    if (seen.has(etcdKey)) throw new Error(`two keys map to ${etcdKey}`);
    seen.add(etcdKey);
    puts.push({ etcdKey, value });
  }
  return { puts, skipped };
}

/** Cuts the puts into batches of at most maxOps operations and maxBytes of keys and values (a lone larger put gets a batch of its own). */
export function batches(puts: Put[], maxOps = MAX_TXN_OPS, maxBytes = MAX_TXN_BYTES): Put[][] {
  const out: Put[][] = [];
  let cur: Put[] = [];
  let bytes = 0;
  for (const p of puts) {
    const size = Buffer.byteLength(p.etcdKey) + Buffer.byteLength(p.value);
    if (cur.length && (cur.length >= maxOps || bytes + size > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(p);
    bytes += size;
  }
  if (cur.length) out.push(cur);
  return out;
}
