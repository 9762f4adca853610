// A node in its own process (`ordinal agent`) reached by `ordinal up`'s API server, in a third
// process, through the node's kubelet API: the Node names the port the agent chose, the node proxy
// lists what the agent's runtime runs, the agent's answers to exec and logs reach kubectl, and a
// node whose agent is gone is "error dialing backend".
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitForPod, waitUntil, tempDir, type Cluster } from './harness.ts';
import { startAgent, createJoinToken, type AgentProcess } from '../support/agents.ts';

let cluster: Cluster | undefined;
let agent: AgentProcess | undefined;

after(async () => {
  await agent?.stop('SIGKILL');
  if (cluster) {
    await stopCluster(cluster);
    removeCluster(cluster);
  }
});

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: far-pod
spec:
  nodeName: far
  containers:
  - name: app
    image: nginx
`;

test('a joined node serves exec, logs and /pods to the API server over its kubelet API', { timeout: 120_000 }, async () => {
  cluster = await startCluster({ args: ['--nodes', '1', '--sim-start-delay', '0'] });
  const c = cluster;
  const join = await createJoinToken(c.dataDir);
  agent = startAgent(['--server', join.server, '--token', join.token, '--ca-cert-hash', join.hash, '--node-name', 'far', '--runtime', 'sim', '--sim-start-delay', '0', '--kubelet-port', '0', '--data-dir', tempDir('ordinal-agent-')]);
  await agent.joined;

  let port = 0;
  await waitUntil(
    async () => {
      const r = await kubectl(c, ['get', 'node', 'far', '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}']);
      port = Number(r.stdout);
      return port > 0 && port !== 10250;
    },
    20_000,
    () => `the Node never named the port the agent chose (${port})`,
  );

  await kubectlOk(c, ['apply', '-f', '-'], { input: POD });
  await waitForPod(c, 'far-pod', (p) => p.status?.phase === 'Running', 30_000);

  const listed = JSON.parse(await kubectlOk(c, ['get', '--raw', '/api/v1/nodes/far/proxy/pods']));
  assert.equal(listed.kind, 'PodList');
  assert.deepEqual(listed.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`), ['default/far-pod']);
  // The built-in node answers the same path from the server's own process.
  const local = JSON.parse(await kubectlOk(c, ['get', '--raw', '/api/v1/nodes/node-1/proxy/pods']));
  assert.equal(local.kind, 'PodList');
  assert.ok(!local.items.some((p: any) => p.metadata.name === 'far-pod'));
  assert.equal(await kubectlOk(c, ['get', '--raw', '/api/v1/nodes/far/proxy/healthz']), 'ok');

  // The agent's own answers, through the API server in another process.
  const exec = await kubectl(c, ['exec', 'far-pod', '--', 'true']);
  assert.equal(exec.code, 1);
  assert.match(exec.stderr, /^Error from server \(BadRequest\): exec is not available for pod "default\/far-pod": the simulated container runtime runs no processes/m);
  const logs = await kubectl(c, ['logs', 'far-pod']);
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(logs.stdout, '');

  // The node goes away: its pods cannot be reached.
  await agent.stop('SIGKILL');
  const down = await kubectl(c, ['logs', 'far-pod']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, new RegExp(`^Error from server: Get "https://127\\.0\\.0\\.1:${port}/containerLogs/default/far-pod/app\\?podUID=[0-9a-f-]+": dial tcp 127\\.0\\.0\\.1:${port}: connect: connection refused`, 'm'));
  const proxied = await kubectl(c, ['get', '--raw', '/api/v1/nodes/far/proxy/pods']);
  assert.match(proxied.stderr, /Error from server \(ServiceUnavailable\): error trying to reach service: dial tcp 127\.0\.0\.1:\d+: connect: connection refused/);
});
