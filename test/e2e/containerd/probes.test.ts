// Probes and graceful termination with real containers: `ordinal up --runtime containerd` against a
// private containerd. An exec liveness probe restarts its container (RESTARTS, exit 137, Unhealthy
// and Killing events); an httpGet readiness probe on the nginx stand-in takes the pod out of and
// back into its Service's endpoints; tcpSocket and startup probes; and deletion honours the grace
// period (SIGTERM, then SIGKILL after it; `--grace-period` overrides). Root only; skips otherwise.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../../src/api/resource.ts';
import { kubectl, kubectlOk, waitUntil, waitForPod as waitForPodIn, eventsAbout, type Cluster } from '../../integration/harness.ts';
import { CriClient } from '../../../src/agent/runtime/cri/client.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';

const skip = realClusterUnavailable();
const opts = { skip: skip ? `real containers: ${skip}` : false, timeout: 120_000 } as const;
const IMAGE = 'registry.k8s.io/nginx-slim:0.8';

let real: RealCluster | undefined;
let c: Cluster;
let cri: CriClient;
const t0 = performance.now();
const lap = (what: string) => console.log(`# ${what}: ${Math.round(performance.now() - t0)} ms`);

function pod(name: string, container: Obj, spec: Obj = {}, labels?: Record<string, string>): Obj {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { terminationGracePeriodSeconds: 2, ...spec, containers: [{ name: 'c', image: IMAGE, ...container }] } };
}
const sh = (script: string) => ({ command: ['sh', '-c', script] });
// busybox sh runs a TERM trap only between commands: `sleep 1 & wait` lets it react at once.
const IGNORES_TERM = "trap '' TERM; while true; do sleep 1; done";
const HANDLES_TERM = "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done";

const PODS: Obj[] = [
  // (a) healthy for ~3 s, then its liveness file disappears.
  pod('liveness-exec', { ...sh('touch /tmp/healthy; sleep 3; rm -f /tmp/healthy; sleep 600'), livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2 } }),
  // (b) the nginx stand-in behind a Service, ready while it serves /index.html.
  pod(
    'web-ready',
    { ports: [{ name: 'web', containerPort: 80 }], readinessProbe: { httpGet: { path: '/index.html', port: 'web', httpHeaders: [{ name: 'X-Probe', value: '1' }] }, periodSeconds: 1, failureThreshold: 1 } },
    {},
    { app: 'probe-web' },
  ),
  // (c) tcpSocket: one port that answers and one that does not.
  pod('tcp-ok', { readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 } }),
  pod('tcp-closed', { readinessProbe: { tcpSocket: { port: 81 }, periodSeconds: 1, failureThreshold: 1 } }),
  // (d) a slow starter whose startup probe passes after ~3 s, and one whose never does.
  pod('startup-slow', { ...sh('sleep 3; touch /tmp/started; exec sleep 600'), startupProbe: { exec: { command: ['cat', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 20 }, readinessProbe: { exec: { command: ['true'] }, periodSeconds: 30 } }),
  pod('startup-never', { ...sh('exec sleep 600'), startupProbe: { exec: { command: ['cat', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 2 } }),
  // An exec probe that outlives its timeout.
  pod('exec-timeout', { readinessProbe: { exec: { command: ['sleep', '5'] }, timeoutSeconds: 1, periodSeconds: 2, failureThreshold: 1 } }),
  // (e) graceful deletion.
  pod('term-ignored', sh(IGNORES_TERM), { terminationGracePeriodSeconds: 3 }),
  pod('term-override', sh(IGNORES_TERM), { terminationGracePeriodSeconds: 30 }),
  pod('term-handled', sh(HANDLES_TERM), { terminationGracePeriodSeconds: 30 }),
];
const SERVICE = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'probe-web' }, spec: { selector: { app: 'probe-web' }, ports: [{ port: 80, targetPort: 'web' }] } };

before(async () => {
  if (skip) return;
  real = await startRealCluster();
  c = real.cluster;
  cri = new CriClient(real.cd.socket);
  lap('cluster up');
  await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...PODS, SERVICE] }) });
});

after(async () => {
  cri?.close();
  await real?.stop();
});

