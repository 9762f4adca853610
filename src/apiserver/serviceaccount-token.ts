// Service account tokens: the JWTs the TokenRequest API (serviceaccounts/<name>/token) issues and
// the bearer-token authenticator accepts, with upstream's claims, defaults and checks.
//
// Tokens are RS256 JWTs signed with the data dir's service-account key (see pki.ts). The pure parts
// (claims, validation, signing, verifying, the authentication decision) take everything they need
// as arguments and are unit-tested; the API-facing parts read objects from the watch cache.
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import type { Obj } from '../api/resource.ts';
import type { FieldError } from '../api/field-errors.ts';
import { ApiError, badRequest, conflict, invalid, notFound } from './errors.ts';
import { findResource } from './request.ts';
import type { ResourceStore } from './resource-store.ts';

/** kube-apiserver's --service-account-issuer as kubeadm sets it; also the API server's audience. */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const API_AUDIENCES: readonly string[] = [SERVICE_ACCOUNT_ISSUER];
/** TokenRequestSpec.expirationSeconds when the request names none (v1 defaulting). */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
/** Shortest and longest lifetimes upstream's TokenRequest validation accepts. */
export const MIN_EXPIRATION_SECONDS = 600;
export const MAX_EXPIRATION_SECONDS = 2 ** 32;
/**
 * What the ServiceAccount admission plugin asks for in kube-api-access volumes. For that exact
 * lifetime, pod-bound and for the API server's audiences, upstream issues a token valid for a year
 * (--service-account-extend-token-expiration, on by default) that only warns after the hour.
 */
export const WARN_ONLY_EXPIRATION_SECONDS = 3607;
export const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 60 * 60;
/** go-jose's clock skew allowance when checking exp/nbf/iat, and deletion times. */
const LEEWAY_SECONDS = 60;

export const SERVICE_ACCOUNT_GROUP = 'system:serviceaccounts';
export const serviceAccountUsername = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;
export const serviceAccountGroups = (namespace: string) => [SERVICE_ACCOUNT_GROUP, `${SERVICE_ACCOUNT_GROUP}:${namespace}`];

/** Keys of UserInfo.extra that upstream's service account authenticator fills. */
export const EXTRA = {
  podName: 'authentication.kubernetes.io/pod-name',
  podUid: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name',
  nodeUid: 'authentication.kubernetes.io/node-uid',
  credentialId: 'authentication.kubernetes.io/credential-id',
} as const;

export interface Ref {
  name: string;
  uid?: string;
}

/** The private claims under "kubernetes.io". */
export interface KubernetesClaims {
  namespace: string;
  node?: Ref;
  pod?: Ref;
  secret?: Ref;
  serviceaccount: Ref;
  warnafter?: number;
}

export interface Claims {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  jti?: string;
  'kubernetes.io': KubernetesClaims;
  nbf: number;
  sub: string;
}

export interface ClaimInputs {
  namespace: string;
  serviceAccount: Ref;
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
  audiences: string[];
  expirationSeconds: number;
  /** Seconds after which a (deliberately long-lived) token is reported stale; 0 for none. */
  warnAfterSeconds?: number;
  nowSeconds: number;
  jti: string;
}

/**
 * The claims upstream puts in a service account token. Keys are in the order Go's JSON encoding of
 * the merged claim map gives them (sorted), so our tokens decode exactly like upstream's.
 */
export function tokenClaims(c: ClaimInputs): Claims {
  const k8s: KubernetesClaims = { namespace: c.namespace, serviceaccount: ref(c.serviceAccount) };
  if (c.pod) {
    k8s.pod = ref(c.pod);
    if (c.node) k8s.node = ref(c.node);
  } else if (c.secret) {
    k8s.secret = ref(c.secret);
  } else if (c.node) {
    k8s.node = ref(c.node);
  }
  if (c.warnAfterSeconds) k8s.warnafter = c.nowSeconds + c.warnAfterSeconds;
  return {
    aud: [...c.audiences],
    exp: c.nowSeconds + c.expirationSeconds,
    iat: c.nowSeconds,
    iss: SERVICE_ACCOUNT_ISSUER,
    jti: c.jti,
    'kubernetes.io': sortKeys(k8s),
    nbf: c.nowSeconds,
    sub: serviceAccountUsername(c.namespace, c.serviceAccount.name),
  };
}

function ref(r: Ref): Ref {
  // Empty fields are omitted, as upstream's omitempty does (a pod's node may have no known uid).
  return r.uid ? { name: r.name, uid: r.uid } : { name: r.name };
}

function sortKeys<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
}

