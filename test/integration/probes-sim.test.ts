// Probes through the node agent on the simulated runtime, driven with the real kubectl: the sim's
// probe hooks (annotations) make liveness, readiness and startup probes fail on demand, and the
// agent kills, restarts and un-readies containers as the kubelet does, with upstream's events.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { startSimNode, type SimNode } from '../support/sim-node.ts';
import { kubectlOk, waitForPod as waitForPodIn, eventsAbout, type Cluster } from './harness.ts';

let node: SimNode;
let c: Cluster;

before(async () => {
  node = await startSimNode();
  c = node.cluster;
});

after(async () => {
  await node?.close();
});

const apply = (obj: Obj) => kubectlOk(c, ['apply', '-f', '-'], { input: JSON.stringify(obj) });
const getPod = async (name: string): Promise<Obj> => JSON.parse(await kubectlOk(c, ['get', 'pod', name, '-o', 'json']));
const waitForPod = (name: string, pred: (p: Obj) => boolean, ms = 10_000) => waitForPodIn(c, name, pred, ms);
const cs = (p: Obj) => p.status?.containerStatuses?.[0] ?? {};
const isReady = (p: Obj) => p.status?.conditions?.some((x: Obj) => x.type === 'Ready' && x.status === 'True');
const events = (name: string) => eventsAbout(c, name);

const exec = { exec: { command: ['true'] } };
function pod(name: string, container: Obj, extra: { annotations?: Record<string, string>; restartPolicy?: string } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations: extra.annotations },
    spec: {
      nodeName: 'sim-0',
      terminationGracePeriodSeconds: 1,
      restartPolicy: extra.restartPolicy ?? 'Always',
      containers: [{ name: 'app', image: 'registry.k8s.io/nginx-slim:0.21', ...container }],
    },
  };
}

test('liveness: failureThreshold failures in a row kill the container, which restarts (RESTARTS, events)', async () => {
  await apply(pod('live', { livenessProbe: { ...exec, periodSeconds: 1, failureThreshold: 2 } }));
  await waitForPod('live', isReady);
  const t0 = Date.now();
  await kubectlOk(c, ['annotate', 'pod', 'live', 'sim.ordinal.dev/live=false']);
  await waitForPod('live', (p) => cs(p).restartCount >= 1);
  const took = Date.now() - t0;
  // Two failed runs one period apart, then a kill with the 2 s minimum grace (the sim stops in 100 ms).
  assert.ok(took >= 1000 && took < 5000, `restarted after ${took} ms`);
  await kubectlOk(c, ['annotate', 'pod', 'live', 'sim.ordinal.dev/live-']);
  await waitForPod('live', (p) => isReady(p) && cs(p).state.running);
  const p = await getPod('live');
  assert.ok(cs(p).lastState.terminated, 'the killed instance is the last state');
  const ev = await events('live');
  assert.ok(ev.includes('Warning Unhealthy Liveness probe failed: simulated failure (annotation sim.ordinal.dev/live=false)'), ev.join('\n'));
  assert.ok(ev.includes('Normal Killing Container app failed liveness probe, will be restarted'), ev.join('\n'));
  // The new instance is left alone once its probe passes again.
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(cs(await getPod('live')).restartCount, cs(p).restartCount);
});

test('liveness with restartPolicy Never: killed and not restarted, the pod fails', async () => {
  await apply(pod('live-never', { livenessProbe: { ...exec, periodSeconds: 1, failureThreshold: 1 } }, { restartPolicy: 'Never', annotations: { 'sim.ordinal.dev/live': 'false' } }));
  await waitForPod('live-never', (p) => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded');
  const p = await getPod('live-never');
  assert.equal(cs(p).restartCount, 0);
  assert.ok((await events('live-never')).includes('Normal Killing Container app failed liveness probe'));
});

test('readiness: failureThreshold and successThreshold decide when Ready flips', async () => {
  await apply(pod('ready', { readinessProbe: { ...exec, periodSeconds: 1, failureThreshold: 2, successThreshold: 2 } }));
  // Two successes in a row. They need not be a period apart: while a started container is not
  // ready, every status sync of the pod probes it again at once (upstream's manual trigger).
  await waitForPod('ready', isReady);
  const t1 = Date.now();
  await kubectlOk(c, ['annotate', 'pod', 'ready', 'sim.ordinal.dev/ready=false']);
  await waitForPod('ready', (p) => !isReady(p) && cs(p).ready === false);
  const tookDown = Date.now() - t1;
  assert.ok(tookDown >= 900 && tookDown < 4000, `not ready after ${tookDown} ms`);
  assert.equal(cs(await getPod('ready')).restartCount, 0, 'readiness never restarts');
  await kubectlOk(c, ['annotate', 'pod', 'ready', 'sim.ordinal.dev/ready-']);
  await waitForPod('ready', isReady);
  assert.ok((await events('ready')).some((e) => e.startsWith('Warning Unhealthy Readiness probe failed: simulated failure')));
});

test('startup: gates readiness; failing it kills the container; passing it makes the pod ready', async () => {
  await apply(
    pod(
      'startup',
      { startupProbe: { ...exec, periodSeconds: 1, failureThreshold: 3 }, readinessProbe: { ...exec, periodSeconds: 10 } },
      { annotations: { 'sim.ordinal.dev/startup': 'false' } },
    ),
  );
  await waitForPod('startup', (p) => p.status?.phase === 'Running' && cs(p).state?.running);
  let p = await getPod('startup');
  assert.equal(cs(p).started, false);
  assert.equal(cs(p).ready, false);
  await waitForPod('startup', (x) => cs(x).restartCount >= 1, 10_000);
  const ev = await events('startup');
  assert.ok(ev.includes('Normal Killing Container app failed startup probe, will be restarted'), ev.join('\n'));
  assert.ok(ev.includes('Warning Unhealthy Startup probe failed: simulated failure (annotation sim.ordinal.dev/startup=false)'));
  const t0 = Date.now();
  await kubectlOk(c, ['annotate', 'pod', 'startup', 'sim.ordinal.dev/startup-']);
  await waitForPod('startup', isReady);
  // Readiness (period 10 s) runs as soon as the startup probe passes, not a period later.
  assert.ok(Date.now() - t0 < 4000, `ready ${Date.now() - t0} ms after the startup probe could pass`);
  p = await getPod('startup');
  assert.equal(cs(p).started, true);
});
