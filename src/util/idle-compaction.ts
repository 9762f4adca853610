// Gives memory back once the cluster goes quiet after a burst of writes.
//
// Why: after a scale-up, V8's heap holds far more pages than its live objects need (dead versions
// and the free space between survivors), and nothing returns them while the cluster stays quiet:
// 10,000 pods left the process at 544-585 MiB RSS for minutes with 240 MiB live. V8's memory
// reducer, which would compact and release them, never ran on the main thread (traced with
// --trace-gc over 60 s idle; presumably the heartbeats of 100 simulated nodes keep its allocation
// rate above its "idle" threshold), and a plain full collection frees objects but keeps the pages (RSS 581
// -> 572 MiB). The collection that compacts and releases them (gc's 'last-resort' flavor, what
// the inspector's collectGarbage does) took RSS to 431 MiB, at the price of a pause of the event
// loop of about 0.9 s at 10,000 pods; hence only when quiet, only when worth it, at most once a
// minute, and --no-idle-compaction to turn it off.
//
// The decision is pure (decide); startIdleCompaction samples the heap and the store's revision
// and calls the gc() that --expose-gc (in node-flags.ts) provides.
import { getHeapStatistics } from 'node:v8';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { log } from './log.ts';

export interface Sample {
  /** ms, monotonic. */
  now: number;
  /** The memory V8's heap holds from the system (bytes): live objects, garbage and free space. */
  physical: number;
  /** The store's revision: how many writes there have been. */
  revision: number;
}

export interface CompactionState {
  /** The heap in use right after the last full collection (ours or V8's), or at start (bytes). */
  liveAfterLast: number;
  /** When our last collection ran (ms, monotonic), or -Infinity. */
  lastAt: number;
  /** The previous sample, to tell the write rate. */
  previous: Sample | undefined;
  /** The highest write rate (per second) since our last collection: the size of the burst. */
  peakRate: number;
  /** Consecutive quiet samples. */
  quiet: number;
}

export const newCompactionState = (live: number): CompactionState => ({ liveAfterLast: live, lastAt: -Infinity, previous: undefined, peakRate: 0, quiet: 0 });

/** Quiet: at most this many writes a second, or this share of the burst's peak if more (many nodes write heartbeats all the time)... */
export const QUIET_WRITES_PER_SECOND = 50;
export const QUIET_SHARE_OF_PEAK = 0.02;
/** ...for this many samples in a row. */
export const QUIET_SAMPLES = 2;
/** Worth a pause: the heap holds at least this much beyond the live size, and a quarter of it more. */
export const MIN_RECLAIM_BYTES = 64 * 1024 * 1024;
export const MIN_RECLAIM_SHARE = 0.25;
export const MIN_INTERVAL_MS = 60_000;

/** Whether to collect now. Updates the state's rate bookkeeping; the caller records the collection (collected). */
export function decide(state: CompactionState, s: Sample): boolean {
  const prev = state.previous;
  state.previous = s;
  if (!prev || s.now <= prev.now) return false;
  const rate = ((s.revision - prev.revision) * 1000) / (s.now - prev.now);
  state.peakRate = Math.max(state.peakRate, rate);
  state.quiet = rate <= Math.max(QUIET_WRITES_PER_SECOND, state.peakRate * QUIET_SHARE_OF_PEAK) ? state.quiet + 1 : 0;
  if (state.quiet < QUIET_SAMPLES || s.now - state.lastAt < MIN_INTERVAL_MS) return false;
  const reclaimable = s.physical - state.liveAfterLast;
  return reclaimable >= MIN_RECLAIM_BYTES && reclaimable >= state.liveAfterLast * MIN_RECLAIM_SHARE;
}

/** Records a collection made at `now` that left `live` bytes in use: the next needs a new burst, a minute apart. */
export function collected(state: CompactionState, now: number, live: number): void {
  state.liveAfterLast = live;
  state.lastAt = now;
  state.peakRate = 0;
  state.quiet = 0;
}

const SAMPLE_MS = 5_000;

/**
 * Samples every 5 s and collects when decide says so. Does nothing without gc() (a process not
 * started with --expose-gc, as the tests' in-process servers). Returns a stop function.
 */
export function startIdleCompaction(revision: () => number): () => void {
  const gc = (globalThis as { gc?: (opts: { type: string; execution: string; flavor: string }) => void }).gc;
  if (typeof gc !== 'function') return () => {};
  const state = newCompactionState(getHeapStatistics().used_heap_size);
  // V8's own full collections tell the live size too (heard a little after each: close enough).
  const majors = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) state.liveAfterLast = getHeapStatistics().used_heap_size;
    }
  });
  majors.observe({ entryTypes: ['gc'] });
  const timer = setInterval(() => {
    const before = getHeapStatistics();
    const s: Sample = { now: performance.now(), physical: before.total_physical_size, revision: revision() };
    if (!decide(state, s)) return;
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    const done = performance.now();
    const after = getHeapStatistics();
    collected(state, done, after.used_heap_size);
    log('info', 'ordinal', 'quiet after a burst of writes: compacted the heap and returned its free pages', {
      heapMiBBefore: Math.round(before.total_physical_size / 2 ** 20),
      heapMiBAfter: Math.round(after.total_physical_size / 2 ** 20),
      liveMiB: Math.round(after.used_heap_size / 2 ** 20),
      pauseMs: Math.round(done - s.now),
    });
  }, SAMPLE_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    majors.disconnect();
  };
}
