// Directories made ahead of the provisioning sync (directories-ahead.ts): taken when the path
// matches, made again when the early attempt failed, made anew (and the early one removed) when
// the placement changed, and removed when the volume will not be created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DirectoriesAhead } from '../../src/controllers/volume/directories-ahead.ts';

function fakes(failFirst = new Set<string>()) {
  const made: string[] = [];
  const removed: string[] = [];
  const maker = {
    async make(path: string) {
      made.push(path);
      if (failFirst.delete(path)) throw Object.assign(new Error('disk says no'), { code: 'EIO' });
    },
  };
  return { made, removed, ahead: new DirectoriesAhead(maker, async (p) => void removed.push(p)) };
}

const settle = () => new Promise((r) => setImmediate(r));

test('a directory started ahead is taken without being made again', async () => {
  const { made, removed, ahead } = fakes();
  ahead.start('pvc-1', '/v/pvc-1');
  ahead.start('pvc-1', '/v/pvc-1');
  assert.equal(ahead.has('pvc-1'), true);
  await ahead.take('pvc-1', '/v/pvc-1');
  assert.deepEqual(made, ['/v/pvc-1']);
  assert.equal(ahead.has('pvc-1'), false);
  // Dropping after the take leaves the directory alone: its volume exists.
  ahead.drop('pvc-1');
  await settle();
  assert.deepEqual(removed, []);
});

test('without a start, take makes the directory itself', async () => {
  const { made, ahead } = fakes();
  await ahead.take('pvc-2', '/v/pvc-2');
  assert.deepEqual(made, ['/v/pvc-2']);
});

test('an early failure is tried again by take, and a second failure reaches the caller', async () => {
  const once = fakes(new Set(['/v/pvc-3']));
  once.ahead.start('pvc-3', '/v/pvc-3');
  await once.ahead.take('pvc-3', '/v/pvc-3');
  assert.deepEqual(once.made, ['/v/pvc-3', '/v/pvc-3']);

  const made: string[] = [];
  const failing = new DirectoriesAhead(
    {
      async make(p) {
        made.push(p);
        throw Object.assign(new Error('disk says no'), { code: 'EIO' });
      },
    },
    async () => {},
  );
  failing.start('pvc-4', '/v/pvc-4');
  await assert.rejects(failing.take('pvc-4', '/v/pvc-4'), /disk says no/);
  assert.equal(made.length, 2);
});

test('a placement that changed: the new path is made and the early directory removed', async () => {
  const { made, removed, ahead } = fakes();
  ahead.start('pvc-5', '/v/pvc-5');
  await ahead.take('pvc-5', '/node-disk/pvc-5');
  await settle();
  assert.deepEqual(made, ['/v/pvc-5', '/node-disk/pvc-5']);
  assert.deepEqual(removed, ['/v/pvc-5']);
});

test('a volume that will not be created gets its early directory removed, once made', async () => {
  const { removed, ahead } = fakes();
  ahead.start('pvc-6', '/v/pvc-6');
  ahead.drop('pvc-6');
  ahead.drop('pvc-6');
  await settle();
  assert.deepEqual(removed, ['/v/pvc-6']);
  assert.equal(ahead.has('pvc-6'), false);
  // An early attempt that failed leaves nothing to remove.
  const f = fakes(new Set(['/v/pvc-7']));
  f.ahead.start('pvc-7', '/v/pvc-7');
  f.ahead.drop('pvc-7');
  await settle();
  assert.deepEqual(f.removed, []);
});
