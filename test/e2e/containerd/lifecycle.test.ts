// Container lifecycle hooks with real containers: `ordinal up --runtime containerd` against a
// private containerd. A postStart hook writes a page the container's httpd serves before the pod
// counts as Running; a failing one gives FailedPostStartHook, a kill and a restart; a preStop
// httpGet to a server on the host side of the pod bridge arrives (and finishes) before the
// container gets TERM; a preStop that outlasts the grace period is cut off by it; and a second,
// shorter `kubectl delete --grace-period` shortens a termination under way. Root only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Obj } from '../../../src/api/resource.ts';
import { kubectlOk, kubectlStream, waitUntil, waitForPod as waitForPodIn, eventsAbout, type Cluster } from '../../integration/harness.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';

const skip = realClusterUnavailable();
const opts = { skip: skip ? `real containers: ${skip}` : false, timeout: 120_000 } as const;
const IMAGE = 'registry.k8s.io/nginx-slim:0.8';
// busybox sh runs a TERM trap only between commands: `sleep 1 & wait` lets it react at once.
const IGNORES_TERM = "trap '' TERM; while true; do sleep 1; done";

let real: RealCluster | undefined;
let c: Cluster;
let hostDir = '';
/** What the host-side server saw: path and when (ms since the epoch), at arrival and at the end of its answer. */
const hits: { path: string; at: number; answeredAt?: number }[] = [];
let server: http.Server | undefined;
let hookURL = { host: '', port: 0 };
const t0 = performance.now();
const lap = (what: string) => console.log(`# ${what}: ${Math.round(performance.now() - t0)} ms`);

function pod(name: string, container: Obj, spec: Obj = {}): Obj {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { terminationGracePeriodSeconds: 2, ...spec, containers: [{ name: 'c', image: IMAGE, ...container }] } };
}
const sh = (script: string) => ['sh', '-c', script];

before(async () => {
  if (skip) return;
  real = await startRealCluster();
  c = real.cluster;
  lap('cluster up');
  hostDir = mkdtempSync('/tmp/ordinal-lifecycle-');
  // A server on the node's address on the pod network: the preStop httpGet goes to it from the
  // node, the container's TERM trap from inside the pod. /prestop answers after 1.5 s.
  server = http.createServer((req, res) => {
    const hit: (typeof hits)[number] = { path: req.url ?? '', at: Date.now() };
    hits.push(hit);
    const answer = () => {
      hit.answeredAt = Date.now();
      res.end('ok');
    };
    if (req.url?.startsWith('/prestop')) setTimeout(answer, 1500);
    else answer();
  });
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(0, real!.net.gateway, resolve);
  });
  hookURL = { host: real.net.gateway, port: (server.address() as AddressInfo).port };
});

after(async () => {
  server?.close();
  await real?.stop();
  if (hostDir) rmSync(hostDir, { recursive: true, force: true });
});

const getPod = async (name: string): Promise<Obj> => JSON.parse(await kubectlOk(c, ['get', 'pod', name, '-o', 'json']));
const cs = (p: Obj) => p.status?.containerStatuses?.[0] ?? {};
const waitPod = (name: string, pred: (p: Obj) => boolean, ms = 40_000) => waitForPodIn(c, name, pred, ms);
const events = (name: string) => eventsAbout(c, name);
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}
async function timedDelete(args: string[]): Promise<number> {
  const start = Date.now();
  await kubectlOk(c, ['delete', 'pod', ...args]);
  return Date.now() - start;
}
const withDump = (fn: () => Promise<void>) => async () => {
  try {
    await fn();
  } catch (err) {
    real?.dumpLogs();
    throw err;
  }
};

test(
  'postStart: the page it writes is served as soon as the pod is Running (the pod waits for the hook)',
  opts,
  withDump(async () => {
    await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify(pod('ps-page', { lifecycle: { postStart: { exec: { command: sh('sleep 2; echo hooked > /usr/share/nginx/html/hook.html') } } } })) });
    const p = await waitPod('ps-page', (x) => !!cs(x).state?.running);
    // Running is only reported once the hook returned, so the page is there the moment it is.
    const page = await get(`http://${p.status.podIP}/hook.html`);
    assert.deepEqual(page, { status: 200, body: 'hooked\n' });
    const ev = await events('ps-page');
    assert.ok(!ev.some((e) => /Failed/.test(e)), ev.join('\n'));
    lap('ps-page served its postStart page');
  }),
);

