// The decision of kube-controller-manager's "csrapproving" controller (sarapprove.go): which
// pending kubelet client requests to approve, and with what message. Pure.
import type { Obj } from '../../api/resource.ts';
import type { CsrDetails } from '../../certificates/csr.ts';
import { NODES_GROUP, SIGNER, kubeletClientError } from './checks.ts';

export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';
const SUPERUSERS_GROUP = 'system:masters';

export const APPROVE_SELF_MESSAGE = 'Auto approving self kubelet client certificate after SubjectAccessReview.';
export const APPROVE_NODE_MESSAGE = 'Auto approving kubelet client certificate after SubjectAccessReview.';

export function isDecided(csr: Obj): boolean {
  if (csr.status?.certificate) return true;
  return (csr.status?.conditions ?? []).some((c: Obj) => (c.type === 'Approved' || c.type === 'Denied') && c.status === 'True');
}

/**
 * The Approved condition to add, or undefined to leave the request alone.
 *
 * Upstream asks the authorizer (a SubjectAccessReview) whether the requester may "create"
 * certificatesigningrequests/selfnodeclient or /nodeclient; with default RBAC that is granted to
 * system:nodes and to the bootstrap token groups. Ordinal has no authorizer yet (issue 11), so the
 * same question is answered from the requester's identity: its groups, and for a renewal that it
 * asks for its own name. system:masters passes, as every review passes for it upstream.
 */
export function approval(csr: Obj, request: CsrDetails): Obj | undefined {
  if (isDecided(csr)) return undefined;
  const spec = csr.spec ?? {};
  if (spec.signerName !== SIGNER.kubeletClient) return undefined;
  if (kubeletClientError(request, spec.usages ?? [])) return undefined;
  const groups: string[] = spec.groups ?? [];
  const superuser = groups.includes(SUPERUSERS_GROUP);
  // selfnodeclient first: a node renewing its own credentials.
  if (spec.username === request.commonName && (superuser || groups.includes(NODES_GROUP))) return approved(APPROVE_SELF_MESSAGE);
  if (superuser || groups.includes(BOOTSTRAPPERS_GROUP)) return approved(APPROVE_NODE_MESSAGE);
  return undefined;
}

const approved = (message: string): Obj => ({ type: 'Approved', status: 'True', reason: 'AutoApproved', message });
