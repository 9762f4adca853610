// How one ClusterIP:port spreads its clients: round robin over the backends, as kube-proxy's
// userspace mode did, and with sessionAffinity ClientIP a client keeps its backend while it comes
// back within the timeout and that backend is still listed. The clock is passed in, so the
// decisions are tested without waiting.
//
// A backend that just failed to connect is tried after the others for a while: endpoints of
// ordinary Services leave the plan when they stop being ready, but fixed backends (the API servers
// behind the `kubernetes` Service) stay listed when one is down, and every other new connection
// would otherwise wait on it first (up to the connect timeout when its machine is gone).
import type { Backend } from './plan.ts';

const id = (b: Backend) => `${b.host}:${b.port}`;

/** How long a backend that failed to connect goes to the end of the order. */
export const FAILED_BACKOFF_MS = 10_000;

export class Balancer {
  private backends: Backend[] = [];
  private next = 0;
  private affinitySeconds: number | undefined;
  /** Client IP → backend id and when the client was last seen (ms). */
  private readonly sticky = new Map<string, { backend: string; seen: number }>();
  /** Backend id → when it last failed to connect (ms). */
  private readonly failedAt = new Map<string, number>();

  constructor(backends: Backend[], affinitySeconds?: number) {
    this.update(backends, affinitySeconds);
  }

  /** New backends keep the rotation going and keep clients stuck to backends that remain. */
  update(backends: Backend[], affinitySeconds?: number): void {
    this.backends = backends.slice();
    if (this.next >= this.backends.length) this.next = 0;
    if (affinitySeconds !== this.affinitySeconds) this.sticky.clear();
    this.affinitySeconds = affinitySeconds;
    const ids = new Set(this.backends.map(id));
    for (const [client, s] of this.sticky) if (!ids.has(s.backend)) this.sticky.delete(client);
    for (const b of this.failedAt.keys()) if (!ids.has(b)) this.failedAt.delete(b);
  }

  /** A connection to `backend` failed: it goes after the others for FAILED_BACKOFF_MS. */
  failed(backend: Backend, now: number): void {
    this.failedAt.set(id(backend), now);
  }

  get size(): number {
    return this.backends.length;
  }

  /** The backends to try for a client, in order: its choice first, then the others (for retries). */
  pick(clientIP: string, now: number): Backend[] {
    const n = this.backends.length;
    if (!n) return [];
    let first = -1;
    if (this.affinitySeconds !== undefined) {
      const s = this.sticky.get(clientIP);
      if (s && now - s.seen <= this.affinitySeconds * 1000) first = this.backends.findIndex((b) => id(b) === s.backend);
    }
    if (first < 0) {
      first = this.next;
      this.next = (this.next + 1) % n;
    }
    if (this.affinitySeconds !== undefined) {
      this.sticky.set(clientIP, { backend: id(this.backends[first]!), seen: now });
      this.expire(now);
    }
    const order = Array.from({ length: n }, (_, i) => this.backends[(first + i) % n]!);
    if (!this.failedAt.size) return order;
    const down = (b: Backend) => {
      const at = this.failedAt.get(id(b));
      return at !== undefined && now - at < FAILED_BACKOFF_MS;
    };
    return [...order.filter((b) => !down(b)), ...order.filter(down)];
  }

  /** A client whose first choice failed sticks to the backend that answered instead. */
  settled(clientIP: string, backend: Backend, now: number): void {
    this.failedAt.delete(id(backend));
    if (this.affinitySeconds !== undefined) this.sticky.set(clientIP, { backend: id(backend), seen: now });
  }

  private expire(now: number): void {
    if (this.sticky.size < 1024) return;
    const limit = this.affinitySeconds! * 1000;
    for (const [client, s] of this.sticky) if (now - s.seen > limit) this.sticky.delete(client);
  }
}
