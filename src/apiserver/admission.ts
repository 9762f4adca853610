// Mutating admission on create, for the decisions upstream makes in its admission chain and
// registries: service IP allocation, the ServiceAccount plugin (default account, API access
// volume), namespace defaults.
import type { Obj, ResourceDef } from '../api/resource.ts';
import { ApiError, forbidden } from './errors.ts';
import { inServiceNetwork, pickServiceIp } from './service-network.ts';
import { findResource } from './request.ts';
import { reserveIp } from './ip-reservations.ts';
import type { ResourceStore } from './resource-store.ts';
import { addDefaultTolerations } from '../api/kinds/pod.ts';
import { resizeRefusal } from './pvc-resize-admission.ts';
import { copyImagePullSecrets, DEFAULT_SERVICE_ACCOUNT, mountableSecretsViolation, mountApiAccessVolume, shouldAutomount } from './serviceaccount-admission.ts';

/** The addresses of the default service CIDR (10.96.0.0/12): .1 the kubernetes Service, .10 cluster DNS. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const DNS_SERVICE_IP = '10.96.0.10';

/** kube-apiserver flags the admission plugins read. */
export interface AdmissionConfig {
  /** --default-not-ready-toleration-seconds */
  defaultNotReadyTolerationSeconds: number;
  /** --default-unreachable-toleration-seconds */
  defaultUnreachableTolerationSeconds: number;
}

export const DEFAULT_ADMISSION_CONFIG: AdmissionConfig = { defaultNotReadyTolerationSeconds: 300, defaultUnreachableTolerationSeconds: 300 };

/**
 * Mutating admission of creates. A promise only for the kinds whose plugins wait for something
 * (services, pods): the others (events above all) are admitted at once, without a promise to await.
 */
export function admitCreate(rs: ResourceStore, r: ResourceDef, obj: Obj, dryRun = false): Promise<void> | undefined {
  if (r.kind === 'Service') return allocateServiceAddresses(rs, obj, dryRun);
  if (r.kind === 'Pod') {
    admitDefaultTolerationSeconds(rs.admission, obj);
    return admitPodServiceAccount(rs, obj);
  }
  if (r.kind === 'PersistentVolumeClaim') admitClaim(rs, obj);
  if (r.kind === 'PersistentVolume') addFinalizer(obj, 'kubernetes.io/pv-protection');
  return undefined;
}

/** Mutating admission of updates of main resources (not subresources). */
export function admitUpdate(rs: ResourceStore, r: ResourceDef, obj: Obj): void {
  if (r.kind === 'Pod') admitDefaultTolerationSeconds(rs.admission, obj);
}

/** Validating admission of updates of main resources, after the kind's own validation (as upstream orders them). */
export function validateUpdateAdmission(rs: ResourceStore, r: ResourceDef, obj: Obj, old: Obj): void {
  if (r.kind === 'PersistentVolumeClaim') {
    const why = resizeRefusal(obj, old, (name) => rs.cache.get(`/registry/storage.k8s.io/storageclasses/${name}`)?.obj);
    if (why) throw forbidden({ group: '', resource: 'persistentvolumeclaims' }, old.metadata.name, why);
  }
}

/** Upstream's DefaultTolerationSeconds plugin, on pod create and update. */
function admitDefaultTolerationSeconds(config: AdmissionConfig, pod: Obj): void {
  addDefaultTolerations((pod.spec ??= {}), config.defaultNotReadyTolerationSeconds, config.defaultUnreachableTolerationSeconds);
}

/**
 * Upstream's ServiceAccount plugin: the pod runs as "default" unless it names an account, the
 * account must exist, and unless either opts out the pod gets the kube-api-access volume.
 */
async function admitPodServiceAccount(rs: ResourceStore, pod: Obj): Promise<void> {
  const spec = (pod.spec ??= {});
  // Mirror pods (static pods a kubelet reports) are left as they are.
  if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
  spec.serviceAccountName ||= spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
  spec.serviceAccount = spec.serviceAccountName;
  const ns: string = pod.metadata.namespace;
  const sa = await findServiceAccount(rs, ns, spec.serviceAccountName);
  const podsResource = { group: '', resource: 'pods' };
  if (!sa) {
    throw forbidden(podsResource, pod.metadata.name, `error looking up service account ${ns}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`);
  }
  if (shouldAutomount(sa, spec)) mountApiAccessVolume(spec);
  copyImagePullSecrets(sa, spec);
  const refused = mountableSecretsViolation(sa, spec);
  if (refused) throw forbidden(podsResource, pod.metadata.name, refused);
}

