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
import type { Attributes, Authorizer } from './types.ts';

export type { Attributes, Authorizer, AuthorizationResult, Decision, RulesResult } from './types.ts';
export { AuthorizerChain, PRIVILEGED_GROUP } from './chain.ts';
export { requestAttributes } from './attributes.ts';
export { forbiddenError } from './forbidden.ts';

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
  escalation: EscalationCheck;
  close(): void;
}

/** Sets up the chain over the store's cache and installs it on the store (rs.authorizer, rs.writeChecks). */
export function setupAuthorization(rs: ResourceStore): Authorization {
  const src = cacheSource(rs.cache);
  const rbac = new RbacAuthorizer(src);
  const authorizer = new AuthorizerChain([rbac]);
  const escalation = new EscalationCheck(authorizer, rbac, src);
  rs.authorizer = authorizer;
  rs.writeChecks.push((w) => escalation.check(w));
  return { authorizer, rbac, escalation, close: () => rbac.close() };
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
export function authorizeRequest(authz: Authorizer, req: IncomingMessage, url: URL, user: RequestUser): RequestUser {
  let acting: RequestUser;
  try {
    acting = impersonate(user, req.headersDistinct, authz);
  } catch (err) {
    if (err instanceof ImpersonationError) throw new ApiError(500, 'InternalError', `Internal Server Error: ${JSON.stringify(req.url ?? '')}: ${err.message}`);
    throw err;
  }
  authorizeOrThrow(authz, requestAttributes(acting, req.method ?? 'GET', url.pathname, url.searchParams));
  return acting;
}
