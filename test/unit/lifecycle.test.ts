// Container lifecycle hooks: the pure decisions (grace budgets, messages), validation of
// `lifecycle` in pod specs, and the kill sequence (preStop, then the stop signal) against a fake runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Obj } from '../../src/api/resource.ts';
import {
  cannotRunMessage,
  execExitError,
  formatPod,
  goQuote,
  handlerType,
  hookFailureMessage,
  killBudgetSeconds,
  restopGraceSeconds,
  runsPreStop,
  shortenBudget,
  stopGraceSeconds,
} from '../../src/agent/lifecycle-logic.ts';
import { ContainerKill, runHook, runHttpGetHook } from '../../src/agent/lifecycle.ts';
import { validatePodSpec } from '../../src/api/kinds/podspec.ts';
import type { Runtime, RuntimeHookResult } from '../../src/agent/runtime/types.ts';

const POD: Obj = { metadata: { name: 'web-0', namespace: 'default', uid: 'u-1' }, spec: { terminationGracePeriodSeconds: 30 } };

test('handler type and the texts of failed hooks, as the kubelet words them', () => {
  assert.equal(handlerType({ exec: { command: ['true'] } }), 'exec');
  assert.equal(handlerType({ sleep: { seconds: 1 } }), 'sleep');
  assert.equal(handlerType({ tcpSocket: { port: 80 } }), 'tcpSocket');
  assert.equal(handlerType({}), undefined);
  assert.equal(formatPod(POD), 'web-0_default(u-1)');
  assert.equal(goQuote('a "b"\n\x01'), '"a \\"b\\"\\n\\x01"');
  const exec = { exec: { command: ['sh', '-c', 'echo boom >&2; exit 3'] } };
  assert.equal(
    hookFailureMessage(exec, 'app', POD, execExitError(exec.exec.command, 3, 'boom\n'), 'boom\n'),
    `Exec lifecycle hook ([sh -c echo boom >&2; exit 3]) for Container "app" in Pod "web-0_default(u-1)" failed - error: command 'sh -c echo boom >&2; exit 3' exited with 3: boom\n, message: "boom\\n"`,
  );
  assert.equal(
    hookFailureMessage({ httpGet: { path: '/hook', port: 8080 } }, 'app', POD, 'Get "http://10.0.0.5:8080/hook": dial tcp 10.0.0.5:8080: connect: connection refused'),
    'HTTP lifecycle hook (/hook) for Container "app" in Pod "web-0_default(u-1)" failed - error: Get "http://10.0.0.5:8080/hook": dial tcp 10.0.0.5:8080: connect: connection refused',
  );
  assert.equal(
    hookFailureMessage({ sleep: { seconds: 5 } }, 'app', POD, 'container terminated before sleep hook finished'),
    'Sleep lifecycle hook (5) for Container "app" in Pod "web-0_default(u-1)" failed - error: container terminated before sleep hook finished',
  );
  assert.equal(cannotRunMessage({ tcpSocket: { port: 80 } }), 'Cannot run handler: invalid handler: &LifecycleHandler{Exec:nil,HTTPGet:nil,TCPSocket:&TCPSocketAction{Port:{0 80 },Host:,},Sleep:nil,}');
  assert.equal(hookFailureMessage({ tcpSocket: { port: 'web' } }, 'app', POD, ''), 'Cannot run handler: invalid handler: &LifecycleHandler{Exec:nil,HTTPGet:nil,TCPSocket:&TCPSocketAction{Port:{1 0 web},Host:,},Sleep:nil,}');
});

