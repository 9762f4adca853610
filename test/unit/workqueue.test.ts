// The work queue's contract: FIFO, a key queued many times runs once, never twice at once (a key
// added while it runs runs again after), concurrency bounded, failures retried; and it holds
// through more keys than the array's compaction threshold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../src/client/workqueue.ts';
import { setLogLevel, type Level } from '../../src/util/log.ts';

const tick = () => new Promise((r) => setImmediate(r));

test('keys run in order, once however often queued, at most `concurrency` at a time', async () => {
  const ran: string[] = [];
  let running = 0;
  let peak = 0;
  const q = new WorkQueue(async (k) => {
    running++;
    peak = Math.max(peak, running);
    await tick();
    ran.push(k);
    running--;
  }, 2);
  for (const k of ['a', 'b', 'a', 'c', 'b', 'd']) q.add(k);
  assert.equal(q.len(), 2); // a and b taken at once, c and d wait
  while (ran.length < 4) await tick();
  assert.deepEqual(ran, ['a', 'b', 'c', 'd']);
  assert.equal(peak, 2);
  assert.equal(q.len(), 0);
  q.stop();
});

test('a key added while it runs runs once more afterwards, never concurrently', async () => {
  let release: () => void = () => {};
  let runs = 0;
  let concurrent = 0;
  const q = new WorkQueue(async () => {
    runs++;
    concurrent++;
    assert.equal(concurrent, 1);
    await new Promise<void>((r) => (release = r));
    concurrent--;
  }, 4);
  q.add('k');
  await tick();
  q.add('k');
  q.add('k');
  release();
  await tick();
  await tick();
  assert.equal(runs, 2);
  release();
  await tick();
  assert.equal(runs, 2);
  q.stop();
});

test('thousands of keys all run once, in order, across compactions', async () => {
  const ran: number[] = [];
  const q = new WorkQueue(async (k) => {
    ran.push(Number(k));
  }, 3);
  const n = 5000;
  for (let i = 0; i < n; i++) q.add(String(i));
  // Keys re-added while still queued are not run twice (the first three are already running).
  for (let i = 7; i < n; i += 7) q.add(String(i));
  while (ran.length < n) await tick();
  await tick();
  assert.equal(ran.length, n);
  assert.deepEqual(ran, [...ran].sort((a, b) => a - b));
  assert.equal(new Set(ran).size, n);
  // Keys added after the drain still run.
  q.add('late');
  await tick();
  await tick();
  assert.equal(q.len(), 0);
  q.stop();
});

test('a failed key is retried', async () => {
  let attempts = 0;
  const q = new WorkQueue(async () => {
    if (++attempts < 3) throw new Error('not yet');
  }, 1);
  q.add('k');
  const deadline = Date.now() + 2000;
  while (attempts < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(attempts, 3);
  q.stop();
});

test('a worker that throws a TypeError is logged at error level with its stack; an API failure only at debug', async () => {
  const lines: string[] = [];
  // At the default level, whatever the environment asks for.
  setLogLevel('info');
  const write = process.stderr.write;
  (process.stderr as any).write = (chunk: string) => (lines.push(String(chunk)), true);
  try {
    let calls = 0;
    const q = new WorkQueue(async (key) => {
      calls++;
      if (key === 'bug') (Object.freeze({}) as any).x = 1;
      if (key === 'conflict') throw Object.assign(new Error('the object has been modified'), { code: 409 });
    }, 2);
    q.add('bug');
    q.add('conflict');
    await new Promise((r) => setTimeout(r, 50));
    q.stop();
    assert.ok(calls >= 2);
  } finally {
    (process.stderr as any).write = write;
    setLogLevel(((process.env.ORDINAL_LOG_LEVEL as Level | undefined) ?? 'info'));
  }
  const logged = lines.map((l) => JSON.parse(l));
  const bug = logged.find((l) => l.key === 'bug');
  assert.equal(bug?.level, 'error');
  assert.match(bug.error, /TypeError: Cannot add property x, object is not extensible\n\s+at /);
  // Conflicts are the normal life of a controller: nothing above debug.
  assert.equal(logged.find((l) => l.key === 'conflict'), undefined);
});
