// NodeRestriction admission (upstream plugin/pkg/admission/noderestriction): what the Node
// authorizer lets a node write, narrowed to what is its own. A node may create and update only
// its own Node (not its taints, nor labels that steer workloads), its own Lease, the status of pods
// bound to it, delete and evict only those pods, create only mirror pods of its own, request
// tokens only for its pods, and request certificates only for itself. Pure: the caller supplies
// the write and lookups of the current pods and nodes.
import type { Obj } from '../../../api/resource.ts';
import { parseCsrPem } from '../../../certificates/csr.ts';
import type { ApiError } from '../../errors.ts';
import { newForbidden } from '../forbidden.ts';
import type { WriteAttempt } from '../types.ts';
import { NODE_LEASE_NAMESPACE } from './authorizer.ts';
import { nodeIdentity } from './identity.ts';
import { isMirrorPod, MIRROR_POD_ANNOTATION, podRefs } from './pod-refs.ts';

export interface RestrictionLookups {
  pod(namespace: string, name: string): Obj | undefined;
  node(name: string): Obj | undefined;
}

const PLURALS: Record<string, string> = {
  '/Pod': 'pods',
  '/Node': 'nodes',
  '/PersistentVolumeClaim': 'persistentvolumeclaims',
  '/ServiceAccount': 'serviceaccounts',
  'coordination.k8s.io/Lease': 'leases',
  'storage.k8s.io/CSINode': 'csinodes',
  'certificates.k8s.io/CertificateSigningRequest': 'certificatesigningrequests',
};

const KUBELET_SIGNERS = new Set(['kubernetes.io/kubelet-serving', 'kubernetes.io/kube-apiserver-client-kubelet']);

