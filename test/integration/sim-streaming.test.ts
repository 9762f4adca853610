// exec, attach and logs against pods of the simulated runtime, through the real kubectl: there are
// no processes, and kubectl says so in the words of an API error rather than failing obscurely.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil } from './harness.ts';

test('simulated pods: exec and attach are refused as BadRequest, logs are empty', async () => {
  const c = await startCluster({ args: ['--sim-start-delay', '0'] });
  try {
    await kubectlOk(c, ['run', 'web', '--image', 'nginx']);
    await waitUntil(async () => (await kubectl(c, ['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 10_000, () => 'web Running');
    const exec = await kubectl(c, ['exec', 'web', '--', 'ls']);
    assert.equal(exec.code, 1);
    assert.match(exec.stderr, /^Error from server \(BadRequest\): exec is not available for pod "default\/web": the simulated container runtime runs no processes/m);
    const attach = await kubectl(c, ['attach', 'web']);
    assert.match(attach.stderr, /Error from server \(BadRequest\): attach is not available for pod "default\/web"/);
    const logs = await kubectl(c, ['logs', 'web']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, '');
  } finally {
    await stopCluster(c);
    removeCluster(c);
  }
});
