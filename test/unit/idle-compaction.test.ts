// When the API server compacts its heap after a burst of writes (src/util/idle-compaction.ts):
// only once the writes have been quiet for two samples, only when the heap holds enough beyond the
// live objects, and at most once a minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collected, decide, newCompactionState, MIN_INTERVAL_MS, type CompactionState } from '../../src/util/idle-compaction.ts';

const MiB = 2 ** 20;

/** Feeds samples 5 s apart with the given writes per second; returns the decisions. */
function run(state: CompactionState, start: { t: number; rev: number }, steps: { rate: number; physicalMiB: number }[]): boolean[] {
  const out: boolean[] = [];
  for (const s of steps) {
    start.t += 5000;
    start.rev += s.rate * 5;
    out.push(decide(state, { now: start.t, physical: s.physicalMiB * MiB, revision: start.rev }));
  }
  return out;
}

test('after a burst, the heap is compacted on the second quiet sample, and not again within a minute', () => {
  const state = newCompactionState(20 * MiB);
  const clock = { t: 0, rev: 0 };
  // A scale-up: thousands of writes a second while the heap grows; V8's own collections say 240 MiB live.
  const during = run(state, clock, [
    { rate: 0, physicalMiB: 30 },
    { rate: 9000, physicalMiB: 200 },
    { rate: 11000, physicalMiB: 380 },
  ]);
  state.liveAfterLast = 240 * MiB;
  assert.deepEqual(during, [false, false, false]);
  // Heartbeats only (30 writes/s): the first quiet sample waits, the second collects.
  assert.deepEqual(run(state, clock, [{ rate: 30, physicalMiB: 390 }, { rate: 30, physicalMiB: 390 }]), [false, true]);
  collected(state, clock.t, 240 * MiB);
  // The heap regrows at once (say another burst came and went): not within the minute.
  const soon = run(state, clock, [
    { rate: 5000, physicalMiB: 380 },
    { rate: 20, physicalMiB: 390 },
    { rate: 20, physicalMiB: 390 },
  ]);
  assert.deepEqual(soon, [false, false, false]);
  // A minute after the last collection, quiet and worth it: again.
  const later: boolean[] = [];
  while (clock.t < MIN_INTERVAL_MS * 2) later.push(...run(state, clock, [{ rate: 20, physicalMiB: 390 }]));
  assert.ok(later.includes(true));
});

/** Whether a fresh state with `liveMiB` live ever collects over `samples` samples of the same rate and heap. */
function everCollects(liveMiB: number, samples: number, rate: number, physicalMiB: number): boolean {
  const state = newCompactionState(liveMiB * MiB);
  return run(state, { t: 0, rev: 0 }, Array.from({ length: samples }, () => ({ rate, physicalMiB }))).includes(true);
}

test('no compaction while writes go on, nor when the heap holds little beyond the live objects', () => {
  // A steady 400 writes a second with no burst before it is not quiet.
  assert.equal(everCollects(240, 10, 400, 400), false);
  // Quiet, but the heap holds only 40 MiB beyond the live size (less than 64 MiB): not worth a pause.
  assert.equal(everCollects(240, 5, 10, 280), false);
  // 70 MiB beyond, but under a quarter of a large live heap (400 MiB): not worth it either.
  assert.equal(everCollects(400, 5, 10, 470), false);
});

test('a cluster whose heartbeats pass 50 writes a second is quiet at a fiftieth of its burst', () => {
  const state = newCompactionState(240 * MiB);
  const clock = { t: 0, rev: 0 };
  const d = run(state, clock, [
    { rate: 300, physicalMiB: 300 },
    { rate: 20000, physicalMiB: 400 },
    { rate: 300, physicalMiB: 400 },
    { rate: 300, physicalMiB: 400 },
  ]);
  assert.deepEqual(d, [false, false, false, true]);
});
