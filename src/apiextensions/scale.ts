// The /scale subresource of custom kinds: the Scale view and the replica write go through the
// JSONPaths the version's subresources.scale names (upstream's customresource scale REST).
import type { Obj } from '../api/resource.ts';
import type { CustomResourceInfo } from './served.ts';
import { jsonPathValues } from './jsonpath.ts';

type ScaleSpec = NonNullable<CustomResourceInfo['scale']>;

/** '.spec.replicas' -> ['spec', 'replicas'] (scale paths are plain field paths; validation ensures it). */
function fields(path: string): string[] {
  return path.replace(/^\./, '').split('.');
}

export function customScale(obj: Obj, s: ScaleSpec): Obj {
  const m = obj.metadata;
  const num = (p: string) => {
    const v = jsonPathValues(p, obj)[0];
    return typeof v === 'number' ? v : 0;
  };
  const status: Obj = { replicas: num(s.statusReplicasPath) };
  if (s.labelSelectorPath) {
    const sel = jsonPathValues(s.labelSelectorPath, obj)[0];
    if (typeof sel === 'string' && sel) status.selector = sel;
  }
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: num(s.specReplicasPath) },
    status,
  };
}

/** Sets the desired replicas in obj (a copy the caller owns), creating objects along the path. */
export function setCustomReplicas(obj: Obj, s: ScaleSpec, replicas: number): void {
  const path = fields(s.specReplicasPath);
  let cur = obj;
  for (const f of path.slice(0, -1)) {
    if (!cur[f] || typeof cur[f] !== 'object') cur[f] = {};
    cur = cur[f];
  }
  cur[path[path.length - 1]] = replicas;
}
