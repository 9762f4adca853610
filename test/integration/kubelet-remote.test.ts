// kubectl exec/attach/port-forward/logs/cp for pods on a node the API server does not run in its
// process: the node's kubelet server (src/agent/kubelet-server/) listens on loopback over real TLS,
// the Node object says where, and the API server reaches it with its kubelet client certificate.
// The node's runtime is the test double of the streaming tests (commands run as local processes).
// Also: the errors kubectl shows for an unknown container, a node that is down and a node that does
// not exist; the kubelet server's refusal of callers other than the API server; the node proxy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite.ts';
import { ensurePki, selfSignedServingPair, writeKubeconfig, type Pki } from '../../src/apiserver/pki.ts';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.ts';
import { InProcessClient } from '../../src/client/client.ts';
import { NodeStreamingRegistry } from '../../src/streaming/types.ts';
import { startKubeletServer, type KubeletServer } from '../../src/agent/kubelet-server/server.ts';
import { FakeNode } from '../support/fake-node.ts';
import { api, type Cluster } from './harness.ts';
import { SPDY, checkAttach, checkClientGoneAborts, checkCopyBothWays, checkFollowStops, checkLargeStdin, checkPortForward, checkTerminal, kubectlRunner, type Kubectl } from '../support/kubectl-streaming.ts';

let server: ApiServer;
let store: SqliteStore;
let dataDir: string;
let pki: Pki;
let cluster: Cluster;
let client: InProcessClient;
let kubelet: KubeletServer;
let httpServer: http.Server;
let downPort: number;
const node = new FakeNode();
const localNode = new FakeNode();
const kubectlHome = mkdtempSync(join(tmpdir(), 'ordinal-kubectl-home-'));

