// Request authentication: who is calling, from the TLS client certificate or a bearer token.
//
// As upstream, a client certificate signed by the cluster CA names the user in its CN and the
// groups in its O attributes, the static admin token stands for the admin, and a service account
// token (a JWT our TokenRequest API issued) stands for its service account. Methods are tried in
// turn and the first that recognises the caller wins; a request none recognises, or with a bearer
// token that is not (or no longer) valid, is answered with 401.

import { X509Certificate, createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { ADMIN_GROUPS, ADMIN_USER, type Pki } from './pki.ts';
import type { ResourceStore } from './resource-store.ts';
import { attachTokenAuthority, cacheLookup, type TokenAuthority, type TokenObjectLookup } from './serviceaccount-token.ts';
import { bootstrapTokenAuthenticator } from './bootstrap-token-authn.ts';

export interface UserInfo {
  user: string;
  /** A service account's uid; certificate and static-token users have none. */
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export type Authenticator = (req: IncomingMessage) => UserInfo | null;

/** The group upstream adds to every authenticated user. */
export const AUTHENTICATED_GROUP = 'system:authenticated';

/** The user as request handlers see it: with system:authenticated, as upstream's group adder makes it. */
export function withAuthenticatedGroup(u: UserInfo): UserInfo {
  return u.groups.includes(AUTHENTICATED_GROUP) ? u : { ...u, groups: [...u.groups, AUTHENTICATED_GROUP] };
}


const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * Authenticates requests against the PKI. With the API server's store, service account tokens are
 * accepted too: the store's token authority (which the TokenRequest API signs with) is set up here.
 */
export function createAuthenticator(pki: Pki, rs?: ResourceStore): Authenticator {
  const ca = new X509Certificate(pki.caCertPem);
  // Hashing both sides gives equal-length inputs, so the comparison time says nothing about
  // the token's length or content.
  const tokenDigest = digest(pki.adminToken);
  // A connection's certificate never changes, so it is checked once per socket, not per request.
  const bySocket = new WeakMap<Socket, UserInfo | null>();
  const serviceAccounts = rs && pki.serviceAccountKeyPem ? { authority: attachTokenAuthority(rs, pki.serviceAccountKeyPem), lookup: cacheLookup(rs) } : undefined;
  const bootstrapTokens = rs ? bootstrapTokenAuthenticator(rs) : undefined;

  return (req) => fromClientCert(req.socket, ca, bySocket) ?? fromBearerToken(req, tokenDigest, serviceAccounts, bootstrapTokens);
}

/** The static admin token's user, for a token presented on its own (TokenReview). */
export function staticTokenUser(pki: Pki): (token: string) => UserInfo | undefined {
  const tokenDigest = digest(pki.adminToken);
  return (token) => (timingSafeEqual(digest(token), tokenDigest) ? { user: ADMIN_USER, groups: [...ADMIN_GROUPS] } : undefined);
}

function fromClientCert(socket: Socket, ca: X509Certificate, cache: WeakMap<Socket, UserInfo | null>): UserInfo | null {
  const cached = cache.get(socket);
  if (cached !== undefined) return cached;
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function') return null; // plain HTTP
  // The TLS layer sets `authorized` once the chain verified against the server's trusted CAs;
  // the server may trust more than our CA, so the issuer is checked here as well.
  const user = tls.authorized ? userFromCert(tls.getPeerCertificate(), ca) : null;
  cache.set(socket, user);
  return user;
}

function userFromCert(peer: PeerCertificate, ca: X509Certificate): UserInfo | null {
  if (!peer || !peer.raw) return null; // no certificate presented
  // Upstream requires client-auth usage; a certificate without the extension may be used for
  // anything.
  if (peer.ext_key_usage && !peer.ext_key_usage.includes(CLIENT_AUTH)) return null;
  try {
    const cert = new X509Certificate(peer.raw);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return null;
  } catch {
    return null;
  }
  const user = first(peer.subject?.CN);
  if (!user) return null;
  return { user, groups: all(peer.subject?.O) };
}

function fromBearerToken(
  req: IncomingMessage,
  expected: Buffer,
  serviceAccounts?: { authority: TokenAuthority; lookup: TokenObjectLookup },
  bootstrapTokens?: (token: string) => UserInfo | null | undefined,
): UserInfo | null {
  const header = req.headers.authorization;
  if (!header) return null;
  // "Bearer <token>", scheme case-insensitive, as upstream's bearer token reader accepts.
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return null;
  if (timingSafeEqual(digest(m[1]!), expected)) return { user: ADMIN_USER, groups: [...ADMIN_GROUPS] };
  // A bootstrap token's shape is unambiguous: if it is one, it is the only authenticator asked.
  const bootstrap = bootstrapTokens?.(m[1]!);
  if (bootstrap !== undefined) return bootstrap;
  const check = serviceAccounts?.authority.authenticate(m[1]!, serviceAccounts.lookup);
  return check?.ok ? check.user : null;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

// Node gives a single-valued attribute as a string and a repeated one as an array.
function all(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function first(v: string | string[] | undefined): string | undefined {
  return all(v)[0];
}
