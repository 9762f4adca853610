// `ordinal up` with no runtime flags on a machine with containerd installed: Ordinal starts its own
// containerd under the data dir, imports its built-in pause image and the archives of
// <data-dir>/images, and the tutorial's web StatefulSet runs real pods. Then the whole cluster's
// process group is killed with -9 while pods run (its containerd, in a group of its own, lives on),
// and a fresh cluster with a fresh data dir on the same pod network ends them within seconds, so no
// address is held twice; `ordinal images import` loads the image there. SIGTERM stops the second
// Ordinal and its containerd, leaving its pods to their shims, which the test then ends the way a
// later start would (by their recorded socket). Root only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixture, kubectlOk, tempDir, waitUntil, type Cluster } from '../../integration/harness.ts';
import { claimPodNetwork, realClusterUnavailable, type PodNetwork } from './real-cluster.ts';
import { nginxSlimImage, ociArchive } from '../images/build.ts';
import { run } from './containerd.ts';
import { containerdLayout } from '../../../src/agent/containerd-supervisor/config.ts';
import { endInstance, readRecords, removeRecord } from '../../../src/agent/containerd-supervisor/leftovers.ts';
import { shimsOf } from '../../../src/agent/containerd-supervisor/proc.ts';
import { deleteBridge } from '../../../src/agent/runtime/cri/network.ts';
import { ORDINAL_PAUSE_IMAGE } from '../../../src/agent/images/pause.ts';
import { CriClient } from '../../../src/agent/runtime/cri/client.ts';
import { sandboxConfigFor } from '../../../src/agent/runtime/cri/pod-config.ts';

const skip = realClusterUnavailable();
const root = new URL('../../../', import.meta.url).pathname;
const main = join(root, 'src/cli/main.ts');

interface OwnCluster extends Cluster {
  /** Everything the process printed (logs at info level). */
  logs(): string;
}

/** `ordinal up` in a process group of its own (so the test can kill the whole group), with no runtime flags. */
async function up(dataDir: string, net: PodNetwork): Promise<OwnCluster> {
  const proc = spawn(process.execPath, [main, 'up', '--data-dir', dataDir, '--port', '0', '--dns-port', '0', '--pod-cidr', net.cidr, '--bridge', net.bridge], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ORDINAL_LOG_LEVEL: 'info' },
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  proc.stdout!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ordinal up did not start in time:\n${out}`)), 30_000);
    proc.stdout!.on('data', () => {
      const m = /ready at (https:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ordinal up exited with ${code}:\n${out}`));
    });
  });
  return { dataDir, kubeconfig: join(dataDir, 'kubeconfig'), url, proc, logs: () => out };
}

function exited(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()));
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return !/^\d+ \([^)]*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function httpStatus(ip: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port: 80, path: '/', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

async function webPods(c: Cluster): Promise<{ name: string; ip: string; phase: string }[]> {
  const list = JSON.parse(await kubectlOk(c, ['get', 'pods', '-l', 'app=nginx', '-o', 'json']));
  return list.items.map((p: any) => ({ name: p.metadata.name, ip: p.status?.podIP ?? '', phase: p.status?.phase ?? '' })).sort((a: any, b: any) => a.name.localeCompare(b.name));
}

async function webRunning(c: Cluster, ms: number): Promise<{ name: string; ip: string }[]> {
  let pods: { name: string; ip: string; phase: string }[] = [];
  await waitUntil(
    async () => {
      pods = await webPods(c);
      return pods.length === 2 && pods.every((p) => p.phase === 'Running' && p.ip);
    },
    ms,
    () => `web-0 and web-1 Running: ${JSON.stringify(pods)}`,
  );
  return pods;
}

/** Host ends of the veths on the pod bridge: one per pod sandbox attached to it. */
async function vethsOn(bridge: string): Promise<string[]> {
  const r = await run('ip', ['-o', 'link', 'show', 'master', bridge]);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]!);
}

const recordOf = (dataDir: string) => readRecords().find((r) => r.dataDir === dataDir);