test('kill budgets: deletion grace first, then a probe\'s own, then the pod\'s; preStop eats whole seconds; 2 s minimum', () => {
  const c = { name: 'app', livenessProbe: { terminationGracePeriodSeconds: 7 }, lifecycle: { preStop: { sleep: { seconds: 3 } } } };
  assert.equal(killBudgetSeconds(POD, c, 'liveness'), 7);
  assert.equal(killBudgetSeconds(POD, c, 'startup'), 30);
  assert.equal(killBudgetSeconds(POD, c, 'postStart'), 30);
  assert.equal(killBudgetSeconds({ ...POD, metadata: { ...POD.metadata, deletionGracePeriodSeconds: 5 } }, c, 'liveness'), 5);
  assert.equal(killBudgetSeconds({ metadata: {}, spec: {} }, {}, 'delete'), 30);
  assert.equal(runsPreStop(c, 1), true);
  assert.equal(runsPreStop(c, 0), false, 'no time, no preStop');
  assert.equal(runsPreStop({ name: 'x' }, 30), false);
  // 10 s budget, preStop took 3.9 s: 3 whole seconds come off.
  assert.equal(stopGraceSeconds(10, 3900), 7);
  assert.equal(stopGraceSeconds(5, 5000), 2, 'preStop used it all: the signal still gets 2 s');
  assert.equal(stopGraceSeconds(1, 0), 2);
  assert.equal(stopGraceSeconds(0, 0), 2);
});

test('a shorter grace period replaces the budget only when it ends sooner; a re-stop only when it kills sooner', () => {
  const b = { startMs: 0, seconds: 30 };
  assert.deepEqual(shortenBudget(b, 5, 10_000), { startMs: 10_000, seconds: 5 });
  assert.equal(shortenBudget(b, 25, 10_000), b, 'ends at 35 s, later than 30 s');
  assert.equal(shortenBudget(b, 30, 0), b, 'the same grace changes nothing');
  assert.deepEqual(shortenBudget(b, 0, 1000), { startMs: 1000, seconds: 0 });
  assert.equal(restopGraceSeconds(0, 30, 5, 1000), 5);
  assert.equal(restopGraceSeconds(0, 30, 1, 1000), 2, 'still the 2 s minimum');
  assert.equal(restopGraceSeconds(0, 3, 2, 2000), undefined, 'the stop under way ends sooner');
  assert.equal(restopGraceSeconds(0, 3, 0, 2000), 0, 'gone: kill now');
});