// ---------------------------------------------------------------------------------------------
// JWT signing and verifying (RS256 only, as the issuer signs).

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Upstream's key id: the unpadded base64url SHA-256 of the public key's DER SubjectPublicKeyInfo. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

export function signJwt(claims: object, privateKey: KeyObject, kid: string): string {
  const input = `${b64url(JSON.stringify({ alg: 'RS256', kid }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), privateKey))}`;
}

/** The payload of a JWT: null when it is not a JWT at all; `verified` says whether our key signed it. */
export function decodeJwt(token: string, publicKey: KeyObject): { payload: Obj; verified: boolean } | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  let header: Obj;
  let payload: Obj;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object') return null;
  // The algorithm is fixed by our key, never taken from the token ("alg: none" and HMAC tricks).
  const verified =
    header.alg === 'RS256' && verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2]!, 'base64url'));
  return { payload, verified };
}

// ---------------------------------------------------------------------------------------------
// Authentication: the decision, given the claims and what the cluster holds now.

export interface AuthenticatedUser {
  user: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What the authenticator needs to know about the objects a token names. */
export interface TokenObjectLookup {
  serviceAccount(namespace: string, name: string): Obj | undefined;
  pod(namespace: string, name: string): Obj | undefined;
  secret(namespace: string, name: string): Obj | undefined;
  node(name: string): Obj | undefined;
}

export type TokenCheck = { ok: true; user: AuthenticatedUser } | { ok: false; error: string };

/**
 * Upstream's service account token validation: time bounds, audience, and the service account
 * (and any bound pod, secret or node) still existing with the same uid and not long deleted.
 */
export function checkTokenClaims(p: Obj, lookup: TokenObjectLookup, nowSeconds: number, audiences: readonly string[] = API_AUDIENCES): TokenCheck {
  const aud: string[] = Array.isArray(p.aud) ? p.aud : typeof p.aud === 'string' ? [p.aud] : [];
  if (!aud.some((a) => audiences.includes(a))) return { ok: false, error: 'token audiences is invalid for the target audiences' };
  if (typeof p.exp === 'number' && nowSeconds > p.exp + LEEWAY_SECONDS) return { ok: false, error: 'service account token has expired' };
  if (typeof p.nbf === 'number' && nowSeconds + LEEWAY_SECONDS < p.nbf) return { ok: false, error: 'service account token is not valid yet' };
  if (typeof p.iat === 'number' && nowSeconds + LEEWAY_SECONDS < p.iat) return { ok: false, error: 'service account token is issued in the future' };
  const k: Obj | undefined = p['kubernetes.io'];
  if (!k || typeof k.namespace !== 'string' || typeof k.serviceaccount?.name !== 'string') {
    return { ok: false, error: 'service account token claims could not be validated' };
  }
  const ns: string = k.namespace;
  const deletedLongAgo = (o: Obj) => {
    const t = o.metadata?.deletionTimestamp;
    return !!t && Date.parse(t) / 1000 < nowSeconds - LEEWAY_SECONDS;
  };
  const sa = lookup.serviceAccount(ns, k.serviceaccount.name);
  if (!sa) return { ok: false, error: `serviceaccounts "${k.serviceaccount.name}" not found` };
  if (sa.metadata.uid !== k.serviceaccount.uid) return { ok: false, error: `service account UID (${sa.metadata.uid}) does not match claim (${k.serviceaccount.uid})` };
  if (deletedLongAgo(sa)) return { ok: false, error: `service account ${ns}/${k.serviceaccount.name} has been deleted` };
  const invalidated = { ok: false as const, error: 'service account token has been invalidated' };
  if (k.secret) {
    const secret = lookup.secret(ns, k.secret.name);
    if (!secret) return invalidated;
    if (secret.metadata.uid !== k.secret.uid) return { ok: false, error: `secret UID (${secret.metadata.uid}) does not match service account secret ref claim (${k.secret.uid})` };
    if (deletedLongAgo(secret)) return invalidated;
  }
  const extra: Record<string, string[]> = {};
  if (k.pod) {
    const pod = lookup.pod(ns, k.pod.name);
    if (!pod) return invalidated;
    if (pod.metadata.uid !== k.pod.uid) return { ok: false, error: `pod UID (${pod.metadata.uid}) does not match service account pod ref claim (${k.pod.uid})` };
    if (deletedLongAgo(pod)) return invalidated;
    extra[EXTRA.podName] = [k.pod.name];
    extra[EXTRA.podUid] = [k.pod.uid];
    // A pod-bound token carries its node for information only: the node is not checked.
    if (k.node?.name) extra[EXTRA.nodeName] = [k.node.name];
    if (k.node?.uid) extra[EXTRA.nodeUid] = [k.node.uid];
  } else if (k.node) {
    const node = lookup.node(k.node.name);
    if (!node) return invalidated;
    if (node.metadata.uid !== k.node.uid) return { ok: false, error: `node UID (${node.metadata.uid}) does not match service account node ref claim (${k.node.uid})` };
    if (deletedLongAgo(node)) return invalidated;
    extra[EXTRA.nodeName] = [k.node.name];
    extra[EXTRA.nodeUid] = [k.node.uid];
  }
  if (typeof p.jti === 'string' && p.jti) extra[EXTRA.credentialId] = [`JTI=${p.jti}`];
  const user: AuthenticatedUser = { user: serviceAccountUsername(ns, k.serviceaccount.name), uid: k.serviceaccount.uid, groups: serviceAccountGroups(ns) };
  if (Object.keys(extra).length) user.extra = extra;
  return { ok: true, user };
}

// ---------------------------------------------------------------------------------------------
// TokenRequest: validation and the bound object.

/** Upstream's ValidateTokenRequest. */
export function validateTokenRequest(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const exp = spec.expirationSeconds;
  if (typeof exp !== 'number' || !Number.isInteger(exp)) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', badValue: exp, detail: 'must be an integer' });
  } else if (exp < MIN_EXPIRATION_SECONDS) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', badValue: exp, detail: 'may not specify a duration less than 10 minutes' });
  } else if (exp > MAX_EXPIRATION_SECONDS) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', badValue: exp, detail: 'may not specify a duration larger than 2^32 seconds' });
  }
  return errs;
}

