// The components `ordinal up` runs beside the API server. Each talks to the API only through the
// client, so any of them could run in another process against the same server.
import type { Client } from '../client/client.ts';
import { GarbageCollector } from '../controllers/garbagecollector/controller.ts';
import { NamespaceController } from '../controllers/namespace/controller.ts';
import { VolumeController } from '../controllers/volume/controller.ts';
import { EndpointsController } from '../controllers/endpoints/controller.ts';
import { EndpointSliceController } from '../controllers/endpointslice/controller.ts';
import { StatefulSetController } from '../controllers/statefulset/controller.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import { NodeAgent } from '../agent/agent.ts';
import { SimRuntime } from '../agent/runtime/sim.ts';

export interface Component {
  start(): Promise<void>;
  stop(): void;
}

export interface ClusterOptions {
  dataDir: string;
  /** How many simulated nodes to run (node-1 … node-N). */
  nodes: number;
  /** How long a simulated pod shows ContainerCreating before it runs. */
  simStartDelayMs: number;
}

/** Names of the simulated nodes; each gets its own pod CIDR (10.244.<i>.0/24), as a cluster's node IPAM would. */
export function simNodeNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `node-${i + 1}`);
}

export async function startComponents(client: Client, opts: ClusterOptions): Promise<Component[]> {
  const components: Component[] = [
    new StatefulSetController(client, {}),
    new GarbageCollector(client),
    new NamespaceController(client),
    new VolumeController(client, { dataDir: opts.dataDir }),
    new EndpointsController(client, {}),
    new EndpointSliceController(client, {}),
    new Scheduler(client),
    ...simNodeNames(opts.nodes).map(
      (nodeName, i) =>
        new NodeAgent(client, {
          nodeName,
          runtime: new SimRuntime({ startDelayMs: opts.simStartDelayMs }),
          podCIDR: `10.244.${i + 1}.0/24`,
          internalIP: `192.0.2.${i + 1}`,
        }),
    ),
  ];
  await Promise.all(components.map((c) => c.start()));
  return components;
}
