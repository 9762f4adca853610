// The prober's decisions (thresholds, gating, messages, grace periods, ports), the network probes
// against servers on loopback, and the per-pod prober with a scripted runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Obj } from '../../src/api/resource.ts';
import {
  dialErrorText,
  gate,
  httpStatusOk,
  initialResult,
  killGraceSeconds,
  killingMessage,
  normalizeProbeResult,
  probeHeaders,
  probeSettings,
  probeURL,
  quietStop,
  recordResult,
  resolveProbePort,
  restartsAfterKill,
  resultOf,
  stateFor,
  unhealthyMessage,
  type ProbeKind,
  type ProbeResult,
  type ProbeState,
} from '../../src/agent/prober-logic.ts';
import { httpGetProbe, runNetworkProbe, tcpProbe } from '../../src/agent/prober-net.ts';
import { PodProber } from '../../src/agent/prober.ts';
import type { Runtime, RuntimeProbeResult } from '../../src/agent/runtime/types.ts';
import type { EventRecorder } from '../../src/client/events.ts';

test('probe settings: API defaults, and successThreshold is 1 for liveness and startup', () => {
  assert.deepEqual(probeSettings('readiness', {}), { initialDelaySeconds: 0, periodMs: 10_000, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 });
  assert.deepEqual(probeSettings('readiness', { initialDelaySeconds: 5, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 4, successThreshold: 2 }), {
    initialDelaySeconds: 5,
    periodMs: 2000,
    timeoutSeconds: 3,
    failureThreshold: 4,
    successThreshold: 2,
  });
  assert.equal(probeSettings('liveness', { successThreshold: 3 }).successThreshold, 1);
  assert.equal(probeSettings('startup', { successThreshold: 3 }).successThreshold, 1);
  assert.equal(probeSettings('liveness', { periodSeconds: 0, failureThreshold: -1 }).periodMs, 10_000, 'zero means the default');
});

test('initial results: readiness not ready, liveness alive, startup unknown', () => {
  assert.equal(initialResult('readiness'), 'failure');
  assert.equal(initialResult('liveness'), 'success');
  assert.equal(initialResult('startup'), 'unknown');
});

/** Feeds a sequence of raw results to a fresh worker state; returns what was published after each and where kills happened. */
function feed(kind: ProbeKind, probe: Obj, results: ProbeResult[]): { published: ProbeResult[]; kills: number[]; changes: number[]; state: ProbeState } {
  const settings = probeSettings(kind, probe);
  let state = stateFor(kind, 'c1');
  const published: ProbeResult[] = [];
  const kills: number[] = [];
  const changes: number[] = [];
  results.forEach((r, i) => {
    const d = recordResult(kind, settings, state, r);
    state = d.state;
    published.push(state.result);
    if (d.kill) kills.push(i);
    if (d.changed) changes.push(i);
  });
  return { published, kills, changes, state };
}

test('thresholds: published results change only after a run of failureThreshold / successThreshold', () => {
  const S = 'success' as const;
  const F = 'failure' as const;
  const U = 'unknown' as const;
  const cases: [string, ProbeKind, Obj, ProbeResult[], ProbeResult[], number[]][] = [
    // name, kind, probe, raw results, published after each, kill indices
    ['readiness passes at once', 'readiness', {}, [S], [S], []],
    ['readiness needs 3 failures to drop', 'readiness', {}, [S, F, F, F], [S, S, S, F], []],
    ['a success in between resets the failure run', 'readiness', {}, [S, F, F, S, F, F, F], [S, S, S, S, S, S, F], []],
    ['successThreshold 2', 'readiness', { successThreshold: 2 }, [S, S, F, S, S], [F, S, S, S, S], []],
    ['successThreshold 2 after dropping', 'readiness', { successThreshold: 2, failureThreshold: 1 }, [S, S, F, S, S], [F, S, F, F, S], []],
    ['unknown runs are thrown away', 'readiness', { failureThreshold: 2 }, [S, F, U, F], [S, S, S, F], []],
    ['liveness killed after 3 in a row', 'liveness', {}, [S, F, F, F], [S, S, S, F], [3]],
    ['liveness: interrupted run does not kill', 'liveness', {}, [F, F, S, F, F], [S, S, S, S, S], []],
    ['liveness failureThreshold 1', 'liveness', { failureThreshold: 1 }, [S, F], [S, F], [1]],
    ['startup succeeds', 'startup', { failureThreshold: 3 }, [F, F, S], [U, U, S], []],
    ['startup gives up', 'startup', { failureThreshold: 2 }, [F, F], [U, F], [1]],
  ];
  for (const [name, kind, probe, raw, want, kills] of cases) {
    const got = feed(kind, probe, raw);
    assert.deepEqual(got.published, want, name);
    assert.deepEqual(got.kills, kills, `${name}: kills`);
  }
});

