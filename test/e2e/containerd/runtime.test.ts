// The storage part of the StatefulSet tutorial with real containers: `ordinal up --runtime
// containerd` against a private containerd, web.yaml's two nginx stand-ins on the CNI bridge, each
// serving its own hostname from its persistent volume, and the same pages after the pods are
// deleted and come back with new addresses. Root only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ociArchive, standardImages } from '../images/build.ts';
import { importImage, missingPrerequisite, run, startContainerd, type Containerd } from './containerd.ts';
import { fixture, kubectl, kubectlOk, removeCluster, startCluster, stopCluster, waitUntil, type Cluster } from '../../integration/harness.ts';
import { CriClient } from '../../../src/agent/runtime/cri/client.ts';
import { deleteBridge, DEFAULT_BRIDGE } from '../../../src/agent/runtime/cri/network.ts';

function whyNot(): string | undefined {
  const why = missingPrerequisite();
  if (why) return why;
  if (!existsSync(process.env.BUSYBOX ?? '/bin/busybox')) return 'busybox-static is missing (apt-get install busybox-static), the test images are built from it';
  return undefined;
}

const skip = whyNot();

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

interface PodView {
  name: string;
  uid: string;
  ip: string;
  phase: string;
  ready: boolean;
  containerId: string;
}

async function webPods(c: Cluster): Promise<PodView[]> {
  const list = JSON.parse(await kubectlOk(c, ['get', 'pods', '-l', 'app=nginx', '-o', 'json']));
  return list.items.map((p: any) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    ip: p.status?.podIP ?? '',
    phase: p.status?.phase ?? '',
    ready: !!p.status?.containerStatuses?.every((s: any) => s.ready),
    containerId: String(p.status?.containerStatuses?.[0]?.containerID ?? '').replace('containerd://', ''),
  }));
}

async function waitRunning(c: Cluster, notUids: Set<string>, ms: number): Promise<PodView[]> {
  let pods: PodView[] = [];
  await waitUntil(
    async () => {
      pods = (await webPods(c)).filter((p) => !notUids.has(p.uid));
      return pods.length === 2 && pods.every((p) => p.phase === 'Running' && p.ready && /^10\.244\.1\.\d+$/.test(p.ip) && p.containerId);
    },
    ms,
    () => `web-0 and web-1 not Running 1/1 with pod IPs: ${JSON.stringify(pods)}\n${c.logs().slice(-3000)}`,
  );
  return pods.sort((a, b) => a.name.localeCompare(b.name));
}

