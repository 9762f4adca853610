// The provisioner's batched directory maker: every directory exists with the exact mode once its
// promise resolves, nested paths get their parents, failures reach the caller, and it still works
// (the slow way) after being stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { DirectoryMaker, GATHER_MS } from '../../src/controllers/volume/directories.ts';

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

test('requests made while a batch is at the helper go together in the next batch, not one batch per turn', async () => {
  const root = mkdtempSync(join(os.tmpdir(), 'ordinal-dirs-'));
  const maker = new DirectoryMaker(0o777);
  try {
    // One request per event-loop turn, as provisioning syncs make them: a turn is microseconds,
    // a batch at the helper at least one mkdir and one chmod (hundreds of microseconds).
    const turns = 200;
    const made: Promise<void>[] = [];
    for (let i = 0; i < turns; i++) {
      made.push(maker.make(join(root, `pvc-${i}`)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(made);
    for (let i = 0; i < turns; i++) assert.equal(statSync(join(root, `pvc-${i}`)).mode & 0o777, 0o777);
    assert.ok(maker.batchesSent < turns / 2, `${maker.batchesSent} batches for ${turns} requests in ${turns} turns`);
    // And a request after everything was answered is sent on its own, without waiting for more.
    const before = maker.batchesSent;
    await maker.make(join(root, 'later'));
    assert.equal(maker.batchesSent, before + 1);
  } finally {
    maker.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('requests waiting for the batch at the helper are still made when the maker is stopped', async () => {
  const root = mkdtempSync(join(os.tmpdir(), 'ordinal-dirs-'));
  const maker = new DirectoryMaker(0o777);
  try {
    const first = maker.make(join(root, 'first'));
    await new Promise((r) => setImmediate(r));
    // The first batch is at the helper now; this one waits for its answer, which never comes.
    const waiting = maker.make(join(root, 'waiting'));
    maker.stop();
    await Promise.all([first, waiting]);
    assert.equal(statSync(join(root, 'waiting')).mode & 0o777, 0o777);
  } finally {
    maker.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a steady stream of requests costs at most one batch per gathering time; a lone request goes at once', async () => {
  const root = mkdtempSync(join(os.tmpdir(), 'ordinal-dirs-'));
  const maker = new DirectoryMaker(0o777);
  try {
    // Warm the helper up, then wait out the gathering time.
    await maker.make(join(root, 'warm'));
    await new Promise((r) => setTimeout(r, GATHER_MS * 2));
    const lone = performance.now();
    const before = maker.batchesSent;
    await maker.make(join(root, 'lone'));
    assert.equal(maker.batchesSent, before + 1);
    assert.ok(performance.now() - lone < 1000, 'sent without waiting for company');
    // One request per millisecond, as claims come from the scheduler.
    const start = performance.now();
    const sentBefore = maker.batchesSent;
    const made: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      made.push(maker.make(join(root, `s-${i}`)));
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(made);
    const elapsed = performance.now() - start;
    const batches = maker.batchesSent - sentBefore;
    assert.ok(batches <= Math.ceil(elapsed / GATHER_MS) + 1, `${batches} batches in ${elapsed.toFixed(0)} ms`);
    assert.ok(batches < 60 / 2, `${batches} batches for 60 requests`);
    for (let i = 0; i < 60; i++) assert.equal(statSync(join(root, `s-${i}`)).mode & 0o777, 0o777);
  } finally {
    maker.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
