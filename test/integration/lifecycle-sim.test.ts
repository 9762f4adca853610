// Container lifecycle hooks through the node agent on the simulated runtime, driven with the real
// kubectl: postStart holds the container back until it returns and a failing one kills and
// restarts it; preStop runs before the stop signal within the grace period; a second, shorter
// `kubectl delete --grace-period` cuts a running termination short. The sim's hook annotations
// (sim.ordinal.dev/post-start, sim.ordinal.dev/pre-stop) make exec/httpGet hooks fail; sleep
// hooks are timed by the agent itself.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { startSimNode, type SimNode } from '../support/sim-node.ts';
import { kubectlOk, kubectlStream, waitForPod as waitForPodIn, eventsAbout, type Cluster } from './harness.ts';

let node: SimNode;
let c: Cluster;

before(async () => {
  node = await startSimNode();
  c = node.cluster;
});

after(async () => {
  await node?.close();
});

const create = (obj: Obj) => kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify(obj) });
const getPod = async (name: string): Promise<Obj> => JSON.parse(await kubectlOk(c, ['get', 'pod', name, '-o', 'json']));
const cs = (p: Obj) => p.status?.containerStatuses?.[0] ?? {};
const isReady = (p: Obj) => p.status?.conditions?.some((x: Obj) => x.type === 'Ready' && x.status === 'True');
const waitForPod = (name: string, pred: (p: Obj) => boolean, ms = 10_000) => waitForPodIn(c, name, pred, ms);
const events = (name: string) => eventsAbout(c, name);

function pod(name: string, lifecycle: Obj, extra: { annotations?: Record<string, string>; restartPolicy?: string; grace?: number } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations: extra.annotations },
    spec: {
      nodeName: 'sim-0',
      terminationGracePeriodSeconds: extra.grace ?? 30,
      restartPolicy: extra.restartPolicy ?? 'Always',
      containers: [{ name: 'app', image: 'registry.k8s.io/nginx-slim:0.21', lifecycle }],
    },
  };
}

test('postStart sleep: the container is not Running (nor Ready) until the hook returns', async () => {
  const watch = kubectlStream(c, ['get', 'pods', '-w']);
  try {
    const t0 = Date.now();
    await create(pod('ps-sleep', { postStart: { sleep: { seconds: 2 } } }));
    await new Promise((r) => setTimeout(r, 1200));
    const during = await getPod('ps-sleep');
    assert.equal(cs(during).state?.running, undefined, JSON.stringify(during.status));
    await waitForPod('ps-sleep', isReady);
    const took = Date.now() - t0;
    assert.ok(took >= 2000 && took < 5000, `ready after ${took} ms`);
    await watch.waitFor(/ps-sleep\s+1\/1\s+Running/);
  } finally {
    await watch.stop();
  }
  assert.doesNotMatch(watch.output(), /ps-sleep\s+0\/1\s+Running/, 'never shown Running before the hook returned');
  const ev = await events('ps-sleep');
  assert.ok(ev.includes('Normal Started Started container app'), ev.join('\n'));
  assert.ok(!ev.some((e) => /Failed/.test(e)), ev.join('\n'));
});

