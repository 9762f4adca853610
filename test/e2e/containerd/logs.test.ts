// `kubectl logs` with real containers: what containerd writes in the CRI log format, read back
// by the node's openContainerLogs (tail, timestamps, follow until the container stops, the
// previous instance of a crashing container), and the same through the real kubectl. Root only;
// skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { kubectl, kubectlOk, kubectlStream, waitUntil, type Cluster } from '../../integration/harness.ts';
import { openContainerLogs } from '../../../src/agent/logs.ts';
import { ContainerdRuntime } from '../../../src/agent/runtime/containerd.ts';
import type { ContainerView } from '../../../src/agent/pod-worker.ts';
import type { LogOptions } from '../../../src/streaming/types.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';

const skip = realClusterUnavailable();

const PODS = `
apiVersion: v1
kind: Pod
metadata: {name: counter}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: counter
    image: kubia-stored:v2
    command: [sh, -c, 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done']
---
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: crasher
    image: kubia-stored:v2
    command: [sh, -c, 'echo "starting run $(cat /proc/uptime)"; echo "giving up" >&2; exit 1']
---
apiVersion: v1
kind: Pod
metadata: {name: oneshot}
spec:
  restartPolicy: Never
  containers:
  - name: oneshot
    image: kubia-stored:v2
    command: [sh, -c, 'echo all done']
---
apiVersion: v1
kind: Pod
metadata: {name: nopull}
spec:
  containers:
  - name: app
    image: registry.invalid/nothing:1.0
`;

const opts = (o: Partial<LogOptions> = {}): LogOptions => ({ container: '', follow: false, previous: false, timestamps: false, ...o });

