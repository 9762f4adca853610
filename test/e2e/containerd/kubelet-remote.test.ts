// Real containers through the node's kubelet API: the node agent (containerd runtime) is not
// registered with the API server's process; it serves its kubelet API on loopback (serveNode) and
// the API server reaches it over TLS for `kubectl exec`, `logs`, `port-forward`, `cp` and the node
// proxy's /pods. Root only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectl, kubectlOk, waitForPod, waitUntil, type Cluster } from '../../integration/harness.ts';
import { NodeAgent } from '../../../src/agent/agent.ts';
import { serveNode } from '../../../src/agent/kubelet-server/serve-node.ts';
import type { KubeletServer } from '../../../src/agent/kubelet-server/server.ts';
import { ContainerdRuntime } from '../../../src/agent/runtime/containerd.ts';
import { CriClient } from '../../../src/agent/runtime/cri/client.ts';
import { deleteBridge } from '../../../src/agent/runtime/cri/network.ts';
import { NGINX_DEFAULT_PAGE, ociArchive, standardImages } from '../images/build.ts';
import { importImage, run, startContainerd, type Containerd } from './containerd.ts';
import { claimPodNetwork, realClusterUnavailable, type PodNetwork } from './real-cluster.ts';
import { startTestApi, type TestApi } from '../../support/inprocess.ts';
import { RootCaCertPublisher } from '../../../src/controllers/serviceaccount/root-ca-publisher.ts';

const skip = realClusterUnavailable();

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  nodeName: far-1
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx
    image: registry.k8s.io/nginx-slim:0.8
    ports:
    - containerPort: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: talker
spec:
  nodeName: far-1
  terminationGracePeriodSeconds: 1
  containers:
  - name: talker
    image: kubia-stored:v2
    command: [sh, -c, 'echo hello-1; echo hello-2; sleep 3600']
`;

test('real containers through a node served over its kubelet API', { skip: skip ? `real containers: ${skip}` : false, timeout: 180_000 }, async () => {
  let net: PodNetwork | undefined;
  let cd: Containerd | undefined;
  let api: TestApi | undefined;
  let agent: NodeAgent | undefined;
  let server: KubeletServer | undefined;
  let rootCa: RootCaCertPublisher | undefined;
  const work = mkdtempSync(join(tmpdir(), 'ordinal-kubelet-e2e-'));
  let ok = false;
  try {
    net = claimPodNetwork();
    cd = await startContainerd({});
    mkdirSync(join(cd.dir, 'images'));
    writeFileSync(join(cd.dir, 'images', 'all.oci.tar'), ociArchive(standardImages()));
    await importImage(cd.socket, join(cd.dir, 'images', 'all.oci.tar'));
    api = await startTestApi();
    const caCertPem = readFileSync(join(api.dataDir, 'pki', 'ca.crt'), 'utf8');
    // Every pod mounts kube-root-ca.crt (its service account token volume), as kube-controller-manager publishes it.
    rootCa = new RootCaCertPublisher(api.client, caCertPem);
    await rootCa.start();
    const runtime = await ContainerdRuntime.connect({ socket: cd.socket, dataDir: join(work, 'node'), client: api.client, bridgeName: net.bridge });
    // The node's address is loopback here: the API server dials it there, and nothing leaves the machine.
    agent = new NodeAgent(api.client, { nodeName: 'far-1', runtime, podCIDR: net.cidr, internalIP: '127.0.0.1' });
    server = await serveNode(agent, { host: '127.0.0.1', port: 0, caCertPem });
    await agent.start();
    const c = { kubeconfig: api.kubeconfig } as Cluster;

    await kubectlOk(c, ['apply', '-f', '-'], { input: POD });
    await waitForPod(c, 'web', (p) => p.status?.phase === 'Running' && !!p.status?.containerStatuses?.[0]?.ready, 60_000);
    await waitForPod(c, 'talker', (p) => p.status?.phase === 'Running', 60_000);

    // exec: output, exit code, stdin.
    const exec = await kubectl(c, ['exec', 'web', '--', 'sh', '-c', 'echo from-$(hostname); echo oops >&2; exit 4']);
    assert.equal(exec.code, 4, exec.stderr);
    assert.equal(exec.stdout, 'from-web\n');
    assert.match(exec.stderr, /oops/);
    assert.match(exec.stderr, /command terminated with exit code 4/);
    const input = await kubectl(c, ['exec', '-i', 'web', '--', 'wc', '-c'], { input: 'x'.repeat(100_000) });
    assert.equal(input.stdout.trim(), '100000', input.stderr);
    const missing = await kubectl(c, ['exec', 'web', '--', 'no-such-binary']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no-such-binary/);

    // cp both ways.
    writeFileSync(join(work, 'up.txt'), 'through the kubelet API\n');
    await kubectlOk(c, ['cp', join(work, 'up.txt'), 'web:/tmp/up.txt']);
    assert.equal((await kubectlOk(c, ['exec', 'web', '--', 'cat', '/tmp/up.txt'])), 'through the kubelet API\n');
    await kubectlOk(c, ['cp', 'web:/tmp/up.txt', join(work, 'down.txt')]);
    assert.equal(readFileSync(join(work, 'down.txt'), 'utf8'), 'through the kubelet API\n');

    // port-forward to nginx in the pod's network namespace.
    const pf = spawn('kubectl', ['port-forward', 'pod/web', ':80'], { env: { ...process.env, KUBECONFIG: c.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    pf.stdout.on('data', (d) => (out += d));
    pf.stderr.on('data', (d) => (out += d));
    try {
      await waitUntil(() => /Forwarding from 127\.0\.0\.1:\d+ -> 80/.test(out), 30_000, () => out);
      const port = Number(/Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(out)![1]);
      const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      assert.equal(page, NGINX_DEFAULT_PAGE);
    } finally {
      process.kill(-pf.pid!, 'SIGTERM');
    }

    // logs, from containerd's log files on the node.
    let seen = '';
    await waitUntil(
      async () => {
        const r = await kubectl(c, ['logs', 'talker']);
        seen = JSON.stringify(r);
        return r.stdout === 'hello-1\nhello-2\n';
      },
      15_000,
      () => `the container log is not complete: ${seen}`,
    );
    assert.equal(await kubectlOk(c, ['logs', 'talker', '--tail=1']), 'hello-2\n');
    assert.match(await kubectlOk(c, ['logs', 'talker', '--timestamps']), /^\d{4}-\d\d-\d\dT[\d:.]+Z hello-1\n/);

    // The node proxy lists what the node runs.
    const pods = JSON.parse(await kubectlOk(c, ['get', '--raw', '/api/v1/nodes/far-1/proxy/pods']));
    assert.deepEqual(pods.items.map((p: any) => p.metadata.name).sort(), ['talker', 'web']);
    ok = true;
  } finally {
    await server?.close().catch(() => {});
    agent?.stop();
    rootCa?.stop();
    if (cd) {
      if (!ok) console.log(cd.log().slice(-3000));
      const cri = new CriClient(cd.socket);
      for (const s of await cri.listPodSandbox().catch(() => [])) {
        await cri.stopPodSandbox(s.id).catch(() => {});
        await cri.removePodSandbox(s.id).catch(() => {});
      }
      cri.close();
      await cd.stop();
    }
    await api?.close();
    if (net) {
      await deleteBridge(net.bridge);
      net.release();
    }
    await run('rm', ['-rf', work]);
  }
});