test('ordinal up runs its own containerd; a fresh cluster ends what a killed one left; SIGTERM stops ordinal and its containerd', { skip, timeout: 180_000 }, async () => {
  const net = claimPodNetwork();
  const dirA = tempDir('ordinal-own-a-');
  const dirB = tempDir('ordinal-own-b-');
  const nginx = ociArchive([nginxSlimImage()]);
  // The images directory is read at start (k3s's air-gap images).
  mkdirSync(join(dirA, 'images'), { recursive: true });
  writeFileSync(join(dirA, 'images', 'nginx-slim.tar'), nginx);
  let a: OwnCluster | undefined;
  let b: OwnCluster | undefined;
  try {
    // ---- cluster A: own containerd, pause image and images dir imported, real pods
    let t0 = performance.now();
    a = await up(dirA, net);
    const startMs = Math.round(performance.now() - t0);
    assert.match(a.logs(), /Ordinal runs its own containerd/);
    const recA = recordOf(dirA);
    assert.ok(recA && alive(recA.containerdPid), 'A\'s containerd is recorded and runs');
    assert.equal(recA.socket, containerdLayout(dirA).socket);
    assert.match(readFileSync(join(dirA, 'containerd', 'config.toml'), 'utf8'), /restrict_oom_score_adj = true/);
    assert.match(a.logs(), /imported Ordinal's pause image as the sandbox image/);
    assert.match(a.logs(), /"msg":"imported images","file":"[^"]*nginx-slim.tar","images":\["registry.k8s.io\/nginx-slim:0.8"\]/);

    t0 = performance.now();
    await kubectlOk(a, ['create', '-f', fixture('web.yaml')]);
    const podsA = await webRunning(a, 60_000);
    const readyMs = Math.round(performance.now() - t0);
    for (const p of podsA) assert.ok((await httpStatus(p.ip)) > 0, `${p.name} at ${p.ip} answers HTTP`);
    // Every sandbox runs Ordinal's pause image.
    const sandboxes = await run('ctr', ['-a', recA.socket, '-n', 'k8s.io', 'containers', 'ls', 'labels."io.cri-containerd.kind"==sandbox']);
    const images = sandboxes.stdout.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/)[1]);
    assert.deepEqual(images, [ORDINAL_PAUSE_IMAGE, ORDINAL_PAUSE_IMAGE]);
    assert.equal((await vethsOn(net.bridge)).length, 2);
    const ipsA = podsA.map((p) => p.ip);
    const shimsA = shimsOf(recA.socket);
    assert.equal(shimsA.length, 2, 'one shim per pod');
    console.log(`cluster A: ready in ${startMs} ms (own containerd included); web-0 and web-1 Running ${readyMs} ms after create; IPs ${ipsA.join(', ')}`);

    // ---- kill -9 of A's whole process group while its pods run: containerd (own group) and shims live on
    process.kill(-a.proc.pid!, 'SIGKILL');
    await exited(a.proc);
    await sleep(200);
    assert.ok(alive(recA.containerdPid), 'A\'s containerd outlives it');
    assert.ok(shimsA.every(alive), 'and so do its pods');
    assert.ok((await httpStatus(ipsA[0]!)) > 0, 'still serving');

    // ---- cluster B: fresh data dir, same pod network: A's leftovers go before B's node starts
    t0 = performance.now();
    b = await up(dirB, net);
    const settleMs = Math.round(performance.now() - t0);
    assert.match(b.logs(), /ending what an earlier Ordinal's containerd left running: its pods are on this node's bridge/);
    assert.ok(!alive(recA.containerdPid), 'A\'s containerd is gone');
    assert.ok(!shimsA.some(alive), 'A\'s pods are gone');
    assert.deepEqual(await vethsOn(net.bridge), [], 'nothing of A is left on the bridge');
    assert.equal(recordOf(dirA), undefined);
    console.log(`cluster B ready ${settleMs} ms after its start, A's pods already ended`);

    // `ordinal images import` into B's containerd.
    const archive = join(dirB, 'nginx.tar');
    writeFileSync(archive, nginx);
    const imp = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(process.execPath, [main, 'images', 'import', archive, '--data-dir', dirB], (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? 1) : 0, out: stdout + stderr })),
    );
    assert.equal(imp.code, 0, imp.out);
    assert.equal(imp.out, 'imported registry.k8s.io/nginx-slim:0.8\n');
    const missing = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(process.execPath, [main, 'images', 'import', join(dirB, 'nope.tar'), '--data-dir', dirB], (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? 1) : 0, out: stdout + stderr })),
    );
    assert.equal(missing.code, 1);
    assert.match(missing.out, /nope.tar: no such file/);

    await kubectlOk(b, ['create', '-f', fixture('web.yaml')]);
    const podsB = await webRunning(b, 60_000);
    const veths = await vethsOn(net.bridge);
    assert.equal(veths.length, 2, `only B's two pods are on the bridge: ${veths.join(', ')}`);
    assert.equal(new Set(podsB.map((p) => p.ip)).size, 2);
    for (const p of podsB) assert.ok((await httpStatus(p.ip)) > 0, `${p.name} at ${p.ip} answers`);
    console.log(`cluster B: IPs ${podsB.map((p) => p.ip).join(', ')} (A had ${ipsA.join(', ')})`);

    // ---- SIGTERM: Ordinal and its containerd stop; the pods stay with their shims
    const recB = recordOf(dirB)!;
    const shimsB = shimsOf(recB.socket);
    assert.equal(shimsB.length, 2);
    t0 = performance.now();
    process.kill(b.proc.pid!, 'SIGTERM');
    await exited(b.proc);
    const stopMs = Math.round(performance.now() - t0);
    assert.equal(b.proc.exitCode, 0);
    assert.ok(!alive(recB.containerdPid), 'B\'s containerd stopped with it');
    assert.ok(shimsB.every(alive), 'a stopped node leaves its pods alone');
    console.log(`SIGTERM: ordinal and its containerd gone in ${stopMs} ms; pods still running`);

    // What a later start does with a dead containerd's pods, by process: end them all.
    const report = await endInstance(recordOf(dirB)!);
    assert.equal(report.shims, 2);
    assert.equal(report.netns, 2);
    await waitUntil(async () => !shimsB.some(alive) && (await vethsOn(net.bridge)).length === 0, 10_000, () => 'B\'s pods ended by process');
    removeRecord(recB.socket);
  } catch (err) {
    console.log(a?.logs().slice(-5000));
    console.log(b?.logs().slice(-5000));
    for (const d of [dirA, dirB]) if (existsSync(join(d, 'containerd', 'containerd.log'))) console.log(readFileSync(join(d, 'containerd', 'containerd.log'), 'utf8').slice(-3000));
    throw err;
  } finally {
    for (const c of [a, b]) if (c && c.proc.exitCode === null && c.proc.signalCode === null) {
      process.kill(-c.proc.pid!, 'SIGKILL');
      await exited(c.proc);
    }
    // Whatever is left (a failed run): end it as a later start would.
    for (const d of [dirA, dirB]) {
      const rec = recordOf(d);
      if (rec) {
        await endInstance(rec).catch(() => {});
        removeRecord(rec.socket);
      }
    }
    await deleteBridge(net.bridge);
    net.release();
    await run('rm', ['-rf', dirA, dirB]);
  }
});

