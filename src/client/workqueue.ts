// A work queue as client-go's: a key queued many times is processed once, never by two workers at
// once, and a failed key is retried with exponential back-off.
import { log, logEnabled } from '../util/log.ts';

/**
 * Errors that a mistake in the code throws, as opposed to what the API or the store answered.
 * (Not SyntaxError or RangeError: bad data throws those too, from JSON.parse or a date.)
 */
export function isProgrammingError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof ReferenceError;
}

export class WorkQueue {
  /**
   * Keys waiting, from `head` on. Taken by index, not shift(): shifting an array that pushes keep
   * refilling copies it, and a scale-up to 10,000 claims queues 10,000 keys at once.
   */
  private queue: string[] = [];
  private head = 0;
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtyWhileProcessing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly batching = new Set<string>();
  private readonly worker: (key: string) => Promise<void>;
  private readonly concurrency: number;
  private running = 0;
  private stopped = false;

  constructor(worker: (key: string) => Promise<void>, concurrency = 4) {
    this.worker = worker;
    this.concurrency = concurrency;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirtyWhileProcessing.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /**
   * Adds the key once `ms` from the first call: a burst of changes (e.g. a thousand pods of one
   * Service becoming Ready) costs one sync, not one per change. Upstream's
   * --endpoint-updates-batch-period does the same for the endpoints controllers.
   */
  addBatched(key: string, ms: number): void {
    if (this.batching.has(key)) return;
    this.batching.add(key);
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.batching.delete(key);
      this.add(key);
    }, ms);
    this.timers.add(t);
  }

  addAfter(key: string, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.add(key);
    }, ms);
    this.timers.add(t);
  }

  len(): number {
    return this.queue.length - this.head;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
  }

  private pump(): void {
    while (!this.stopped && this.running < this.concurrency && this.head < this.queue.length) {
      const key = this.queue[this.head++];
      // Drop the taken part once it is most of the array, so memory follows what still waits.
      if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.queued.delete(key);
      this.processing.add(key);
      this.running++;
      void this.worker(key).then(
        () => {
          this.failures.delete(key);
          this.done(key);
        },
        (err) => {
          // Retrying is the normal answer to a conflict or a missing object: said at debug only.
          // A worker's own bug (a TypeError, e.g. from writing to an object the cache froze with
          // ORDINAL_FREEZE_CACHE=1) is an error, said with its stack: it would otherwise retry
          // unseen for ever. (A stack is text built on demand: not for a line nobody reads.)
          const level = isProgrammingError(err) ? 'error' : 'debug';
          if (logEnabled(level)) log(level, 'workqueue', 'key failed, will retry', { key, error: String((err as Error)?.stack ?? err) });
          const n = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, n);
          this.done(key);
          this.addAfter(key, Math.min(5 * 2 ** n, 30_000));
        },
      );
    }
  }

  private done(key: string): void {
    this.processing.delete(key);
    this.running--;
    if (this.dirtyWhileProcessing.delete(key)) this.add(key);
    this.pump();
  }
}