/** How Go prints a schema.GroupVersionKind, as upstream's "cannot bind token" message shows it. */
export function gvkString(apiVersion: string | undefined, kind: string | undefined): string {
  const av = apiVersion ?? '';
  const slash = av.indexOf('/');
  const group = slash < 0 ? '' : av.slice(0, slash);
  const version = slash < 0 ? av : av.slice(slash + 1);
  return `${group}/${version}, Kind=${kind ?? ''}`;
}

function groupOf(apiVersion: string | undefined): string {
  const av = apiVersion ?? '';
  return av.includes('/') ? av.slice(0, av.indexOf('/')) : '';
}

// ---------------------------------------------------------------------------------------------
// The signing authority of one API server, and the TokenRequest handler built on it.

export class TokenAuthority {
  readonly publicKey: KeyObject;
  private readonly privateKey: KeyObject;
  private readonly kid: string;

  constructor(privateKeyPem: string) {
    this.privateKey = createPrivateKey(privateKeyPem);
    this.publicKey = createPublicKey(this.privateKey);
    this.kid = keyIdOf(this.publicKey);
  }

  sign(claims: Claims): string {
    return signJwt(claims, this.privateKey, this.kid);
  }

  /** null: not a token of ours (another authenticator may know it); otherwise the verdict. */
  authenticate(token: string, lookup: TokenObjectLookup, nowSeconds = Math.floor(Date.now() / 1000)): TokenCheck | null {
    const decoded = decodeJwt(token, this.publicKey);
    if (!decoded || decoded.payload.iss !== SERVICE_ACCOUNT_ISSUER) return null;
    if (!decoded.verified) return { ok: false, error: 'invalid signature' };
    return checkTokenClaims(decoded.payload, lookup, nowSeconds);
  }
}

// One authority per API server's store, so that the HTTP handler, the in-process client and the
// authenticator share it without threading it through every call.
const authorities = new WeakMap<ResourceStore, TokenAuthority>();

export function attachTokenAuthority(rs: ResourceStore, privateKeyPem: string): TokenAuthority {
  const a = new TokenAuthority(privateKeyPem);
  authorities.set(rs, a);
  return a;
}

/** Reads the objects a token names from the API server's cache. */
export function cacheLookup(rs: ResourceStore): TokenObjectLookup {
  const def = (plural: string) => findResource('', plural)!;
  const [sas, pods, secrets, nodes] = [def('serviceaccounts'), def('pods'), def('secrets'), def('nodes')];
  return {
    serviceAccount: (ns, name) => rs.find(sas, ns, name),
    pod: (ns, name) => rs.find(pods, ns, name),
    secret: (ns, name) => rs.find(secrets, ns, name),
    node: (name) => rs.find(nodes, undefined, name),
  };
}

const nowTimestamp = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/**
 * POST serviceaccounts/<name>/token: upstream's TokenREST.Create. Answers the TokenRequest with
 * status.token and status.expirationTimestamp.
 */