test('a restart on the same data dir takes over the running pods; housekeeping ends sandboxes of pods not bound here; a sandbox stops promptly', { skip, timeout: 180_000 }, async () => {
  const net = claimPodNetwork();
  const dir = tempDir('ordinal-own-c-');
  mkdirSync(join(dir, 'images'), { recursive: true });
  writeFileSync(join(dir, 'images', 'nginx-slim.tar'), ociArchive([nginxSlimImage()]));
  let c: OwnCluster | undefined;
  const cri = () => new CriClient(containerdLayout(dir).socket);
  try {
    c = await up(dir, net);
    await kubectlOk(c, ['create', '-f', fixture('web.yaml')]);
    await webRunning(c, 60_000);
    const before = JSON.parse(await kubectlOk(c, ['get', 'pods', '-l', 'app=nginx', '-o', 'json'])).items.map((p: any) => `${p.metadata.name} ${p.status.podIP} ${p.status.containerStatuses[0].containerID}`);
    const rec1 = recordOf(dir)!;
    const shims = shimsOf(rec1.socket);

    process.kill(-c.proc.pid!, 'SIGKILL');
    await exited(c.proc);
    c = await up(dir, net);
    assert.match(c.logs(), /stopping the containerd an earlier Ordinal left running on this data dir/);
    const rec2 = recordOf(dir)!;
    assert.ok(!alive(rec1.containerdPid) && alive(rec2.containerdPid) && rec1.containerdPid !== rec2.containerdPid, 'a new containerd on the same state');
    assert.ok(shims.every(alive), 'the pods were not restarted');
    await sleep(1500);
    const after = JSON.parse(await kubectlOk(c, ['get', 'pods', '-l', 'app=nginx', '-o', 'json'])).items;
    assert.deepEqual(after.map((p: any) => `${p.metadata.name} ${p.status.podIP} ${p.status.containerStatuses[0].containerID}`), before, 'same pods, addresses and containers');
    assert.ok(after.every((p: any) => p.status.phase === 'Running' && p.status.containerStatuses[0].restartCount === 0));

    // A sandbox of a pod the API does not bind here (as if force-deleted while the node was away).
    const client = cri();
    const ghost = { metadata: { name: 'ghost', namespace: 'default', uid: 'ghost-uid' }, spec: { containers: [] } };
    const logDirectory = join(dir, 'ghost-logs');
    mkdirSync(logDirectory, { recursive: true });
    const ghostId = await client.runPodSandbox(sandboxConfigFor(ghost, { logDirectory }));
    const ghostIp = (await client.podSandboxStatus(ghostId)).ip;
    assert.ok(ghostIp.startsWith(net.cidr.split('.').slice(0, 3).join('.')), ghostIp);
    const t0 = performance.now();
    await waitUntil(async () => (await client.listPodSandbox({ labels: { 'io.kubernetes.pod.uid': 'ghost-uid' } })).length === 0, 20_000, () => 'the ghost sandbox removed by housekeeping');
    console.log(`housekeeping removed the orphaned sandbox (${ghostIp}) after ${Math.round(performance.now() - t0)} ms`);
    // The agent logs the removal once containerd has confirmed it: the line may trail the removal a little.
    await waitUntil(() => /removed a sandbox that belongs to no pod bound to this node/.test(c!.logs()), 5_000, () => `no removal logged:\n${c!.logs().slice(-3000)}`);
    assert.equal((await webPods(c)).filter((p) => p.phase === 'Running').length, 2, 'bound pods untouched');

    // Ordinal's pause stops at once: StopPodSandbox of a sandbox the agent does not manage (no ordinal label, so housekeeping leaves it).
    const plain = sandboxConfigFor({ metadata: { name: 'plain', namespace: 'default', uid: 'plain-uid' }, spec: {} }, { logDirectory });
    plain.labels = { test: 'plain' };
    const plainId = await client.runPodSandbox(plain);
    const t1 = performance.now();
    await client.stopPodSandbox(plainId);
    const stopMs = Math.round(performance.now() - t1);
    assert.equal((await client.podSandboxStatus(plainId)).state, 'notready');
    await client.removePodSandbox(plainId);
    console.log(`StopPodSandbox with Ordinal's pause: ${stopMs} ms`);
    assert.ok(stopMs < 3000, `${stopMs} ms`);
    client.close();

    process.kill(c.proc.pid!, 'SIGTERM');
    await exited(c.proc);
    assert.equal(c.proc.exitCode, 0);
  } catch (err) {
    console.log(c?.logs().slice(-5000));
    if (existsSync(join(dir, 'containerd', 'containerd.log'))) console.log(readFileSync(join(dir, 'containerd', 'containerd.log'), 'utf8').slice(-3000));
    throw err;
  } finally {
    if (c && c.proc.exitCode === null && c.proc.signalCode === null) {
      process.kill(-c.proc.pid!, 'SIGKILL');
      await exited(c.proc);
    }
    const rec = recordOf(dir);
    if (rec) {
      await endInstance(rec).catch(() => {});
      removeRecord(rec.socket);
    }
    await deleteBridge(net.bridge);
    net.release();
    await run('rm', ['-rf', dir]);
  }
});