test('a published liveness failure holds the worker and restarts the run', () => {
  const { state, changes } = feed('liveness', { failureThreshold: 2 }, ['failure', 'failure']);
  assert.equal(state.onHold, true);
  assert.equal(state.run, 0);
  assert.deepEqual(changes, [1]);
  // Readiness failures never hold.
  assert.equal(feed('readiness', { failureThreshold: 1 }, ['failure']).state.onHold, false);
  // A new container starts afresh.
  assert.deepEqual(stateFor('liveness', 'c2'), { containerId: 'c2', result: 'success', last: undefined, run: 0, onHold: false });
  assert.equal(quietStop({ ...state }).result, 'success');
});

test('gating: hold, not running, deletion, initial delay, startup first', () => {
  const settings = probeSettings('liveness', { initialDelaySeconds: 5 });
  const base = { running: true, secondsSinceStart: 10, started: true, deleting: false };
  const fresh = (kind: ProbeKind) => stateFor(kind, 'c1');
  const cases: [string, ProbeKind, ProbeState, Partial<typeof base>, string][] = [
    ['probes', 'liveness', fresh('liveness'), {}, 'probe'],
    ['held after a kill', 'liveness', { ...fresh('liveness'), onHold: true }, {}, 'hold'],
    ['not running', 'readiness', fresh('readiness'), { running: false }, 'idle'],
    ['liveness stops when the pod is deleted', 'liveness', fresh('liveness'), { deleting: true }, 'stop'],
    ['startup stops when the pod is deleted', 'startup', fresh('startup'), { deleting: true, started: false }, 'stop'],
    ['readiness goes on during deletion', 'readiness', fresh('readiness'), { deleting: true }, 'probe'],
    ['initial delay (whole seconds)', 'readiness', fresh('readiness'), { secondsSinceStart: 4 }, 'delay'],
    ['initial delay passed', 'readiness', fresh('readiness'), { secondsSinceStart: 5 }, 'probe'],
    ['readiness waits for startup', 'readiness', fresh('readiness'), { started: false }, 'gated'],
    ['liveness waits for startup', 'liveness', fresh('liveness'), { started: false }, 'gated'],
    ['startup probes until started', 'startup', fresh('startup'), { started: false }, 'probe'],
    ['startup done once started', 'startup', fresh('startup'), {}, 'done'],
  ];
  for (const [name, kind, state, over, want] of cases) assert.equal(gate(kind, state, settings, { ...base, ...over }), want, name);
});

test('event texts are upstream\'s', () => {
  assert.equal(unhealthyMessage('liveness', { ok: false, output: 'HTTP probe failed with statuscode: 500' }), 'Liveness probe failed: HTTP probe failed with statuscode: 500');
  assert.equal(unhealthyMessage('readiness', { ok: false, output: 'dial tcp 10.0.0.5:81: connect: connection refused' }), 'Readiness probe failed: dial tcp 10.0.0.5:81: connect: connection refused');
  assert.equal(unhealthyMessage('startup', { ok: false, output: '' }), 'Startup probe failed: ');
  assert.equal(unhealthyMessage('readiness', { ok: false, error: true, output: 'strconv.Atoi: parsing "http": invalid syntax' }), 'Readiness probe errored and resulted in unknown state: strconv.Atoi: parsing "http": invalid syntax');
  assert.equal(unhealthyMessage('liveness', { ok: true, output: 'fine' }), undefined);
  assert.equal(killingMessage('app', 'liveness', true), 'Container app failed liveness probe, will be restarted');
  assert.equal(killingMessage('app', 'startup', false), 'Container app failed startup probe');
  assert.equal(restartsAfterKill({ spec: { restartPolicy: 'Never' } }, false), false);
  assert.equal(restartsAfterKill({ spec: { restartPolicy: 'Never' } }, true), true, 'sidecars always restart');
  assert.equal(restartsAfterKill({ spec: {} }, false), true);
  assert.deepEqual(normalizeProbeResult(true), { ok: true });
  assert.equal(resultOf({ ok: false, error: true }), 'unknown');
  assert.equal(resultOf({ ok: false }), 'failure');
});

