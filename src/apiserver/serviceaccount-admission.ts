// The decisions of upstream's ServiceAccount admission plugin, as pure functions of the pod spec
// and its service account: whether to mount an API access volume, the volume and mounts it adds,
// the pull secrets it copies and the secret references an account may forbid.
import { randomNameSuffix } from '../util/random-name.ts';
import type { Obj } from '../api/resource.ts';
import { WARN_ONLY_EXPIRATION_SECONDS } from './serviceaccount-token.ts';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const API_ACCESS_VOLUME_PREFIX = 'kube-api-access-';
export const API_TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const ENFORCE_MOUNTABLE_SECRETS = 'kubernetes.io/enforce-mountable-secrets';

export function randomVolumeSuffix(): string {
  return randomNameSuffix();
}

/** The pod's choice wins, then the service account's; the default is to mount. */
export function shouldAutomount(sa: Obj, podSpec: Obj): boolean {
  if (typeof podSpec.automountServiceAccountToken === 'boolean') return podSpec.automountServiceAccountToken;
  if (typeof sa.automountServiceAccountToken === 'boolean') return sa.automountServiceAccountToken;
  return true;
}

/** The projected volume upstream mounts: a bound token, the cluster CA and the namespace. */
export function apiAccessVolumeSource(): Obj {
  return {
    // Given explicitly, as upstream does, so the stored pod shows it.
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { expirationSeconds: WARN_ONLY_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

/**
 * Mounts the API access volume read-only at the well-known path in every init container and
 * container that has nothing there yet, adding the volume if any of them needed it. A volume
 * already named kube-api-access-* is reused rather than added again.
 */
export function mountApiAccessVolume(podSpec: Obj, suffix: () => string = randomVolumeSuffix): void {
  const volumes: Obj[] = podSpec.volumes ?? [];
  const existing = volumes.find((v) => typeof v.name === 'string' && v.name.startsWith(API_ACCESS_VOLUME_PREFIX));
  const name: string = existing?.name ?? API_ACCESS_VOLUME_PREFIX + suffix();
  let needed = false;
  for (const list of [podSpec.initContainers, podSpec.containers] as (Obj[] | undefined)[]) {
    for (const c of list ?? []) {
      if ((c.volumeMounts ?? []).some((m: Obj) => m.mountPath === API_TOKEN_MOUNT_PATH)) continue;
      c.volumeMounts = [...(c.volumeMounts ?? []), { name, readOnly: true, mountPath: API_TOKEN_MOUNT_PATH }];
      needed = true;
    }
  }
  if (needed && !existing) podSpec.volumes = [...volumes, { name, projected: apiAccessVolumeSource() }];
}

/** A pod without pull secrets gets its service account's. */
export function copyImagePullSecrets(sa: Obj, podSpec: Obj): void {
  if (podSpec.imagePullSecrets?.length || !sa.imagePullSecrets?.length) return;
  podSpec.imagePullSecrets = sa.imagePullSecrets.map((s: Obj) => ({ name: s.name }));
}

/**
 * With the kubernetes.io/enforce-mountable-secrets annotation, a pod may only use the secrets its
 * service account lists. Returns why the pod is refused, or undefined.
 */
export function mountableSecretsViolation(sa: Obj, podSpec: Obj): string | undefined {
  if (String(sa.metadata?.annotations?.[ENFORCE_MOUNTABLE_SECRETS] ?? '').toLowerCase() !== 'true') return undefined;
  const name: string = sa.metadata.name;
  const mountable = new Set((sa.secrets ?? []).map((s: Obj) => s.name));
  for (const v of podSpec.volumes ?? []) {
    const secretName = v.secret?.secretName;
    if (secretName !== undefined && !mountable.has(secretName)) {
      return `volume with secret.secretName="${secretName}" is not allowed because service account ${name} does not reference that secret`;
    }
  }
  for (const [list, what] of [[podSpec.initContainers, 'init container'], [podSpec.containers, 'container']] as [Obj[] | undefined, string][]) {
    for (const c of list ?? []) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef?.name;
        if (ref !== undefined && !mountable.has(ref)) {
          return `${what} ${c.name} with envVar ${e.name} referencing secret.secretName="${ref}" is not allowed because service account ${name} does not reference that secret`;
        }
      }
    }
  }
  const pullable = new Set((sa.imagePullSecrets ?? []).map((s: Obj) => s.name));
  for (const [i, s] of (podSpec.imagePullSecrets ?? []).entries()) {
    if (!pullable.has(s.name)) return `imagePullSecrets[${i}].name="${s.name}" is not allowed because service account ${name} does not reference that imagePullSecret`;
  }
  return undefined;
}
