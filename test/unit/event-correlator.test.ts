// The EventCorrelator's decisions (upstream's tools/record/events_cache.go) on a fake clock:
// de-duplication into counts, aggregation past 10 similar events, the spam filter's burst and refill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventCorrelator, AGGREGATE_PREFIX, type EventDraft, type Correlation } from '../../src/client/event-correlator.ts';

function setup() {
  let now = 1_000_000;
  let n = 0;
  const c = new EventCorrelator({ now: () => now, newName: (obj) => `${obj}.${++n}` });
  return { c, advance: (ms: number) => (now += ms) };
}

const draft = (over: Partial<EventDraft> = {}, object = 'web'): EventDraft => ({
  type: 'Normal',
  reason: 'SuccessfulCreate',
  message: 'm',
  source: { component: 'statefulset-controller' },
  involvedObject: { kind: 'StatefulSet', namespace: 'default', name: object, uid: `uid-${object}`, apiVersion: 'apps/v1' },
  reportingController: 'statefulset-controller',
  ...over,
});

const written = (r: Correlation) => {
  assert.equal(r.skip, false);
  return r as Extract<Correlation, { skip: false }>;
};

test('an identical event patches the first one with a growing count and keeps its first time', () => {
  const { c, advance } = setup();
  const a = written(c.correlate(draft()));
  assert.deepEqual([a.patch, a.count, a.name], [false, 1, 'web.1']);
  advance(5000);
  const b = written(c.correlate(draft()));
  assert.deepEqual([b.patch, b.count, b.name, b.first], [true, 2, 'web.1', a.first]);
});

test('events differing in type, reason, object or source are kept apart', () => {
  const { c } = setup();
  const names = new Set([
    written(c.correlate(draft())).name,
    written(c.correlate(draft({ type: 'Warning' }))).name,
    written(c.correlate(draft({ reason: 'Other' }))).name,
    written(c.correlate(draft({}, 'db'))).name,
    written(c.correlate(draft({ source: { component: 'kubelet', host: 'n1' } }))).name,
  ]);
  assert.equal(names.size, 5);
});

test('the 10th event differing only by message starts one combined event whose count then grows', () => {
  const { c } = setup();
  for (let i = 0; i < 9; i++) {
    const r = written(c.correlate(draft({ message: `create Pod web-${i}` })));
    assert.equal(r.patch, false);
    assert.equal(r.message, `create Pod web-${i}`);
  }
  const tenth = written(c.correlate(draft({ message: 'create Pod web-9' })));
  assert.deepEqual([tenth.patch, tenth.count, tenth.message], [false, 1, `${AGGREGATE_PREFIX}create Pod web-9`]);
  const eleventh = written(c.correlate(draft({ message: 'create Pod web-10' })));
  assert.deepEqual([eleventh.patch, eleventh.count, eleventh.name, eleventh.message], [true, 2, tenth.name, `${AGGREGATE_PREFIX}create Pod web-10`]);
});

test('aggregation starts over after 10 minutes without a similar event', () => {
  const { c, advance } = setup();
  for (let i = 0; i < 9; i++) c.correlate(draft({ message: `m${i}` }));
  advance(600_001);
  const r = written(c.correlate(draft({ message: 'm9' })));
  assert.equal(r.message, 'm9');
});

test('a source may burst 25 events about one object, then one per 5 minutes; other objects are not limited', () => {
  const { c, advance } = setup();
  const outcomes = Array.from({ length: 30 }, (_, i) => c.correlate(draft({ reason: `R${i}` })).skip);
  assert.deepEqual(outcomes, [...Array(25).fill(false), ...Array(5).fill(true)]);
  assert.equal(c.correlate(draft({}, 'other')).skip, false);
  advance(299_000);
  assert.equal(c.correlate(draft({ reason: 'late' })).skip, true);
  advance(1_000);
  assert.equal(c.correlate(draft({ reason: 'later' })).skip, false);
  assert.equal(c.correlate(draft({ reason: 'latest' })).skip, true);
});

