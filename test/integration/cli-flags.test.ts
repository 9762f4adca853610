// Flags of `ordinal up` and `ordinal agent`, seen as users see them:
//   - --sim-stop-delay: how long a simulated container takes to stop once its pod is deleted (at
//     most its grace period), through the real kubectl; the default (200 ms) would delete the pod
//     below in well under a second;
//   - a value that is not milliseconds, and a flag parseArgs cannot read, refused in one line with
//     exit code 2 before anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, tempDir } from './harness.ts';

const root = join(import.meta.dirname, '../..');

test('simulated pods: --sim-stop-delay is how long a deleted pod takes to stop', async () => {
  const c = await startCluster({ args: ['--runtime', 'sim', '--sim-start-delay', '0', '--sim-stop-delay', '1500'] });
  try {
    await kubectlOk(c, ['run', 'web', '--image', 'nginx']);
    await waitUntil(async () => (await kubectl(c, ['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 10_000, () => 'web Running');
    const t0 = performance.now();
    // kubectl delete waits until the pod is gone, as users see it.
    await kubectlOk(c, ['delete', 'pod', 'web']);
    const ms = performance.now() - t0;
    assert.ok(ms >= 1400, `deleted after ${ms.toFixed(0)} ms, before the 1,500 ms stop delay`);
    assert.ok(ms < 10_000, `deleted after ${ms.toFixed(0)} ms`);
  } finally {
    await stopCluster(c);
    removeCluster(c);
  }
});

test('ordinal up and ordinal agent refuse a --sim-stop-delay that is not milliseconds', () => {
  for (const [command, prefix, ...more] of [
    ['up', 'ordinal'],
    // Its flags are checked before it contacts the server, which is never there.
    ['agent', 'ordinal agent', '--server', 'https://127.0.0.1:9'],
  ]) {
    const args = [join(root, 'src/cli/main.ts'), command!, ...more, '--data-dir', tempDir(), '--runtime', 'sim', '--sim-stop-delay', 'soon'];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `${command}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^${prefix}: invalid --sim-stop-delay soon`, 'm'));
  }
});

test('ordinal up, agent and controllers report a flag they cannot read in one line, with exit code 2', () => {
  for (const [args, prefix, message] of [
    [['up', '--bogus'], 'ordinal', "Unknown option '--bogus'"],
    [['up', '--nodes', '-1'], 'ordinal', "Option '--nodes' argument is ambiguous"],
    [['agent', '--server', 'https://127.0.0.1:9', '--bogus'], 'ordinal agent', "Unknown option '--bogus'"],
    [['controllers', '--bogus'], 'ordinal controllers', "Unknown option '--bogus'"],
  ] as const) {
    const r = spawnSync(process.execPath, [join(root, 'src/cli/main.ts'), ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.startsWith(`${prefix}: ${message}`), r.stderr);
    // Node's TypeError would come with its stack.
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  }
});
