// One timer serving many keys, each at or a little after the time it asked for (agent/due-queue.ts).
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { DueQueue, slotDueMs, slotWidthMs } from '../../src/agent/due-queue.ts';

test('slots are at most an eighth of the delay, never earlier than asked, and on one grid', () => {
  assert.equal(slotWidthMs(0), 250);
  assert.equal(slotWidthMs(2000), 250);
  assert.equal(slotWidthMs(3999), 250);
  assert.equal(slotWidthMs(4000), 500);
  assert.equal(slotWidthMs(8000), 1000);
  assert.equal(slotWidthMs(60_000), 4000);
  for (let i = 0; i < 2000; i++) {
    const delay = 1 + Math.floor(Math.random() * 120_000);
    const at = 1_700_000_000_000 + Math.floor(Math.random() * 1e7);
    const due = slotDueMs(at, delay);
    assert.ok(due >= at, `due ${due} before ${at}`);
    assert.ok(due - at < Math.max(250, delay / 8), `delay ${delay}: served ${due - at} ms late`);
    assert.ok(slotWidthMs(delay) <= Math.max(250, delay / 8));
    assert.equal(due % 250, 0);
  }
});

test('keys are served once, at their slot, through one timer; rescheduling and cancelling replace the time', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  try {
    const served: string[] = [];
    const q = new DueQueue<string>((k) => served.push(k));
    q.schedule('a', 1000);
    q.schedule('b', 1100);
    q.schedule('c', 5000);
    q.schedule('d', 0);
    assert.equal(q.size, 4);
    mock.timers.tick(0);
    assert.deepEqual(served, ['d'], 'delay 0 goes in the next wake-up');
    mock.timers.tick(999);
    assert.deepEqual(served, ['d'], 'nothing before its time');
    mock.timers.tick(1);
    assert.deepEqual(served, ['d', 'a']);
    mock.timers.tick(250);
    assert.deepEqual(served, ['d', 'a', 'b'], 'b within its 250 ms slot');
    q.schedule('c', 200); // moved earlier
    q.schedule('e', 300);
    q.cancel('e');
    mock.timers.tick(250);
    assert.deepEqual(served, ['d', 'a', 'b', 'c']);
    mock.timers.tick(10_000);
    assert.deepEqual(served, ['d', 'a', 'b', 'c'], 'served once; cancelled never');
    assert.equal(q.size, 0);
    // A key served can schedule itself again from its own serving.
    const again = new DueQueue<string>((k) => {
      served.push(`again ${k}`);
      if (served.length < 8) again.schedule(k, 2000);
    });
    again.schedule('x', 2000);
    for (let i = 0; i < 6; i++) mock.timers.tick(1000);
    assert.deepEqual(served.slice(4), ['again x', 'again x', 'again x']);
    again.stop();
    q.schedule('z', 10);
    q.stop();
    mock.timers.tick(1000);
    assert.equal(served.includes('z'), false, 'a stopped queue serves nothing');
  } finally {
    mock.timers.reset();
  }
});
