// The API server's authorization: the authorizer chain (system:masters, then RBAC), RBAC's
// escalation prevention on writes, the identities in-process components use, and the request
// step that turns an authenticated user into an authorized one (impersonation included).
import type { IncomingMessage } from 'node:http';
import type { RequestUser } from '../../api/resource.ts';
import { ApiError } from '../errors.ts';
import type { ResourceStore } from '../resource-store.ts';
import { requestAttributes } from './attributes.ts';
import { AuthorizerChain, PRIVILEGED_GROUP } from './chain.ts';
import { EscalationCheck } from './escalation.ts';
import { forbiddenError } from './forbidden.ts';
import { impersonate, ImpersonationError } from './impersonation.ts';
import { cacheSource, RbacAuthorizer } from './rbac.ts';
import { NodeAuthorizer } from './node/authorizer.ts';
import { nodeRestriction } from './node/restriction.ts';
import type { Attributes, AuthorizationResult, Authorizer } from './types.ts';

export type { Attributes, Authorizer, AuthorizationResult, Decision, RulesResult } from './types.ts';
export { AuthorizerChain, PRIVILEGED_GROUP } from './chain.ts';
export { requestAttributes } from './attributes.ts';
export { forbiddenError } from './forbidden.ts';
export { nodeIdentity, nodeUser } from './node/identity.ts';

/**
 * The identity in-process components act as until each has its own (kube-controller-manager's
 * --use-service-account-credentials): a member of system:masters, so nothing is refused.
 * To give a component its own identity, construct its InProcessClient with `{ user }`.
 */
export const IN_PROCESS_USER: RequestUser = { user: 'system:ordinal-controller-manager', groups: [PRIVILEGED_GROUP, 'system:authenticated'] };

export interface Authorization {
  /** The chain every request and in-process call is authorized against. */
  authorizer: AuthorizerChain;
  rbac: RbacAuthorizer;
  /** The Node authorizer, first in the chain (--authorization-mode=Node,RBAC). */
  node: NodeAuthorizer;
  escalation: EscalationCheck;
  close(): void;
}

/** Sets up the chain over the store's cache and installs it on the store (rs.authorizer, rs.writeChecks). */
export function setupAuthorization(rs: ResourceStore): Authorization {
  const src = cacheSource(rs.cache);
  const rbac = new RbacAuthorizer(src);
  const node = NodeAuthorizer.fromCache(rs.cache);
  const authorizer = new AuthorizerChain([node, rbac]);
  const escalation = new EscalationCheck(authorizer, rbac, src);
  rs.authorizer = authorizer;
  rs.writeChecks.push((w) => escalation.check(w));
  // NodeRestriction reads pods and nodes as they are now, from the same cache.
  const pods = '/registry/core/pods/';
  const lookups = { pod: (ns: string, name: string) => rs.cache.get(`${pods}${ns}/${name}`)?.obj, node: (name: string) => rs.cache.get(`/registry/core/nodes/${name}`)?.obj };
  rs.writeChecks.push((w) => nodeRestriction(w, lookups));
  return {
    authorizer, rbac, node, escalation,
    close: () => {
      rbac.close();
      node.close();
    },
  };
}

/** Throws the 403 when the attributes are not allowed. */
export function authorizeOrThrow(authz: Authorizer, a: Attributes): void {
  const r = authz.authorize(a);
  if (r.decision === 'Allow') return;
  // An authorizer that failed, with nobody allowing: upstream answers 500.
  if (r.error) throw new ApiError(500, 'InternalError', `Internal error occurred: ${r.error}`);
  throw forbiddenError(a, r.reason);
}

/**
 * The identity a request acts as, after impersonation, once it is authorized for what it asks:
 * throws the 403 (or 500 for a malformed impersonation) otherwise.
 */
export function authorizeRequest(authz: Authorizer, req: IncomingMessage, url: URL, user: RequestUser, observe?: (acting: RequestUser, a: Attributes, r: AuthorizationResult) => void): RequestUser {
  let acting: RequestUser;
  try {
    acting = impersonate(user, req.headersDistinct, authz);
  } catch (err) {
    if (err instanceof ImpersonationError) throw new ApiError(500, 'InternalError', `Internal Server Error: ${JSON.stringify(req.url ?? '')}: ${err.message}`);
    throw err;
  }
  const a = requestAttributes(acting, req.method ?? 'GET', url.pathname, url.searchParams);
  if (!observe) {
    authorizeOrThrow(authz, a);
    return acting;
  }
  // The decision is kept for the audit log before it is acted on.
  const r = authz.authorize(a);
  observe(acting, a, r);
  authorizeOrThrow({ authorize: () => r }, a);
  return acting;
}
