// What the service account and root CA controllers decide, as pure functions of what they see.
import type { Obj } from '../../api/resource.ts';

/** The accounts kube-controller-manager ensures in every namespace (--service-account... default). */
export const ENSURED_SERVICE_ACCOUNTS = ['default'];

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const ROOT_CA_KEY = 'ca.crt';
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
export const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usage is guaranteed across distributions of Kubernetes clusters.';

export const isActive = (ns: Obj | undefined) => !!ns && !ns.metadata.deletionTimestamp && (ns.status?.phase ?? 'Active') === 'Active';

/** The service accounts to create in a namespace: none unless it is active. */
export function serviceAccountsToCreate(ns: Obj | undefined, exists: (name: string) => boolean): Obj[] {
  if (!isActive(ns)) return [];
  return ENSURED_SERVICE_ACCOUNTS.filter((name) => !exists(name)).map((name) => ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, namespace: ns!.metadata.name },
  }));
}

export type RootCaAction = { action: 'none' } | { action: 'create'; configMap: Obj } | { action: 'update'; configMap: Obj };

/**
 * Upstream's root CA publisher: the ConfigMap holds exactly the CA under ca.crt and carries the
 * description annotation; anything else about it (labels, other annotations) is left alone.
 */
export function rootCaAction(namespace: string, current: Obj | undefined, caPem: string): RootCaAction {
  const data = { [ROOT_CA_KEY]: caPem };
  if (!current) {
    return {
      action: 'create',
      configMap: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION } },
        data,
      },
    };
  }
  const same = Object.keys(current.data ?? {}).length === 1 && current.data?.[ROOT_CA_KEY] === caPem;
  if (same && current.metadata.annotations?.[DESCRIPTION_ANNOTATION]) return { action: 'none' };
  return {
    action: 'update',
    configMap: {
      ...current,
      metadata: { ...current.metadata, annotations: { ...(current.metadata.annotations ?? {}), [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION } },
      data,
    },
  };
}
