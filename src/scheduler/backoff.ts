// How long a pod that could not be scheduled waits before it is tried again, as upstream's
// scheduling queue: 1 s after its first failed attempt, doubling with each further one, at most
// 10 s (kube-scheduler's podInitialBackoffSeconds and podMaxBackoffSeconds defaults). A change
// that may make it schedulable (a node, a freed place, its claim) brings it back no sooner; its
// own first attempt is never delayed.

export const INITIAL_BACKOFF_MS = 1000;
export const MAX_BACKOFF_MS = 10_000;

/** The wait after `attempts` failed attempts (1 → 1 s, 2 → 2 s, 3 → 4 s, 4 → 8 s, then 10 s). */
export function backoffMs(attempts: number): number {
  let d = INITIAL_BACKOFF_MS;
  for (let i = 1; i < attempts; i++) {
    if (d > MAX_BACKOFF_MS - d) return MAX_BACKOFF_MS;
    d += d;
  }
  return Math.min(d, MAX_BACKOFF_MS);
}

/** Failed attempts per pod, and when each may be tried again. */
export class Backoffs {
  private readonly entries = new Map<string, { attempts: number; until: number }>();

  /** Records a failed attempt at `now`; returns when the pod may be tried again. */
  failed(key: string, now: number): number {
    const attempts = (this.entries.get(key)?.attempts ?? 0) + 1;
    const until = now + backoffMs(attempts);
    this.entries.set(key, { attempts, until });
    return until;
  }

  /** When the pod may be tried again, if it is still backing off at `now`. */
  waitUntil(key: string, now: number): number | undefined {
    const e = this.entries.get(key);
    return e && e.until > now ? e.until : undefined;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}
