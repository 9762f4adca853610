// A DaemonSet rolled with maxSurge on simulated nodes, driven by the real kubectl: each node runs
// its new pod beside the old one until the new one is available (minReadySeconds), so no node is
// ever without a Ready daemon pod, and at most maxSurge nodes carry an extra pod at a time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ args: ['--nodes', '3'] });
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

const json = async (args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json']));
const ready = (p: any) => p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True');

test('maxSurge 1: new pods start beside old ones, which go once the new ones are available', async () => {
  await kubectlOk(c, ['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' },
      spec: {
        minReadySeconds: 2,
        selector: { matchLabels: { app: 'agent' } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'agent:1' }] } },
      },
    }),
  });
  await waitUntil(async () => (await json(['get', 'ds', 'agent'])).status.numberAvailable === 3, 30_000);
  await kubectlOk(c, ['set', 'image', 'ds/agent', 'a=agent:2']);
  let surged = 0;
  let most = 0;
  const gaps: string[] = [];
  let done = false;
  const watcher = (async () => {
    while (!done) {
      const pods = (await json(['get', 'pods', '-l', 'app=agent'])).items.filter((p: any) => !p.metadata.deletionTimestamp);
      most = Math.max(most, pods.length);
      for (const n of ['node-1', 'node-2', 'node-3']) {
        const here = pods.filter((p: any) => p.spec.nodeName === n);
        const images = new Set(here.map((p: any) => p.spec.containers[0].image));
        if (images.size === 2) surged++;
        if (!here.some(ready)) gaps.push(`${n} had no Ready pod`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  const status = await kubectl(c, ['rollout', 'status', 'ds/agent', '--timeout=90s']);
  done = true;
  await watcher;
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /daemon set "agent" successfully rolled out/);
  assert.ok(surged > 0, 'some node ran its old and new pod together');
  assert.ok(most <= 4, `at most one node surges at a time (saw ${most} pods)`);
  assert.deepEqual(gaps, []);
  const pods = (await json(['get', 'pods', '-l', 'app=agent'])).items.filter((p: any) => !p.metadata.deletionTimestamp);
  assert.deepEqual(pods.map((p: any) => p.spec.containers[0].image), ['agent:2', 'agent:2', 'agent:2']);
  assert.deepEqual(pods.map((p: any) => p.spec.nodeName).sort(), ['node-1', 'node-2', 'node-3']);
});

test('both maxSurge and maxUnavailable set is refused with upstream\'s message', async () => {
  const bad = await kubectl(c, ['patch', 'ds', 'agent', '--type=merge', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"maxUnavailable":1}}}}']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero/);
  const none = await kubectl(c, ['patch', 'ds', 'agent', '--type=merge', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"maxSurge":0}}}}']);
  assert.match(none.stderr, /spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0/);
});
