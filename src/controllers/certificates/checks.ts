// What upstream's certificate helpers decide about a request (pkg/apis/certificates/v1 helpers):
// whether it is a valid kubelet client or serving request, and whether a kube-apiserver client
// request asks only for client usages. Pure; the approver and the signer share it.
import type { CsrDetails } from '../../certificates/csr.ts';

export const SIGNER = {
  kubeAPIServerClient: 'kubernetes.io/kube-apiserver-client',
  kubeletClient: 'kubernetes.io/kube-apiserver-client-kubelet',
  kubeletServing: 'kubernetes.io/kubelet-serving',
} as const;

export const NODE_USER_PREFIX = 'system:node:';
export const NODES_GROUP = 'system:nodes';

const sameSet = (a: Set<string>, b: string[]) => a.size === b.length && b.every((x) => a.has(x));
// Go prints a sorted set with %v: [a b c].
const goList = (xs: string[]) => `[${[...xs].sort().join(' ')}]`;

const KUBELET_CLIENT_USAGES = ['digital signature', 'key encipherment', 'client auth'];
const KUBELET_CLIENT_USAGES_NO_RSA = ['digital signature', 'client auth'];
const KUBELET_SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];
const KUBELET_SERVING_USAGES_NO_RSA = ['digital signature', 'server auth'];

const onlySystemNodes = (r: CsrDetails) => r.organizations.length === 1 && r.organizations[0] === NODES_GROUP;

/** undefined when the request is a valid kubelet client request; upstream's reason otherwise. */
export function kubeletClientError(r: CsrDetails, usages: string[]): string | undefined {
  if (!onlySystemNodes(r)) return 'subject organization is not system:nodes';
  if (r.dnsNames.length) return 'DNS subjectAltNames are not allowed';
  if (r.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (r.ipAddresses.length) return 'IP subjectAltNames are not allowed';
  if (r.uris.length) return 'URI subjectAltNames are not allowed';
  if (!(r.commonName ?? '').startsWith(NODE_USER_PREFIX)) return 'subject common name does not begin with system:node:';
  const set = new Set(usages);
  if (!sameSet(set, KUBELET_CLIENT_USAGES) && !sameSet(set, KUBELET_CLIENT_USAGES_NO_RSA)) return `usages did not match ${goList(KUBELET_CLIENT_USAGES)}`;
  return undefined;
}

/** undefined when the request is a valid kubelet serving request; upstream's reason otherwise. */
export function kubeletServingError(r: CsrDetails, usages: string[]): string | undefined {
  const set = new Set(usages);
  if (!sameSet(set, KUBELET_SERVING_USAGES) && !sameSet(set, KUBELET_SERVING_USAGES_NO_RSA)) return `usages did not match ${goList(KUBELET_SERVING_USAGES)}`;
  if (!onlySystemNodes(r)) return 'subject organization is not system:nodes';
  if (!r.dnsNames.length && !r.ipAddresses.length) return 'DNS or IP subjectAltName is required';
  if (r.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (r.uris.length) return 'URI subjectAltNames are not allowed';
  if (!(r.commonName ?? '').startsWith(NODE_USER_PREFIX)) return 'subject common name does not begin with system:node:';
  return undefined;
}

export function apiServerClientUsagesError(usages: string[]): string | undefined {
  let clientAuth = false;
  for (const u of usages) {
    if (u === 'digital signature' || u === 'key encipherment') continue;
    if (u === 'client auth') clientAuth = true;
    else return `invalid usage for client certificate: ${u}`;
  }
  return clientAuth ? undefined : 'missing required usage for client certificate: client auth';
}