/** Throws upstream's 403 when a node's write is not its own to make; any other writer passes. */
export function nodeRestriction(w: WriteAttempt, lookups: RestrictionLookups): void {
  if (!w.user) return;
  const node = nodeIdentity(w.user);
  if (node === undefined) return;
  const resource = PLURALS[`${w.group}/${w.kind}`];
  const refuse = (message: string): ApiError => newForbidden(w.group, resource ?? '', subjectName(w), message);
  if (!node) throw refuse(`could not determine node from user "${w.user.user}"`);
  if (!resource) return;
  const sub = w.subresource ?? '';
  const op = w.operation;
  const ns = String(w.namespace || w.obj?.metadata?.namespace || w.old?.metadata?.namespace || '');
  switch (resource) {
    case 'pods':
      if (sub === '') return admitPod(node, w, lookups, refuse);
      if (sub === 'status') {
        if (op !== 'update') throw refuse(`unexpected operation "${opName(op)}"`);
        if (w.old?.spec?.nodeName !== node) throw refuse(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
        if (!sameMap(w.old?.metadata?.labels, w.obj?.metadata?.labels)) throw refuse(`node "${node}" cannot update labels through pod status`);
        return;
      }
      if (sub === 'eviction') {
        if (op !== 'create') throw refuse(`unexpected operation ${opName(op)}`);
        const podName = String(w.name || w.obj?.metadata?.name || '');
        if (!podName) throw refuse('could not determine pod from request data');
        const pod = lookups.pod(ns, podName);
        // A missing pod is the eviction's own 404, answered after admission.
        if (pod && pod.spec?.nodeName !== node) throw refuse(`node ${node} can only evict pods with spec.nodeName set to itself`);
        return;
      }
      throw refuse(`unexpected pod subresource "${sub}", only 'status' and 'eviction' are allowed`);
    case 'nodes':
      return admitNode(node, w, refuse);
    case 'persistentvolumeclaims':
      if (sub !== 'status') throw refuse('may only update PVC status');
      if (op !== 'update') throw refuse(`unexpected operation "${opName(op)}"`);
      if (!onlyPvcStatusChanged(w.old, w.obj)) throw refuse(`node "${node}" is not allowed to update fields other than status.quantity and status.conditions`);
      return;
    case 'serviceaccounts':
      return admitTokenRequest(node, w, ns, lookups, refuse);
    case 'leases':
      if (ns !== NODE_LEASE_NAMESPACE) throw refuse(`can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
      if (objectName(w) !== node) throw refuse('can only access node lease with the same name as the requesting node');
      return;
    case 'csinodes':
      if (objectName(w) !== node) throw refuse('can only access CSINode with the same name as the requesting node');
      return;
    case 'certificatesigningrequests': {
      if (op !== 'create' || sub) return;
      if (!KUBELET_SIGNERS.has(w.obj?.spec?.signerName)) return;
      let cn: string | undefined;
      try {
        cn = parseCsrPem(Buffer.from(String(w.obj.spec.request ?? ''), 'base64').toString('utf8')).commonName;
      } catch (err) {
        throw refuse(`unable to parse csr: ${(err as Error).message}`);
      }
      if (cn !== `system:node:${node}`) throw refuse(`can only create a node CSR with CN=system:node:${node}`);
      return;
    }
  }
}

/** The name admission errors carry (upstream extractResourceName): the object's, its generateName, or "Unknown" (deletes have no object). */
function subjectName(w: WriteAttempt): string {
  if (w.operation === 'delete') return 'Unknown';
  const m = w.obj?.metadata;
  return String(m?.name || m?.generateName || 'Unknown');
}

/** The name a write addresses: the object's on create, the URL's otherwise. */
function objectName(w: WriteAttempt): string {
  return String((w.operation === 'create' ? w.obj?.metadata?.name : w.name || w.old?.metadata?.name || w.obj?.metadata?.name) ?? '');
}

function opName(op: WriteAttempt['operation']): string {
  return op.toUpperCase();
}

function admitPod(node: string, w: WriteAttempt, lookups: RestrictionLookups, refuse: (m: string) => ApiError): void {
  if (w.operation === 'delete') {
    if (w.old?.spec?.nodeName !== node) throw refuse(`node "${node}" can only delete pods with spec.nodeName set to itself`);
    return;
  }
  if (w.operation !== 'create') throw refuse(`unexpected operation "${opName(w.operation)}", node "${node}" can only create and delete mirror pods`);
  const pod = w.obj;
  if (!isMirrorPod(pod)) throw refuse(`pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${node}" can only create mirror pods`);
  if (pod.spec?.nodeName !== node) throw refuse(`node "${node}" can only create pods with spec.nodeName set to itself`);
  const owners: Obj[] = Array.isArray(pod.metadata?.ownerReferences) ? pod.metadata.ownerReferences : [];
  if (owners.length > 1) throw refuse(`node "${node}" can only create pods with a single owner reference set to itself`);
  const owner = owners[0];
  if (!owner || owner.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== node) throw refuse(`node "${node}" can only create pods with an owner reference set to itself`);
  if (owner.controller !== true) throw refuse(`node "${node}" can only create pods with a controller owner reference set to itself`);
  if (owner.blockOwnerDeletion === true) throw refuse(`node "${node}" must not set blockOwnerDeletion on an owner reference`);
  const self = lookups.node(node);
  if (!self) throw newForbidden('', 'pods', subjectName(w), `error looking up node ${node} to verify uid: nodes "${node}" not found`);
  if (owner.uid !== self.metadata?.uid) throw refuse(`node ${node} UID mismatch: expected ${owner.uid ?? ''} got ${self.metadata?.uid}`);
  const refs = podRefs(pod);
  if (refs.serviceAccount) throw refuse(`node "${node}" can not create pods that reference a service account`);
  if (refs.secrets.length) throw refuse(`node "${node}" can not create pods that reference secrets`);
  if (refs.configMaps.length) throw refuse(`node "${node}" can not create pods that reference configmaps`);
  const volumes: Obj[] = Array.isArray(pod.spec?.volumes) ? pod.spec.volumes : [];
  if (volumes.some((v) => (v?.projected?.sources ?? []).some?.((s: Obj) => s?.clusterTrustBundle))) throw refuse(`node "${node}" can not create pods that reference clustertrustbundles`);
  if (volumes.some((v) => v?.persistentVolumeClaim)) throw refuse(`node "${node}" can not create pods that reference persistentvolumeclaims`);
}

function admitNode(node: string, w: WriteAttempt, refuse: (m: string) => ApiError): void {
  const requested = objectName(w);
  if (requested !== node) throw refuse(`node "${node}" is not allowed to modify node "${requested}"`);
  if (w.operation === 'create') {
    // (sic) upstream's message says pods.
    if (w.obj?.spec?.configSource != null) throw refuse(`node "${node}" is not allowed to create pods with a non-nil configSource`);
    const forbidden = forbiddenLabels(modifiedLabels(w.obj?.metadata?.labels, undefined));
    if (forbidden.length) throw refuse(`node "${node}" is not allowed to set the following labels: ${forbidden.join(', ')}`);
  }
  if (w.operation === 'update') {
    const spec = w.obj?.spec ?? {};
    const oldSpec = w.old?.spec ?? {};
    if (spec.configSource != null && JSON.stringify(spec.configSource) !== JSON.stringify(oldSpec.configSource)) {
      throw refuse(`node "${node}" is not allowed to update configSource to a new non-nil configSource`);
    }
    if (!semanticEqual(spec.taints, oldSpec.taints)) throw refuse(`node "${node}" is not allowed to modify taints`);
    const forbidden = forbiddenLabels(modifiedLabels(w.obj?.metadata?.labels, w.old?.metadata?.labels));
    // (sic) upstream's message has no subject here.
    if (forbidden.length) throw refuse(`is not allowed to modify labels: ${forbidden.join(', ')}`);
  }
}

function admitTokenRequest(node: string, w: WriteAttempt, ns: string, lookups: RestrictionLookups, refuse: (m: string) => ApiError): void {
  if (w.operation !== 'create' || w.subresource !== 'token') return;
  const ref = w.obj?.spec?.boundObjectRef;
  if (!ref || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || !ref.name) throw refuse('node requested token not bound to a pod');
  if (!ref.uid) throw refuse('node requested token with a pod binding without a uid');
  const pod = lookups.pod(ns, String(ref.name));
  // A missing pod is the TokenRequest's own 404 (upstream returns the lookup's NotFound).
  if (!pod) return;
  if (ref.uid !== pod.metadata?.uid) throw refuse(`the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  if (pod.spec?.nodeName !== node) throw refuse('node requested token bound to a pod scheduled on a different node');
}

/** Keys added, removed or changed between two label maps, sorted (Go's sets.List). */
export function modifiedLabels(a: Obj | undefined, b: Obj | undefined): string[] {
  const out = new Set<string>();
  const x = a && typeof a === 'object' ? a : {};
  const y = b && typeof b === 'object' ? b : {};
  for (const k of Object.keys(x)) if (!Object.prototype.hasOwnProperty.call(y, k) || x[k] !== y[k]) out.add(k);
  for (const k of Object.keys(y)) if (!Object.prototype.hasOwnProperty.call(x, k) || x[k] !== y[k]) out.add(k);
  return [...out].sort();
}

function labelNamespace(key: string): string {
  const i = key.indexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

const inDomain = (ns: string, domain: string) => ns === domain || ns.endsWith(`.${domain}`);

/** The labels the kubelet sets itself (k8s.io/kubelet/pkg/apis IsKubeletLabel). */
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname', 'kubernetes.io/os', 'kubernetes.io/arch',
  'beta.kubernetes.io/os', 'beta.kubernetes.io/arch', 'beta.kubernetes.io/instance-type', 'node.kubernetes.io/instance-type',
  'topology.kubernetes.io/zone', 'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/region',
]);

function isKubeletLabel(key: string): boolean {
  if (KUBELET_LABELS.has(key)) return true;
  const ns = labelNamespace(key);
  return inDomain(ns, 'kubelet.kubernetes.io') || inDomain(ns, 'node.kubernetes.io');
}

/** Labels a node may not set on itself: node-restriction.kubernetes.io ones, and kubernetes.io / k8s.io ones the kubelet does not own. */
export function forbiddenLabels(modified: string[]): string[] {
  return modified.filter((k) => {
    const ns = labelNamespace(k);
    if (inDomain(ns, 'node-restriction.kubernetes.io')) return true;
    return (inDomain(ns, 'kubernetes.io') || inDomain(ns, 'k8s.io')) && !isKubeletLabel(k);
  });
}

function sameMap(a: Obj | undefined, b: Obj | undefined): boolean {
  return modifiedLabels(a, b).length === 0;
}

/** apiequality.Semantic.DeepEqual for taints: nil and empty are not the same list upstream, but a stored empty list is dropped here anyway. */
function semanticEqual(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (Array.isArray(v) && v.length === 0 ? undefined : v);
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

function onlyPvcStatusChanged(old: Obj | undefined, obj: Obj | undefined): boolean {
  const strip = (o: Obj | undefined): Obj => {
    const c = JSON.parse(JSON.stringify(o ?? {}));
    if (c.metadata) {
      delete c.metadata.resourceVersion;
      delete c.metadata.managedFields;
    }
    if (c.status) {
      for (const f of ['capacity', 'conditions', 'allocatedResourceStatuses', 'allocatedResources']) delete c.status[f];
    }
    return c;
  };
  return canonical(strip(old)) === canonical(strip(obj));
}

/** JSON with object keys sorted, so that equal documents compare equal whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Obj)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