export function createTokenRequest(rs: ResourceStore, namespace: string, name: string, body: Obj, nowMs = Date.now()): Obj {
  const authority = authorities.get(rs);
  if (!authority) throw new ApiError(500, 'InternalError', 'Internal error occurred: no service account token issuer is configured');
  const GK = ['TokenRequest', 'authentication.k8s.io'] as const;
  const meta: Obj = body.metadata ?? {};
  if (meta.name && meta.name !== name) {
    throw invalid(...GK, name, [{ type: 'FieldValueInvalid', field: 'metadata.name', badValue: meta.name, detail: 'must match the service account name if specified' }]);
  }
  if (meta.namespace && meta.namespace !== namespace) {
    throw invalid(...GK, name, [{ type: 'FieldValueInvalid', field: 'metadata.namespace', badValue: meta.namespace, detail: 'must match the service account namespace if specified' }]);
  }
  const lookup = cacheLookup(rs);
  const sa = lookup.serviceAccount(namespace, name);
  if (!sa) throw notFound({ group: '', resource: 'serviceaccounts' }, name);

  const spec: Obj = { ...(body.spec ?? {}) };
  spec.expirationSeconds ??= DEFAULT_EXPIRATION_SECONDS;
  if (!Array.isArray(spec.audiences) || spec.audiences.length === 0) spec.audiences = [...API_AUDIENCES];
  const errs = validateTokenRequest(spec);
  if (errs.length) throw invalid(...GK, '', errs);

  let pod: Ref | undefined;
  let secret: Ref | undefined;
  let node: Ref | undefined;
  const boundRef: Obj | undefined = spec.boundObjectRef ?? undefined;
  if (boundRef) {
    const kind: string | undefined = boundRef.kind;
    const refName: string = boundRef.name ?? '';
    let uid: string;
    if (groupOf(boundRef.apiVersion) === '' && kind === 'Pod') {
      const p = lookup.pod(namespace, refName);
      if (!p) throw notFound({ group: '', resource: 'pods' }, refName);
      if (p.spec?.serviceAccountName !== name) {
        throw badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
      }
      pod = { name: p.metadata.name, uid: p.metadata.uid };
      uid = p.metadata.uid;
      const nodeName: string | undefined = p.spec?.nodeName;
      // A missing node still leaves its name in the claims, so readers see where the pod runs.
      if (nodeName) node = { name: nodeName, uid: lookup.node(nodeName)?.metadata.uid };
    } else if (groupOf(boundRef.apiVersion) === '' && kind === 'Node') {
      const n = lookup.node(refName);
      if (!n) throw notFound({ group: '', resource: 'nodes' }, refName);
      node = { name: n.metadata.name, uid: n.metadata.uid };
      uid = n.metadata.uid;
    } else if (groupOf(boundRef.apiVersion) === '' && kind === 'Secret') {
      const s = lookup.secret(namespace, refName);
      if (!s) throw notFound({ group: '', resource: 'secrets' }, refName);
      secret = { name: s.metadata.name, uid: s.metadata.uid };
      uid = s.metadata.uid;
    } else {
      throw badRequest(`cannot bind token to object of type ${gvkString(boundRef.apiVersion, kind)}`);
    }
    if (boundRef.uid && boundRef.uid !== uid) {
      throw conflict({ group: '', resource: kind }, refName, `the UID in the bound object reference (${boundRef.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
  }

  let expirationSeconds: number = spec.expirationSeconds;
  let warnAfterSeconds = 0;
  if (pod && expirationSeconds === WARN_ONLY_EXPIRATION_SECONDS && spec.audiences.every((a: string) => API_AUDIENCES.includes(a))) {
    warnAfterSeconds = expirationSeconds;
    expirationSeconds = EXTENDED_EXPIRATION_SECONDS;
  }
  const nowSeconds = Math.floor(nowMs / 1000);
  const claims = tokenClaims({
    namespace,
    serviceAccount: { name: sa.metadata.name, uid: sa.metadata.uid },
    pod,
    secret,
    node,
    audiences: spec.audiences,
    expirationSeconds,
    warnAfterSeconds,
    nowSeconds,
    jti: randomUUID(),
  });
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: nowTimestamp(nowMs) },
    spec,
    // The status shows the lifetime asked for, even when the token itself was extended.
    status: { token: authority.sign(claims), expirationTimestamp: nowTimestamp(nowMs + spec.expirationSeconds * 1000) },
  };
}

/** The authority attached to a store, for the authenticator. */
export function tokenAuthorityFor(rs: ResourceStore): TokenAuthority | undefined {
  return authorities.get(rs);
}
