// Events expire a fixed time after they were last written, as with kube-apiserver's --event-ttl
// (default one hour; upstream attaches an etcd lease to every event write). Without it a busy
// cluster keeps every Scheduled/Pulled/Started event forever: 10,000 pods leave ~60,000 events.
//
// Expiry is tracked from watch arrivals: writes reach the watch in revision order, so the times
// they expire at are already sorted and a FIFO replaces a priority queue. Events found at start-up
// were written before we could watch, so their own timestamps say when (sorted once).
import type { Obj, ResourceDef } from '../api/resource.ts';
import type { Client } from '../client/client.ts';
import { ApiError } from './errors.ts';
import { log } from '../util/log.ts';

export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;

/** The latest write time an event's own fields record (ms since the epoch; 0 when none parses). */
export function lastWrittenMs(ev: Obj): number {
  let latest = 0;
  for (const t of [ev.metadata?.creationTimestamp, ev.firstTimestamp, ev.lastTimestamp, ev.eventTime, ev.series?.lastObservedTime]) {
    if (typeof t !== 'string') continue;
    const ms = Date.parse(t);
    if (ms > latest) latest = ms;
  }
  return latest;
}

export interface Expired {
  namespace: string;
  name: string;
  resourceVersion: string;
}

/**
 * Writes in the order they expire. A write that a later write of the same event superseded stays in
 * the queue but is skipped when it comes due: only the newest version's entry may expire the event.
 * Entries are three parallel arrays rather than an object each: starting 10,000 pods queues over
 * 100,000 event writes.
 */
export class ExpiryQueue {
  private keys: string[] = [];
  private versions: string[] = [];
  private times: number[] = [];
  private head = 0;
  /** The newest resourceVersion seen per event ("namespace/name"); deleted events are forgotten. */
  private readonly latest = new Map<string, string>();

  /** Appends a write; `at` must not be earlier than the previous append's (watch order guarantees it). */
  written(ev: Obj, at: number): void {
    const key = `${ev.metadata.namespace ?? ''}/${ev.metadata.name}`;
    const rv: string = ev.metadata.resourceVersion;
    this.latest.set(key, rv);
    this.keys.push(key);
    this.versions.push(rv);
    this.times.push(at);
  }

  deleted(ev: Obj): void {
    this.latest.delete(`${ev.metadata.namespace ?? ''}/${ev.metadata.name}`);
  }

  /** Replaces everything with a fresh listing whose write times come from the events themselves. */
  reset(events: Obj[], ttlMs: number): void {
    this.keys = [];
    this.versions = [];
    this.times = [];
    this.head = 0;
    this.latest.clear();
    const sorted = events.map((ev) => ({ ev, at: lastWrittenMs(ev) + ttlMs })).sort((a, b) => a.at - b.at);
    for (const { ev, at } of sorted) this.written(ev, at);
  }

  /** Removes and returns the current versions of events due at `now`. */
  due(now: number): Expired[] {
    const out: Expired[] = [];
    while (this.head < this.keys.length && this.times[this.head] <= now) {
      const i = this.head++;
      const key = this.keys[i];
      const rv = this.versions[i];
      if (this.latest.get(key) !== rv) continue;
      this.latest.delete(key);
      const slash = key.indexOf('/');
      out.push({ namespace: key.slice(0, slash), name: key.slice(slash + 1), resourceVersion: rv });
    }
    // Drop the consumed prefix now and then rather than shifting on every pop.
    if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.versions = this.versions.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  get size(): number {
    return this.latest.size;
  }
}

/** Deletes events once they are `ttlMs` past their last write. */
export class EventExpirer {
  private readonly client: Client;
  private readonly events: ResourceDef;
  private readonly ttlMs: number;
  private readonly queue = new ExpiryQueue();
  private stopWatch: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private sweeping = false;

  constructor(client: Client, ttlMs: number) {
    this.client = client;
    this.events = client.resource('', 'events');
    this.ttlMs = ttlMs;
  }

  async start(): Promise<void> {
    await this.relist();
    // A sweep is a comparison when nothing is due, so a short period costs nothing and keeps
    // short TTLs (tests, demos) accurate.
    const period = Math.min(1000, Math.max(50, Math.floor(this.ttlMs / 20)));
    this.timer = setInterval(() => void this.sweep(), period);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
    if (this.timer) clearInterval(this.timer);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    this.stopWatch?.();
    const { items, resourceVersion } = await this.client.list(this.events);
    this.queue.reset(items, this.ttlMs);
    this.stopWatch = this.client.watch(
      this.events,
      { resourceVersion },
      (type, obj) => {
        if (type === 'DELETED') this.queue.deleted(obj);
        else this.queue.written(obj, Date.now() + this.ttlMs);
      },
      (err) => {
        if (this.stopped) return;
        if (err) log('info', 'event-ttl', 'event watch ended, listing again', { reason: err.message });
        setTimeout(() => void this.relist().catch((e) => log('error', 'event-ttl', 'relist failed', { error: String(e) })), err ? 0 : 100).unref();
      },
    );
  }

  private async sweep(): Promise<void> {
    if (this.sweeping || this.stopped) return;
    this.sweeping = true;
    try {
      for (const ev of this.queue.due(Date.now())) {
        // The precondition keeps an event that was written again meanwhile: its new write is queued.
        await this.client
          .delete(this.events, ev.namespace, ev.name, { preconditions: { resourceVersion: ev.resourceVersion } })
          .catch((err) => {
            if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
          });
      }
    } catch (err) {
      log('error', 'event-ttl', 'expiring events failed', { error: String(err) });
    } finally {
      this.sweeping = false;
    }
  }
}
