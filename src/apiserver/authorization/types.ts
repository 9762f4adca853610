// The authorizer seam: what a request asks (its attributes) and what an authorizer answers.
// Authorizers are synchronous: they decide from in-memory state (informer-like caches), as
// upstream's RBAC and Node authorizers do, so that authorization costs no await per request.
import type { Obj, RequestUser } from '../../api/resource.ts';

/** upstream authorizer.Attributes: who asks to do what, on a resource or a non-resource path. */
export interface Attributes {
  user: RequestUser;
  verb: string;
  resourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  path: string;
  namespace: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
  /** list, watch and deletecollection: the raw selectors (upstream AuthorizeWithSelectors), for authorizers that narrow by them. */
  fieldSelector?: string;
  labelSelector?: string;
}

export type Decision = 'Allow' | 'Deny' | 'NoOpinion';

export interface AuthorizationResult {
  decision: Decision;
  /** Why (audit and SubjectAccessReview status.reason); the 403 message appends it when set. */
  reason: string;
  /** An evaluation error: with no Allow, the request fails with 500 (SubjectAccessReview: evaluationError). */
  error?: string;
}

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs: string[];
}

/** What a user may do in a namespace (SelfSubjectRulesReview); `incomplete` when an authorizer cannot tell. */
export interface RulesResult {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  incomplete: boolean;
  errors: string[];
}

export interface Authorizer {
  authorize(a: Attributes): AuthorizationResult;
  /** For SelfSubjectRulesReview; authorizers that cannot list rules leave it out (the list is then incomplete). */
  rulesFor?(user: RequestUser, namespace: string): RulesResult;
}

export const ALLOW = (reason = ''): AuthorizationResult => ({ decision: 'Allow', reason });
export const NO_OPINION = (reason = '', error?: string): AuthorizationResult => (error ? { decision: 'NoOpinion', reason, error } : { decision: 'NoOpinion', reason });

/**
 * A write as the store is about to make it, for checks that need the requester (admission that
 * sees the user): main-resource creates and updates, subresource writes (`subresource` set: status,
 * approval, eviction, token) and deletes (`obj` and `old` are then the object being deleted).
 */
export interface WriteAttempt {
  operation: 'create' | 'update' | 'delete';
  kind: string;
  group: string;
  subresource?: string;
  /** The name in the URL, when the write addresses one (subresources, deletes). */
  name?: string;
  /** The namespace in the URL, for writes whose object does not carry it (a TokenRequest, an Eviction). */
  namespace?: string;
  obj: Obj;
  old?: Obj;
  /** Absent for the API server's own writes. */
  user?: RequestUser;
}
