// `ordinal up` with a real node of its own (node-1), joined by an agent from another machine: pods on
// the server's node and on the joined node reach each other by name and through a ClusterIP
// Service, both ways (the server's node routes pod traffic with --node-ip, here its --host). Root only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { realClusterUnavailable } from '../containerd/real-cluster.ts';
import { nginxSlimImage } from '../images/build.ts';
import { startLanCluster, type LanCluster } from './lan-cluster.ts';
import { waitForWebPods, webSetManifest } from './web-set.ts';

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

test("the server's own node and a joined node share one pod network", { skip, timeout: 240_000 }, async () => {
  try {
    const wide = c.kubectlOk(['get', 'nodes', '-o', 'wide']);
    assert.match(wide, new RegExp(`^node-1\\s+Ready\\s.*\\s${c.lan.server.ip.replace(/\./g, '\\.')}\\s`, 'm'));
    c.kubectlOk(['apply', '-f', '-'], webSetManifest({ replicas: 2, parallel: true, clusterIp: true, readiness: true }));
    const pods = await waitForWebPods(c, 2, 120_000);
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
