// A work queue as client-go's: a key queued many times is processed once, never by two workers at
// once, and a failed key is retried with exponential back-off.
export class WorkQueue {
  /**
   * Keys waiting, from `head` on. Taken by index, not shift(): shifting an array that pushes keep
   * refilling copies it, and a scale-up to 10,000 claims queues 10,000 keys at once.
   */
  private queue: string[] = [];
  private head = 0;
  /**
   * Keys taken before the others (see addUrgent). A key moved here from `queue` leaves a stale
   * entry behind, skipped when reached because it is no longer in `queued`.
   */
  private urgent: string[] = [];
  private urgentHead = 0;
  /** Keys waiting (in either lane), each once. */
  private readonly queued = new Set<string>();
  /** Queued keys that are in the urgent lane. */
  private readonly urgentKeys = new Set<string>();
  /** Stale entries left in `queue` by keys moved to the urgent lane: what len() leaves out. */
  private stale = 0;
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
   * Adds the key ahead of every key added with add(): for work that finishes what is already under
   * way (a pod whose claims just got bound only has its binding left), which in a plain FIFO would
   * wait behind a burst of new work (ten thousand pods not yet looked at). Among urgent keys, FIFO.
   * A key already waiting in the normal lane moves up; one running runs again after, urgently.
   */
  addUrgent(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirtyWhileProcessing.add(key);
      this.urgentKeys.add(key);
      return;
    }
    if (this.urgentKeys.has(key) && this.queued.has(key)) return;
    if (this.queued.has(key)) this.stale++;
    else this.queued.add(key);
    this.urgentKeys.add(key);
    this.urgent.push(key);
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
    return this.queue.length - this.head - this.stale + (this.urgent.length - this.urgentHead);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
  }

  /** The next key to run, urgent ones first; undefined when none waits. */
  private take(): string | undefined {
    if (this.urgentHead < this.urgent.length) {
      const key = this.urgent[this.urgentHead++];
      if (this.urgentHead >= 1024 && this.urgentHead * 2 >= this.urgent.length) {
        this.urgent = this.urgent.slice(this.urgentHead);
        this.urgentHead = 0;
      }
      this.urgentKeys.delete(key);
      return key;
    }
    while (this.head < this.queue.length) {
      const key = this.queue[this.head++];
      // Drop the taken part once it is most of the array, so memory follows what still waits.
      if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      // Moved to the urgent lane (and maybe run already): this entry is left over.
      if (!this.queued.has(key) || this.urgentKeys.has(key)) {
        this.stale--;
        continue;
      }
      return key;
    }
    return undefined;
  }

  private pump(): void {
    while (!this.stopped && this.running < this.concurrency) {
      const key = this.take();
      if (key === undefined) return;
      this.queued.delete(key);
      this.processing.add(key);
      this.running++;
      void this.worker(key).then(
        () => {
          this.failures.delete(key);
          this.done(key);
        },
        () => {
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
    if (this.dirtyWhileProcessing.delete(key)) {
      if (this.urgentKeys.delete(key)) this.addUrgent(key);
      else this.add(key);
    }
    this.pump();
  }
}