test('kill grace: the probe\'s own, else the pod\'s, else 30 s; never under 2 s', () => {
  const c = (probe: Obj = {}) => ({ name: 'app', livenessProbe: probe, startupProbe: { terminationGracePeriodSeconds: 7 } });
  assert.equal(killGraceSeconds({ spec: { terminationGracePeriodSeconds: 10 } }, c(), 'liveness'), 10);
  assert.equal(killGraceSeconds({ spec: { terminationGracePeriodSeconds: 10 } }, c({ terminationGracePeriodSeconds: 4 }), 'liveness'), 4);
  assert.equal(killGraceSeconds({ spec: { terminationGracePeriodSeconds: 10 } }, c(), 'startup'), 7);
  assert.equal(killGraceSeconds({ spec: {} }, c(), 'liveness'), 30);
  assert.equal(killGraceSeconds({ spec: { terminationGracePeriodSeconds: 0 } }, c(), 'liveness'), 2);
});

test('probe ports, URLs and headers', () => {
  const container = { ports: [{ name: 'http', containerPort: 8080 }, { name: 'bad', containerPort: 70000 }] };
  assert.deepEqual(resolveProbePort(80, container), { port: 80 });
  assert.deepEqual(resolveProbePort('http', container), { port: 8080 });
  assert.deepEqual(resolveProbePort('8081', container), { port: 8081 });
  assert.deepEqual(resolveProbePort('web', container), { error: 'strconv.Atoi: parsing "web": invalid syntax' });
  assert.deepEqual(resolveProbePort('bad', container), { error: 'invalid port number: 70000' });
  assert.deepEqual(resolveProbePort(0, container), { error: 'invalid port number: 0' });
  assert.equal(probeURL({ path: '/healthz', scheme: 'HTTPS' }, '10.0.0.5', 443), 'https://10.0.0.5:443/healthz');
  assert.equal(probeURL({}, 'fd00::5', 80), 'http://[fd00::5]:80');
  assert.equal(probeURL({ path: 'x?y=1' }, 'h', 1), 'http://h:1/x?y=1');
  assert.deepEqual(probeHeaders({}), { 'user-agent': 'kube-probe/1.32', accept: '*/*' });
  assert.deepEqual(probeHeaders({ httpHeaders: [{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }, { name: 'Accept', value: 'text/plain' }, { name: 'User-Agent', value: '' }] }), {
    'x-a': '1, 2',
    accept: 'text/plain',
  });
  assert.equal(httpStatusOk(200) && httpStatusOk(302) && httpStatusOk(399), true);
  assert.equal(httpStatusOk(400) || httpStatusOk(199) || httpStatusOk(500), false);
  assert.equal(dialErrorText('10.0.0.5', 81, { code: 'ECONNREFUSED' }), 'dial tcp 10.0.0.5:81: connect: connection refused');
});