test('postStart exec/httpGet run (and pass) on the sim; a failing one: FailedPostStartHook, Killing, PostStartHookError, restarts', async () => {
  await create(pod('ps-http', { postStart: { httpGet: { path: '/hook', port: 80 } } }));
  await waitForPod('ps-http', isReady);
  const watch = kubectlStream(c, ['get', 'pods', '-w']);
  try {
    await create(pod('ps-fail', { postStart: { exec: { command: ['sh', '-c', 'exit 1'] } } }, { annotations: { 'sim.ordinal.dev/post-start': 'false' }, grace: 1 }));
    await waitForPod('ps-fail', (p) => cs(p).restartCount >= 2);
    await watch.waitFor(/ps-fail\s+0\/1\s+PostStartHookError/);
  } finally {
    await watch.stop();
  }
  const ev = await events('ps-fail');
  assert.ok(ev.includes('Warning FailedPostStartHook PostStartHook failed'), ev.join('\n'));
  assert.ok(ev.includes('Normal Killing FailedPostStartHook'), ev.join('\n'));
  // Healthy again once the hook passes.
  await kubectlOk(c, ['annotate', 'pod', 'ps-fail', 'sim.ordinal.dev/post-start-']);
  await waitForPod('ps-fail', isReady, 15_000);
  // With restartPolicy Never a failed postStart ends the pod; tcpSocket hooks cannot run at all.
  await create(pod('ps-tcp', { postStart: { tcpSocket: { port: 80 } } }, { restartPolicy: 'Never', grace: 1 }));
  await waitForPod('ps-tcp', (p) => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded');
  assert.equal(cs(await getPod('ps-tcp')).restartCount, 0);
  assert.ok((await events('ps-tcp')).includes('Warning FailedPostStartHook PostStartHook failed'));
});

test('preStop sleep runs before the stop signal and counts against the grace period', async () => {
  await create(pod('pre-sleep', { preStop: { sleep: { seconds: 2 } } }, { grace: 10 }));
  await create(pod('pre-long', { preStop: { sleep: { seconds: 5 } } }, { grace: 5 }));
  await waitForPod('pre-sleep', isReady);
  await waitForPod('pre-long', isReady);
  let t0 = Date.now();
  await kubectlOk(c, ['delete', 'pod', 'pre-sleep']);
  let took = Date.now() - t0;
  assert.ok(took >= 2000 && took < 4500, `delete took ${took} ms (2 s preStop + 0.1 s stop)`);
  t0 = Date.now();
  await kubectlOk(c, ['delete', 'pod', 'pre-long']);
  took = Date.now() - t0;
  // The sleep is as long as the grace period: the signal still gets its 2 s (the sim stops in 0.1 s).
  assert.ok(took >= 5000 && took < 7500, `delete took ${took} ms`);
});

test('a failing preStop: FailedPreStopHook, and the container is stopped anyway', async () => {
  await create(pod('pre-fail', { preStop: { exec: { command: ['sh', '-c', 'exit 1'] } } }, { annotations: { 'sim.ordinal.dev/pre-stop': 'false' } }));
  await waitForPod('pre-fail', isReady);
  const t0 = Date.now();
  await kubectlOk(c, ['delete', 'pod', 'pre-fail']);
  assert.ok(Date.now() - t0 < 3000, `deleted in ${Date.now() - t0} ms`);
  const ev = await events('pre-fail');
  assert.ok(ev.includes('Warning FailedPreStopHook PreStopHook failed'), ev.join('\n'));
  assert.ok(ev.includes('Normal Killing Stopping container app'), ev.join('\n'));
});

test('a second delete with a shorter grace period cuts the running termination short; --force ends it', async () => {
  await create(pod('short', { preStop: { sleep: { seconds: 25 } } }, { grace: 30 }));
  await create(pod('forced', { preStop: { sleep: { seconds: 25 } } }, { grace: 30 }));
  await waitForPod('short', isReady);
  await waitForPod('forced', isReady);
  await kubectlOk(c, ['delete', 'pod', 'short', 'forced', '--wait=false']);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await getPod('short')).metadata.deletionGracePeriodSeconds, 30);
  let t0 = Date.now();
  await kubectlOk(c, ['delete', 'pod', 'short', '--grace-period=1']);
  let took = Date.now() - t0;
  // 1 s left for preStop, then the signal's 2 s minimum (the sim stops in 0.1 s).
  assert.ok(took >= 900 && took < 3500, `gone ${took} ms after the second delete`);
  // Force deletion removes the object at once; the agent kills the container at once too, so a
  // replacement with the same name (which waits for its predecessor to be fully stopped) runs promptly.
  t0 = Date.now();
  await kubectlOk(c, ['delete', 'pod', 'forced', '--force', '--grace-period=0']);
  await create(pod('forced', {}, { grace: 30 }));
  await waitForPod('forced', isReady);
  took = Date.now() - t0;
  assert.ok(took < 3000, `replacement ready ${took} ms after the force delete`);
});
