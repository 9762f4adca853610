// One timer serving many items, each at or a little after the time it asked for (agent/due-queue.ts).
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { DueQueue, slotIn, slotWidthMs, type DueItem } from '../../src/agent/due-queue.ts';

interface Item extends DueItem {
  name: string;
}
const items = (...names: string[]): Item[] => names.map((name) => ({ name }));

test('slots: a grid of at most a quarter of the window, the point nearest the target, never outside the window', () => {
  assert.equal(slotWidthMs(999), 0, 'no grid below a second');
  assert.equal(slotWidthMs(1000), 250);
  assert.equal(slotWidthMs(1999), 250);
  assert.equal(slotWidthMs(2000), 500);
  assert.equal(slotWidthMs(30_000), 4000);
  assert.equal(slotIn(1_000_000, 1_000_500, 1_000_123.5), 1_000_123.5, 'a narrow window keeps its time');
  assert.equal(slotIn(1_001_500, 1_002_500, 1_001_600), 1_001_500);
  assert.equal(slotIn(1_001_600, 1_002_600, 1_001_600), 1_001_750, 'the nearest grid point inside the window');
  for (let i = 0; i < 5000; i++) {
    const from = 1_700_000_000_000 + Math.random() * 1e7;
    const to = from + Math.random() * 120_000;
    const target = from + Math.random() * (to - from);
    const due = slotIn(from, to, target);
    assert.ok(due >= from && due <= to, `${due} outside [${from}, ${to}]`);
    const width = slotWidthMs(to - from);
    assert.ok(width <= (to - from) / 4);
    if (width) {
      assert.equal(due % width, 0);
      assert.ok(Math.abs(due - target) <= width, 'no farther than one grid step from the target');
    }
  }
});

test('items are served once, at their slot, through one timer; rescheduling and cancelling replace the time', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  try {
    const served: string[] = [];
    const q = new DueQueue<Item>((k) => served.push(k.name));
    const [a, b, c, d, e] = items('a', 'b', 'c', 'd', 'e');
    q.schedule(a!, 1000);
    q.schedule(b!, 1100);
    q.schedule(c!, 5000);
    q.schedule(d!, 0);
    assert.equal(q.size, 4);
    assert.equal(served.length, 0, 'never within the caller');
    await Promise.resolve();
    assert.deepEqual(served, ['d'], 'delay 0 is served right after the caller, without a timer');
    mock.timers.tick(999);
    assert.deepEqual(served, ['d'], 'nothing before its time');
    mock.timers.tick(1);
    assert.deepEqual(served, ['d', 'a']);
    mock.timers.tick(100);
    assert.deepEqual(served, ['d', 'a', 'b'], 'an exact time (no window) is kept');
    q.schedule(c!, 200); // moved earlier
    q.schedule(e!, 300);
    q.cancel(e!);
    assert.equal(q.size, 1);
    mock.timers.tick(200);
    assert.deepEqual(served, ['d', 'a', 'b', 'c']);
    // Items with windows are served somewhere in them.
    const [f, g] = items('f', 'g');
    q.schedule(f!, 3000, 5000);
    q.schedule(g!, 3500, 4500);
    mock.timers.tick(2999);
    assert.deepEqual(served.slice(4), [], 'not before its window');
    mock.timers.tick(2001);
    assert.deepEqual(served.slice(4).sort(), ['f', 'g'], 'both within their windows');
    served.splice(4);
    mock.timers.tick(10_000);
    assert.deepEqual(served, ['d', 'a', 'b', 'c'], 'served once; cancelled never');
    assert.equal(q.size, 0);
    // An item served can schedule itself again from its own serving.
    const again = new DueQueue<Item>((k) => {
      served.push(`again ${k.name}`);
      if (served.length < 8) again.schedule(k, 2000);
    });
    again.schedule({ name: 'x' }, 2000);
    for (let i = 0; i < 6; i++) mock.timers.tick(1000);
    assert.deepEqual(served.slice(4), ['again x', 'again x', 'again x']);
    again.stop();
    const z = { name: 'z' };
    q.schedule(z, 10);
    q.stop();
    mock.timers.tick(1000);
    assert.equal(served.includes('z'), false, 'a stopped queue serves nothing');
  } finally {
    mock.timers.reset();
  }
});

test('randomized: every item is served once, within its window; cancelled or replaced times never', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 5_000_000 });
  try {
    let seed = 7;
    const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const pool = Array.from({ length: 400 }, (_, i) => ({ name: String(i) }));
    const want = new Map<Item, { at: number; until: number }>();
    const servedAt = new Map<Item, number>();
    const q = new DueQueue<Item>((k) => {
      assert.equal(servedAt.has(k), false, `item ${k.name} served twice`);
      servedAt.set(k, Date.now());
    });
    for (let step = 0; step < 3000; step++) {
      const k = pool[Math.floor(r() * pool.length)]!;
      if (servedAt.has(k)) continue;
      const roll = r();
      if (roll < 0.15) {
        q.cancel(k);
        want.delete(k);
      } else if (roll < 0.7) {
        const from = r() < 0.1 ? 0 : Math.floor(r() * 70_000);
        const to = from + (r() < 0.3 ? 0 : Math.floor(r() * from * 0.5));
        q.schedule(k, from, to);
        want.set(k, { at: Date.now() + from, until: Date.now() + to });
      } else mock.timers.tick(Math.floor(r() * 400));
      assert.equal(q.size, [...want.keys()].filter((x) => !servedAt.has(x)).length);
      // Items due at once are served when the caller yields.
      await Promise.resolve();
    }
    for (let i = 0; i < 1200; i++) mock.timers.tick(100);
    assert.equal(q.size, 0);
    assert.deepEqual(
      [...servedAt.keys()].map((k) => k.name).sort(),
      [...want.keys()].map((k) => k.name).sort(),
      'served exactly the items still scheduled',
    );
    for (const [k, { at, until }] of want) {
      const got = servedAt.get(k)!;
      assert.ok(got >= at, `item ${k.name} served ${at - got} ms early`);
      // The clock moves in ticks of up to 400 ms, which may carry a serving past its window's end.
      assert.ok(got <= until + 400, `item ${k.name} served ${got - until} ms after its window`);
    }
  } finally {
    mock.timers.reset();
  }
});
