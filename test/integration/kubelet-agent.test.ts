// A node agent that is not registered with the API server's process: it serves its kubelet API
// (serveNode) on loopback, its Node says where, and the API server reaches it over TLS. The node
// proxy lists what the agent runs; the agent's own answers (the simulated runtime refuses exec)
// reach kubectl as they do for an in-process node; a stopped kubelet server is "error dialing backend".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeAgent } from '../../src/agent/agent.ts';
import { SimRuntime } from '../../src/agent/runtime/sim.ts';
import { serveNode } from '../../src/agent/kubelet-server/serve-node.ts';
import { startTestApi } from '../support/inprocess.ts';
import { kubectl, waitForPod, waitUntil, type Cluster } from './harness.ts';

test('an agent served over its kubelet API: node status, node proxy /pods, exec refusal, logs, node down', async () => {
  const api = await startTestApi();
  const agent = new NodeAgent(api.client, {
    nodeName: 'far-1',
    runtime: new SimRuntime({ startDelayMs: 50, stopDelayMs: 50 }),
    podCIDR: '10.244.7.0/24',
    internalIP: '127.0.0.1',
  });
  const server = await serveNode(agent, { host: '127.0.0.1', port: 0, caCertPem: readFileSync(join(api.dataDir, 'pki', 'ca.crt'), 'utf8') });
  let serverClosed = false;
  await agent.start();
  const c = { kubeconfig: api.kubeconfig } as Cluster;
  try {
    const node = await api.client.get(api.client.resource('', 'nodes'), undefined, 'far-1');
    assert.equal(node.status.daemonEndpoints.kubeletEndpoint.Port, server.port);

    const pods = api.client.resource('', 'pods');
    await api.client.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { nodeName: 'far-1', containers: [{ name: 'web', image: 'nginx' }] } });
    await waitForPod(c, 'web', (p) => p.status?.phase === 'Running', 20_000);

    const listed = await kubectl(c, ['get', '--raw', '/api/v1/nodes/far-1/proxy/pods']);
    assert.equal(listed.code, 0, listed.stderr);
    const list = JSON.parse(listed.stdout);
    assert.equal(list.kind, 'PodList');
    assert.deepEqual(list.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`), ['default/web']);

    const exec = await kubectl(c, ['exec', 'web', '--', 'true']);
    assert.equal(exec.code, 1);
    assert.match(exec.stderr, /^Error from server \(BadRequest\): exec is not available for pod "default\/web": the simulated container runtime runs no processes/m);
    const logs = await kubectl(c, ['logs', 'web']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, '');

    // Gone from the node once it is stopped and deleted.
    await api.client.delete(pods, 'default', 'web', { gracePeriodSeconds: 0 });
    await waitUntil(async () => JSON.parse((await kubectl(c, ['get', '--raw', '/api/v1/nodes/far-1/proxy/pods'])).stdout).items.length === 0, 20_000, () => 'the pod stayed in the node listing');

    await api.client.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'late' }, spec: { nodeName: 'far-1', containers: [{ name: 'c', image: 'nginx' }] } });
    await waitForPod(c, 'late', (p) => p.status?.phase === 'Running', 20_000);
    await server.close();
    serverClosed = true;
    const down = await kubectl(c, ['exec', 'late', '--', 'true']);
    assert.match(down.stderr, new RegExp(`Error from server: error dialing backend: dial tcp 127\\.0\\.0\\.1:${server.port}: connect: connection refused`));
  } finally {
    if (!serverClosed) await server.close();
    agent.stop();
    await api.close();
  }
});
