// Bearer-token authentication by bootstrap token, as kube-apiserver's --enable-bootstrap-token-auth:
// the token's Secret is read from the watch cache (never from the store per request).
import type { UserInfo } from './authn.ts';
import type { ResourceStore } from './resource-store.ts';
import { findResource } from './request.ts';
import { checkToken, parseToken, secretName, TOKEN_NAMESPACE } from '../bootstraptoken/token.ts';
import { log } from '../util/log.ts';

/**
 * undefined: not a bootstrap token (other authenticators may know it); null: a bootstrap token
 * that does not authenticate (401); else the user.
 */
export function bootstrapTokenAuthenticator(rs: ResourceStore): (token: string) => UserInfo | null | undefined {
  const secrets = findResource('', 'secrets')!;
  return (bearer) => {
    const token = parseToken(bearer);
    if (!token) return undefined;
    const decision = checkToken(token, rs.find(secrets, TOKEN_NAMESPACE, secretName(token.id)), Date.now());
    if (!decision.ok) {
      log('debug', 'authn', decision.reason);
      return null;
    }
    return { user: decision.user, groups: decision.groups };
  };
}
