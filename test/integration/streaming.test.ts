// The streaming endpoints (pods/exec, attach, portforward, log) against the real kubectl, over
// every protocol kubectl 1.32 speaks: WebSocket v5 and the SPDY fallback for exec, SPDY tunnelled
// in WebSocket and plain SPDY for port-forward. The node is a test double that runs commands as
// local processes, forwards to a local TCP server and serves a fixed log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SqliteStore } from '../../src/storage/sqlite.ts';
import { ensurePki, writeKubeconfig } from '../../src/apiserver/pki.ts';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.ts';
import { InProcessClient } from '../../src/client/client.ts';
import { NodeStreamingRegistry } from '../../src/streaming/types.ts';
import { FakeNode } from '../support/fake-node.ts';
import { api, type Cluster } from './harness.ts';
import { SPDY, SPDY_PORT_FORWARD, checkAttach, checkClientGoneAborts, checkCopyBothWays, checkFollowStops, checkLargeStdin, checkPortForward, checkTerminal, kubectlRunner, type Kubectl } from '../support/kubectl-streaming.ts';

let server: ApiServer;
let store: SqliteStore;
let dataDir: string;
let cluster: Cluster;
let client: InProcessClient;
let httpServer: http.Server;
const node = new FakeNode();
const kubectlHome = mkdtempSync(join(tmpdir(), 'ordinal-kubectl-home-'));

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ordinal-streaming-'));
  store = new SqliteStore(join(dataDir, 'state.db'));
  const pki = await ensurePki(dataDir, { hosts: ['127.0.0.1'] });
  const registry = new NodeStreamingRegistry();
  registry.register('node-1', node);
  server = await startApiServer({ store, pki, port: 0, nodeStreaming: registry });
  const kubeconfig = join(dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: server.url, pki });
  cluster = { dataDir, kubeconfig, url: server.url, proc: undefined as unknown as ChildProcess, logs: () => '' };
  client = new InProcessClient(server.resources);
  httpServer = http.createServer((req, res) => res.end(`hello from the pod, ${req.url}\n`));
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', () => r()));
  node.ports.set(80, (httpServer.address() as AddressInfo).port);

  // No controllers here: the default ServiceAccount pods are admitted with is made by hand.
  await client.create(client.resource('', 'serviceaccounts'), 'default', { metadata: { name: 'default' } });
  const pods = client.resource('', 'pods');
  const mkPod = async (name: string, containers: string[], nodeName: string | undefined, phase: string) => {
    const pod = await client.create(pods, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
    });
    await client.update(pods, { ...pod, status: { phase } }, 'status');
  };
  await mkPod('web', ['web'], 'node-1', 'Running');
  await mkPod('multi', ['a', 'b'], 'node-1', 'Running');
  await mkPod('pending', ['web'], undefined, 'Pending');
  await mkPod('done', ['web'], 'node-1', 'Succeeded');
  await mkPod('orphan', ['web'], 'node-9', 'Running');
});

after(async () => {
  await server.close();
  await store.close();
  httpServer.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(kubectlHome, { recursive: true, force: true });
});

const target = () => ({ kubeconfig: cluster.kubeconfig, home: kubectlHome });
const kubectl: Kubectl = (args, opts) => kubectlRunner(target())(args, opts);

