// The objects a pod spec refers to, which a node running the pod must be able to read (upstream
// podutil.VisitPodSecretNames / VisitPodConfigmapNames and the Node authorizer graph's AddPod). Pure.
import type { Obj } from '../../../api/resource.ts';

export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export interface PodRefs {
  secrets: string[];
  configMaps: string[];
  claims: string[];
  serviceAccount?: string;
}

function containers(spec: Obj): Obj[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])].filter((c) => c && typeof c === 'object');
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** Every secret, config map, claim and the service account a pod names; duplicates removed. */
export function podRefs(pod: Obj): PodRefs {
  const spec: Obj = pod?.spec && typeof pod.spec === 'object' ? pod.spec : {};
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  const claims = new Set<string>();
  const add = (set: Set<string>, v: unknown) => {
    const s = str(v);
    if (s) set.add(s);
  };
  for (const s of Array.isArray(spec.imagePullSecrets) ? spec.imagePullSecrets : []) add(secrets, s?.name);
  for (const c of containers(spec)) {
    for (const e of Array.isArray(c.env) ? c.env : []) {
      add(secrets, e?.valueFrom?.secretKeyRef?.name);
      add(configMaps, e?.valueFrom?.configMapKeyRef?.name);
    }
    for (const e of Array.isArray(c.envFrom) ? c.envFrom : []) {
      add(secrets, e?.secretRef?.name);
      add(configMaps, e?.configMapRef?.name);
    }
  }
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) {
    if (!v || typeof v !== 'object') continue;
    add(secrets, v.secret?.secretName);
    add(configMaps, v.configMap?.name);
    for (const src of Array.isArray(v.projected?.sources) ? v.projected.sources : []) {
      add(secrets, src?.secret?.name);
      add(configMaps, src?.configMap?.name);
    }
    // Volume plugins that take their credentials from a secret.
    add(secrets, v.csi?.nodePublishSecretRef?.name);
    add(secrets, v.azureFile?.secretName);
    for (const plugin of ['cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos']) add(secrets, v[plugin]?.secretRef?.name);
    add(claims, v.persistentVolumeClaim?.claimName);
    // A generic ephemeral volume's claim is named after the pod and the volume.
    if (v.ephemeral && str(v.name) && str(pod?.metadata?.name)) claims.add(`${pod.metadata.name}-${v.name}`);
  }
  const refs: PodRefs = { secrets: [...secrets], configMaps: [...configMaps], claims: [...claims] };
  const sa = str(spec.serviceAccountName);
  if (sa) refs.serviceAccount = sa;
  return refs;
}

export function isMirrorPod(pod: Obj): boolean {
  const a = pod?.metadata?.annotations;
  return !!a && typeof a === 'object' && Object.prototype.hasOwnProperty.call(a, MIRROR_POD_ANNOTATION);
}
