// The storage part of the StatefulSet tutorial with real containers: `ordinal up --runtime
// containerd` against a private containerd, web.yaml's two nginx stand-ins on the CNI bridge, each
// serving its own hostname from its persistent volume, and the same pages after the pods are
// deleted and come back with new addresses. Root only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { fixture, kubectl, kubectlOk, waitUntil, type Cluster } from '../../integration/harness.ts';
import { CriClient } from '../../../src/agent/runtime/cri/client.ts';
import { parseServiceCidr } from '../../../src/apiserver/service-network.ts';
import { realClusterUnavailable, startRealCluster, type PodNetwork, type RealCluster } from './real-cluster.ts';

const skip = realClusterUnavailable();

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

async function waitRunning(c: Cluster, net: PodNetwork, notUids: Set<string>, ms: number): Promise<PodView[]> {
  let pods: PodView[] = [];
  await waitUntil(
    async () => {
      pods = (await webPods(c)).filter((p) => !notUids.has(p.uid));
      return pods.length === 2 && pods.every((p) => p.phase === 'Running' && p.ready && p.ip.startsWith(net.cidr.replace(/0\/24$/, '')) && p.containerId);
    },
    ms,
    () => `web-0 and web-1 not Running 1/1 with pod IPs: ${JSON.stringify(pods)}\n${c.logs().slice(-3000)}`,
  );
  return pods.sort((a, b) => a.name.localeCompare(b.name));
}

test('StatefulSet web on containerd: hostnames served from persistent volumes survive pod deletion', { skip: skip ? `real containers: ${skip}` : false, timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const lap = (what: string) => console.log(`# ${what}: ${Math.round(performance.now() - t0)} ms`);
  let real: RealCluster | undefined;
  let cri: CriClient | undefined;
  const forwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  try {
    real = await startRealCluster();
    const { cluster, cd, net } = real;
    lap('containerd started, images imported, ordinal up');
    const node = JSON.parse(await kubectlOk(cluster, ['get', 'node', 'node-1', '-o', 'json']));
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\./);

    await kubectlOk(cluster, ['create', '-f', fixture('web.yaml')]);
    const first = await waitRunning(cluster, net, new Set(), 30_000);
    lap('web-0, web-1 running');
    for (const p of first) {
      // The tutorial's `for i in 0 1; do kubectl exec web-$i -- sh -c 'echo $(hostname) > /usr/share/nginx/html/index.html'; done`.
      await kubectlOk(cluster, ['exec', p.name, '--', 'sh', '-c', 'echo $(hostname) > /usr/share/nginx/html/index.html']);
      assert.equal((await kubectlOk(cluster, ['exec', p.name, '--', 'hostname'])).trim(), p.name, 'hostname is the pod name');
      // The tutorial's `for i in 0 1; do kubectl exec -it web-$i -- curl localhost; done` (no terminal here).
      assert.equal((await kubectlOk(cluster, ['exec', p.name, '--', 'curl', 'localhost'])).trim(), p.name);
      const page = await get(`http://${p.ip}/`);
      assert.equal(page.status, 200);
      assert.equal(page.body.trim(), p.name);
      const resolv = await kubectlOk(cluster, ['exec', p.name, '--', 'cat', '/etc/resolv.conf']);
      // The kubelet's --cluster-dns: the kube-dns ClusterIP (the tenth address of the service CIDR), which the node answers itself.
      assert.match(resolv, new RegExp(`nameserver ${parseServiceCidr(net.serviceCIDR).dnsIP.replace(/\./g, '\\.')}\n`));
      assert.match(resolv, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
      const hosts = await kubectlOk(cluster, ['exec', p.name, '--', 'cat', '/etc/hosts']);
      assert.match(hosts, new RegExp(`${p.ip.replace(/\./g, '\\.')}\\s+${p.name}\\.nginx\\.default\\.svc\\.cluster\\.local\\s+${p.name}`));
    }
    assert.notEqual(first[0]!.ip, first[1]!.ip);
    lap('pages served');

    await kubectlOk(cluster, ['delete', 'pod', 'web-0', 'web-1']);
    const second = await waitRunning(cluster, net, new Set(first.map((p) => p.uid)), 40_000);
    lap('pods recreated');
    for (const p of second) {
      const page = await get(`http://${p.ip}/`);
      assert.equal(page.body.trim(), p.name, `${p.name} (new IP ${p.ip}) still serves its page from the volume`);
    }
    // Peers find each other by DNS, at their current addresses. busybox's nslookup (1.29 and later)
    // applies the search path only to names without dots, so the tutorial's `nslookup web-0.nginx`
    // (written for busybox 1.28, which used the libc resolver) is checked three ways: the full name
    // with nslookup, the bare service name through the search path, and `web-0.nginx` through the
    // libc resolver (search path and ndots:5 from resolv.conf) by fetching its page.
    const [web0, web1] = second;
    const ipPattern = (ip: string) => new RegExp(`Address:?\\s+${ip.replace(/\./g, '\\.')}\\b`);
    const exec = async (argv: string[]) => {
      const r = await kubectl(cluster, ['exec', web1!.name, '--', ...argv]);
      return { code: r.code, out: r.stdout + r.stderr };
    };
    const full = await exec(['nslookup', 'web-0.nginx.default.svc.cluster.local']);
    assert.equal(full.code, 0, full.out);
    assert.match(full.out, ipPattern(web0!.ip));
    assert.doesNotMatch(full.out, ipPattern(first[0]!.ip), 'not the old pod address');
    // (busybox asks every search domain and exits 1 because the other two have no such name.)
    const service = await exec(['nslookup', 'nginx']);
    assert.match(service.out, /nginx\.default\.svc\.cluster\.local/);
    for (const p of second) assert.match(service.out, ipPattern(p.ip), 'the headless service lists every ready pod');
    const viaSearch = await exec(['wget', '-q', '-O', '-', 'http://web-0.nginx/']);
    assert.equal(viaSearch.code, 0, viaSearch.out);
    assert.equal(viaSearch.out.trim(), 'web-0');
    const noSuchPod = await exec(['nslookup', 'web-9.nginx.default.svc.cluster.local']);
    assert.notEqual(noSuchPod.code, 0, 'no such pod: NXDOMAIN');
    assert.match(noSuchPod.out, /NXDOMAIN/);
    lap('DNS from pods');

    // The old sandboxes are gone: only the two new pods' sandboxes remain.
    cri = new CriClient(cd.socket);
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
    const status = async (name: string) => JSON.parse(await kubectlOk(cluster, ['get', 'pod', name, '-o', 'json'])).status?.containerStatuses?.[0] ?? {};
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
    real?.dumpLogs();
    throw err;
  } finally {
    cri?.close();
    await real?.stop();
  }
});