for (const [transport, env] of [
  ['websocket', {}],
  ['spdy', SPDY],
] as const) {
  test(`exec over ${transport}: stdout, stderr and the exit code`, async () => {
    const r = await kubectl(['-v=4', 'exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { env });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout.toString(), 'out\n');
    assert.match(r.stderr, /^err$/m);
    assert.match(r.stderr, /command terminated with exit code 3/);
    // The transport really was the one meant (kubectl logs the negotiated sub-protocol at -v=4).
    if (transport === 'websocket') assert.match(r.stderr, /subprotocol is v5\.channel\.k8s\.io/);
    else assert.doesNotMatch(r.stderr, /subprotocol is v5/);
    const last = node.execs.at(-1)!;
    assert.deepEqual(last.opts, { stdin: false, stdout: true, stderr: true, tty: false, command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    assert.equal(last.container, 'web');
  });

  test(`exec -i over ${transport}: a large stdin reaches the process, EOF included, and all output comes back`, () => checkLargeStdin(kubectl, 'web', env));

  test(`cp both ways over ${transport}`, () => checkCopyBothWays(kubectl, 'web', env));

  test(`a client that goes away aborts the session over ${transport}`, () => checkClientGoneAborts(target(), node, 'web', env));

  test(`exec errors from the node reach kubectl over ${transport}`, async () => {
    const r = await kubectl(['exec', 'web', '--', 'no-such-command'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /executable file not found in \$PATH/);
  });
}

for (const [transport, env] of [
  ['websocket', {}],
  ['spdy', SPDY],
] as const) {
  test(`exec -it over ${transport}: the terminal size reaches the node, stderr comes on stdout`, () => checkTerminal(target(), node, 'web', { cols: 123, rows: 45 }, env));
}

test('exec for other WebSocket clients: v4 and base64 sub-protocols', async () => {
  const { WebSocket } = await import('ws');
  const pki = join(dataDir, 'pki');
  const tls = { ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) };
  const url = `${server.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=echo+hi%3B+exit+2&stdout=true&stderr=true`;
  const session = (protocol: string) =>
    new Promise<{ protocol: string; messages: (Buffer | string)[] }>((resolve, reject) => {
      const ws = new WebSocket(url, [protocol], tls);
      const messages: (Buffer | string)[] = [];
      ws.on('message', (d: Buffer, isBinary: boolean) => messages.push(isBinary ? d : d.toString()));
      ws.on('close', () => resolve({ protocol: ws.protocol, messages }));
      ws.on('error', reject);
    });
  const v4 = await session('v4.channel.k8s.io');
  assert.equal(v4.protocol, 'v4.channel.k8s.io');
  const bin = v4.messages as Buffer[];
  assert.deepEqual(bin[0], Buffer.from([1])); // the empty "ready" message on stdout
  assert.equal(Buffer.concat(bin.filter((m) => m[0] === 1).map((m) => m.subarray(1))).toString(), 'hi\n');
  const status = JSON.parse(bin.find((m) => m[0] === 3)!.subarray(1).toString());
  assert.deepEqual(status, {
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [sh -c echo hi; exit 2], exit code 2',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '2' }] },
  });
  const b64 = await session('base64.channel.k8s.io');
  const text = b64.messages as string[];
  assert.equal(Buffer.from(text.filter((m) => m[0] === '1').map((m) => m.slice(1)).join(''), 'base64').toString(), 'hi\n');
  // Before v4 the error channel carries only the message.
  assert.equal(Buffer.from(text.find((m) => m[0] === '3')!.slice(1), 'base64').toString(), status.message);
});

test('attach over websocket and spdy', () => checkAttach(kubectl, 'web'));

test('request validation, as kubectl shows it', async () => {
  let r = await kubectl(['exec', 'web', '-c', 'nope', '--', 'true']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error from server \(BadRequest\): container nope is not valid for pod web/);
  r = await kubectl(['exec', 'pending', '--', 'true']);
  assert.match(r.stderr, /Error from server \(BadRequest\): pod pending does not have a host assigned/);
  r = await kubectl(['exec', 'done', '--', 'true']);
  assert.match(r.stderr, /cannot exec into a container in a completed pod; current phase is Succeeded/);
  r = await kubectl(['exec', 'nothere', '--', 'true']);
  assert.match(r.stderr, /Error from server \(NotFound\): pods "nothere" not found/);
  r = await kubectl(['exec', 'orphan', '--', 'true']);
  assert.match(r.stderr, /Error from server \(NotFound\): nodes "node-9" not found/);
  // Several containers: kubectl picks the first (or the default-container annotation) itself...
  r = await kubectl(['exec', 'multi', '--', 'true']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Defaulted container "a" out of: a, b/);
  assert.equal(node.execs.at(-1)!.container, 'a');
  // ...other clients that name none get upstream's refusal.
  const raw = await api(cluster, 'GET', '/api/v1/namespaces/default/pods/multi/exec?command=true&stdout=true');
  assert.equal(raw.status, 400);
  assert.equal(raw.json.message, 'a container name must be specified for pod multi, choose one of: [a b]');
  const noUpgrade = await api(cluster, 'GET', '/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true');
  assert.equal(noUpgrade.status, 400);
  assert.equal(noUpgrade.json.message, 'Upgrade request required');
  const unauthenticated = await fetchStatus(`${server.url}/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true`, { Connection: 'Upgrade', Upgrade: 'websocket' });
  assert.equal(unauthenticated, 401);
});

/** Status code of an anonymous upgrade request (no client certificate). */
async function fetchStatus(url: string, headers: Record<string, string>): Promise<number> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.request(url, { headers, rejectUnauthorized: false });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

for (const [transport, env] of [
  ['websocket tunnel', {}],
  ['spdy', SPDY_PORT_FORWARD],
] as const) {
  test(`port-forward over ${transport}`, async () => {
    const out = await checkPortForward(target(), 'web', env, ['-v=4']);
    // kubectl says when it falls back from the WebSocket tunnel to SPDY.
    if (transport === 'spdy') assert.doesNotMatch(out, /tunneling_dialer/);
    else assert.doesNotMatch(out, /fallback to secondary dialer/);
  });
}

test('logs: options reach the node, -f streams and stops with the client', async () => {
  let r = await kubectl(['logs', 'web', '--tail=5', '--timestamps', '--since=10s', '--limit-bytes=100']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /line 1\nline 2\n$/);
  assert.deepEqual(node.logCalls.at(-1), { container: 'web', follow: false, previous: false, timestamps: true, tailLines: 5, sinceSeconds: 10, limitBytes: 100 });
  r = await kubectl(['logs', 'web', '--previous']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(node.logCalls.at(-1)!.previous, true);
  r = await kubectl(['logs', 'multi', '-c', 'b']);
  assert.equal(node.logCalls.at(-1)!.container, 'b');
  r = await kubectl(['logs', 'multi', '-c', 'zz']);
  assert.match(r.stderr, /container zz is not valid for pod multi/);
  r = await kubectl(['logs', 'pending']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.length, 0);

  await checkFollowStops(target(), node, 'web');

  const bad = await api(cluster, 'GET', '/api/v1/namespaces/default/pods/web/log?tailLines=-1&limitBytes=0');
  assert.equal(bad.status, 422);
  assert.equal(bad.json.message, 'PodLogOptions "web" is invalid: [tailLines: Invalid value: -1: must be greater than or equal to 0, limitBytes: Invalid value: 0: must be greater than 0]');
  const both = await api(cluster, 'GET', '/api/v1/namespaces/default/pods/web/log?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z');
  assert.equal(both.json.message, 'PodLogOptions "web" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
});

test('discovery lists the streaming subresources', async () => {
  const r = await api(cluster, 'GET', '/api/v1');
  const names = r.json.resources.filter((x: { name: string }) => x.name.startsWith('pods/')).map((x: { name: string; verbs: string[] }) => `${x.name}:${x.verbs.join(',')}`);
  for (const want of ['pods/attach:create,get', 'pods/exec:create,get', 'pods/log:get', 'pods/portforward:create,get']) assert.ok(names.includes(want), names.join(' '));
});
