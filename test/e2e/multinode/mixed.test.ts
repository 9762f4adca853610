// `ordinal up` with a real node of its own (node-1), joined by an agent from another machine: pods on
// the server's node and on the joined node reach each other by name and through a ClusterIP
// Service, both ways (the server's node routes pod traffic with --node-ip, here its --host). Root only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { realClusterUnavailable } from '../containerd/real-cluster.ts';
import { nginxSlimImage } from '../images/build.ts';
import { startLanCluster, waitUntil, type LanCluster } from './lan-cluster.ts';

const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, containerd)' : realClusterUnavailable() ?? (existsSync('/usr/bin/nsenter') ? undefined : 'nsenter (util-linux) is missing');

let c: LanCluster;

before(async () => {
  if (skip) return;
  c = await startLanCluster({ nodes: 1, images: [nginxSlimImage()], serverNode: true });
});

after(async () => {
  if (skip || !c) return;
  await c.destroy();
});

const WEB = `
apiVersion: v1
kind: Service
metadata: { name: nginx }
spec: { clusterIP: None, selector: { app: nginx }, ports: [{ port: 80, name: web }] }
---
apiVersion: v1
kind: Service
metadata: { name: nginx-cip }
spec: { selector: { app: nginx }, ports: [{ port: 80, name: web }] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: nginx
  replicas: 2
  podManagementPolicy: Parallel
  selector: { matchLabels: { app: nginx } }
  template:
    metadata: { labels: { app: nginx } }
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: { matchLabels: { app: nginx } }
            topologyKey: kubernetes.io/hostname
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.8
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www']
        readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
`;

test("the server's own node and a joined node share one pod network", { skip, timeout: 240_000 }, async () => {
  try {
    const wide = c.kubectlOk(['get', 'nodes', '-o', 'wide']);
    assert.match(wide, new RegExp(`^node-1\\s+Ready\\s.*\\s${c.lan.server.ip.replace(/\./g, '\\.')}\\s`, 'm'));
    c.kubectlOk(['apply', '-f', '-'], WEB);
    await waitUntil(
      () => {
        const pods = JSON.parse(c.kubectlOk(['get', 'pods', '-l', 'app=nginx', '-o', 'json'])).items;
        return pods.length === 2 && pods.every((p: any) => p.status.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'));
      },
      120_000,
      () => c.kubectl(['get', 'pods', '-o', 'wide']).stdout,
    );
    const pods = JSON.parse(c.kubectlOk(['get', 'pods', '-l', 'app=nginx', '-o', 'json'])).items;
    assert.deepEqual(pods.map((p: any) => p.spec.nodeName).sort(), ['node-1', 'node1']);
    for (const [from, to] of [['web-0', 'web-1'], ['web-1', 'web-0']]) {
      assert.equal(c.kubectlOk(['exec', from, '--', 'wget', '-qO-', `http://${to}.nginx`]).trim(), to, `${from} → ${to}`);
    }
    for (const from of ['web-0', 'web-1']) {
      const seen = new Set<string>();
      for (let i = 0; i < 10 && seen.size < 2; i++) seen.add(c.kubectlOk(['exec', from, '--', 'wget', '-qO-', 'http://nginx-cip']).trim());
      assert.deepEqual([...seen].sort(), ['web-0', 'web-1'], `the ClusterIP from ${from}`);
    }
  } catch (err) {
    c.dumpLogs();
    throw err;
  }
});
