// PodDisruptionBudgets with the real kubectl: the disruption controller keeps the budget's status
// current, and `kubectl drain` evicts through it, one disruption at a time, or is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil } from './harness.ts';

const SET = `
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
  replicas: 3
  podManagementPolicy: Parallel
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{ name: db, image: db:1 }]
`;

const budget = (spec: string) => `
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: db }
spec:
  selector: { matchLabels: { app: db } }
  ${spec}
`;

test('kubectl drain honours a PodDisruptionBudget', async () => {
  const c = await startCluster({ args: ['--nodes', '2', '--sim-start-delay', '0'] });
  const status = async () => JSON.parse(await kubectlOk(c, ['get', 'pdb', 'db', '-o', 'json'])).status ?? {};
  try {
    await kubectlOk(c, ['apply', '-f', '-'], { input: SET });
    await waitUntil(async () => (await kubectlOk(c, ['get', 'sts', 'db', '-o', 'jsonpath={.status.readyReplicas}'])) === '3', 15_000, () => 'db 3/3');

    // A budget nobody can spend: drain is refused with the API's reason, and the pods stay.
    await kubectlOk(c, ['apply', '-f', '-'], { input: budget('minAvailable: 3') });
    await waitUntil(async () => (await status()).observedGeneration === 1, 10_000, () => 'budget observed');
    assert.deepEqual(await status().then((s) => [s.expectedPods, s.desiredHealthy, s.currentHealthy, s.disruptionsAllowed]), [3, 3, 3, 0]);
    assert.match(await kubectlOk(c, ['get', 'pdb', 'db']), /db\s+3\s+N\/A\s+0\s+/);
    const node = (await kubectlOk(c, ['get', 'pod', 'db-0', '-o', 'jsonpath={.spec.nodeName}'])).trim();
    const refused = await kubectl(c, ['drain', node, '--timeout', '3s']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr + refused.stdout, /Cannot evict pod as it would violate the pod's disruption budget/);
    assert.equal((await kubectlOk(c, ['get', 'pods', '-l', 'app=db', '--no-headers'])).trim().split('\n').length, 3);
    await kubectlOk(c, ['uncordon', node]);

    // One pod may go at a time: drain evicts, the set replaces the pod elsewhere, the budget recovers.
    await kubectlOk(c, ['apply', '-f', '-'], { input: budget('maxUnavailable: 1') });
    await waitUntil(async () => (await status()).observedGeneration === 2 && (await status()).disruptionsAllowed === 1, 10_000, () => 'maxUnavailable 1 observed');
    assert.deepEqual(await status().then((s) => [s.expectedPods, s.desiredHealthy, s.currentHealthy]), [3, 2, 3]);
    const drained = await kubectl(c, ['drain', node, '--timeout', '30s']);
    assert.equal(drained.code, 0, drained.stderr);
    assert.match(drained.stdout, /evicted/);
    await waitUntil(async () => {
      const pods = JSON.parse(await kubectlOk(c, ['get', 'pods', '-l', 'app=db', '-o', 'json'])).items;
      return pods.length === 3 && pods.every((p: any) => p.spec.nodeName && p.spec.nodeName !== node && p.status.phase === 'Running');
    }, 20_000, () => `all pods off ${node}`);
    await waitUntil(async () => (await status()).disruptionsAllowed === 1 && (await status()).currentHealthy === 3, 10_000, () => 'the budget recovered');
    assert.deepEqual((await status()).disruptedPods ?? {}, {});
  } finally {
    await stopCluster(c);
    removeCluster(c);
  }
});