async function server(handler: http.RequestListener): Promise<{ port: number; close: () => Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as AddressInfo).port, close: () => new Promise((r) => s.close(() => r())) };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('httpGet probes on loopback: status codes, headers, redirects, refusals and timeouts', async () => {
  const seen: http.IncomingHttpHeaders[] = [];
  const srv = await server((req, res) => {
    seen.push(req.headers);
    if (req.url === '/ok') return res.end('fine');
    if (req.url === '/moved') return res.writeHead(302, { location: '/missing' }).end();
    if (req.url === '/away') return res.writeHead(301, { location: 'http://elsewhere.invalid/' }).end();
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 1500);
    if (req.url === '/missing') return res.writeHead(404).end();
    res.writeHead(500).end('broken');
  });
  try {
    const base = `http://127.0.0.1:${srv.port}`;
    const h = probeHeaders({ httpHeaders: [{ name: 'X-Probe', value: 'yes' }] });
    assert.deepEqual(await httpGetProbe(`${base}/ok`, h, 1000), { ok: true });
    assert.equal(seen[0]!['user-agent'], 'kube-probe/1.32');
    assert.equal(seen[0]!['x-probe'], 'yes');
    assert.deepEqual(await httpGetProbe(`${base}/err`, h, 1000), { ok: false, output: 'HTTP probe failed with statuscode: 500' });
    assert.deepEqual(await httpGetProbe(`${base}/moved`, h, 1000), { ok: false, output: 'HTTP probe failed with statuscode: 404' }, 'same-host redirects are followed');
    assert.equal((await httpGetProbe(`${base}/away`, h, 1000)).ok, true, 'a redirect to another host ends the probe as a success');
    const t0 = Date.now();
    const slow = await httpGetProbe(`${base}/slow`, h, 300);
    assert.ok(Date.now() - t0 < 1000, 'gives up at the timeout');
    assert.deepEqual(slow, { ok: false, output: `Get "${base}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    const port = await closedPort();
    assert.deepEqual(await httpGetProbe(`http://127.0.0.1:${port}/`, h, 1000), { ok: false, output: `Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused` });
    // Through the probe spec: the pod IP when no host is given, named ports.
    const pod = { status: { podIP: '127.0.0.1' } };
    assert.deepEqual(await runNetworkProbe(pod, { ports: [{ name: 'web', containerPort: srv.port }] }, { httpGet: { path: '/ok', port: 'web' }, timeoutSeconds: 1 }), { ok: true });
    assert.deepEqual(await runNetworkProbe(pod, {}, { httpGet: { path: '/ok', port: 'web' } }), { ok: false, error: true, output: 'strconv.Atoi: parsing "web": invalid syntax' });
    assert.equal(await runNetworkProbe(pod, {}, { exec: { command: ['true'] } }), undefined);
  } finally {
    await srv.close();
  }
});

test('tcpSocket probes on loopback', async () => {
  const srv = await server((_req, res) => res.end());
  try {
    assert.deepEqual(await tcpProbe('127.0.0.1', srv.port, 1000), { ok: true });
    const port = await closedPort();
    assert.deepEqual(await tcpProbe('127.0.0.1', port, 1000), { ok: false, output: `dial tcp 127.0.0.1:${port}: connect: connection refused` });
    assert.deepEqual(await runNetworkProbe({ status: { podIP: '127.0.0.1' } }, {}, { tcpSocket: { port: srv.port } }), { ok: true });
  } finally {
    await srv.close();
  }
});

// ------------------------------------------------------------------------------ the pod prober

/** A runtime whose probe() answers from a script per probe kind. */
function scriptedRuntime(answer: (kind: ProbeKind) => Promise<RuntimeProbeResult>): { runtime: Runtime; calls: ProbeKind[] } {
  const calls: ProbeKind[] = [];
  const runtime = {
    probe: async (_pod: Obj, _c: Obj, _id: string, kind: ProbeKind) => {
      calls.push(kind);
      return answer(kind);
    },
  } as unknown as Runtime;
  return { runtime, calls };
}

function recorder(): { events: EventRecorder; seen: string[] } {
  const seen: string[] = [];
  return { events: { event: (_o: Obj, type: string, reason: string, message: string) => seen.push(`${type} ${reason} ${message}`) } as unknown as EventRecorder, seen };
}

const until = async (cond: () => boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('pod prober: startup gates readiness, readiness follows the probe, liveness condemns after its threshold', async () => {
  let startupOk = false;
  let live = true;
  const { runtime, calls } = scriptedRuntime(async (kind) => {
    if (kind === 'startup') return startupOk ? { ok: true } : { ok: false, output: 'not yet' };
    if (kind === 'liveness') return live ? { ok: true } : { ok: false, output: 'HTTP probe failed with statuscode: 500' };
    return { ok: true };
  });
  const { events, seen } = recorder();
  let changes = 0;
  const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: {} };
  const prober = new PodProber({ runtime, events, pod: () => pod, changed: () => changes++ });
  const spec = {
    name: 'app',
    startupProbe: { periodSeconds: 1, failureThreshold: 30, exec: { command: ['true'] } },
    readinessProbe: { periodSeconds: 1, exec: { command: ['true'] } },
    livenessProbe: { periodSeconds: 1, failureThreshold: 2, exec: { command: ['true'] } },
  };
  try {
    prober.update([{ name: 'app', spec, id: 'c1', running: true, startedAt: new Date().toISOString() }]);
    assert.equal(prober.started('app', 'c1'), false);
    assert.equal(prober.readiness('app', 'c1'), false);
    await until(() => calls.includes('startup'), 1000, 'the first startup run');
    assert.ok(!calls.includes('readiness') && !calls.includes('liveness'), 'nothing else runs before the container has started');
    assert.ok(seen.includes('Warning Unhealthy Startup probe failed: not yet'));
    startupOk = true;
    await until(() => prober.started('app', 'c1'), 2000, 'started');
    // Readiness is run right away once started, not a period later.
    await until(() => prober.readiness('app', 'c1') === true, 300, 'ready');
    assert.ok(changes >= 2);
    live = false;
    await until(() => prober.failure('app', 'c1') === 'liveness', 4000, 'liveness failure');
    assert.ok(seen.filter((s) => s === 'Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 500').length >= 2);
    assert.equal(prober.failure('app', 'c2'), undefined, 'the verdict is about that instance only');
    // The restarted instance starts over: not started, not ready, not condemned.
    live = true;
    prober.update([{ name: 'app', spec, id: 'c2', running: true, startedAt: new Date().toISOString() }]);
    assert.equal(prober.failure('app', 'c2'), undefined);
    assert.equal(prober.started('app', 'c2'), false);
    await until(() => prober.readiness('app', 'c2') === true, 2000, 'the new instance ready');
  } finally {
    prober.stop();
  }
});

test('pod prober: a hanging probe never blocks the caller, and counts as failed after its timeout', async () => {
  const { runtime } = scriptedRuntime(() => new Promise(() => {}));
  const { events, seen } = recorder();
  const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: {} };
  const prober = new PodProber({ runtime, events, pod: () => pod, changed: () => {} });
  try {
    const t0 = Date.now();
    prober.update([{ name: 'app', spec: { name: 'app', readinessProbe: { timeoutSeconds: 1, periodSeconds: 1, failureThreshold: 1, exec: { command: ['sleep', '99'] } } }, id: 'c1', running: true }]);
    assert.ok(Date.now() - t0 < 50);
    assert.equal(prober.readiness('app', 'c1'), false);
    await until(() => seen.length > 0, 5000, 'the timed-out run');
    assert.match(seen[0]!, /^Warning Unhealthy Readiness probe failed: probe did not finish within 1s$/);
  } finally {
    prober.stop();
  }
});

