// A joined node's own credentials (kubelet.conf in its data dir) under the Node authorizer and
// NodeRestriction, driven by the real kubectl: it reads the secret of a pod bound to it and not
// another node's, changes its own Node and not another's, and writes the status of its own pods
// only.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
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

/** A raw request with a node's own credentials (the files its kubelet.conf names), for what kubectl cannot send as a node: it reads pods/status before patching it, which upstream's Node authorizer refuses too. */
function asNode(dir: string, method: string, path: string, body: string, contentType: string): Promise<{ status: number; json: any }> {
  const conf = readFileSync(join(dir, 'kubelet.conf'), 'utf8');
  const file = (key: string) => readFileSync(JSON.parse(new RegExp(`${key}: (".*")`).exec(conf)![1]!));
  const u = new URL(path, cluster.url);
  return new Promise((resolve, reject) => {
    const req = request({ method, hostname: u.hostname, port: u.port, path: u.pathname, ca: readFileSync(join(cluster.dataDir, 'pki', 'ca.crt')), cert: file('client-certificate'), key: file('client-key'), headers: { 'Content-Type': contentType, Accept: 'application/json' } }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (d: Buffer) => chunks.push(d));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const podYaml = (name: string, node: string) => `
apiVersion: v1
kind: Secret
metadata: { name: ${name}-secret }
stringData: { password: ${name} }
---
apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  nodeName: ${node}
  containers:
  - name: c
    image: busybox
    volumeMounts: [{ name: s, mountPath: /s }]
  volumes:
  - name: s
    secret: { secretName: ${name}-secret }
`;

test('a node reads, writes and changes only what is its own', { timeout: 180_000 }, async () => {
  cluster = await startCluster({ args: ['--nodes', '0'] });
  const join1 = await createJoinToken(cluster.dataDir);
  const dirs = { n1: tempDir('ordinal-agent-'), n2: tempDir('ordinal-agent-') };
  for (const [name, dir] of Object.entries(dirs)) {
    agents.push(startAgent(['--server', join1.server, '--token', join1.token, '--ca-cert-hash', join1.hash, '--node-name', name, '--runtime', 'sim', '--sim-start-delay', '0', '--kubelet-port', '0', '--data-dir', dir]));
  }
  await Promise.all(agents.map((a) => a.joined));
  await kubectlOk(cluster, ['apply', '-f', '-'], { input: podYaml('p1', 'n1') + '---' + podYaml('p2', 'n2') });
  // Both agents run their pod, which needs each to read its own pod's secret.
  await waitUntil(async () => {
    const pods = JSON.parse(await kubectlOk(cluster, ['get', 'pods', '-o', 'json'])).items;
    return pods.length === 2 && pods.every((p: any) => p.status?.phase === 'Running');
  }, 60_000, () => 'p1 and p2 Running on their nodes');

  const asN1 = (args: string[], input?: string) => kubectl(cluster, ['--kubeconfig', join(dirs.n1, 'kubelet.conf'), ...args], input === undefined ? {} : { input });
  const refused = async (args: string[], message: string) => {
    const r = await asN1(args);
    assert.notEqual(r.code, 0, `${args.join(' ')} should be refused`);
    assert.equal(r.stderr.trim(), `Error from server (Forbidden): ${message}`, args.join(' '));
  };

  // Secrets: the one of a pod bound to n1, not n2's, and no listing.
  assert.match((await asN1(['get', 'secret', 'p1-secret', '-o', 'jsonpath={.data.password}'])).stdout, /^cDE=$/);
  await refused(['get', 'secret', 'p2-secret'], `secrets "p2-secret" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'n1' and this object`);
  await refused(['get', 'secrets'], `secrets is forbidden: User "system:node:n1" cannot list resource "secrets" in API group "" in the namespace "default": No Object name found`);

  // Nodes: its own, with labels a kubelet may set; not another node, nor restricted labels.
  assert.equal((await asN1(['label', 'node', 'n1', 'example.com/rack=r1'])).code, 0);
  await refused(['label', 'node', 'n2', 'example.com/rack=r1'], `nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"`);
  await refused(['label', 'node', 'n1', 'node-restriction.kubernetes.io/pool=gold'], `nodes "n1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/pool`);
  await refused(['taint', 'node', 'n1', 'k=v:NoSchedule'], `nodes "n1" is forbidden: node "n1" is not allowed to modify taints`);
  // Other nodes are readable through the proxier role Ordinal's agents hold (they route to every node).
  assert.equal((await asN1(['get', 'node', 'n2'])).code, 0);
  // Pods: only its own by the spec.nodeName selector; its proxier and DNS roles grant no pod listing.
  await refused(['get', 'pods', '-A'], `pods is forbidden: User "system:node:n1" cannot list resource "pods" in API group "" at the cluster scope: can only list/watch pods with spec.nodeName field selector`);
  assert.deepEqual((await asN1(['get', 'pods', '-A', '--field-selector', 'spec.nodeName=n1', '-o', 'name'])).stdout.trim().split('\n'), ['pod/p1']);
  assert.equal((await kubectlOk(cluster, ['get', 'clusterrolebinding', 'ordinal:node-dns', '-o', 'jsonpath={.roleRef.name}'])).trim(), 'ordinal:node-dns');
  const dnsRules = JSON.parse(await kubectlOk(cluster, ['get', 'clusterrole', 'ordinal:node-dns', '-o', 'json'])).rules;
  assert.ok(!dnsRules.some((r: any) => r.resources.includes('pods')), 'the node DNS role grants no pods');
  assert.equal((await asN1(['auth', 'can-i', 'list', 'namespaces'])).stdout.trim(), 'yes');
  assert.equal((await asN1(['auth', 'can-i', 'list', 'pods', '-A'])).stdout.trim(), 'no - can only list/watch pods with spec.nodeName field selector');

  // Pod status: its own pod's, not n2's; and no deleting n2's pod.
  const condition = JSON.stringify({ status: { conditions: [{ type: 'example.com/Checked', status: 'True' }] } });
  const patchStatus = (pod: string) => asNode(dirs.n1, 'PATCH', `/api/v1/namespaces/default/pods/${pod}/status`, condition, 'application/strategic-merge-patch+json');
  const own = await patchStatus('p1');
  assert.equal(own.status, 200, JSON.stringify(own.json));
  assert.ok(own.json.status.conditions.some((c: any) => c.type === 'example.com/Checked'));
  const other = await patchStatus('p2');
  assert.equal(other.status, 403);
  assert.equal(other.json.message, `pods "p2" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself`);
  assert.deepEqual(other.json.details, { name: 'p2', kind: 'pods' });
  // kubectl reads pods/status before patching it, which a node may not (as upstream).
  await refused(['patch', 'pod', 'p1', '--subresource=status', '--type=strategic', '-p', condition], `pods "p1" is forbidden: User "system:node:n1" cannot get resource "pods/status" in API group "" in the namespace "default"`);
  await refused(['delete', 'pod', 'p2', '--wait=false'], `pods "Unknown" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself`);
  await refused(['run', 'x', '--image=busybox', '--overrides={"spec":{"nodeName":"n1"}}'], `pods "x" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods`);
  await refused(['delete', 'statefulset', 'web'], `statefulsets.apps "web" is forbidden: User "system:node:n1" cannot delete resource "statefulsets" in API group "apps" in the namespace "default"`);

  // The broad binding of earlier versions is gone; system:node is bound to no one.
  const crbs = await kubectlOk(cluster, ['get', 'clusterrolebindings', '-o', 'name']);
  assert.doesNotMatch(crbs, /ordinal:nodes$/m);
  const systemNode = JSON.parse(await kubectlOk(cluster, ['get', 'clusterrolebinding', 'system:node', '-o', 'json']));
  assert.equal((systemNode.subjects ?? []).length, 0);
});
