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

test('randomized: every key is served once, at or after its time and within its slot; cancelled or replaced times never', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 5_000_000 });
  try {
    let seed = 7;
    const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const want = new Map<number, { at: number; delay: number }>();
    const servedAt = new Map<number, number>();
    const q = new DueQueue<number>((k) => {
      assert.equal(servedAt.has(k), false, `key ${k} served twice`);
      servedAt.set(k, Date.now());
    });
    for (let step = 0; step < 3000; step++) {
      const k = Math.floor(r() * 400);
      if (servedAt.has(k)) continue;
      const roll = r();
      if (roll < 0.15) {
        q.cancel(k);
        want.delete(k);
      } else if (roll < 0.7) {
        const delay = r() < 0.1 ? 0 : Math.floor(r() * 70_000);
        q.schedule(k, delay);
        want.set(k, { at: Date.now() + delay, delay });
      } else mock.timers.tick(Math.floor(r() * 400));
    }
    for (let i = 0; i < 800; i++) mock.timers.tick(100);
    assert.equal(q.size, 0);
    assert.deepEqual([...servedAt.keys()].sort((a, b) => a - b), [...want.keys()].sort((a, b) => a - b), 'served exactly the keys still scheduled');
    for (const [k, { at, delay }] of want) {
      const got = servedAt.get(k)!;
      assert.ok(got >= at, `key ${k} served ${at - got} ms early`);
      // The clock moves in ticks of up to 400 ms, which add to the slot's rounding.
      assert.ok(got - at <= Math.max(250, delay / 8) + 400, `key ${k} (delay ${delay}) served ${got - at} ms late`);
    }
  } finally {
    mock.timers.reset();
  }
});
