// The agent's index of pod workers by name: a pod replacing a force-deleted one of the same name
// waits until the old worker is done, and is handed back when the old one is forgotten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkersByKey } from '../../src/agent/workers-by-key.ts';

const worker = (key: string, uid: string) => {
  let done = false;
  return { key, uid, isDone: () => done, finish: () => (done = true) };
};

test('a worker is blocked only while another of the same name has not finished', () => {
  const index = new WorkersByKey<ReturnType<typeof worker>>();
  const old = worker('default/web-0', 'a');
  const other = worker('default/web-1', 'c');
  index.add(old);
  index.add(other);
  assert.equal(index.blocked(old), false, 'alone under its name');
  const replacement = worker('default/web-0', 'b');
  index.add(replacement);
  assert.equal(index.blocked(replacement), true, 'the old copy still runs');
  assert.equal(index.blocked(other), false, 'another name is not held up');
  old.finish();
  assert.equal(index.blocked(replacement), false, 'the old copy has stopped');
});

test('removing a worker hands back the others of its name, and forgets the name once empty', () => {
  const index = new WorkersByKey<ReturnType<typeof worker>>();
  const old = worker('default/web-0', 'a');
  const replacement = worker('default/web-0', 'b');
  index.add(old);
  index.add(replacement);
  assert.deepEqual(index.remove(old).map((w) => w.uid), ['b']);
  assert.equal(index.blocked(replacement), false, 'alone again');
  assert.deepEqual(index.remove(replacement), []);
  assert.deepEqual(index.remove(replacement), [], 'removing twice is harmless');
  const third = worker('default/web-0', 'c');
  index.add(third);
  assert.equal(index.blocked(third), false, 'a name forgotten starts afresh');
});
