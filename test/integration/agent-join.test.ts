// Nodes that join from their own processes (`ordinal agent`), on the simulated runtime, as a user
// joins machines: a bootstrap token from `ordinal token create`, the CA pinned by its hash, the
// node's certificate through a CertificateSigningRequest, a pod range from node IPAM.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, tempDir, type Cluster } from './harness.ts';
import { startAgent, createJoinToken, type AgentProcess } from '../support/agents.ts';

let cluster: Cluster;
const agents: AgentProcess[] = [];

after(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  if (cluster) {
    await stopCluster(cluster);
    removeCluster(cluster);
  }
});

const simArgs = (name: string, dir = tempDir('ordinal-agent-')) => ['--node-name', name, '--runtime', 'sim', '--sim-start-delay', '0', '--kubelet-port', '0', '--data-dir', dir];

async function nodeJson(name: string): Promise<any | undefined> {
  const r = await kubectl(cluster, ['get', 'node', name, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
}

const isReady = (n: any) => n?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

test('agents join with a bootstrap token and run pods', { timeout: 120_000 }, async () => {
  cluster = await startCluster({ args: ['--nodes', '1', '--sim-start-delay', '0'] });
  const join1 = await createJoinToken(cluster.dataDir);
  assert.equal(join1.server, cluster.url);
  const caPem = readFileSync(join(cluster.dataDir, 'pki', 'ca.crt'), 'utf8');
  assert.ok(new X509Certificate(caPem).ca);

  const dir2 = tempDir('ordinal-agent-');
  const a2 = startAgent(['--server', join1.server, '--token', join1.token, '--ca-cert-hash', join1.hash, ...simArgs('n2', dir2)]);
  const a3 = startAgent(['--server', join1.server, '--token', join1.token, '--ca-cert-hash', join1.hash, ...simArgs('n3')]);
  agents.push(a2, a3);
  await Promise.all([a2.joined, a3.joined]);
  await waitUntil(async () => isReady(await nodeJson('n2')) && isReady(await nodeJson('n3')), 20_000, () => 'n2 and n3 Ready');

  // Each joined node got its own range from node IPAM, distinct from the built-in node's.
  const cidrs = await Promise.all(['node-1', 'n2', 'n3'].map(async (n) => (await nodeJson(n)).spec.podCIDR));
  assert.equal(new Set(cidrs).size, 3, `distinct pod CIDRs: ${cidrs}`);
  for (const c of cidrs) assert.match(c, /^10\.244\.\d+\.0\/24$/);
  const wide = await kubectlOk(cluster, ['get', 'nodes', '-o', 'wide']);
  assert.match(wide, /^n2\s+Ready\s+<none>\s+\S+\s+v1\.32\.0\s+127\.0\.0\.1\s/m);

  // The node's credentials came from a CSR the bootstrap identity sent, auto-approved and issued.
  const csrs = await kubectlOk(cluster, ['get', 'csr']);
  const tokenId = join1.token.split('.')[0];
  assert.match(csrs, new RegExp(`csr-\\S+\\s+\\S+\\s+kubernetes.io/kube-apiserver-client-kubelet\\s+system:bootstrap:${tokenId}\\s+<none>\\s+Approved,Issued`));
  const nodeCert = new X509Certificate(readFileSync(join(dir2, 'pki', 'node.crt')));
  assert.match(nodeCert.subject, /CN=system:node:n2/);
  assert.match(nodeCert.subject, /O=system:nodes/);
  const who = await kubectlOk(cluster, ['--kubeconfig', join(dir2, 'kubelet.conf'), 'auth', 'whoami', '-o', 'json']);
  assert.equal(JSON.parse(who).status.userInfo.username, 'system:node:n2');

  // One pod per node (required anti-affinity by hostname, as the ZooKeeper example), on joined nodes too.
  await kubectlOk(cluster, ['apply', '-f', '-'], { input: spreadSet('web', 3) });
  await waitUntil(async () => {
    const pods = JSON.parse(await kubectlOk(cluster, ['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
    return pods.length === 3 && pods.every((p: any) => p.status.phase === 'Running' && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  }, 30_000, () => 'web-0..2 Running and Ready');
  const pods = JSON.parse(await kubectlOk(cluster, ['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
  assert.deepEqual(pods.map((p: any) => p.spec.nodeName).sort(), ['n2', 'n3', 'node-1']);
  for (const p of pods) {
    const node = await nodeJson(p.spec.nodeName);
    assert.ok(ipInCidr(p.status.podIP, node.spec.podCIDR), `${p.metadata.name} ${p.status.podIP} in ${node.spec.podCIDR}`);
  }

  // A restarted agent needs no token: it has its certificate; its pods stay where they are.
  await a2.stop('SIGTERM');
  assert.equal(await a2.exited, 0);
  const a2b = startAgent(['--server', join1.server, ...simArgs('n2', dir2)]);
  agents.push(a2b);
  await a2b.joined;
  const after = JSON.parse(await kubectlOk(cluster, ['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
  assert.deepEqual(after.map((p: any) => p.metadata.uid).sort(), pods.map((p: any) => p.metadata.uid).sort());
});

test('a wrong token, an expired token, a deleted token and a wrong CA hash are refused', { timeout: 120_000 }, async () => {
  const good = await createJoinToken(cluster.dataDir);
  const nodesBefore = (await kubectlOk(cluster, ['get', 'nodes', '-o', 'name'])).trim().split('\n').sort();

  const wrongSecret = good.token.replace(/\.(.)/, (_m, c) => `.${c === 'a' ? 'b' : 'a'}`);
  const bad1 = startAgent(['--server', good.server, '--token', wrongSecret, '--ca-cert-hash', good.hash, ...simArgs('bad1')]);
  agents.push(bad1);
  assert.equal(await bad1.exited, 2);
  assert.match(bad1.logs(), /refused the bootstrap token \(401 Unauthorized\)/);

  const otherHash = `sha256:${'0'.repeat(64)}`;
  const bad2 = startAgent(['--server', good.server, '--token', good.token, '--ca-cert-hash', otherHash, ...simArgs('bad2')]);
  agents.push(bad2);
  assert.equal(await bad2.exited, 2);
  assert.match(bad2.logs(), /does not match --ca-cert-hash/);

  const short = await createJoinToken(cluster.dataDir, ['--ttl', '1s']);
  await new Promise((r) => setTimeout(r, 2500));
  const bad3 = startAgent(['--server', short.server, '--token', short.token, '--ca-cert-hash', short.hash, ...simArgs('bad3')]);
  agents.push(bad3);
  assert.equal(await bad3.exited, 2);
  assert.match(bad3.logs(), /401 Unauthorized/);

  const deleted = await createJoinToken(cluster.dataDir);
  await kubectlOk(cluster, ['-n', 'kube-system', 'delete', 'secret', `bootstrap-token-${deleted.token.split('.')[0]}`]);
  const bad4 = startAgent(['--server', deleted.server, '--token', deleted.token, '--ca-cert-hash', deleted.hash, ...simArgs('bad4')]);
  agents.push(bad4);
  assert.equal(await bad4.exited, 2);
  assert.match(bad4.logs(), /401 Unauthorized/);

  const nodesAfter = (await kubectlOk(cluster, ['get', 'nodes', '-o', 'name'])).trim().split('\n').sort();
  assert.deepEqual(nodesAfter, nodesBefore);
});

function spreadSet(name: string, replicas: number): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: name } }, topologyKey: 'kubernetes.io/hostname' }] } },
          containers: [{ name: 'c', image: 'registry.k8s.io/nginx-slim:0.8' }],
        },
      },
    },
  });
}

function ipInCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (s: string) => s.split('.').reduce((a, x) => (a << 8) + Number(x), 0) >>> 0;
  const mask = (~0 << (32 - Number(bits))) >>> 0;
  return ((n(ip) & mask) >>> 0) === ((n(base!) & mask) >>> 0);
}