test('a dropped repeat still counts: the next written patch carries it', () => {
  const { c, advance } = setup();
  for (let i = 0; i < 24; i++) c.correlate(draft({ reason: `R${i}` }));
  written(c.correlate(draft({ reason: 'X' }))); // the 25th token
  assert.equal(c.correlate(draft({ reason: 'X' })).skip, true); // count 2, dropped
  advance(300_000);
  const r = written(c.correlate(draft({ reason: 'X' })));
  assert.deepEqual([r.patch, r.count], [true, 3]);
});

test('1,000 pods of one set: two reasons, a few dozen writes about the set', () => {
  const { c } = setup();
  let writes = 0;
  for (let i = 0; i < 1000; i++) {
    for (const message of [`create Claim www-web-${i} Pod web-${i} in StatefulSet web success`, `create Pod web-${i} in StatefulSet web successful`]) {
      if (!c.correlate(draft({ message })).skip) writes++;
    }
  }
  assert.equal(writes, 25);
});

test('short keys decide exactly as upstream full keys do, through LRU evictions', async () => {
  const { eventKey, aggregateKey, spamKey, AGGREGATE_MAX_EVENTS, AGGREGATE_INTERVAL_MS, SPAM_BURST, SPAM_QPS } = await import('../../src/client/event-correlator.ts');
  // Upstream's EventCorrelator with its full string keys, as this module had it, for reference.
  const lru = <V>() => {
    const m = new Map<string, V>();
    return {
      get(k: string) {
        const v = m.get(k);
        if (v !== undefined) {
          m.delete(k);
          m.set(k, v);
        }
        return v;
      },
      set(k: string, v: V) {
        m.delete(k);
        m.set(k, v);
        if (m.size > 4096) m.delete(m.keys().next().value!);
      },
    };
  };
  let now = 5_000_000;
  let n = 0;
  let m = 0;
  const groups = lru<{ messages: Set<string>; last: number }>();
  const seen = lru<{ count: number; first: number; name: string }>();
  const buckets = lru<{ tokens: number; at: number }>();
  const reference = (e: EventDraft): Correlation => {
    const aggKey = aggregateKey(e);
    let group = groups.get(aggKey);
    if (!group || now - group.last > AGGREGATE_INTERVAL_MS) group = { messages: new Set(), last: now };
    group.messages.add(e.message);
    group.last = now;
    groups.set(aggKey, group);
    let key = eventKey(e);
    let message = e.message;
    if (group.messages.size >= AGGREGATE_MAX_EVENTS) {
      group.messages.delete(group.messages.values().next().value!);
      key = aggKey;
      message = AGGREGATE_PREFIX + e.message;
    }
    const last = seen.get(key);
    const name = last?.name ?? `${e.involvedObject.name}.${++m}`;
    const count = (last?.count ?? 0) + 1;
    const first = last?.first ?? now;
    seen.set(key, { count, first, name });
    const sk = spamKey(e);
    const b = buckets.get(sk) ?? { tokens: SPAM_BURST, at: now };
    b.tokens = Math.min(SPAM_BURST, b.tokens + ((now - b.at) / 1000) * SPAM_QPS);
    b.at = now;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    buckets.set(sk, b);
    if (!ok) return { skip: true };
    return { skip: false, patch: last !== undefined, name, message, count, first };
  };
  const c = new EventCorrelator({ now: () => now, newName: (obj) => `${obj}.${++n}` });
  // A deterministic stream: 1,500 objects in several thousand keys (more than the caches hold), hot ones repeating, messages varying.
  let seed = 42;
  const rand = (k: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % k;
  };
  for (let i = 0; i < 60_000; i++) {
    const obj = rand(4) === 0 ? rand(20) : rand(1200);
    const e = draft({ reason: ['Pulled', 'Created', 'Started', 'Failed'][rand(4)], message: `m${rand(3) === 0 ? rand(15) : 0}`, type: rand(10) === 0 ? 'Warning' : 'Normal' }, `web-${obj}`);
    now += rand(3) * 500 + 250;
    assert.deepEqual(c.correlate(e), reference(e), `event ${i}`);
  }
});
