// Non-graceful node shutdown with real containers (KEP-2268): a node's agent, its containerd and
// every process on the machine are killed, as a power cut would. The node turns Unknown, its pod is
// evicted but stays Terminating (nothing can confirm it is gone), and no second copy starts. Once
// the operator marks the node out of service, the pod moves to another node with no per-pod force
// delete. Root only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { realClusterUnavailable } from '../containerd/real-cluster.ts';
import { nginxSlimImage } from '../images/build.ts';
import { startLanCluster, waitUntil, type LanCluster } from './lan-cluster.ts';
import { powerOff } from './lan.ts';

const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, containerd)' : realClusterUnavailable() ?? (existsSync('/usr/bin/nsenter') ? undefined : 'nsenter (util-linux) is missing');

let c: LanCluster;

before(async () => {
  if (skip) return;
  c = await startLanCluster({
    nodes: 3,
    images: [nginxSlimImage()],
    serverArgs: ['--node-monitor-period', '1s', '--node-monitor-grace-period', '15s', '--default-unreachable-toleration-seconds', '2', '--default-not-ready-toleration-seconds', '2'],
  });
});

after(async () => {
  if (skip || !c) return;
  await c.destroy();
});

const SET = `
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: web
  replicas: 2
  podManagementPolicy: Parallel
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 30
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: { matchLabels: { app: web } }
            topologyKey: kubernetes.io/hostname
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.8
`;

const pod = (name: string) => {
  const r = c.kubectl(['get', 'pod', name, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
};
const ready = (p: any) => p?.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True');

test('the out-of-service taint moves the pods of a node that was shut down', { skip, timeout: 240_000 }, async () => {
  try {
    c.kubectlOk(['apply', '-f', '-'], SET);
    await waitUntil(() => ready(pod('web-0')) && ready(pod('web-1')), 90_000, () => c.kubectl(['get', 'pods', '-o', 'wide']).stdout);
    const before = pod('web-1');
    const lostName: string = before.spec.nodeName;
    const idx = Number(lostName.replace('node', '')) - 1;
    const lost = c.lan.nodes[idx]!;
    // Power cut: the agent's process group, then everything still running on that machine (its
    // containerd, shims and the pods' containers).
    await c.agents[idx]!.stop('SIGKILL');
    powerOff(lost);
    const cut = Date.now();
    await waitUntil(() => !!pod('web-1')?.metadata.deletionTimestamp, 90_000, () => JSON.stringify(pod('web-1')?.status));
    const stuckAfter = Date.now() - cut;
    // Evicted, but nothing can confirm it stopped: it stays, and no second web-1 is made.
    await new Promise((r) => setTimeout(r, 5000));
    const stuck = pod('web-1');
    assert.equal(stuck.metadata.uid, before.metadata.uid);
    assert.match(c.kubectlOk(['get', 'pod', 'web-1']), /Terminating/);
    c.kubectlOk(['taint', 'nodes', lostName, 'node.kubernetes.io/out-of-service=nodeshutdown:NoExecute']);
    const tainted = Date.now();
    await waitUntil(
      () => {
        const p = pod('web-1');
        return !!p && p.metadata.uid !== before.metadata.uid && ready(p);
      },
      90_000,
      () => c.kubectl(['get', 'pods', '-o', 'wide']).stdout,
    );
    const moved = pod('web-1');
    assert.notEqual(moved.spec.nodeName, lostName);
    assert.notEqual(moved.spec.nodeName, pod('web-0').spec.nodeName);
    process.stdout.write(`# shut down → web-1 Terminating: ${stuckAfter} ms; out-of-service taint → new web-1 Ready on ${moved.spec.nodeName}: ${Date.now() - tainted} ms\n`);
  } catch (err) {
    c.dumpLogs();
    throw err;
  }
});
