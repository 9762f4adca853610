// Events made one after another by one process get names that sort in that order, however many
// fall in one millisecond: kubectl describe lists events of the same second in name order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventName } from '../../src/client/events.ts';

test('event names of one process increase, also within one millisecond, in upstream form', () => {
  const now = Date.parse('2026-12-07T04:25:10Z');
  const names = Array.from({ length: 1000 }, (_, i) => eventName('web-4', now + Math.floor(i / 100)));
  for (let i = 1; i < names.length; i++) assert.ok(names[i - 1] < names[i], `${names[i - 1]} then ${names[i]}`);
  // `<object>.<hex stamp>`, the stamp in microseconds since the epoch.
  const stamp = parseInt(names[0].slice('web-4.'.length), 16);
  assert.match(names[0], /^web-4\.[0-9a-f]{13}$/);
  assert.ok(stamp >= now * 1000 && stamp < now * 1000 + 1000);
});