const getPod = async (name: string): Promise<Obj> => JSON.parse(await kubectlOk(c, ['get', 'pod', name, '-o', 'json']));
const cs = (p: Obj) => p.status?.containerStatuses?.[0] ?? {};
const isReady = (p: Obj) => !!p.status?.conditions?.some((x: Obj) => x.type === 'Ready' && x.status === 'True');
const containerId = (p: Obj) => String(cs(p).containerID ?? '').replace('containerd://', '');
const waitPod = (name: string, pred: (p: Obj) => boolean, ms = 30_000) => waitForPodIn(c, name, pred, ms);
const events = (name: string) => eventsAbout(c, name);
const withDump = (fn: () => Promise<void>) => async () => {
  try {
    await fn();
  } catch (err) {
    real?.dumpLogs();
    throw err;
  }
};

test(
  '(a) exec liveness probe: the container is killed and restarted, RESTARTS goes up, Unhealthy and Killing events',
  opts,
  withDump(async () => {
    const p = await waitPod('liveness-exec', (x) => cs(x).restartCount >= 1 && !!cs(x).state?.running, 40_000);
    lap('liveness-exec restarted');
    const last = cs(p).lastState.terminated;
    // busybox sh as PID 1 ignores SIGTERM: SIGKILL after the (2 s minimum) grace period.
    assert.equal(last.exitCode, 137, JSON.stringify(last));
    assert.equal(last.reason, 'Error');
    const row = (await kubectlOk(c, ['get', 'pod', 'liveness-exec', '--no-headers'])).trim().split(/\s+/);
    assert.ok(Number(row[3]) >= 1, `RESTARTS column: ${row.join(' ')}`);
    const ev = await events('liveness-exec');
    assert.ok(ev.some((e) => /^Warning Unhealthy Liveness probe failed: cat: can't open '\/tmp\/healthy': No such file or directory/.test(e)), ev.join('\n'));
    assert.ok(ev.includes('Normal Killing Container c failed liveness probe, will be restarted'), ev.join('\n'));
    const killedAfter = Date.parse(last.finishedAt) - Date.parse(last.startedAt);
    console.log(`# liveness-exec: first instance lived ${killedAfter} ms (3 s healthy + 2 failed runs 1 s apart + 2 s grace)`);
    assert.ok(killedAfter >= 5000 && killedAfter <= 10_000, `lived ${killedAfter} ms`);
  }),
);

test(
  '(b) httpGet readiness: Ready and the endpoints follow the page being removed and restored',
  opts,
  withDump(async () => {
    const endpoints = async () => {
      const ep = JSON.parse(await kubectlOk(c, ['get', 'endpoints', 'probe-web', '-o', 'json']));
      const s = ep.subsets?.[0] ?? {};
      return { ready: (s.addresses ?? []).map((a: Obj) => a.ip), notReady: (s.notReadyAddresses ?? []).map((a: Obj) => a.ip) };
    };
    let p = await waitPod('web-ready', isReady);
    const ip = p.status.podIP;
    await waitUntil(async () => (await endpoints()).ready.includes(ip), 15_000, () => 'pod IP in the endpoints');
    lap('web-ready ready and in the endpoints');
    const id = containerId(p);
    const t1 = Date.now();
    assert.equal((await cri.execSync(id, ['mv', '/usr/share/nginx/html/index.html', '/tmp/index.html'])).exitCode, 0);
    p = await waitPod('web-ready', (x) => !isReady(x) && cs(x).ready === false, 15_000);
    await waitUntil(async () => {
      const e = await endpoints();
      return !e.ready.includes(ip) && e.notReady.includes(ip);
    }, 15_000, () => 'pod IP moved to notReadyAddresses');
    console.log(`# web-ready: not ready and out of the endpoints ${Date.now() - t1} ms after the page went`);
    assert.equal(cs(p).restartCount, 0);
    const row = (await kubectlOk(c, ['get', 'pod', 'web-ready', '--no-headers'])).trim().split(/\s+/);
    assert.equal(row[1], '0/1');
    const t2 = Date.now();
    assert.equal((await cri.execSync(id, ['mv', '/tmp/index.html', '/usr/share/nginx/html/index.html'])).exitCode, 0);
    await waitPod('web-ready', isReady, 15_000);
    await waitUntil(async () => (await endpoints()).ready.includes(ip), 15_000, () => 'pod IP back in the endpoints');
    console.log(`# web-ready: ready and back in the endpoints ${Date.now() - t2} ms after the page came back`);
    const ev = await events('web-ready');
    assert.ok(ev.includes('Warning Unhealthy Readiness probe failed: HTTP probe failed with statuscode: 404'), ev.join('\n'));
  }),
);

test(
  '(c) tcpSocket readiness: an open port is ready, a closed one is not, with the dial error',
  opts,
  withDump(async () => {
    await waitPod('tcp-ok', isReady);
    const p = await waitPod('tcp-closed', (x) => !!cs(x).state?.running && !!x.status.podIP);
    await waitUntil(async () => (await events('tcp-closed')).length > 0 && (await events('tcp-closed')).some((e) => e.includes('Readiness probe failed')), 15_000);
    const ev = await events('tcp-closed');
    assert.ok(ev.includes(`Warning Unhealthy Readiness probe failed: dial tcp ${p.status.podIP}:81: connect: connection refused`), ev.join('\n'));
    assert.equal(isReady(await getPod('tcp-closed')), false);
    lap('tcp probes');
  }),
);

test(
  'exec probe timeout: the command is cut off after timeoutSeconds and counts as a failure',
  opts,
  withDump(async () => {
    await waitPod('exec-timeout', (x) => !!cs(x).state?.running);
    let ev: string[] = [];
    await waitUntil(async () => (ev = await events('exec-timeout')).some((e) => e.includes('Readiness probe')), 15_000, () => ev.join('\n'));
    assert.ok(ev.includes('Warning Unhealthy Readiness probe failed: command "sleep 5" timed out'), ev.join('\n'));
    assert.equal(isReady(await getPod('exec-timeout')), false);
  }),
);

test(
  '(d) startup probe: gates readiness until it passes; one that never passes kills the container',
  opts,
  withDump(async () => {
    const early = await waitPod('startup-slow', (x) => !!cs(x).state?.running);
    if (Date.now() - Date.parse(cs(early).state.running.startedAt) < 2000) {
      assert.equal(cs(early).started, false, 'not started before its startup probe passed');
      assert.equal(cs(early).ready, false);
    }
    const p = await waitPod('startup-slow', (x) => isReady(x) && cs(x).started === true);
    const readyAfter = Date.parse(p.status.conditions.find((x: Obj) => x.type === 'Ready').lastTransitionTime) - Date.parse(cs(p).state.running.startedAt);
    console.log(`# startup-slow: Ready ${readyAfter} ms after the container started (startup passes at ~3 s; readiness period 30 s)`);
    assert.ok(readyAfter >= 3000 && readyAfter < 8000, `ready after ${readyAfter} ms`);
    assert.equal(cs(p).restartCount, 0);
    await waitPod('startup-never', (x) => cs(x).restartCount >= 1, 30_000);
    const ev = await events('startup-never');
    assert.ok(ev.includes('Normal Killing Container c failed startup probe, will be restarted'), ev.join('\n'));
    assert.ok(ev.some((e) => e.startsWith("Warning Unhealthy Startup probe failed: cat: can't open '/tmp/started'")), ev.join('\n'));
    lap('startup probes');
  }),
);

test(
  '(e) graceful deletion: SIGKILL after the grace period, --grace-period overrides, a TERM handler exits at once',
  opts,
  withDump(async () => {
    for (const name of ['term-ignored', 'term-override', 'term-handled']) await waitPod(name, (x) => !!cs(x).state?.running);
    const timed = async (args: string[]) => {
      const start = Date.now();
      await kubectlOk(c, ['delete', 'pod', ...args]);
      return Date.now() - start;
    };
    // One at a time, so each figure is that deletion's alone (stop, final status, sandbox teardown, removal).
    const ignored = await timed(['term-ignored']);
    const override = await timed(['term-override', '--grace-period=1']);
    const handled = await timed(['term-handled']);
    console.log(`# kubectl delete took: TERM ignored, grace 3 s: ${ignored} ms; TERM ignored, --grace-period=1 (spec 30 s): ${override} ms; TERM handled (spec 30 s): ${handled} ms`);
    // Upper bounds leave room for the stop, the final status and the sandbox teardown on a loaded machine.
    assert.ok(ignored >= 2800 && ignored < 6500, `TERM ignored with a 3 s grace period: ${ignored} ms`);
    // The kubelet never gives the stop signal less than 2 s, whatever --grace-period says.
    assert.ok(override >= 1800 && override < 4500, `--grace-period=1: ${override} ms`);
    assert.ok(handled < 2000, `TERM handled: ${handled} ms`);
    for (const name of ['term-ignored', 'term-override', 'term-handled']) assert.equal((await kubectl(c, ['get', 'pod', name])).code, 1, `${name} is gone`);
  }),
);