test('StatefulSet web on containerd: hostnames served from persistent volumes survive pod deletion', { skip: skip ? `real containers: ${skip}` : false, timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const lap = (what: string) => console.log(`# ${what}: ${Math.round(performance.now() - t0)} ms`);
  let cd: Containerd | undefined;
  let cluster: Cluster | undefined;
  let cri: CriClient | undefined;
  const forwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  try {
    cd = await startContainerd({});
    const images = join(cd.dir, 'images');
    mkdirSync(images);
    writeFileSync(join(images, 'all.oci.tar'), ociArchive(standardImages()));
    await importImage(cd.socket, join(images, 'all.oci.tar'));
    lap('containerd started, images imported');

    cluster = await startCluster({ args: ['--runtime', 'containerd', '--containerd-socket', cd.socket] });
    lap('ordinal up');
    const node = JSON.parse(await kubectlOk(cluster, ['get', 'node', 'node-1', '-o', 'json']));
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\./);

    await kubectlOk(cluster, ['create', '-f', fixture('web.yaml')]);
    const first = await waitRunning(cluster, new Set(), 30_000);
    lap('web-0, web-1 running');
    cri = new CriClient(cd.socket);
    for (const p of first) {
      // The tutorial's `kubectl exec web-$i -- sh -c 'echo $(hostname) > .../index.html'`, through CRI.
      const r = await cri.execSync(p.containerId, ['sh', '-c', 'echo $(hostname) > /usr/share/nginx/html/index.html; hostname']);
      assert.equal(r.exitCode, 0, r.stderr.toString());
      assert.equal(r.stdout.toString().trim(), p.name, 'hostname is the pod name');
      const page = await get(`http://${p.ip}/`);
      assert.equal(page.status, 200);
      assert.equal(page.body.trim(), p.name);
      const resolv = (await cri.execSync(p.containerId, ['cat', '/etc/resolv.conf'])).stdout.toString();
      assert.match(resolv, /nameserver 10\.244\.1\.1/);
      assert.match(resolv, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
      const hosts = (await cri.execSync(p.containerId, ['cat', '/etc/hosts'])).stdout.toString();
      assert.match(hosts, new RegExp(`${p.ip.replace(/\./g, '\\.')}\\s+${p.name}\\.nginx\\.default\\.svc\\.cluster\\.local\\s+${p.name}`));
    }
    assert.notEqual(first[0]!.ip, first[1]!.ip);
    lap('pages served');

    await kubectlOk(cluster, ['delete', 'pod', 'web-0', 'web-1']);
    const second = await waitRunning(cluster, new Set(first.map((p) => p.uid)), 40_000);
    lap('pods recreated');
    for (const p of second) {
      const page = await get(`http://${p.ip}/`);
      assert.equal(page.body.trim(), p.name, `${p.name} (new IP ${p.ip}) still serves its page from the volume`);
    }
    // The old sandboxes are gone: only the two new pods' sandboxes remain.
    const sandboxes = await cri.listPodSandbox({ labels: { 'ordinal.dev/managed': 'true' } });
    assert.deepEqual(sandboxes.map((s) => s.metadata.uid).sort(), second.map((p) => p.uid).sort());
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), forwardBefore, 'the pod network does not turn on forwarding');

    // Exit codes and restarts: env ($(VAR) expanded) and workingDir reach the process, which exits 7.
    // Missing images fail without any registry being contacted.
    const podOf = (name: string, container: object) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', ...container }] } });
    const items = [
      podOf('crasher', {
        image: 'registry.k8s.io/nginx-slim:0.8',
        command: ['sh', '-c', 'test "$GREETING" = hi-web && test "$(pwd)" = /tmp && exit 7; exit 1'],
        env: [{ name: 'WHO', value: 'web' }, { name: 'GREETING', value: 'hi-$(WHO)' }],
        workingDir: '/tmp',
      }),
      podOf('missing', { image: 'registry.example.invalid/none:1' }),
      podOf('never', { image: 'registry.example.invalid/none:2', imagePullPolicy: 'Never' }),
    ];
    await kubectlOk(cluster, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
    const status = async (name: string) => JSON.parse(await kubectlOk(cluster!, ['get', 'pod', name, '-o', 'json'])).status?.containerStatuses?.[0] ?? {};
    await waitUntil(async () => (await status('crasher')).restartCount >= 1, 20_000, () => 'crasher never restarted');
    const crashed = await status('crasher');
    assert.equal((crashed.lastState?.terminated ?? crashed.state?.terminated)?.exitCode, 7);
    let missing: any = {};
    await waitUntil(async () => /ErrImagePull|ImagePullBackOff/.test((missing = await status('missing')).state?.waiting?.reason ?? ''), 20_000, () => JSON.stringify(missing));
    assert.match(missing.state.waiting.message, /never reaches registries outside this machine.*images import/);
    let never: any = {};
    await waitUntil(async () => (never = await status('never')).state?.waiting?.reason === 'ErrImageNeverPull', 20_000, () => JSON.stringify(never));
    lap('exit codes and image errors');
  } catch (err) {
    if (cluster) console.log(cluster.logs().slice(-4000));
    if (cd) console.log(cd.log().slice(-3000));
    throw err;
  } finally {
    if (cluster) {
      await kubectl(cluster, ['get', 'pods', '-o', 'wide']).then((r) => console.log(r.stdout));
      await stopCluster(cluster);
    }
    // Pods outlive the agent. Sandboxes go through CRI so CNI releases their veths and network
    // namespaces (containerd's own stop only kills tasks).
    if (cd) {
      cri ??= new CriClient(cd.socket);
      for (const s of await cri.listPodSandbox().catch(() => [])) {
        await cri.stopPodSandbox(s.id).catch((e) => console.log(`cleanup: ${e.message}`));
        await cri.removePodSandbox(s.id).catch((e) => console.log(`cleanup: ${e.message}`));
      }
    }
    cri?.close();
    await cd?.stop();
    await deleteBridge(DEFAULT_BRIDGE);
    if (cluster) {
      // Volumes were written by root inside containers; the data dir goes after containerd has let go of it.
      await run('rm', ['-rf', cluster.dataDir]);
      removeCluster(cluster);
    }
  }
});
