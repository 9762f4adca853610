// The components `ordinal up` runs beside the API server. Each talks to the API only through the
// client, so any of them could run in another process against the same server.
import type { Client } from '../client/client.ts';
import { GarbageCollector } from '../controllers/garbagecollector/controller.ts';
import { NamespaceController } from '../controllers/namespace/controller.ts';
import { VolumeController } from '../controllers/volume/controller.ts';
import { EndpointsController } from '../controllers/endpoints/controller.ts';
import { EndpointSliceController } from '../controllers/endpointslice/controller.ts';
import { StatefulSetController } from '../controllers/statefulset/controller.ts';

export interface Component {
  start(): Promise<void>;
  stop(): void;
}

export interface ClusterOptions {
  dataDir: string;
}

export async function startComponents(client: Client, opts: ClusterOptions): Promise<Component[]> {
  const components: Component[] = [
    new StatefulSetController(client, {}),
    new GarbageCollector(client),
    new NamespaceController(client),
    new VolumeController(client, { dataDir: opts.dataDir }),
    new EndpointsController(client, {}),
    new EndpointSliceController(client, {}),
  ];
  await Promise.all(components.map((c) => c.start()));
  return components;
}
