// The `endpoints.kubernetes.io/last-change-trigger-time` annotation, as upstream's trigger time
// tracker computes it: the earliest time among the changes (pods and the service) since the last
// sync of the service. Only a hint for latency measurement, so it lives in memory; after a
// restart every pod counts as changed, as upstream.
import type { Obj } from '../../api/resource.ts';
import { objectKey } from '../../client/informer.ts';
import { podTriggerTime, sameEndpointState } from './compute.ts';

interface PodSeen {
  /** The version last seen: the next one is a trigger when what endpoints show of it differs. */
  pod: Obj;
  /** The sync that last saw the pod. */
  seen: number;
}

interface Seen {
  svc: Obj;
  spec: string;
  pods: Map<string, PodSeen>;
}

export class TriggerTimeTracker {
  private readonly seen = new Map<string, Seen>();
  private gen = 0;

  /**
   * The trigger time for this sync (undefined when nothing changed with a known time), remembering
   * the state. `pods` are the service's pods, keyed by namespace/name when a map. A pod seen as the
   * same object as last time is unchanged without a look at it, so a sync costs little for the pods
   * that did not change; `changed`, when known (with a map), names the only keys that may differ
   * from the last call (see ServicePods.changes).
   */
  compute(serviceKey: string, svc: Obj, pods: Iterable<Obj> | ReadonlyMap<string, Obj>, changed: ReadonlySet<string> | 'all' = 'all'): string | undefined {
    const gen = ++this.gen;
    let prev = this.seen.get(serviceKey);
    let min: string | undefined;
    /** Date.parse(min), worked out only when a time not in the API server's own form needs it. */
    let minMs: number | undefined;
    const consider = (t: string | undefined) => {
      if (!t || t === min) return;
      if (min === undefined) {
        min = t;
        minMs = undefined;
        return;
      }
      // Times the API server writes (RFC 3339, seconds, UTC) order as their strings do: most syncs
      // compare hundreds of them, and parsing each was the tracker's main cost.
      if (serverTime(t) && serverTime(min)) {
        if (t < min) {
          min = t;
          minMs = undefined;
        }
        return;
      }
      const ms = Date.parse(t);
      minMs ??= Date.parse(min);
      if (ms < minMs) {
        min = t;
        minMs = ms;
      }
    };
    if (!prev) {
      changed = 'all';
      this.seen.set(serviceKey, (prev = { svc, spec: JSON.stringify(svc.spec ?? {}), pods: new Map() }));
      consider(svc.metadata.creationTimestamp);
    } else if (prev.svc !== svc) {
      const spec = JSON.stringify(svc.spec ?? {});
      if (spec !== prev.spec) consider(svc.metadata.creationTimestamp);
      prev.svc = svc;
      prev.spec = spec;
    }
    const known = prev.pods;
    let count = 0;
    const visit = (key: string, pod: Obj) => {
      count++;
      const was = known.get(key);
      if (was && was.pod === pod) {
        was.seen = gen;
        return;
      }
      if (!was || !sameEndpointState(was.pod, pod)) consider(podTriggerTime(pod));
      if (was) {
        was.pod = pod;
        was.seen = gen;
      } else known.set(key, { pod, seen: gen });
    };
    if (pods instanceof Map && changed !== 'all') {
      // Pods gone since the last sync are forgotten: should they come back, they count as changed.
      for (const key of changed) {
        const pod = pods.get(key);
        if (pod) visit(key, pod);
        else known.delete(key);
      }
      return min;
    }
    if (pods instanceof Map) for (const [key, pod] of pods) visit(key, pod);
    else for (const pod of pods as Iterable<Obj>) visit(objectKey(pod), pod);
    if (known.size > count) for (const [key, p] of known) if (p.seen !== gen) known.delete(key);
    return min;
  }

  forget(serviceKey: string): void {
    this.seen.delete(serviceKey);
  }
}

/** Whether `t` has the form `YYYY-MM-DDTHH:MM:SSZ`, in which later times sort later as strings. */
function serverTime(t: string): boolean {
  return t.length === 20 && t.charCodeAt(19) === 90 /* Z */ && t.charCodeAt(10) === 84 /* T */ && t.charCodeAt(4) === 45 && t.charCodeAt(13) === 58;
}
