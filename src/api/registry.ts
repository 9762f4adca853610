// Every kind the API server serves, in discovery order.
import type { Obj, ResourceDef, SubresourceName, TableDef } from './resource.ts';
import { strategyFor } from './kinds/index.ts';
import { tableFor } from './tables/index.ts';
import { hpaFromV1, hpaToV1 } from './kinds/autoscaling-v1.ts';
import './schemas/index.ts';

interface Entry {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  schema: string;
  subresources?: SubresourceName[];
  /** A built-in kind's older version, served from the objects stored in another version. */
  conversion?: { storageApiVersion: string; toStored: (obj: Obj) => Obj; fromStored: (obj: Obj) => Obj };
}

const entries: Entry[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], schema: 'io.k8s.api.core.v1.Namespace', subresources: ['status', 'finalize'] },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'], schema: 'io.k8s.api.core.v1.Pod', subresources: ['status', 'binding', 'eviction'] },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'], schema: 'io.k8s.api.core.v1.Service', subresources: ['status'] },
  { group: '', version: 'v1', kind: 'Endpoints', plural: 'endpoints', namespaced: true, shortNames: ['ep'], schema: 'io.k8s.api.core.v1.Endpoints' },
  { group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'], schema: 'io.k8s.api.core.v1.PersistentVolumeClaim', subresources: ['status'] },
  { group: '', version: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, shortNames: ['pv'], schema: 'io.k8s.api.core.v1.PersistentVolume', subresources: ['status'] },
  { group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], schema: 'io.k8s.api.core.v1.Node', subresources: ['status'] },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'], schema: 'io.k8s.api.core.v1.ConfigMap' },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, schema: 'io.k8s.api.core.v1.Secret' },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'], schema: 'io.k8s.api.core.v1.Event' },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, shortNames: ['sa'], schema: 'io.k8s.api.core.v1.ServiceAccount', subresources: ['token'] },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, shortNames: ['sts'], categories: ['all'], schema: 'io.k8s.api.apps.v1.StatefulSet', subresources: ['status', 'scale'] },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, shortNames: ['deploy'], categories: ['all'], schema: 'io.k8s.api.apps.v1.Deployment', subresources: ['status', 'scale'] },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, shortNames: ['rs'], categories: ['all'], schema: 'io.k8s.api.apps.v1.ReplicaSet', subresources: ['status', 'scale'] },
  { group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true, shortNames: ['ds'], categories: ['all'], schema: 'io.k8s.api.apps.v1.DaemonSet', subresources: ['status'] },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true, categories: ['all'], schema: 'io.k8s.api.batch.v1.Job', subresources: ['status'] },
  { group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs', namespaced: true, shortNames: ['cj'], categories: ['all'], schema: 'io.k8s.api.batch.v1.CronJob', subresources: ['status'] },
  { group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true, schema: 'io.k8s.api.apps.v1.ControllerRevision' },
  { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, shortNames: ['netpol'], schema: 'io.k8s.api.networking.v1.NetworkPolicy' },
  { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', namespaced: true, shortNames: ['ing'], schema: 'io.k8s.api.networking.v1.Ingress', subresources: ['status'] },
  { group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass', plural: 'ingressclasses', namespaced: false, schema: 'io.k8s.api.networking.v1.IngressClass' },
  { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true, shortNames: ['hpa'], categories: ['all'], schema: 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler', subresources: ['status'] },
  {
    group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true, shortNames: ['hpa'], categories: ['all'], schema: 'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler', subresources: ['status'],
    conversion: { storageApiVersion: 'autoscaling/v2', toStored: hpaFromV1, fromStored: hpaToV1 },
  },
  { group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass', plural: 'storageclasses', namespaced: false, shortNames: ['sc'], schema: 'io.k8s.api.storage.v1.StorageClass' },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true, schema: 'io.k8s.api.coordination.v1.Lease' },
  { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, shortNames: ['pdb'], schema: 'io.k8s.api.policy.v1.PodDisruptionBudget', subresources: ['status'] },
  { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true, schema: 'io.k8s.api.discovery.v1.EndpointSlice' },
  { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], schema: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition', subresources: ['status'] },
  { group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest', plural: 'certificatesigningrequests', namespaced: false, shortNames: ['csr'], schema: 'io.k8s.api.certificates.v1.CertificateSigningRequest', subresources: ['status', 'approval'] },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false, schema: 'io.k8s.api.rbac.v1.ClusterRoleBinding' },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false, schema: 'io.k8s.api.rbac.v1.ClusterRole' },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true, schema: 'io.k8s.api.rbac.v1.RoleBinding' },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true, schema: 'io.k8s.api.rbac.v1.Role' },
];

export const resources: ResourceDef[] = entries.map((e) => ({
  group: e.group,
  version: e.version,
  kind: e.kind,
  plural: e.plural,
  singular: e.kind.toLowerCase(),
  namespaced: e.namespaced,
  shortNames: e.shortNames ?? [],
  categories: e.categories ?? [],
  schema: e.schema,
  subresources: e.subresources ?? [],
  strategy: strategyFor(e.kind),
  // Tables are computed from the stored form, which is what the kind's printer reads.
  table: e.conversion ? viaStored(tableFor(e.kind), e.conversion.storageApiVersion, e.conversion.toStored) : tableFor(e.kind),
  ...(e.conversion && { storageApiVersion: e.conversion.storageApiVersion, convert: e.conversion.fromStored, convertIn: e.conversion.toStored }),
}));

function viaStored(table: TableDef, storageApiVersion: string, toStored: (obj: Obj) => Obj): TableDef {
  return { columns: table.columns, cells: (obj, now) => table.cells(obj.apiVersion === storageApiVersion ? obj : toStored(obj), now) };
}

/** How many of `resources` are built in; the rest are served from CustomResourceDefinitions. */
const BUILT_IN = resources.length;
const listeners = new Set<() => void>();

/**
 * Replaces the kinds served from CustomResourceDefinitions (the API server's CRD controller
 * calls it whenever one is established, changed or gone). `resources` is updated in place, so
 * every holder of it sees the change; listeners rebuild what they derived from it.
 */
export function setCustomResources(defs: ResourceDef[]): void {
  resources.splice(BUILT_IN, resources.length - BUILT_IN, ...defs);
  for (const fn of listeners) fn();
}

/** Called after every change of the served kinds; returns the unsubscribe function. */
export function onResourcesChanged(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * One kind per stored collection: every built-in kind, and each custom kind in its storage
 * version only (its other versions are views of the same objects). What controllers that watch
 * "everything" (garbage collector, namespace controller) iterate over.
 */
export function storedResources(): ResourceDef[] {
  return resources.filter((r) => (r.custom ? r.version === r.custom.storageVersion : !r.convertIn));
}

export function groupVersion(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/**
 * Kinds that are only ever created, answered and forgotten (never stored, listed or watched):
 * served by src/apiserver/authentication-api.ts, listed in discovery with the single verb create.
 */
export interface CreateOnlyResource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
}

export const createOnlyResources: CreateOnlyResource[] = [
  { group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', singular: 'selfsubjectreview', namespaced: false },
  { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview', plural: 'tokenreviews', singular: 'tokenreview', namespaced: false },
  { group: 'authorization.k8s.io', version: 'v1', kind: 'LocalSubjectAccessReview', plural: 'localsubjectaccessreviews', singular: 'localsubjectaccessreview', namespaced: true },
  { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', namespaced: false },
  { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectRulesReview', plural: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', namespaced: false },
  { group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', singular: 'subjectaccessreview', namespaced: false },
];
