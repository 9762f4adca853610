// The provisioner's batched directory maker: every directory exists with the exact mode once its
// promise resolves, nested paths get their parents, failures reach the caller, and it still works
// (the slow way) after being stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { DirectoryMaker } from '../../src/controllers/volume/directories.ts';

test('directories made in batches exist with mode 0777 when their promises resolve', async () => {
  const root = mkdtempSync(join(os.tmpdir(), 'ordinal-dirs-'));
  const maker = new DirectoryMaker(0o777);
  try {
    const paths = Array.from({ length: 50 }, (_, i) => join(root, `pvc-${i}`));
    await Promise.all(paths.map((p) => maker.make(p)));
    for (const p of paths) {
      const st = statSync(p);
      assert.ok(st.isDirectory());
      assert.equal(st.mode & 0o777, 0o777);
    }
    // Again (already there) and nested (parents missing): both fine.
    await maker.make(paths[0]);
    await maker.make(join(root, 'a', 'b', 'c'));
    assert.equal(statSync(join(root, 'a', 'b', 'c')).mode & 0o777, 0o777);
    // A file in the way is an error for that path only.
    writeFileSync(join(root, 'file'), '');
    const results = await Promise.allSettled([maker.make(join(root, 'file', 'x')), maker.make(join(root, 'ok'))]);
    assert.equal(results[0].status, 'rejected');
    assert.equal((results[0] as PromiseRejectedResult).reason.code, 'ENOTDIR');
    assert.equal(results[1].status, 'fulfilled');
    maker.stop();
    await maker.make(join(root, 'after-stop'));
    assert.equal(statSync(join(root, 'after-stop')).mode & 0o777, 0o777);
  } finally {
    maker.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
