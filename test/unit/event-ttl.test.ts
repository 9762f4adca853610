import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpiryQueue, lastWrittenMs } from '../../src/apiserver/event-ttl.ts';
import { parseGoDuration } from '../../src/util/duration.ts';
import type { Obj } from '../../src/api/resource.ts';

const ev = (name: string, rv: string, fields: Record<string, unknown> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { namespace: 'default', name, resourceVersion: rv, creationTimestamp: '2026-01-01T00:00:00Z' },
  ...fields,
});

test('Go durations as upstream flags take them', () => {
  assert.equal(parseGoDuration('1h'), 3_600_000);
  assert.equal(parseGoDuration('1h0m0s'), 3_600_000);
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('90s'), 90_000);
  assert.equal(parseGoDuration('1.5s'), 1500);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.equal(parseGoDuration('0'), 0);
  for (const bad of ['', '10', 'h', '1d', '1 h', 'abc']) assert.throws(() => parseGoDuration(bad), /invalid duration/, bad);
});

test('an event was last written at its latest timestamp', () => {
  assert.equal(lastWrittenMs(ev('a', '1')), Date.parse('2026-01-01T00:00:00Z'));
  assert.equal(lastWrittenMs(ev('a', '1', { lastTimestamp: '2026-01-01T00:05:00Z', firstTimestamp: '2026-01-01T00:00:00Z' })), Date.parse('2026-01-01T00:05:00Z'));
  assert.equal(lastWrittenMs(ev('a', '1', { eventTime: '2026-01-01T00:01:00.123456Z', series: { count: 3, lastObservedTime: '2026-01-01T00:09:00.000000Z' } })), Date.parse('2026-01-01T00:09:00Z'));
  assert.equal(lastWrittenMs({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'x' } } as Obj), 0);
});

test('writes expire in order; a rewritten event expires from its newest write only', () => {
  const q = new ExpiryQueue();
  q.written(ev('a', '1'), 100);
  q.written(ev('b', '2'), 110);
  q.written(ev('a', '3'), 150);
  assert.deepEqual(q.due(99), []);
  assert.deepEqual(q.due(120), [{ namespace: 'default', name: 'b', resourceVersion: '2' }]);
  assert.deepEqual(q.due(149), []);
  assert.deepEqual(q.due(150), [{ namespace: 'default', name: 'a', resourceVersion: '3' }]);
  assert.equal(q.size, 0);
});

test('a deleted event is not expired; one created again is, from its new write', () => {
  const q = new ExpiryQueue();
  q.written(ev('a', '1'), 100);
  q.deleted(ev('a', '1'));
  assert.deepEqual(q.due(200), []);
  q.written(ev('a', '5'), 300);
  assert.deepEqual(q.due(300), [{ namespace: 'default', name: 'a', resourceVersion: '5' }]);
});

test('events found at start-up expire by their own timestamps, oldest first', () => {
  const q = new ExpiryQueue();
  const base = Date.parse('2026-01-01T00:00:00Z');
  q.reset([ev('late', '7', { lastTimestamp: '2026-01-01T00:10:00Z' }), ev('early', '8')], 60_000);
  assert.deepEqual(q.due(base + 60_000).map((e) => e.name), ['early']);
  assert.deepEqual(q.due(base + 11 * 60_000).map((e) => e.name), ['late']);
});

test('the consumed prefix is dropped without losing entries', () => {
  const q = new ExpiryQueue();
  for (let i = 0; i < 3000; i++) q.written(ev(`e${i}`, String(i)), i);
  assert.equal(q.due(1999).length, 2000);
  q.written(ev('last', '9999'), 5000);
  assert.equal(q.due(10_000).length, 1001);
  assert.equal(q.size, 0);
});
