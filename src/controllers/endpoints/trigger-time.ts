// The `endpoints.kubernetes.io/last-change-trigger-time` annotation, as upstream's trigger time
// tracker computes it: the earliest time among the changes (pods and the service) since the last
// sync of the service. Only a hint for latency measurement, so it lives in memory; after a
// restart every pod counts as changed, as upstream.
import type { Obj } from '../../api/resource.ts';
import { objectKey } from '../../client/informer.ts';
import { podEndpointState, podTriggerTime } from './compute.ts';

interface Seen {
  service: string;
  pods: Map<string, string>;
}

export class TriggerTimeTracker {
  private readonly seen = new Map<string, Seen>();

  /** The trigger time for this sync (undefined when nothing changed with a known time), remembering the state. */
  compute(serviceKey: string, svc: Obj, pods: Obj[]): string | undefined {
    const prev = this.seen.get(serviceKey);
    const next: Seen = { service: JSON.stringify(svc.spec ?? {}), pods: new Map() };
    let min: string | undefined;
    const consider = (t: string | undefined) => {
      if (t && (!min || Date.parse(t) < Date.parse(min))) min = t;
    };
    if (!prev || prev.service !== next.service) consider(svc.metadata.creationTimestamp);
    for (const pod of pods) {
      const state = podEndpointState(pod);
      const key = objectKey(pod);
      next.pods.set(key, state);
      if (prev?.pods.get(key) !== state) consider(podTriggerTime(pod));
    }
    this.seen.set(serviceKey, next);
    return min;
  }

  forget(serviceKey: string): void {
    this.seen.delete(serviceKey);
  }
}