/**
 * The account from the cache. The namespace's default account is made by a controller right after
 * the namespace, so a pod created at once may arrive first: upstream then looks again up to ten
 * times, 100-200 ms apart, before refusing the pod, and so do we.
 */
async function findServiceAccount(rs: ResourceStore, ns: string, name: string): Promise<Obj | undefined> {
  const serviceAccounts = findResource('', 'serviceaccounts')!;
  const attempts = name === DEFAULT_SERVICE_ACCOUNT ? 10 : 1;
  const intervalMs = 100 + Math.floor(Math.random() * 100);
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const sa = rs.find(serviceAccounts, ns, name);
    if (sa) return sa;
  }
  return undefined;
}

/** Upstream's DefaultStorageClass (newest default class wins) and StorageObjectInUseProtection plugins. */
function admitClaim(rs: ResourceStore, pvc: Obj): void {
  if ((pvc.spec.storageClassName ?? null) === null && !('volume.beta.kubernetes.io/storage-class' in (pvc.metadata.annotations ?? {}))) {
    const isDefault = (a: Obj) => a?.['storageclass.kubernetes.io/is-default-class'] === 'true' || a?.['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
    const defaults = rs.cache.list('/registry/storage.k8s.io/storageclasses/').map((c) => c.obj).filter((sc) => isDefault(sc.metadata.annotations));
    defaults.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name));
    if (defaults.length) pvc.spec.storageClassName = defaults[0].metadata.name;
  }
  addFinalizer(pvc, 'kubernetes.io/pvc-protection');
}

const addFinalizer = (o: Obj, f: string) => void (o.metadata.finalizers = [...new Set([...(o.metadata.finalizers ?? []), f])]);

async function allocateServiceAddresses(rs: ResourceStore, svc: Obj, dryRun: boolean): Promise<void> {
  const spec = (svc.spec ??= {});
  if (spec.type === 'ExternalName') return;
  const used = new Set<string>();
  const usedPorts = new Set<number>();
  for (const { obj } of rs.cache.list('/registry/core/services/')) {
    for (const ip of obj.spec?.clusterIPs ?? []) used.add(ip);
    for (const p of obj.spec?.ports ?? []) if (p.nodePort) usedPorts.add(p.nodePort);
  }
  const net = rs.serviceNetwork;
  const invalid = (why: string) =>
    new ApiError(422, 'Invalid', `Service "${svc.metadata.name}" is invalid: spec.clusterIPs: Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: ${why}`);
  // Addresses are claimed through the store (ip-reservations.ts): the cache alone cannot see a
  // Service that another API server is creating at the same moment.
  const owner = { namespace: svc.metadata.namespace, name: svc.metadata.name };
  // A dry run claims nothing, as upstream's dry-run allocator.
  const reserve = (ip: string) => (dryRun ? Promise.resolve(true) : reserveIp(rs.store, rs.cache, ip, owner));
  if (spec.clusterIP === undefined || spec.clusterIP === '') {
    for (;;) {
      const ip = pickServiceIp(net, used);
      if (!ip) throw new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a serviceIP: range is full');
      if (await reserve(ip)) {
        spec.clusterIP = ip;
        break;
      }
      used.add(ip);
    }
  } else if (spec.clusterIP !== 'None') {
    if (!inServiceNetwork(net, spec.clusterIP)) throw invalid(`the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${net.cidr}`);
    if (used.has(spec.clusterIP) || !(await reserve(spec.clusterIP))) throw invalid('provided IP is already allocated');
  }
  spec.clusterIPs = [spec.clusterIP];
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      for (let n = 30000 + Math.floor(Math.random() * 2768), i = 0; i < 2768; i++, n = 30000 + ((n - 30000 + 1) % 2768)) {
        if (!usedPorts.has(n)) {
          p.nodePort = n;
          usedPorts.add(n);
          break;
        }
      }
    }
  }
}
