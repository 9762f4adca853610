// Seeing through containerd's lag in recording an exit: the main process's /proc entry, the PID in
// the verbose status, and the bounded wait for containerd to agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidFromInfo, processGone, untilSettled } from '../../src/agent/runtime/cri/exit-lag.ts';

test('processGone: missing, zombie and dead tasks are gone; running and sleeping ones are not', () => {
  const root = mkdtempSync(join(tmpdir(), 'ordinal-proc-'));
  try {
    const stat = (pid: number, comm: string, state: string) => {
      mkdirSync(join(root, String(pid)));
      writeFileSync(join(root, String(pid), 'stat'), `${pid} (${comm}) ${state} 1 ${pid} ${pid} 0 -1\n`);
    };
    stat(10, 'sh', 'S');
    stat(11, 'echo', 'Z');
    stat(12, 'odd) name (x', 'R');
    stat(13, 'gone', 'X');
    assert.equal(processGone(10, root), false);
    assert.equal(processGone(11, root), true);
    assert.equal(processGone(12, root), false);
    assert.equal(processGone(13, root), true);
    assert.equal(processGone(99, root), true);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  // This very process is alive.
  assert.equal(processGone(process.pid), false);
});

test('pidFromInfo reads containerd verbose info, and nothing else', () => {
  assert.equal(pidFromInfo({ info: JSON.stringify({ sandboxID: 's', pid: 4242, runtimeSpec: {} }) }), 4242);
  assert.equal(pidFromInfo({ info: JSON.stringify({ pid: 0 }) }), undefined);
  assert.equal(pidFromInfo({ info: 'not json' }), undefined);
  assert.equal(pidFromInfo({}), undefined);
});

test('untilSettled waits for the runtime to record the exit, within a limit', async () => {
  let reads = 0;
  const states = ['running', 'running', 'exited'];
  const settled = await untilSettled(async () => ({ state: states[reads++]! }), { state: 'running' }, 1000, 1);
  assert.deepEqual(settled, { state: 'exited' });
  assert.equal(reads, 3);
  const t0 = performance.now();
  const stuck = await untilSettled(async () => ({ state: 'running' }), { state: 'running' }, 50, 5);
  assert.equal(stuck.state, 'running');
  assert.ok(performance.now() - t0 >= 45 && performance.now() - t0 < 1000);
  // Nothing to wait for when it is not running.
  assert.deepEqual(await untilSettled(async () => assert.fail('no read'), { state: 'exited' }), { state: 'exited' });
});
