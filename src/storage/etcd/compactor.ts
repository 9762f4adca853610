// etcd keeps every revision until it is compacted. kube-apiserver compacts every
// --etcd-compaction-interval (5m), and several API servers on one etcd agree through one key:
// each round, a server writes the revision it saw last round into compact_rev_key if the key's
// version is still the one it saw last round (a transaction), then compacts that revision; the
// key's value is therefore the cluster's latest compaction. Whoever loses the transaction just learns the key's version and tries next round, so the
// cluster compacts about once per interval whatever the number of servers, always keeping at least
// one interval of history for watchers that resume.
import type { EtcdClient } from './client.ts';
import { Result, Target } from './messages.ts';

/** Upstream's key, outside the --etcd-prefix: the same etcd may serve a kube-apiserver's layout too. */
export const COMPACT_REV_KEY = 'compact_rev_key';

export { DEFAULT_COMPACTION_INTERVAL_MS } from './defaults.ts';

export interface CompactionRound {
  /** The compact_rev_key version this server expects next round. */
  version: number;
  /** etcd's revision as of this round, compacted next round. */
  rev: number;
  /** The revision compacted in this round, if any. */
  compacted?: number;
}

/**
 * One round: expectVersion and rev are what the previous round returned (0 and 0 at first, when
 * nothing is compacted). Resolves with the values for the next round.
 */
export async function compactRound(client: EtcdClient, expectVersion: number, rev: number, compact: (rev: number) => Promise<void>): Promise<CompactionRound> {
  const key = COMPACT_REV_KEY;
  const res = await client.txn({
    compare: [{ key, target: Target.Version, result: Result.Equal, value: expectVersion }],
    success: [{ put: { key, value: String(rev) } }],
    failure: [{ range: { key } }],
  });
  const current = res.revision;
  if (!res.succeeded) {
    // Another server went first: take its version of the key and try again next round.
    const r = res.responses[0];
    const version = r && 'range' in r ? (r.range.kvs[0]?.version ?? 0) : 0;
    return { version, rev: current };
  }
  if (rev === 0) return { version: expectVersion + 1, rev: current };
  await compact(rev);
  return { version: expectVersion + 1, rev: current, compacted: rev };
}

/** Runs rounds every intervalMs until stopped; errors are logged and the next round tries again. */
export function startCompactor(client: EtcdClient, intervalMs: number, compact: (rev: number) => Promise<void>, onError: (err: Error) => void): () => void {
  let version = 0;
  let rev = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      const next = await compactRound(client, version, rev, compact);
      version = next.version;
      rev = next.rev;
    } catch (err) {
      onError(err as Error);
    }
    if (!stopped) timer = setTimeout(tick, intervalMs).unref();
  };
  timer = setTimeout(tick, intervalMs).unref();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
