// Upstream's RateLimitedTimedQueue: the nodes of one zone waiting for a NoExecute taint, taken in
// order, each only once the zone's token bucket (burst 1) has a token for it. Every look at the
// queue spends a token, as upstream's Try does, so a zone taints at most `qps` nodes per second.

export class TokenBucket {
  readonly qps: number;
  private tokens: number;
  private lastMs: number;
  private readonly burst: number;

  constructor(qps: number, nowMs: number, burst = 1) {
    this.qps = qps;
    this.burst = burst;
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  tryAccept(nowMs: number): boolean {
    if (this.qps <= 0) return false;
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.qps);
    this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface Entry {
  value: string;
  uid: string;
  processAtMs: number;
  addedAtMs: number;
}

export class RateLimitedTimedQueue {
  private entries: Entry[] = [];
  private limiter: TokenBucket;

  constructor(qps: number, nowMs: number) {
    this.limiter = new TokenBucket(qps, nowMs);
  }

  get qps(): number {
    return this.limiter.qps;
  }

  /** False when the value is queued already. */
  add(value: string, uid: string, nowMs: number): boolean {
    if (this.entries.some((e) => e.value === value)) return false;
    this.entries.push({ value, uid, processAtMs: nowMs, addedAtMs: nowMs });
    this.sort();
    return true;
  }

  remove(value: string): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.value !== value);
    return this.entries.length !== before;
  }

  has(value: string): boolean {
    return this.entries.some((e) => e.value === value);
  }

  values(): string[] {
    return this.entries.map((e) => e.value);
  }

  /**
   * Hands due values to `fn` while tokens last; fn answers done, or a delay before the value is
   * tried again.
   */
  async try(nowMs: () => number, fn: (value: string, uid: string) => Promise<{ done: true } | { done: false; retryMs: number }>): Promise<void> {
    for (let head = this.entries[0]; head; head = this.entries[0]) {
      if (!this.limiter.tryAccept(nowMs())) break;
      const now = nowMs();
      if (now < head.processAtMs) break;
      const r = await fn(head.value, head.uid);
      if (!this.entries.includes(head)) continue;
      if (r.done) this.entries = this.entries.filter((e) => e !== head);
      else {
        head.processAtMs = now + r.retryMs + 1;
        this.sort();
      }
    }
  }

  /**
   * A new rate. A zone that had just spent its token starts the new bucket empty, so changing
   * state does not let an extra node through.
   */
  swapLimiter(qps: number, nowMs: number): void {
    if (this.limiter.qps === qps) return;
    const next = new TokenBucket(qps, nowMs);
    if (qps > 0 && !this.limiter.tryAccept(nowMs)) next.tryAccept(nowMs);
    this.limiter = next;
  }

  private sort(): void {
    this.entries.sort((a, b) => a.processAtMs - b.processAtMs || a.addedAtMs - b.addedAtMs);
  }
}
