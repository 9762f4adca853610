// authentication.k8s.io/v1: SelfSubjectReview (who am I, for `kubectl auth whoami`) and
// TokenReview (is this bearer token valid, and whose is it). Both are create-only and stored
// nowhere: the answer is computed from the request, as upstream's registries do.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Obj } from '../api/resource.ts';
import { ApiError, badRequest } from './errors.ts';
import { sendJson } from './http.ts';
import { readObject } from './handlers.ts';
import { withAuthenticatedGroup, type UserInfo } from './authn.ts';
import type { ResourceStore } from './resource-store.ts';
import { bootstrapTokenAuthenticator } from './bootstrap-token-authn.ts';
import { API_AUDIENCES, cacheLookup, checkTokenClaims, decodeJwt, SERVICE_ACCOUNT_ISSUER, tokenAuthorityFor } from './serviceaccount-token.ts';

const GROUP = 'authentication.k8s.io';
const PREFIX = `/apis/${GROUP}/v1/`;
export const AUTHENTICATION_RESOURCES = ['selfsubjectreviews', 'tokenreviews'] as const;

/** Whether the path is one of ours (handled by handleAuthenticationApi). */
export function isAuthenticationApiPath(path: string): boolean {
  return path.startsWith(PREFIX) && (AUTHENTICATION_RESOURCES as readonly string[]).includes(path.slice(PREFIX.length));
}

export async function handleAuthenticationApi(req: IncomingMessage, res: ServerResponse, path: string, caller: UserInfo, rs: ResourceStore, staticToken: (token: string) => UserInfo | undefined): Promise<void> {
  const resource = path.slice(PREFIX.length);
  if (req.method !== 'POST') {
    throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', { group: GROUP, kind: resource });
  }
  const body = await readObject(req);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  if (resource === 'selfsubjectreviews') {
    return sendJson(res, 201, {
      kind: 'SelfSubjectReview',
      apiVersion: `${GROUP}/v1`,
      metadata: { creationTimestamp: now },
      status: { userInfo: userInfoJson(withAuthenticatedGroup(caller)) },
    });
  }
  const token = body.spec?.token;
  if (typeof token !== 'string' || !token) throw badRequest('token is required for TokenReview in authentication');
  const requested: string[] = Array.isArray(body.spec?.audiences) ? body.spec.audiences : [];
  const audiences = requested.length ? requested : [...API_AUDIENCES];
  const status: Obj = { user: {} };
  const fromStatic = staticToken(token);
  const fromBootstrap = fromStatic ? undefined : bootstrapTokenAuthenticator(rs)(token);
  if (fromBootstrap !== undefined) {
    // A bootstrap token, as the API server's own authenticator sees it: for its audiences only.
    const granted = audiences.filter((a) => API_AUDIENCES.includes(a));
    if (fromBootstrap && granted.length) Object.assign(status, { authenticated: true, user: userInfoJson(withAuthenticatedGroup(fromBootstrap)), audiences: granted });
  } else if (fromStatic) {
    // A static token is valid for the API server's own audiences only.
    const granted = audiences.filter((a) => API_AUDIENCES.includes(a));
    if (granted.length) Object.assign(status, { authenticated: true, user: userInfoJson(withAuthenticatedGroup(fromStatic)), audiences: granted });
  } else {
    const authority = tokenAuthorityFor(rs);
    const decoded = authority ? decodeJwt(token, authority.publicKey) : null;
    if (decoded && decoded.payload.iss === SERVICE_ACCOUNT_ISSUER) {
      const check = decoded.verified ? checkTokenClaims(decoded.payload, cacheLookup(rs), Math.floor(Date.now() / 1000), audiences) : { ok: false as const, error: 'invalid signature' };
      if (check.ok) {
        const aud: string[] = Array.isArray(decoded.payload.aud) ? decoded.payload.aud : [decoded.payload.aud];
        Object.assign(status, { authenticated: true, user: userInfoJson(withAuthenticatedGroup(check.user)), audiences: audiences.filter((a) => aud.includes(a)) });
      } else {
        status.error = `[invalid bearer token, ${check.error}]`;
      }
    }
  }
  return sendJson(res, 201, { kind: 'TokenReview', apiVersion: `${GROUP}/v1`, metadata: { creationTimestamp: null }, spec: body.spec, status });
}

/** authentication.k8s.io/v1 UserInfo: empty fields left out, as Go's omitempty does. */
function userInfoJson(u: UserInfo): Obj {
  const out: Obj = { username: u.user };
  if (u.uid) out.uid = u.uid;
  out.groups = u.groups;
  if (u.extra && Object.keys(u.extra).length) out.extra = u.extra;
  return out;
}
