// The volume controller's recognition of its own writes' echoes (own-writes.ts): an echo needs no
// sync in either arrival order; anything else (somebody else's change, an event held while a
// write failed) still gets one, exactly once the write is answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OwnWrites } from '../../src/controllers/volume/own-writes.ts';

const at = (rv: string) => ({ metadata: { name: 'c', namespace: 'ns', resourceVersion: rv } });

/** A write the test answers by hand. */
function pendingWrite() {
  let answer!: (o: any) => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<any>((res, rej) => {
    answer = res;
    fail = rej;
  });
  return { write: () => promise, answer, fail };
}

test('an echo that arrives before the write is answered needs no sync', async () => {
  const own = new OwnWrites();
  let foreign = 0;
  const w = pendingWrite();
  const done = own.track('ns/c', w.write, () => foreign++);
  assert.equal(own.absorbs('ns/c', at('7')), true);
  w.answer(at('7'));
  assert.equal((await done).metadata.resourceVersion, '7');
  assert.equal(foreign, 0);
  // Nothing is left over: the next event is a change like any other.
  assert.equal(own.absorbs('ns/c', at('7')), false);
  assert.equal(own.absorbs('ns/c', at('9')), false);
});

test('an echo that arrives after the write is answered needs no sync, once', async () => {
  const own = new OwnWrites();
  let foreign = 0;
  await own.track('ns/c', async () => at('7'), () => foreign++);
  assert.equal(own.absorbs('ns/c', at('7')), true);
  assert.equal(own.absorbs('ns/c', at('7')), false);
  assert.equal(foreign, 0);
});

test("somebody else's change held during a write gets its sync when the write is answered", async () => {
  const own = new OwnWrites();
  let foreign = 0;
  const w = pendingWrite();
  const done = own.track('ns/c', w.write, () => foreign++);
  assert.equal(own.absorbs('ns/c', at('6')), true, 'held while the write is in flight');
  assert.equal(own.absorbs('ns/c', at('7')), true);
  assert.equal(foreign, 0);
  w.answer(at('7'));
  await done;
  assert.equal(foreign, 1);
});

test('events held while a write fails get their sync; other keys are not affected', async () => {
  const own = new OwnWrites();
  let foreign = 0;
  const w = pendingWrite();
  const done = own.track('ns/c', w.write, () => foreign++);
  assert.equal(own.absorbs('ns/other', at('5')), false);
  assert.equal(own.absorbs('ns/c', at('6')), true);
  w.fail(new Error('conflict'));
  await assert.rejects(done, /conflict/);
  assert.equal(foreign, 1);
  assert.equal(own.absorbs('ns/c', at('8')), false);
});

test('consecutive writes of a chain: every echo absorbed in either order, a later change is not', async () => {
  const own = new OwnWrites();
  let foreign = 0;
  // In-process order for the first write, HTTP order for the second.
  const w1 = pendingWrite();
  const d1 = own.track('ns/c', w1.write, () => foreign++);
  assert.equal(own.absorbs('ns/c', at('10')), true);
  w1.answer(at('10'));
  await d1;
  await own.track('ns/c', async () => at('12'), () => foreign++);
  assert.equal(own.absorbs('ns/c', at('12')), true);
  assert.equal(own.absorbs('ns/c', at('13')), false);
  assert.equal(foreign, 0);
});

test('forget drops remembered results of an object that is gone', async () => {
  const own = new OwnWrites();
  await own.track('ns/c', async () => at('7'), () => {});
  own.forget('ns/c');
  assert.equal(own.absorbs('ns/c', at('7')), false);
});

test('a result whose echo never comes is dropped once a newer version of the object arrives', async () => {
  const own = new OwnWrites();
  await own.track('ns/c', async () => at('7'), () => {});
  assert.equal(own.size, 1);
  // The watch skipped 7 (say a relist brought 9): 7 can no longer come, and nothing is remembered.
  assert.equal(own.absorbs('ns/c', at('9')), false);
  assert.equal(own.size, 0);
  assert.equal(own.absorbs('ns/c', at('7')), false);
});

test('an older event does not drop a result still to be echoed (over HTTP the answer comes first)', async () => {
  const own = new OwnWrites();
  await own.track('ns/c', async () => at('12'), () => {});
  assert.equal(own.absorbs('ns/c', at('11')), false, "somebody else's earlier change");
  assert.equal(own.absorbs('ns/c', at('12')), true);
  assert.equal(own.size, 0);
});

test('a foreign change held during a write drops the older results it supersedes', async () => {
  const own = new OwnWrites();
  let foreign = 0;
  await own.track('ns/c', async () => at('5'), () => foreign++);
  const w = pendingWrite();
  const done = own.track('ns/c', w.write, () => foreign++);
  // 6 is somebody else's; 5's echo was lost, so it will never come after 6.
  assert.equal(own.absorbs('ns/c', at('6')), true);
  w.fail(new Error('conflict'));
  await assert.rejects(done);
  assert.equal(foreign, 1);
  assert.equal(own.size, 0);
});

test('at most 4096 objects are remembered, oldest first out, never one with a write in flight', async () => {
  const own = new OwnWrites();
  const w = pendingWrite();
  const inFlight = own.track('ns/busy', w.write, () => {});
  for (let i = 0; i < 5000; i++) await own.track(`ns/c${i}`, async () => at(String(100 + i)), () => {});
  assert.equal(own.size, 4096);
  assert.equal(own.absorbs('ns/c0', at('100')), false, 'the oldest was dropped: a spare sync at worst');
  assert.equal(own.absorbs('ns/c4999', at('5099')), true, 'the newest is kept');
  assert.equal(own.absorbs('ns/busy', at('1')), true, 'the write in flight still holds its events');
  w.answer(at('1'));
  await inFlight;
});

test('begin/end: the caller hears whether an event held meanwhile was somebody else’s', () => {
  const own = new OwnWrites();
  own.begin('v');
  assert.equal(own.absorbs('v', at('3')), true);
  assert.equal(own.end('v', at('3')), false, 'only its own echo was held');
  own.begin('v');
  assert.equal(own.absorbs('v', at('4')), true);
  assert.equal(own.end('v', undefined), true, 'the write failed: the held change needs its sync');
  assert.equal(own.size, 0);
});
