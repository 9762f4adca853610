// One simulated node ('sim-0', quick starts and stops, short restart back-off) against an in-process
// API server, with a Cluster handle for the real kubectl: the set-up of the agent-level sim tests.
import { startTestApi, type TestApi } from './inprocess.ts';
import type { Cluster } from '../integration/harness.ts';
import { NodeAgent } from '../../src/agent/agent.ts';
import { SimRuntime } from '../../src/agent/runtime/sim.ts';

export interface SimNode {
  api: TestApi;
  cluster: Cluster;
  agent: NodeAgent;
  close(): Promise<void>;
}

export async function startSimNode(): Promise<SimNode> {
  const api = await startTestApi();
  const agent = new NodeAgent(api.client, {
    nodeName: 'sim-0',
    runtime: new SimRuntime({ startDelayMs: 100, stopDelayMs: 100 }),
    podCIDR: '10.244.0.0/24',
    internalIP: '192.0.2.1',
    backoffBaseMs: 300,
    backoffMaxMs: 2000,
  });
  await agent.start();
  return {
    api,
    cluster: { kubeconfig: api.kubeconfig } as Cluster,
    agent,
    close: async () => {
      agent.stop();
      await api.close();
    },
  };
}
