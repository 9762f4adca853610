// Impersonation (upstream endpoints/filters/impersonation.go): `Impersonate-User`,
// `Impersonate-Group`, `Impersonate-Uid` and `Impersonate-Extra-<key>` headers make the request act
// as another identity, when the real user may `impersonate` each part of it.
import type { RequestUser } from '../../api/resource.ts';
import { forbiddenError } from './forbidden.ts';
import type { Attributes, Authorizer } from './types.ts';

const SA_PREFIX = 'system:serviceaccount:';
const AUTHENTICATED = 'system:authenticated';
const UNAUTHENTICATED = 'system:unauthenticated';
const ANONYMOUS = 'system:anonymous';
const EXTRA_PREFIX = 'impersonate-extra-';

/** What the headers ask for, or undefined when they ask for nothing. */
interface Requested {
  user?: string;
  groups: string[];
  uid?: string;
  extra: Record<string, string[]>;
}

/** A request that names groups, extras or a uid but no user: upstream answers 500 (1.32). */
export class ImpersonationError extends Error {}

/** Each header line is one value (req.headersDistinct): a group name may hold a comma. */
function values(h: string[] | undefined): string[] {
  return h ?? [];
}

type Headers = Record<string, string[] | undefined>;

function requested(headers: Headers): Requested | undefined {
  const user = values(headers['impersonate-user'])[0];
  const groups = values(headers['impersonate-group']);
  const uid = values(headers['impersonate-uid'])[0];
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!k.startsWith(EXTRA_PREFIX)) continue;
    let key = k.slice(EXTRA_PREFIX.length);
    try {
      key = decodeURIComponent(key);
    } catch {}
    extra[key] = values(v);
  }
  if (user === undefined && !groups.length && uid === undefined && !Object.keys(extra).length) return undefined;
  return { user, groups, uid, extra };
}

/** Go's %v of the ObjectReferences upstream builds: {Kind Namespace Name UID APIVersion ResourceVersion FieldPath}. */
function refText(kind: string, name: string, fieldPath = ''): string {
  return `{${kind}  ${name}    ${fieldPath}}`;
}

/**
 * The identity the request acts as: `real` when there are no impersonation headers. Throws the 403
 * of the first part the real user may not impersonate, or an ImpersonationError.
 */
export function impersonate(real: RequestUser, headers: Headers, authz: Authorizer): RequestUser {
  const want = requested(headers);
  if (!want) return real;
  if (want.user === undefined) {
    const refs = [...want.groups.map((g) => refText('Group', g)), ...Object.entries(want.extra).flatMap(([k, vs]) => vs.map((v) => refText('UserExtra', v, k))), ...(want.uid !== undefined ? [refText('UID', want.uid)] : [])];
    throw new ImpersonationError(`requested [${refs.join(' ')}] without impersonating a user`);
  }
  const check = (a: Omit<Attributes, 'user' | 'verb' | 'resourceRequest' | 'path' | 'apiVersion' | 'subresource'> & { subresource?: string }) => {
    const attrs: Attributes = { user: real, verb: 'impersonate', resourceRequest: true, path: '', apiVersion: '', subresource: '', ...a };
    const r = authz.authorize(attrs);
    if (r.decision !== 'Allow') throw forbiddenError(attrs, r.reason);
  };
  let groups = [...want.groups];
  if (want.user.startsWith(SA_PREFIX) && want.user.slice(SA_PREFIX.length).split(':').length === 2) {
    const [ns, name] = want.user.slice(SA_PREFIX.length).split(':') as [string, string];
    check({ namespace: ns, apiGroup: '', resource: 'serviceaccounts', name });
    if (!want.groups.length) groups = ['system:serviceaccounts', `system:serviceaccounts:${ns}`];
  } else {
    check({ namespace: '', apiGroup: '', resource: 'users', name: want.user });
  }
  for (const g of want.groups) check({ namespace: '', apiGroup: '', resource: 'groups', name: g });
  for (const [key, vs] of Object.entries(want.extra)) for (const v of vs) check({ namespace: '', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v });
  if (want.uid !== undefined) check({ namespace: '', apiGroup: 'authentication.k8s.io', resource: 'uids', name: want.uid });
  if (want.user === ANONYMOUS) {
    if (!groups.includes(UNAUTHENTICATED)) groups.push(UNAUTHENTICATED);
  } else if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) {
    groups.push(AUTHENTICATED);
  }
  const out: RequestUser = { user: want.user, groups };
  if (want.uid !== undefined) out.uid = want.uid;
  if (Object.keys(want.extra).length) out.extra = want.extra;
  return out;
}
