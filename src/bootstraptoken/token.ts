// Bootstrap tokens, as upstream defines them (k8s.io/cluster-bootstrap): "<id>.<secret>", kept as
// the Secret kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token. A node that
// joins presents one as a bearer token and is then system:bootstrap:<id> in system:bootstrappers
// (and the token's extra groups), which lets it ask for its own credentials through a CSR.
//
// Everything here is pure: the authenticator, the token cleaner and `ordinal token` share it.
import { randomInt, timingSafeEqual } from 'node:crypto';
import type { Obj } from '../api/resource.ts';

export const TOKEN_NAMESPACE = 'kube-system';
export const SECRET_PREFIX = 'bootstrap-token-';
export const SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const USER_PREFIX = 'system:bootstrap:';
export const DEFAULT_GROUP = 'system:bootstrappers';
/** The group `ordinal token create` puts tokens in unless told otherwise (kubeadm: system:bootstrappers:kubeadm:default-node-token). */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:ordinal:default-node-token';

export const KEY = {
  id: 'token-id',
  secret: 'token-secret',
  expiration: 'expiration',
  description: 'description',
  extraGroups: 'auth-extra-groups',
  usageAuthentication: 'usage-bootstrap-authentication',
  usageSigning: 'usage-bootstrap-signing',
} as const;

const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ID_RE = /^[a-z0-9]{6}$/;
const GROUP_RE = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

export interface Token {
  id: string;
  secret: string;
}

/** The token's two parts, or undefined when the string is not a bootstrap token at all. */
export function parseToken(s: string): Token | undefined {
  const m = TOKEN_RE.exec(s);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export const isTokenId = (s: string): boolean => ID_RE.test(s);

/** A fresh random token, from the alphabet and lengths kubeadm uses. */
export function generateToken(): Token {
  const pick = (n: number) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return { id: pick(6), secret: pick(16) };
}

export const secretName = (id: string): string => `${SECRET_PREFIX}${id}`;

/** A value of the Secret's data (base64 in the API), '' when absent. */
export function dataOf(secret: Obj, key: string): string {
  const v = secret.data?.[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '';
}

/** Time left before the token expires (ms), and whether it has; no expiration never expires. */
export function expiration(secret: Obj, nowMs: number): { ttlMs?: number; expired: boolean } {
  const text = dataOf(secret, KEY.expiration);
  if (!text) return { expired: false };
  const at = parseRfc3339(text);
  // Upstream treats an unparseable expiration as expired.
  if (at === undefined) return { expired: true };
  const ttlMs = at - nowMs;
  return ttlMs <= 0 ? { expired: true } : { ttlMs, expired: false };
}

/** Go's time.RFC3339 layout: seconds required, fraction optional, Z or a numeric offset. */
export function parseRfc3339(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

export function validateGroupName(g: string): string | undefined {
  return GROUP_RE.test(g) ? undefined : `group ${JSON.stringify(g)} is invalid (must match ${GROUP_RE.source.replace(/^\^/, '\\A').replace(/\$$/, '\\z')})`;
}

/** system:bootstrappers, then the token's extra groups (each checked, duplicates dropped). */
export function groupsOf(secret: Obj): { groups?: string[]; error?: string } {
  const groups = [DEFAULT_GROUP];
  const raw = dataOf(secret, KEY.extraGroups);
  if (!raw) return { groups };
  for (const part of raw.split(',')) {
    const g = part.trim();
    if (!g) continue;
    const err = validateGroupName(g);
    if (err) return { error: err };
    if (!groups.includes(g)) groups.push(g);
  }
  return { groups };
}

export type TokenDecision = { ok: true; user: string; groups: string[] } | { ok: false; reason: string };

/**
 * Whether the Secret found for the token's id vouches for it. The reasons are what upstream's
 * authenticator logs; the caller only ever sees a 401.
 */
export function checkToken(token: Token, secret: Obj | undefined, nowMs: number): TokenDecision {
  const name = `${TOKEN_NAMESPACE}/${secretName(token.id)}`;
  if (!secret) return { ok: false, reason: `No secret of name ${name} to match bootstrap bearer token` };
  const bad = (why: string): TokenDecision => ({ ok: false, reason: `Bootstrap secret ${name} ${why}` });
  if (secret.metadata?.deletionTimestamp) return bad('is deleted and awaiting removal');
  if (secret.type !== SECRET_TYPE || !secret.data) return bad(`has invalid type, expected ${SECRET_TYPE}.`);
  if (!constantTimeEqual(dataOf(secret, KEY.secret), token.secret)) return bad(`has invalid value for key ${KEY.secret}.`);
  if (dataOf(secret, KEY.id) !== token.id) return bad(`has invalid value for key ${KEY.id}.`);
  if (expiration(secret, nowMs).expired) return bad('has expired.');
  if (dataOf(secret, KEY.usageAuthentication) !== 'true') return bad(`not marked ${KEY.usageAuthentication}=true.`);
  const { groups, error } = groupsOf(secret);
  if (!groups) return bad(`has invalid value for key ${KEY.extraGroups}: ${error}.`);
  return { ok: true, user: USER_PREFIX + token.id, groups };
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface NewTokenSecret {
  token: Token;
  ttlMs: number;
  description?: string;
  groups: string[];
  usages?: string[];
  nowMs: number;
}

/** The Secret kubeadm writes for a token (`kubeadm token create`). A ttl of 0 never expires. */
export function tokenSecret(t: NewTokenSecret): Obj {
  const stringData: Record<string, string> = { [KEY.id]: t.token.id, [KEY.secret]: t.token.secret };
  if (t.description) stringData[KEY.description] = t.description;
  if (t.ttlMs > 0) stringData[KEY.expiration] = new Date(Math.floor((t.nowMs + t.ttlMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  for (const u of t.usages ?? ['signing', 'authentication']) stringData[`usage-bootstrap-${u}`] = 'true';
  if (t.groups.length) stringData[KEY.extraGroups] = t.groups.join(',');
  const data = Object.fromEntries(Object.entries(stringData).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName(t.token.id), namespace: TOKEN_NAMESPACE }, type: SECRET_TYPE, data };
}
