// Three machines joined to one server, each in its own network namespace on a private LAN, each
// agent with its own containerd, real containers: the tutorial's web StatefulSet spread one pod per
// node (required anti-affinity by hostname, as the ZooKeeper example), pods reaching pods on other
// nodes by DNS name and through a ClusterIP Service (host-gw routes, no overlay, no NAT), and a pod
// listing pods through kubernetes.default with its token. Root only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { realClusterUnavailable } from '../containerd/real-cluster.ts';
import { nginxSlimImage } from '../images/build.ts';
import { netToolsImage, netToolsUnavailable, NET_TOOLS_IMAGE } from '../images/net-tools.ts';
import { startLanCluster, waitUntil, type LanCluster } from './lan-cluster.ts';
import { waitForWebPods, webSetManifest } from './web-set.ts';

const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces, containerd)' : realClusterUnavailable() ?? netToolsUnavailable() ?? (existsSync('/usr/bin/nsenter') ? undefined : 'nsenter (util-linux) is missing');

let c: LanCluster;
const kubectl = (args: string[], input?: string) => c.kubectl(args, input);
const kubectlOk = (args: string[], input?: string) => c.kubectlOk(args, input);

before(async () => {
  if (skip) return;
  c = await startLanCluster({ nodes: 3, images: [nginxSlimImage(), netToolsImage()] });
});

after(async () => {
  if (skip || !c) return;
  await c.destroy();
});

test('three joined nodes run the web StatefulSet one pod per node, and pods reach each other across nodes', { skip, timeout: 300_000 }, async (t) => {
  try {
    const wide = kubectlOk(['get', 'nodes', '-o', 'wide']);
    for (const [i, node] of c.lan.nodes.entries()) assert.match(wide, new RegExp(`^node${i + 1}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.32\\.0\\s+${node.ip.replace(/\./g, '\\.')}\\s+<none>\\s+.*containerd://`, 'm'));

    kubectlOk(['apply', '-f', '-'], webSetManifest({ replicas: 3, clusterIp: true, readiness: true, claim: true }));
    const pods = await waitForWebPods(c, 3, 120_000, () => kubectl(['get', 'pods', '-o', 'wide']).stdout + kubectl(['describe', 'pods']).stdout.slice(-4000));
    assert.deepEqual(pods.map((p: any) => p.spec.nodeName).sort(), ['node1', 'node2', 'node3']);
    const byName = new Map<string, any>(pods.map((p: any) => [p.metadata.name, p]));
    t.diagnostic(kubectlOk(['get', 'pods', '-o', 'wide']));

    // Each claim's directory is on its own node's disk (its data dir), made at first mount.
    const pvs = JSON.parse(kubectlOk(['get', 'pv', '-o', 'json'])).items;
    for (const pv of pvs) {
      const node = pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0];
      assert.ok(pv.spec.local.path.startsWith(join(c.work, `agent${node.slice(4)}`)), `${pv.metadata.name} at ${pv.spec.local.path} on ${node}`);
    }

    // Pod to pod across nodes, by the headless Service's per-pod names (exec goes through the node's own API).
    for (const [from, to] of [['web-0', 'web-2'], ['web-2', 'web-1'], ['web-1', 'web-0']] as const) {
      assert.notEqual(byName.get(from).spec.nodeName, byName.get(to).spec.nodeName);
      const page = kubectlOk(['exec', from, '--', 'wget', '-qO-', `http://${to}.nginx`]);
      assert.equal(page.trim(), to, `${from} fetched ${to}.nginx`);
    }
    // By address too, and the headless Service name lists all three.
    const ip2 = byName.get('web-2').status.podIP;
    assert.equal(kubectlOk(['exec', 'web-0', '--', 'wget', '-qO-', `http://${ip2}/`]).trim(), 'web-2');
    const lookup = kubectlOk(['exec', 'web-1', '--', 'nslookup', 'nginx.default.svc.cluster.local']);
    for (const p of pods) assert.ok(lookup.includes(p.status.podIP), `nslookup nginx lists ${p.status.podIP}:\n${lookup}`);

    // The ClusterIP Service balances over the three pods, from any node.
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 3; i++) seen.add(kubectlOk(['exec', 'web-0', '--', 'wget', '-qO-', 'http://nginx-cip']).trim());
    assert.deepEqual([...seen].sort(), ['web-0', 'web-1', 'web-2']);

    // A pod lists pods through kubernetes.default with its own token and the mounted CA, as RBAC grants it.
    kubectlOk(['run', 'lister', '--image', NET_TOOLS_IMAGE, '--image-pull-policy', 'Never', '--restart', 'Never', '--overrides', JSON.stringify({ spec: { nodeName: byName.get('web-1').spec.nodeName } }), '--command', '--', 'sleep', '3600']);
    await waitUntil(() => /Running/.test(kubectl(['get', 'pod', 'lister']).stdout), 60_000, () => kubectl(['describe', 'pod', 'lister']).stdout);
    // Its account holds nothing by default (RBAC); the test grants it view first.
    kubectlOk(['create', 'rolebinding', 'default-view', '--clusterrole=view', '--serviceaccount=default:default']);
    const listed = kubectlOk([
      'exec',
      'lister',
      '--',
      'sh',
      '-c',
      'SA=/var/run/secrets/kubernetes.io/serviceaccount; /usr/bin/curl -sS --fail-with-body --cacert $SA/ca.crt -H "Authorization: Bearer $(cat $SA/token)" https://kubernetes.default.svc/api/v1/namespaces/default/pods',
    ]);
    const names = JSON.parse(listed).items.map((p: any) => p.metadata.name);
    assert.ok(names.includes('web-0') && names.includes('lister'), names.join(','));

    // What each node's runtime really runs, through the node proxy.
    for (const p of pods) {
      const running = JSON.parse(kubectlOk(['get', '--raw', `/api/v1/nodes/${p.spec.nodeName}/proxy/pods`])).items.map((x: any) => x.metadata.name);
      assert.ok(running.includes(p.metadata.name), `${p.spec.nodeName} runs ${running}`);
    }
  } catch (err) {
    c.dumpLogs();
    throw err;
  }
});
