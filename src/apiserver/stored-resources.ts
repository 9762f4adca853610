// Every resource the API server keeps in its store, as group and resource name: the served kinds,
// and what the server stores for its own bookkeeping (ClusterIP reservations, as upstream's
// IPAddress objects). The etcd key layout is built from this list.
import { resources } from '../api/registry.ts';
import { IP_RESERVATIONS } from './ip-reservations.ts';

export function storedResources(): { group: string; resource: string }[] {
  // A kind served in several versions is stored once.
  return [...resources.filter((r) => !r.convertIn).map((r) => ({ group: r.group, resource: r.plural })), IP_RESERVATIONS];
}
