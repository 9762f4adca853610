// The decision of kube-controller-manager's "csrapproving" controller (sarapprove.go): which
// pending kubelet client requests to approve, and with what message.
//
// As upstream, a request is recognised as a node renewing its own credentials (selfnodeclient:
// the requester is the CN it asks for) or as a node client request (nodeclient), and approved
// when a SubjectAccessReview says its requester may "create" that subresource of
// certificatesigningrequests. With the default policy that is granted to system:nodes
// (selfnodeclient) and to bootstrap tokens (nodeclient).
import type { Obj } from '../../api/resource.ts';
import type { CsrDetails } from '../../certificates/csr.ts';
import { SIGNER, kubeletClientError } from './checks.ts';

export const APPROVE_SELF_MESSAGE = 'Auto approving self kubelet client certificate after SubjectAccessReview.';
export const APPROVE_NODE_MESSAGE = 'Auto approving kubelet client certificate after SubjectAccessReview.';

export function isDecided(csr: Obj): boolean {
  if (csr.status?.certificate) return true;
  return (csr.status?.conditions ?? []).some((c: Obj) => (c.type === 'Approved' || c.type === 'Denied') && c.status === 'True');
}

/** A permission to ask about, and the message to approve with when granted. */
export interface ApprovalCheck {
  subresource: 'selfnodeclient' | 'nodeclient';
  message: string;
}

/** The checks that apply to the request, in upstream's order; none for requests this controller leaves alone. Pure. */
export function approvalChecks(csr: Obj, request: CsrDetails): ApprovalCheck[] {
  if (isDecided(csr)) return [];
  const spec = csr.spec ?? {};
  if (spec.signerName !== SIGNER.kubeletClient) return [];
  if (kubeletClientError(request, spec.usages ?? [])) return [];
  const checks: ApprovalCheck[] = [];
  if (spec.username === request.commonName) checks.push({ subresource: 'selfnodeclient', message: APPROVE_SELF_MESSAGE });
  checks.push({ subresource: 'nodeclient', message: APPROVE_NODE_MESSAGE });
  return checks;
}

/** The SubjectAccessReview spec asking whether the requester may create the subresource. */
export function reviewSpec(csr: Obj, subresource: string): Obj {
  const spec = csr.spec ?? {};
  const out: Obj = {
    user: spec.username ?? '',
    groups: spec.groups ?? [],
    resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource, version: '*' },
  };
  if (spec.uid) out.uid = spec.uid;
  if (spec.extra) out.extra = spec.extra;
  return out;
}

export const approvedCondition = (message: string): Obj => ({ type: 'Approved', status: 'True', reason: 'AutoApproved', message });

/**
 * The Approved condition to add, or undefined to leave the request alone, given how the reviews
 * answer (`allowed`, called in order until one allows).
 */
export async function approval(csr: Obj, request: CsrDetails, allowed: (spec: Obj) => Promise<boolean> | boolean): Promise<Obj | undefined> {
  for (const check of approvalChecks(csr, request)) {
    if (await allowed(reviewSpec(csr, check.subresource))) return approvedCondition(check.message);
  }
  return undefined;
}
