// Who may use a node's kubelet server, decided from the caller's TLS client certificate.
//
// Upstream the kubelet authenticates client certificates against the cluster CA and asks the API
// server (SubjectAccessReview) whether that user may act on the node. Our node agents do not call
// back to the API server for this: they accept the one identity that needs their API, the API
// server's kubelet client (kubeadm's apiserver-kubelet-client, in system:masters), and members of
// system:masters, which upstream's authorizer lets do anything. Everyone else is refused with the
// kubelet's own answers: 401 "Unauthorized" without a valid certificate, 403 naming the request's
// attributes for a valid one of another identity.
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { KUBELET_CLIENT_USER } from '../../apiserver/pki.ts';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const MASTERS = 'system:masters';

export interface Caller {
  user: string;
  groups: string[];
}

export type Decision = { allowed: true; caller: Caller } | { allowed: false; code: 401 | 403; message: string };

/** The user and groups in a peer certificate that chains to `ca` and may authenticate clients; null otherwise. */
export function callerFromCertificate(peer: PeerCertificate | undefined, tlsAuthorized: boolean, ca: X509Certificate): Caller | null {
  if (!tlsAuthorized || !peer?.raw) return null;
  if (peer.ext_key_usage && !peer.ext_key_usage.includes(CLIENT_AUTH)) return null;
  try {
    const cert = new X509Certificate(peer.raw);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return null;
  } catch {
    return null;
  }
  const cn = [peer.subject?.CN ?? []].flat()[0];
  if (!cn) return null;
  return { user: cn, groups: [peer.subject?.O ?? []].flat() };
}

/** The verb the kubelet's authorizer derives from an HTTP method. */
export function verbFor(method: string): string {
  switch (method.toUpperCase()) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'get';
  }
}

/** The nodes subresource the kubelet's authorizer derives from a path: everything not listed is "proxy". */
export function subresourceFor(pathname: string): string {
  const first = pathname.split('/').filter(Boolean)[0] ?? '';
  const named: Record<string, string> = { stats: 'stats', metrics: 'metrics', logs: 'log', spec: 'spec', healthz: 'healthz', checkpoint: 'checkpoint', configz: 'configz' };
  return named[first] ?? 'proxy';
}

export function authorize(caller: Caller | null, method: string, pathname: string): Decision {
  if (!caller) return { allowed: false, code: 401, message: 'Unauthorized' };
  if (caller.user === KUBELET_CLIENT_USER || caller.groups.includes(MASTERS)) return { allowed: true, caller };
  return {
    allowed: false,
    code: 403,
    message: `Forbidden (user=${caller.user}, verb=${verbFor(method)}, resource=nodes, subresource=${subresourceFor(pathname)})`,
  };
}