function collect(s: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

async function podStatus(c: Cluster, name: string): Promise<any> {
  return JSON.parse(await kubectlOk(c, ['get', 'pod', name, '-o', 'json'])).status ?? {};
}

const consecutive = (lines: string[]) => lines.every((l, i) => i === 0 || Number(l.split(' ')[1]) === Number(lines[i - 1]!.split(' ')[1]) + 1);

test('container logs from containerd: tail, timestamps, follow, previous', { skip: skip ? `real containers: ${skip}` : false, timeout: 150_000 }, async () => {
  const t0 = performance.now();
  const lap = (what: string) => console.log(`# ${what}: ${Math.round(performance.now() - t0)} ms`);
  let real: RealCluster | undefined;
  let rt: ContainerdRuntime | undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'ordinal-logs-e2e-'));
  try {
    real = await startRealCluster();
    const { cluster, cd } = real;
    lap('cluster up');
    await kubectlOk(cluster, ['apply', '-f', '-'], { input: PODS });
    let counterId = '';
    await waitUntil(
      async () => {
        const s = await podStatus(cluster, 'counter');
        counterId = String(s.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', '');
        return s.phase === 'Running' && !!counterId;
      },
      30_000,
      () => `counter not running\n${cluster.logs().slice(-3000)}`,
    );
    lap('counter running');

    // ---- straight through the runtime: the log file containerd writes, read by openContainerLogs
    rt = await ContainerdRuntime.connect({ socket: cd.socket, dataDir: scratch });
    const st = await rt.containerStatus(counterId);
    assert.ok(st.logPath, 'containerStatus reports the log path');
    assert.match(st.logPath!, /\/logs\/default_counter_[0-9a-f-]+\/counter\/0\.log$/);
    const counter: ContainerView = { name: 'counter', init: false, id: counterId, status: st, restartCount: 0 };
    await waitUntil(async () => (await collect(await openContainerLogs(counter, opts(), { podName: 'counter' }))).split('\n').length > 5, 10_000);
    const all = (await collect(await openContainerLogs(counter, opts(), { podName: 'counter' }))).trimEnd().split('\n');
    assert.equal(all[0], 'line 0');
    assert.ok(consecutive(all), all.join('|'));
    const tail = (await collect(await openContainerLogs(counter, opts({ tailLines: 2 }), { podName: 'counter' }))).trimEnd().split('\n');
    assert.equal(tail.length, 2);
    assert.ok(consecutive(tail) && Number(tail[0]!.split(' ')[1]) >= all.length - 2, tail.join('|'));
    const stamped = (await collect(await openContainerLogs(counter, opts({ timestamps: true, tailLines: 3 }), { podName: 'counter' }))).trimEnd().split('\n');
    for (const l of stamped) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) line \d+$/);
    const limited = await collect(await openContainerLogs(counter, opts({ limitBytes: 10 }), { podName: 'counter' }));
    assert.equal(limited, 'line 0\nlin');

    // Follow: new lines as they come, and the end once the container stops.
    const follow = await openContainerLogs(counter, opts({ follow: true, tailLines: 1 }), { podName: 'counter', runtime: rt });
    let followed = '';
    follow.on('data', (d: Buffer) => (followed += d.toString()));
    const ended = new Promise<void>((r) => follow.on('end', r));
    await waitUntil(() => followed.split('\n').length > 5, 10_000, () => `followed: ${followed}`);
    assert.ok(consecutive(followed.trimEnd().split('\n')), followed);
    lap('followed 5 lines');
    await rt.stopContainer(counterId, 0);
    await Promise.race([ended, new Promise((_, rej) => setTimeout(() => rej(new Error('follow did not end after the container stopped')), 5000))]);
    lap('follow ended with the container');

    // A crashing container: its previous instance's log outlives the instance.
    let crasher: any;
    await waitUntil(
      async () => {
        crasher = (await podStatus(cluster, 'crasher')).containerStatuses?.[0];
        return (crasher?.restartCount ?? 0) >= 1 && !!crasher?.lastState?.terminated;
      },
      40_000,
      () => `crasher never restarted: ${JSON.stringify(crasher)}`,
    );
    lap('crasher restarted');
    const currentId = String(crasher.containerID ?? crasher.lastState.terminated.containerID).replace('containerd://', '');
    const cur = await rt.containerStatus(currentId);
    // The instance before the newest one was removed on restart, and its log file stays for --previous.
    const prevAttempt = Number(cur.logPath!.match(/(\d+)\.log$/)![1]) - 1;
    const prevPath = join(dirname(cur.logPath!), `${prevAttempt}.log`);
    assert.ok(existsSync(prevPath), `${prevPath} survives the removal of its container`);
    const crashView: ContainerView = {
      name: 'crasher',
      init: false,
      id: currentId,
      status: cur,
      previous: { id: 'removed', state: 'exited', exitCode: 1, createdAt: '', logPath: prevPath },
      restartCount: prevAttempt + 1,
    };
    const prev = await collect(await openContainerLogs(crashView, opts({ previous: true }), { podName: 'crasher' }));
    assert.match(prev, /^(starting run [\d. ]+\ngiving up\n|giving up\nstarting run [\d. ]+\n)$/);
    lap('previous instance read');

    // ---- the same through the real kubectl (API server pods/log -> the node's AgentStreaming -> openContainerLogs)
    const probe = await kubectl(cluster, ['logs', 'crasher', '--previous']);
    assert.equal(probe.code, 0, probe.stderr);
    assert.match(probe.stdout, /starting run/);
    assert.match(probe.stdout, /giving up/);
    await waitUntil(async () => (await podStatus(cluster, 'counter')).containerStatuses?.[0]?.state?.running, 30_000);
    const out = (await kubectlOk(cluster, ['logs', 'counter'])).trimEnd().split('\n');
    assert.equal(out[0], 'line 0');
    const t2 = (await kubectlOk(cluster, ['logs', 'counter', '--tail', '2'])).trimEnd().split('\n');
    assert.equal(t2.length, 2);
    assert.ok(consecutive(t2), t2.join('|'));
    for (const l of (await kubectlOk(cluster, ['logs', 'counter', '--tail', '2', '--timestamps'])).trimEnd().split('\n')) assert.match(l, /^\S+\.\d{9}Z line \d+$/);
    // counter restarted once (stopped above): its previous instance is the first run.
    const before = (await kubectlOk(cluster, ['logs', 'counter', '--previous'])).trimEnd().split('\n');
    assert.equal(before[0], 'line 0');
    assert.ok(before.length >= 5);
    const f = kubectlStream(cluster, ['logs', '-f', 'counter', '--tail', '1']);
    try {
      await f.waitFor(/(line \d+\n){4}/, 10_000);
      assert.ok(consecutive(f.output().trimEnd().split('\n')), f.output());
    } finally {
      await f.stop();
    }
    // -f on a container that exits (or already has, in its back-off) ends by itself.
    const fc = await kubectl(cluster, ['logs', '-f', 'crasher'], { timeoutMs: 15_000 });
    assert.equal(fc.code, 0, fc.stderr);
    // A finished pod's sandbox is gone; its log is still there.
    await waitUntil(async () => (await podStatus(cluster, 'oneshot')).phase === 'Succeeded', 20_000);
    assert.equal(await kubectlOk(cluster, ['logs', 'oneshot']), 'all done\n');
    const waiting = await kubectl(cluster, ['logs', 'nopull']);
    assert.notEqual(waiting.code, 0);
    assert.match(waiting.stderr, /Error from server \(BadRequest\): container "app" in pod "nopull" is waiting to start: (image can't be pulled|trying and failing to pull image)/);
    const noPrev = await kubectl(cluster, ['logs', 'nopull', '--previous']);
    assert.match(noPrev.stderr, /Error from server \(BadRequest\): previous terminated container "app" in pod "nopull" not found/);
    lap('kubectl logs, --tail, --timestamps, --previous, -f, errors');

    // Logs live as long as their pod: only the last dead instance's is kept, and a deleted pod's go.
    const crasherPod = JSON.parse(await kubectlOk(cluster, ['get', 'pod', 'crasher', '-o', 'json']));
    const crasherLogs = join(cluster.dataDir, 'logs', `default_crasher_${crasherPod.metadata.uid}`, 'crasher');
    await waitUntil(async () => (await podStatus(cluster, 'crasher')).containerStatuses?.[0]?.restartCount >= 2, 60_000, () => 'crasher did not restart twice');
    await waitUntil(() => readdirSync(crasherLogs).length <= 2, 5_000, () => `old instance logs kept: ${readdirSync(crasherLogs).join(' ')}`);
    await kubectlOk(cluster, ['delete', 'pod', 'oneshot', 'crasher', '--grace-period=1']);
    for (const p of [crasherPod]) {
      await waitUntil(() => !existsSync(dirname(crasherLogs)), 20_000, () => `${p.metadata.name}'s logs outlived the pod`);
    }
    lap('logs removed with their pod');
  } catch (err) {
    real?.dumpLogs();
    throw err;
  } finally {
    rt?.close();
    await real?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
});