/** A port nothing listens on: taken from the kernel, then let go. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function createNode(name: string, port: number): Promise<void> {
  const nodes = client.resource('', 'nodes');
  const n = await client.create(nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
  await client.update(nodes, { ...n, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: name }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } }, 'status');
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ordinal-kubelet-remote-'));
  store = new SqliteStore(join(dataDir, 'state.db'));
  pki = await ensurePki(dataDir, { hosts: ['127.0.0.1'] });
  // Only "local-1" runs in the API server's process; every other node is remote.
  const registry = new NodeStreamingRegistry();
  registry.register('local-1', localNode, async () => ({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'in-process-pod', namespace: 'default' } }] }));
  server = await startApiServer({ store, pki, port: 0, nodeStreaming: registry });
  const kubeconfig = join(dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: server.url, pki });
  cluster = { dataDir, kubeconfig, url: server.url, proc: undefined as unknown as ChildProcess, logs: () => '' };
  client = new InProcessClient(server.resources);

  const pods = client.resource('', 'pods');
  kubelet = await startKubeletServer({
    host: '127.0.0.1',
    port: 0,
    streaming: node,
    // The pods the API binds to this node, as the node would list what it runs.
    listPods: async () => ({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: (await client.list(pods, { fieldSelector: 'spec.nodeName=remote-1' })).items }),
    caCertPem: pki.caCertPem,
    nodeName: 'remote-1',
  });
  httpServer = http.createServer((req, res) => res.end(`hello from the pod, ${req.url}\n`));
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', () => r()));
  node.ports.set(80, (httpServer.address() as AddressInfo).port);

  downPort = await freePort();
  await createNode('remote-1', kubelet.port);
  await createNode('down-1', downPort);
  await createNode('local-1', 10250);

  await client.create(client.resource('', 'serviceaccounts'), 'default', { metadata: { name: 'default' } });
  const mkPod = async (name: string, containers: string[], nodeName: string) => {
    const pod = await client.create(pods, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { nodeName, containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
    });
    await client.update(pods, { ...pod, status: { phase: 'Running' } }, 'status');
  };
  await mkPod('web', ['web'], 'remote-1');
  await mkPod('multi', ['a', 'stopped'], 'remote-1');
  await mkPod('gone', ['web'], 'down-1');
  await mkPod('orphan', ['web'], 'node-9');
});

after(async () => {
  await kubelet.close();
  await server.close();
  await store.close();
  httpServer.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(kubectlHome, { recursive: true, force: true });
});

const target = () => ({ kubeconfig: cluster.kubeconfig, home: kubectlHome });
const kubectl: Kubectl = (args, opts) => kubectlRunner(target(), 60_000)(args, opts);

for (const [transport, env] of [
  ['websocket', {}],
  ['spdy', SPDY],
] as const) {
  test(`remote exec over ${transport}: stdout, stderr and the exit code`, async () => {
    const before = node.execs.length;
    const r = await kubectl(['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { env });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout.toString(), 'out\n');
    assert.match(r.stderr, /^err$/m);
    assert.match(r.stderr, /command terminated with exit code 3/);
    assert.equal(node.execs.length, before + 1, 'the remote node ran the command');
    const last = node.execs.at(-1)!;
    assert.deepEqual(last.opts, { stdin: false, stdout: true, stderr: true, tty: false, command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    assert.equal(last.pod.name, 'web');
    assert.equal(last.container, 'web');
    assert.equal(localNode.execs.length, 0);
  });
}

test('a client that goes away ends the session on the remote node', () => checkClientGoneAborts(target(), node, 'web'));

test('remote exec -i: a large stdin reaches the process, EOF included, and all output comes back', () => checkLargeStdin(kubectl, 'web'));

test('remote exec -it: the terminal size reaches the node, stderr comes on stdout', () => checkTerminal(target(), node, 'web', { cols: 101, rows: 33 }));

test('remote attach -i', () => checkAttach(kubectl, 'web'));

test('remote cp both ways', () => checkCopyBothWays(kubectl, 'web'));

test('remote port-forward: connections reach the pod; a refused port reports the node error', async () => {
  const out = await checkPortForward(target(), 'web');
  assert.match(out, /connect ECONNREFUSED 127\.0\.0\.1:1/);
});

test('remote logs: options reach the node, --tail, -f streams and stops with the client', async () => {
  let r = await kubectl(['logs', 'web', '--tail=5', '--timestamps', '--since=10s', '--limit-bytes=100']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /line 1\nline 2\n$/);
  assert.deepEqual(node.logCalls.at(-1), { container: 'web', follow: false, previous: false, timestamps: true, tailLines: 5, sinceSeconds: 10, limitBytes: 100 });
  r = await kubectl(['logs', 'multi', '-c', 'stopped', '--previous']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(node.logCalls.at(-1), { container: 'stopped', follow: false, previous: true, timestamps: false });

  await checkFollowStops(target(), node, 'web');
});

test('errors through the remote path, as kubectl shows them', async () => {
  // The node's own refusal passes through unchanged.
  let r = await kubectl(['exec', 'multi', '-c', 'stopped', '--', 'true']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: unable to upgrade connection: container not found \("stopped"\)/);
  r = await kubectl(['exec', 'multi', '-c', 'stopped', '--', 'true'], { env: SPDY });
  assert.match(r.stderr, /unable to upgrade connection: container not found \("stopped"\)/);
  // The API server's own validation still comes first.
  r = await kubectl(['exec', 'web', '-c', 'nope', '--', 'true']);
  assert.match(r.stderr, /Error from server \(BadRequest\): container nope is not valid for pod web/);
  // A node whose kubelet server is down.
  r = await kubectl(['exec', 'gone', '--', 'true']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`Error from server: error dialing backend: dial tcp 127\\.0\\.0\\.1:${downPort}: connect: connection refused`));
  r = await kubectl(['logs', 'gone']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`Error from server: Get "https://127\\.0\\.0\\.1:${downPort}/containerLogs/default/gone/web\\?podUID=[0-9a-f-]+": dial tcp 127\\.0\\.0\\.1:${downPort}: connect: connection refused`));
  for (const env of [{}, { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }] as Record<string, string>[]) {
    r = await kubectl(['port-forward', 'pod/gone', ':80'], { env, timeoutMs: 30_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`error dialing backend: dial tcp 127\\.0\\.0\\.1:${downPort}: connect: connection refused`));
  }
  // A node that does not exist.
  r = await kubectl(['exec', 'orphan', '--', 'true']);
  assert.match(r.stderr, /Error from server \(NotFound\): nodes "node-9" not found/);
  r = await kubectl(['logs', 'orphan']);
  assert.match(r.stderr, /Error from server \(NotFound\): nodes "node-9" not found/);
});

test('the node proxy: /pods and /healthz of a remote node, of an in-process node, and the errors', async () => {
  let r = await kubectl(['get', '--raw', '/api/v1/nodes/remote-1/proxy/pods']);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout.toString());
  assert.equal(list.kind, 'PodList');
  assert.deepEqual(list.items.map((p: any) => p.metadata.name).sort(), ['multi', 'web']);
  r = await kubectl(['get', '--raw', '/api/v1/nodes/remote-1/proxy/healthz']);
  assert.equal(r.stdout.toString(), 'ok');
  r = await kubectl(['get', '--raw', '/api/v1/nodes/remote-1/proxy/containerLogs/default/web/web?tailLines=2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /line 1\nline 2\n$/);
  assert.equal(node.logCalls.at(-1)!.tailLines, 2);

  r = await kubectl(['get', '--raw', '/api/v1/nodes/local-1/proxy/pods']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.toString()).items.map((p: any) => p.metadata.name), ['in-process-pod']);

  r = await kubectl(['get', '--raw', '/api/v1/nodes/node-9/proxy/pods']);
  assert.match(r.stderr, /Error from server \(NotFound\): nodes "node-9" not found/);
  const discovery = await api(cluster, 'GET', '/api/v1');
  const proxy = discovery.json.resources.find((x: { name: string }) => x.name === 'nodes/proxy');
  assert.deepEqual([proxy?.kind, proxy?.verbs], ['NodeProxyOptions', ['create', 'delete', 'get', 'patch', 'update']]);
  const down = await api(cluster, 'GET', '/api/v1/nodes/down-1/proxy/pods');
  assert.equal(down.status, 503);
  assert.equal(down.json.reason, 'ServiceUnavailable');
  assert.equal(down.json.message, `error trying to reach service: dial tcp 127.0.0.1:${downPort}: connect: connection refused`);
});

/** A GET to the kubelet server as some other client: status and body. */
function kubeletGet(path: string, tls: { cert?: string; key?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: kubelet.port, path, rejectUnauthorized: false, agent: false, ...tls }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the kubelet server serves only the API server (and system:masters)', async () => {
  const asApiServer = await kubeletGet('/healthz', { cert: pki.kubeletClientCertPem, key: pki.kubeletClientKeyPem });
  assert.deepEqual(asApiServer, { status: 200, body: 'ok' });
  const anonymous = await kubeletGet('/pods', {});
  assert.deepEqual(anonymous, { status: 401, body: 'Unauthorized\n' });
  // A certificate the cluster CA did not sign.
  const stranger = selfSignedServingPair('intruder', []);
  assert.equal((await kubeletGet('/pods', { cert: stranger.certPem, key: stranger.keyPem })).status, 401);
  // A node's certificate, signed by the cluster CA: authenticated, not allowed.
  const dir = join(dataDir, 'node-cert');
  mkdirSync(dir);
  const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ossl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'node.key']);
  ossl(['req', '-new', '-key', 'node.key', '-subj', '/O=system:nodes/CN=system:node:worker-1', '-out', 'node.csr']);
  writeFileSync(join(dir, 'ext.cnf'), 'extendedKeyUsage=clientAuth\n');
  ossl(['x509', '-req', '-in', 'node.csr', '-CA', join(dataDir, 'pki', 'ca.crt'), '-CAkey', join(dataDir, 'pki', 'ca.key'), '-CAcreateserial', '-days', '1', '-extfile', 'ext.cnf', '-out', 'node.crt']);
  const asNode = { cert: readFileSync(join(dir, 'node.crt'), 'utf8'), key: readFileSync(join(dir, 'node.key'), 'utf8') };
  assert.deepEqual(await kubeletGet('/pods', asNode), { status: 403, body: 'Forbidden (user=system:node:worker-1, verb=get, resource=nodes, subresource=proxy)\n' });
  assert.deepEqual(await kubeletGet('/healthz', asNode), { status: 403, body: 'Forbidden (user=system:node:worker-1, verb=get, resource=nodes, subresource=healthz)\n' });
  // The refusal holds for the streaming endpoints too (before any upgrade).
  const { WebSocket } = await import('ws');
  const refused = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${kubelet.port}/exec/default/web/x/web?command=true&output=1`, ['v5.channel.k8s.io'], { ...asNode, rejectUnauthorized: false });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => reject(new Error('the kubelet server accepted a node certificate')));
    ws.on('error', () => {});
  });
  assert.equal(refused, 403);
  // The admin (system:masters) is let in, as upstream's authorizer would.
  assert.equal((await kubeletGet('/pods', { cert: pki.adminCertPem, key: pki.adminKeyPem })).status, 200);
});