test('pod prober: deletion stops liveness and startup quietly', async () => {
  const { runtime, calls } = scriptedRuntime(async () => ({ ok: false, output: 'down' }));
  const { events } = recorder();
  const pod: Obj = { metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: {} };
  const prober = new PodProber({ runtime, events, pod: () => pod, changed: () => {} });
  try {
    prober.update([{ name: 'app', spec: { name: 'app', livenessProbe: { periodSeconds: 1, failureThreshold: 1, initialDelaySeconds: 1 } }, id: 'c1', running: true, startedAt: new Date().toISOString() }]);
    prober.update([], { deleting: true });
    await new Promise((r) => setTimeout(r, 1300));
    assert.deepEqual(calls, []);
    assert.equal(prober.failure('app', 'c1'), undefined);
  } finally {
    prober.stop();
  }
});

test('pod prober: an adopted instance keeps the Ready and started it was reported with until probed', async () => {
  const { runtime } = scriptedRuntime(() => new Promise(() => {}));
  const { events } = recorder();
  const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: {} };
  const prober = new PodProber({ runtime, events, pod: () => pod, changed: () => {} });
  const spec = { name: 'app', startupProbe: { exec: { command: ['true'] } }, readinessProbe: { exec: { command: ['true'] } } };
  try {
    prober.update([{ name: 'app', spec, id: 'c1', running: true, ready: true, started: true }]);
    assert.equal(prober.started('app', 'c1'), true);
    assert.equal(prober.readiness('app', 'c1'), true);
    // A fresh instance starts from scratch whatever the caller says about the old one.
    prober.update([{ name: 'app', spec, id: 'c2', running: true, ready: false, started: false }]);
    assert.equal(prober.started('app', 'c2'), false);
    assert.equal(prober.readiness('app', 'c2'), false);
  } finally {
    prober.stop();
  }
});

test('pod prober: a run still under way when the container is replaced does not stall the worker', async () => {
  let n = 0;
  const { runtime } = scriptedRuntime(() => (++n === 1 ? new Promise((r) => setTimeout(() => r({ ok: true }), 300)) : Promise.resolve({ ok: true })));
  const { events } = recorder();
  const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: {} };
  const prober = new PodProber({ runtime, events, pod: () => pod, changed: () => {} });
  const spec = { name: 'app', readinessProbe: { periodSeconds: 30, exec: { command: ['true'] } } };
  try {
    prober.update([{ name: 'app', spec, id: 'c1', running: true }]);
    await until(() => n === 1, 500, 'the first run');
    prober.update([{ name: 'app', spec, id: 'c2', running: true }]);
    await until(() => prober.readiness('app', 'c2') === true, 1500, 'the new instance probed');
    assert.equal(prober.readiness('app', 'c1'), false, 'the old verdict is dropped');
  } finally {
    prober.stop();
  }
});
