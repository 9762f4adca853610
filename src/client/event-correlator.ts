// The decisions of client-go's EventCorrelator (tools/record/events_cache.go), apart from the
// writes they lead to, so they can be table-tested with a fake clock:
//   1. aggregation: once 10 events that differ only by message are seen about one object with one
//      reason within 10 minutes, further ones become a single "(combined from similar events): …"
//      event whose count grows;
//   2. de-duplication: an event equal to an earlier one (same source, object, type, reason,
//      message) patches that event's count and lastTimestamp instead of creating another;
//   3. spam filter: a source may send 25 events about one object at once, then one per 5 minutes
//      (a token bucket per source and object); the rest are dropped.
// A controller creating 1,000 pods of one StatefulSet thus writes a few dozen Events about the set,
// not 2,000, as upstream's controller manager does. Caches are LRUs of 4,096 entries, as upstream.

import { Lru } from '../util/lru.ts';

export interface EventDraft {
  type: string;
  reason: string;
  message: string;
  source: { component: string; host?: string };
  involvedObject: { kind?: string; namespace?: string; name?: string; uid?: string; apiVersion?: string; fieldPath?: string };
  reportingController?: string;
  reportingInstance?: string;
}

export type Correlation =
  | { skip: true }
  | {
      skip: false;
      /** Patch the event of that name (count, lastTimestamp, message), or create it. */
      patch: boolean;
      /** The name to create it under, or of the existing event to patch. */
      name: string;
      message: string;
      count: number;
      /** ms since the epoch of the first occurrence (the existing event's, when patching). */
      first: number;
    };

export const AGGREGATE_MAX_EVENTS = 10;
export const AGGREGATE_INTERVAL_MS = 600_000;
export const SPAM_BURST = 25;
export const SPAM_QPS = 1 / 300;
const LRU_SIZE = 4096;

const SEP = '';
const objectParts = (e: EventDraft) => [e.source.component, e.source.host ?? '', e.involvedObject.kind ?? '', e.involvedObject.namespace ?? '', e.involvedObject.name ?? ''];

/** Everything that makes two events "the same" occurrence (upstream's getEventKey). */
export function eventKey(e: EventDraft): string {
  const o = e.involvedObject;
  return [...objectParts(e), o.fieldPath ?? '', o.uid ?? '', o.apiVersion ?? '', e.type, e.reason, e.message].join(SEP);
}

/** Source and object: what the spam filter's token bucket is kept per (getSpamKey). */
export function spamKey(e: EventDraft): string {
  const o = e.involvedObject;
  // One array, not objectParts spread into another: this key is made for every event recorded.
  return [e.source.component, e.source.host ?? '', o.kind ?? '', o.namespace ?? '', o.name ?? '', o.uid ?? '', o.apiVersion ?? ''].join(SEP);
}

/** Events that differ only by message fall in one aggregate group (EventAggregatorByReasonFunc). */
export function aggregateKey(e: EventDraft): string {
  const o = e.involvedObject;
  return [...objectParts(e), o.uid ?? '', o.apiVersion ?? '', e.type, e.reason, e.reportingController ?? '', e.reportingInstance ?? ''].join(SEP);
}

/**
 * The keys the caches use: an object's id (see EventCorrelator.objects) with the rest of
 * eventKey's and aggregateKey's parts, separated; 'e' and 'a' keep the two kinds apart in `seen`.
 */
const SHORT_SEP = '\u0000';
const shortEventKey = (id: string, e: EventDraft) => ['e' + id, e.involvedObject.fieldPath ?? '', e.type, e.reason, e.message].join(SHORT_SEP);
const shortAggregateKey = (id: string, e: EventDraft) => ['a' + id, e.type, e.reason, e.reportingController ?? '', e.reportingInstance ?? ''].join(SHORT_SEP);

export const AGGREGATE_PREFIX = '(combined from similar events): ';

export class EventCorrelator {
  private readonly now: () => number;
  private readonly newName: (objectName: string, now: number) => string;
  /** A group's messages: one string until a second message arrives (most groups never see one). */
  private readonly groups = new Lru<{ messages: string | Set<string>; last: number }>(LRU_SIZE);
  private readonly seen = new Lru<{ count: number; first: number; name: string }>(LRU_SIZE);
  /**
   * A short id for each source+object (spamKey), which the three caches' keys start with instead
   * of its text: a kubelet's correlator keeps thousands of keys, each repeating the component,
   * host, kind, namespace, name, uid and apiVersion. Every call touches one key in each cache and
   * this one, so an object's id leaves this LRU only after its keys have left the others: an id is
   * never needed once forgotten, and a new one (never reused) starts with no history, as upstream.
   * The entry also holds the object's spam-filter token bucket: upstream keeps those in an LRU of
   * their own, but it is keyed by the same source+object and touched once per call, as this one,
   * so both would hold and evict the very same keys.
   */
  private readonly objects = new Lru<{ id: string; tokens: number; at: number }>(LRU_SIZE);
  private nextObject = 0;

  /** `newName` names a new event about an object (upstream: `<object>.<unix nanos in hex>`). */
  constructor(opts: { now?: () => number; newName: (objectName: string, now: number) => string }) {
    this.now = opts.now ?? Date.now;
    this.newName = opts.newName;
  }

  correlate(e: EventDraft): Correlation {
    const now = this.now();
    const record = this.objects.touch(spamKey(e), () => ({ id: (this.nextObject++).toString(36), tokens: SPAM_BURST, at: now }));
    const id = record.id;
    // Aggregation: past the threshold, the group's aggregate event stands in for this one.
    const aggKey = shortAggregateKey(id, e);
    let fresh = false;
    let group = this.groups.touch(aggKey, () => ((fresh = true), { messages: e.message, last: now }));
    if (!fresh) {
      if (now - group.last > AGGREGATE_INTERVAL_MS) this.groups.replace(aggKey, (group = { messages: e.message, last: now }));
      else if (typeof group.messages === 'string') {
        if (group.messages !== e.message) group.messages = new Set([group.messages, e.message]);
      } else group.messages.add(e.message);
      group.last = now;
    }
    let key = shortEventKey(id, e);
    let message = e.message;
    if (typeof group.messages !== 'string' && group.messages.size >= AGGREGATE_MAX_EVENTS) {
      // Keep the set at most at the threshold, as upstream's PopAny does.
      group.messages.delete(group.messages.values().next().value!);
      key = aggKey;
      message = AGGREGATE_PREFIX + e.message;
    }
    // De-duplication: an occurrence seen before bumps the count of the event it made.
    // Recorded before the filter decides, as upstream: a dropped repeat still counts.
    let made = false;
    const seen = this.seen.touch(key, () => ((made = true), { count: 1, first: now, name: this.newName(e.involvedObject.name ?? '', now) }));
    const repeat = !made;
    if (repeat) seen.count++;
    if (!accept(record, now)) return { skip: true };
    return { skip: false, patch: repeat, name: seen.name, message, count: seen.count, first: seen.first };
  }
}

/** One token from the source+object bucket, refilled at SPAM_QPS up to SPAM_BURST. */
function accept(b: { tokens: number; at: number }, now: number): boolean {
  b.tokens = Math.min(SPAM_BURST, b.tokens + ((now - b.at) / 1000) * SPAM_QPS);
  b.at = now;
  const ok = b.tokens >= 1;
  if (ok) b.tokens -= 1;
  return ok;
}
