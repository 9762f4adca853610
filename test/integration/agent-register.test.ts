// An agent restarting on a node the API already holds: the node lifecycle controller may write the
// node's status between the agent's read and its write (Ready Unknown once the Lease is late). The
// agent reads the node again and writes over it, as the kubelet retries node status updates,
// instead of ending with the conflict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import type { Client } from '../../src/client/client.ts';
import { startTestApi } from '../support/inprocess.ts';
import { NodeAgent } from '../../src/agent/agent.ts';
import { SimRuntime } from '../../src/agent/runtime/sim.ts';

test('a restarted agent registers over node status writes made meanwhile by others', async () => {
  const api = await startTestApi();
  const nodes = api.client.resource('', 'nodes');
  const options = { nodeName: 'n1', podCIDR: '10.244.1.0/24', internalIP: '192.0.2.1' };
  const first = new NodeAgent(api.client, { ...options, runtime: new SimRuntime({ startDelayMs: 0 }) });
  await first.start();
  first.stop();

  // Before each of the next agent's first two status writes, another writer's status write lands.
  let interfered = 0;
  const client = new Proxy(api.client, {
    get(target, prop, receiver) {
      if (prop !== 'update') return Reflect.get(target, prop, receiver);
      return async (r: Obj, body: Obj, sub?: string) => {
        if (r.plural === 'nodes' && sub === 'status' && interfered < 2) {
          interfered++;
          const now = await target.get(nodes, undefined, 'n1');
          const conditions = (now.status.conditions as Obj[]).map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown' } : c));
          await target.update(nodes, { ...now, status: { ...now.status, conditions } }, 'status');
        }
        return target.update(r as never, body, sub as never);
      };
    },
  }) as Client;
  const second = new NodeAgent(client, { ...options, runtime: new SimRuntime({ startDelayMs: 0 }) });
  try {
    await second.start();
    assert.equal(interfered, 2, 'two conflicts met');
    const node = await api.client.get(nodes, undefined, 'n1');
    assert.equal(node.status.conditions.find((c: Obj) => c.type === 'Ready').status, 'True', "the agent's status is the last word");
  } finally {
    second.stop();
    await api.close();
  }
});