test(
  'a failing postStart: FailedPostStartHook, Killing FailedPostStartHook, PostStartHookError with the output, and a restart',
  opts,
  withDump(async () => {
    const watch = kubectlStream(c, ['get', 'pods', '-w', '-o', 'jsonpath={.metadata.name} {.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].state.waiting.message}{"\\n"}']);
    try {
      await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify(pod('ps-fail', { lifecycle: { postStart: { exec: { command: sh('echo nope; exit 3') } } } })) });
      await waitPod('ps-fail', (x) => cs(x).restartCount >= 1);
      await watch.waitFor(/ps-fail PostStartHookError /, 30_000);
    } finally {
      await watch.stop();
    }
    const line = watch.output().split('\n').find((l) => l.startsWith('ps-fail PostStartHookError '))!;
    const uid = (await getPod('ps-fail')).metadata.uid;
    assert.equal(
      line,
      `ps-fail PostStartHookError Exec lifecycle hook ([sh -c echo nope; exit 3]) for Container "c" in Pod "ps-fail_default(${uid})" failed - error: command 'sh -c echo nope; exit 3' exited with 3: , message: "nope\\n"`,
    );
    const ev = await events('ps-fail');
    assert.ok(ev.includes('Warning FailedPostStartHook PostStartHook failed'), ev.join('\n'));
    assert.ok(ev.includes('Normal Killing FailedPostStartHook'), ev.join('\n'));
    lap('ps-fail restarted');
    await kubectlOk(c, ['delete', 'pod', 'ps-fail', '--wait=false']);
  }),
);

test(
  'preStop httpGet to the host: it runs and finishes before the container gets TERM',
  opts,
  withDump(async () => {
    const term = `trap 'wget -q -O /dev/null http://${hookURL.host}:${hookURL.port}/term; exit 0' TERM; while true; do sleep 1 & wait $!; done`;
    await kubectlOk(c, ['create', '-f', '-'], {
      input: JSON.stringify(pod('pre-http', { command: sh(term), lifecycle: { preStop: { httpGet: { host: hookURL.host, port: hookURL.port, path: '/prestop?pod=pre-http' } } } }, { terminationGracePeriodSeconds: 20 })),
    });
    await waitPod('pre-http', (x) => !!cs(x).state?.running);
    hits.length = 0;
    const took = await timedDelete(['pre-http']);
    const prestop = hits.find((h) => h.path === '/prestop?pod=pre-http');
    const termHit = hits.find((h) => h.path === '/term');
    assert.ok(prestop && termHit, JSON.stringify(hits));
    assert.ok(termHit.at >= prestop.answeredAt!, `TERM came ${termHit.at - prestop.answeredAt!} ms after the preStop call was answered`);
    console.log(`# pre-http: delete took ${took} ms; TERM ${termHit.at - prestop.at} ms after the preStop request`);
    assert.ok(took >= 1500 && took < 8000, `delete took ${took} ms`);
  }),
);

test(
  'preStop that outlasts the grace period: cut off by it (2 s more for TERM→KILL), its file shows it never finished',
  opts,
  withDump(async () => {
    const spec = {
      terminationGracePeriodSeconds: 3,
      volumes: [{ name: 'data', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } }],
    };
    await kubectlOk(c, ['create', '-f', '-'], {
      input: JSON.stringify(pod('pre-long', { command: sh(IGNORES_TERM), volumeMounts: [{ name: 'data', mountPath: '/data' }], lifecycle: { preStop: { exec: { command: sh('echo start >> /data/log; sleep 30; echo end >> /data/log') } } } }, spec)),
    });
    await waitPod('pre-long', (x) => !!cs(x).state?.running);
    const took = await timedDelete(['pre-long']);
    console.log(`# pre-long: delete took ${took} ms (3 s preStop budget + 2 s minimum for the signal)`);
    assert.ok(took >= 4500 && took < 9000, `delete took ${took} ms`);
    assert.equal(readFileSync(join(hostDir, 'log'), 'utf8'), 'start\n');
    // The hook's exec dies with its container: the kubelet records that as a failed preStop.
    await waitUntil(async () => (await events('pre-long')).includes('Warning FailedPreStopHook PreStopHook failed'), 10_000, () => 'FailedPreStopHook event');
  }),
);

test(
  'a second delete with a shorter --grace-period shortens the termination under way',
  opts,
  withDump(async () => {
    await kubectlOk(c, ['create', '-f', '-'], { input: JSON.stringify(pod('short', { command: sh(IGNORES_TERM), lifecycle: { preStop: { sleep: { seconds: 25 } } } }, { terminationGracePeriodSeconds: 30 })) });
    await waitPod('short', (x) => !!cs(x).state?.running);
    await kubectlOk(c, ['delete', 'pod', 'short', '--wait=false']);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await getPod('short')).metadata.deletionGracePeriodSeconds, 30);
    const took = await timedDelete(['short', '--grace-period=2']);
    console.log(`# short: gone ${took} ms after the second delete (2 s left for preStop + 2 s for the signal)`);
    assert.ok(took >= 2500 && took < 8000, `took ${took} ms`);
  }),
);
