// The objects under a prefix as they were at an earlier revision, rebuilt from the current ones
// by undoing the cache's events since then. Exact for any revision whose events are still at
// hand (the watch cache's tail, or the store's log); the cost is one pass over the current
// objects plus one step per later change, so recent revisions, the usual case, are cheap.
import type { CacheEvent, CachedObject } from '../../storage/cache.ts';

/**
 * The state at `rev`, in key order, or undefined when it cannot be rebuilt exactly (history gone,
 * or an event that does not carry the object it replaced). `events` are those after rev, oldest
 * first, as WatchCache.eventsSince gives them; only keys under prefix count.
 */
export function stateAt(current: CachedObject[], events: CacheEvent[] | undefined, rev: number, prefix: string): CachedObject[] | undefined {
  if (!events) return undefined;
  const relevant = events.filter((e) => e.rev > rev && e.key.startsWith(prefix));
  if (!relevant.length) return current;
  const byKey = new Map<string, CachedObject>();
  for (const c of current) byKey.set(c.key, c);
  for (let i = relevant.length - 1; i >= 0; i--) {
    const e = relevant[i];
    if (e.type === 'ADDED') {
      byKey.delete(e.key);
      continue;
    }
    if (!e.prevObj) return undefined;
    const modRev = Number(e.prevObj.metadata?.resourceVersion);
    byKey.set(e.key, { key: e.key, obj: e.prevObj, modRev });
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
