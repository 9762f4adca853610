// Bounded concurrency for a list of API calls: one call at a time pays a commit per item, all of
// them at once floods the store's queue; a few in flight share their commits.

/**
 * Runs fn over items with at most `limit` calls under way. Rejects with the first failure, once
 * the calls under way have ended; no call starts after a failure.
 */
export async function eachInFlight<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
}