test('validation: one handler per hook, no grpc in hooks, sleep within the grace period', () => {
  const spec = (lifecycle: Obj, grace = 30) => ({ terminationGracePeriodSeconds: grace, restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', containers: [{ name: 'app', image: 'nginx:1', imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File', lifecycle }] });
  const errs = (lifecycle: Obj, grace?: number) => validatePodSpec(spec(lifecycle, grace), 'spec').map((e) => `${e.field}: ${e.type}: ${e.detail ?? ''}`);
  assert.deepEqual(errs({ postStart: { exec: { command: ['true'] } }, preStop: { httpGet: { path: '/', port: 80, scheme: 'HTTP' } } }), []);
  assert.deepEqual(errs({ preStop: { tcpSocket: { port: 80 } } }), [], 'tcpSocket is accepted (and fails at run time)');
  assert.deepEqual(errs({ preStop: {} }), ['spec.containers[0].lifecycle.preStop: FieldValueRequired: must specify a handler type']);
  assert.deepEqual(errs({ preStop: { grpc: { port: 80 } } }), ['spec.containers[0].lifecycle.preStop: FieldValueRequired: must specify a handler type']);
  assert.deepEqual(errs({ postStart: { exec: { command: ['true'] }, sleep: { seconds: 1 } } }), ['spec.containers[0].lifecycle.postStart.sleep: FieldValueForbidden: may not specify more than 1 handler type']);
  assert.deepEqual(errs({ postStart: { exec: { command: [] } } }), ['spec.containers[0].lifecycle.postStart.exec.command: FieldValueRequired: ']);
  assert.deepEqual(errs({ preStop: { sleep: { seconds: 30 } } }), []);
  const tooLong = 'must be greater than 0 and less than terminationGracePeriodSeconds (30). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.';
  assert.deepEqual(errs({ preStop: { sleep: { seconds: 31 } } }), [`spec.containers[0].lifecycle.preStop.sleep: FieldValueInvalid: ${tooLong}`]);
  assert.deepEqual(errs({ postStart: { sleep: { seconds: 0 } } }), [`spec.containers[0].lifecycle.postStart.sleep: FieldValueInvalid: ${tooLong}`]);
  assert.deepEqual(errs({ preStop: { sleep: { seconds: 5 } } }, 3).length, 1);
  // Sidecars may have hooks (validated); plain init containers may not.
  const withInit = (init: Obj) => validatePodSpec({ ...spec({}), initContainers: [{ name: 'init', image: 'busybox:1', imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File', ...init }] }, 'spec').map((e) => `${e.field}: ${e.type}`);
  assert.deepEqual(withInit({ restartPolicy: 'Always', lifecycle: { preStop: { sleep: { seconds: 99 } } } }), ['spec.initContainers[0].lifecycle.preStop.sleep: FieldValueInvalid']);
  assert.deepEqual(withInit({ lifecycle: { preStop: { sleep: { seconds: 1 } } } }), ['spec.initContainers[0].lifecycle: FieldValueForbidden']);
});

/** A runtime that records stops and runs hooks with a given delay and result. */
function fakeRuntime(hook: { delayMs: number; result?: RuntimeHookResult } = { delayMs: 0 }) {
  const log: string[] = [];
  const t0 = Date.now();
  const at = () => Math.round((Date.now() - t0) / 100) / 10;
  const runtime = {
    async stopContainer(id: string, grace: number) {
      log.push(`stop ${id} grace=${grace} at=${at()}`);
    },
    async runHook(_pod: Obj, _c: Obj, id: string, kind: string) {
      log.push(`${kind} ${id} at=${at()}`);
      await new Promise((r) => setTimeout(r, hook.delayMs));
      return hook.result ?? { ok: true };
    },
  } as unknown as Runtime;
  const events: string[] = [];
  const recorder = { event: (_o: Obj, type: string, reason: string, message: string) => events.push(`${type} ${reason} ${message}`) } as never;
  return { runtime, log, events, recorder };
}

const killOpts = (f: ReturnType<typeof fakeRuntime>, container: Obj, budgetSeconds: number, extra: Obj = {}) => ({
  runtime: f.runtime,
  events: f.recorder,
  pod: POD,
  container,
  containerId: 'c1',
  budgetSeconds,
  message: 'Stopping container app',
  running: true,
  key: 'default/web-0',
  ...extra,
});

test('kill: preStop runs before the stop signal, and its whole seconds come off the grace period', async () => {
  const f = fakeRuntime({ delayMs: 1100 });
  await new ContainerKill(killOpts(f, { name: 'app', lifecycle: { preStop: { exec: { command: ['x'] } } } }, 10)).done;
  assert.deepEqual(f.events, ['Normal Killing Stopping container app']);
  assert.equal(f.log[0], 'preStop c1 at=0');
  assert.match(f.log[1], /^stop c1 grace=9 at=1\.1$/);
});

test('kill: a preStop that outlasts the grace period is left behind; the signal gets the 2 s minimum; its failure is still recorded', async () => {
  const f = fakeRuntime({ delayMs: 1500, result: { ok: false, error: 'boom' } });
  await new ContainerKill(killOpts(f, { name: 'app', lifecycle: { preStop: { exec: { command: ['x'] } } } }, 1)).done;
  assert.match(f.log[1], /^stop c1 grace=2 at=1(\.0)?$/);
  await new Promise((r) => setTimeout(r, 700));
  assert.deepEqual(f.events, ['Normal Killing Stopping container app', 'Warning FailedPreStopHook PreStopHook failed']);
});

test('kill: a sleep preStop is timed by the agent; no preStop for a 0 budget or an immediate kill', async () => {
  let f = fakeRuntime();
  const sleeper = { name: 'app', lifecycle: { preStop: { sleep: { seconds: 1 } } } };
  await new ContainerKill(killOpts(f, sleeper, 5)).done;
  assert.match(f.log[0], /^stop c1 grace=4 at=1(\.0)?$/);
  f = fakeRuntime();
  await new ContainerKill(killOpts(f, sleeper, 0)).done;
  assert.deepEqual(f.log, ['stop c1 grace=2 at=0']);
  f = fakeRuntime();
  await new ContainerKill(killOpts(f, sleeper, 0, { immediate: true })).done;
  assert.deepEqual(f.log, ['stop c1 grace=0 at=0']);
});

test('kill: a shorter grace period cuts the preStop wait; once stopping, it asks for an earlier kill', async () => {
  let f = fakeRuntime();
  let k = new ContainerKill(killOpts(f, { name: 'app', lifecycle: { preStop: { sleep: { seconds: 20 } } } }, 30));
  await new Promise((r) => setTimeout(r, 300));
  k.shorten(1);
  k.shorten(25); // longer: ignored
  await k.done;
  assert.match(f.log[0], /^stop c1 grace=2 at=1\.[2-4]$/);
  // Gone from the API: kill at once.
  f = fakeRuntime();
  k = new ContainerKill(killOpts(f, { name: 'app', lifecycle: { preStop: { sleep: { seconds: 20 } } } }, 30));
  await new Promise((r) => setTimeout(r, 200));
  k.shorten(0);
  await k.done;
  assert.deepEqual(f.log, ['stop c1 grace=0 at=0.2']);
  // Already sending the signal with 30 s: a second stop with the shorter grace.
  const stops: number[] = [];
  let release!: () => void;
  const slow = {
    stopContainer: (_id: string, g: number) => {
      stops.push(g);
      return g === 30 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
    },
  } as unknown as Runtime;
  k = new ContainerKill({ ...killOpts(f, { name: 'app' }, 30), runtime: slow });
  await new Promise((r) => setTimeout(r, 50));
  k.shorten(3);
  await k.done;
  release();
  assert.deepEqual(stops, [30, 3]);
});

test('runHook: sleep interrupted, tcpSocket cannot run, exec failures carry the output', async () => {
  const f = fakeRuntime({ delayMs: 0, result: { ok: false, error: "command 'false' exited with 1: ", output: 'nope' } });
  const abort = new AbortController();
  const sleeping = runHook(f.runtime, POD, { name: 'app' }, 'c1', 'postStart', { sleep: { seconds: 10 } }, abort.signal);
  abort.abort();
  assert.deepEqual(await sleeping, {
    ok: false,
    aborted: true,
    message: 'Sleep lifecycle hook (10) for Container "app" in Pod "web-0_default(u-1)" failed - error: container terminated before sleep hook finished',
  });
  const never = new AbortController().signal;
  assert.deepEqual(await runHook(f.runtime, POD, { name: 'app' }, 'c1', 'postStart', { sleep: { seconds: 0 } }, never), { ok: true });
  const tcp = await runHook(f.runtime, POD, { name: 'app' }, 'c1', 'preStop', { tcpSocket: { port: 80 } }, never);
  assert.equal(tcp.ok, false);
  assert.match((tcp as { message: string }).message, /^Cannot run handler: invalid handler/);
  const exec = await runHook(f.runtime, POD, { name: 'app' }, 'c1', 'postStart', { exec: { command: ['false'] } }, never);
  assert.deepEqual(exec, { ok: false, aborted: false, message: `Exec lifecycle hook ([false]) for Container "app" in Pod "web-0_default(u-1)" failed - error: command 'false' exited with 1: , message: "nope"` });
});

test('httpGet hook: any status is done, only an unreachable server fails; kube-lifecycle User-Agent; named ports', async () => {
  const seen: Obj[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, ua: req.headers['user-agent'], x: req.headers['x-hook'] });
    res.statusCode = req.url === '/redirect' ? 302 : 500;
    if (req.url === '/redirect') res.setHeader('location', '/final');
    res.end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const pod = { ...POD, status: { podIP: '127.0.0.1' } };
    const never = new AbortController().signal;
    assert.deepEqual(await runHttpGetHook(pod, { ports: [{ name: 'web', containerPort: port }] }, { path: '/hook', port: 'web', httpHeaders: [{ name: 'X-Hook', value: '1' }] }, never), { ok: true });
    assert.deepEqual(await runHttpGetHook(pod, {}, { path: '/redirect', port }, never), { ok: true });
    assert.deepEqual(seen, [
      { url: '/hook', ua: 'kube-lifecycle/1.32', x: '1' },
      { url: '/redirect', ua: 'kube-lifecycle/1.32', x: undefined },
      { url: '/final', ua: 'kube-lifecycle/1.32', x: undefined },
    ]);
  } finally {
    await new Promise((r) => server.close(r));
  }
  const refused = await runHttpGetHook({ ...POD, status: { podIP: '127.0.0.1' } }, {}, { path: '/x', port }, new AbortController().signal);
  assert.deepEqual(refused, { ok: false, error: `Get "http://127.0.0.1:${port}/x": dial tcp 127.0.0.1:${port}: connect: connection refused` });
});
