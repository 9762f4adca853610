// authorization.k8s.io/v1: SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectAccessReview
// and SelfSubjectRulesReview (upstream pkg/registry/authorization). Create-only: the answer is
// computed by the authorizer chain and stored nowhere.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Obj, RequestUser } from '../../api/resource.ts';
import { invalid as invalidField } from '../../api/field-errors.ts';
import { ApiError, badRequest, invalid } from '../errors.ts';
import { sendJson } from '../http.ts';
import { readObject } from '../handlers.ts';
import type { Attributes, Authorizer } from './types.ts';

const GROUP = 'authorization.k8s.io';
const PREFIX = `/apis/${GROUP}/v1/`;
const CLUSTER = ['subjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews'];
const KINDS: Record<string, string> = {
  subjectaccessreviews: 'SubjectAccessReview',
  selfsubjectaccessreviews: 'SelfSubjectAccessReview',
  selfsubjectrulesreviews: 'SelfSubjectRulesReview',
  localsubjectaccessreviews: 'LocalSubjectAccessReview',
};

/** The review resource and namespace a path addresses, or undefined when it is not one of ours. */
export function reviewPath(path: string): { resource: string; namespace?: string } | undefined {
  if (!path.startsWith(PREFIX)) return undefined;
  const parts = path.slice(PREFIX.length).split('/');
  if (parts.length === 1 && CLUSTER.includes(parts[0]!)) return { resource: parts[0]! };
  if (parts.length === 3 && parts[0] === 'namespaces' && parts[2] === 'localsubjectaccessreviews') return { resource: parts[2], namespace: parts[1] };
  return undefined;
}

const isEmpty = (v: unknown): boolean => v === undefined || v === null || v === '' || (typeof v === 'object' && Object.values(v as object).every(isEmpty));

function attributesFrom(user: RequestUser, spec: Obj): Attributes {
  const ra = spec.resourceAttributes;
  if (ra) {
    return { user, verb: str(ra.verb), resourceRequest: true, path: '', namespace: str(ra.namespace), apiGroup: str(ra.group), apiVersion: str(ra.version), resource: str(ra.resource), subresource: str(ra.subresource), name: str(ra.name) };
  }
  const nra = spec.nonResourceAttributes ?? {};
  return { user, verb: str(nra.verb), resourceRequest: false, path: str(nra.path), namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '' };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function validateSpec(spec: Obj, self: boolean): ReturnType<typeof invalidField>[] {
  const errs = [];
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) errs.push(invalidField('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (spec.resourceAttributes && spec.nonResourceAttributes) errs.push(invalidField('spec.nonResourceAttributes', spec.nonResourceAttributes, 'cannot be specified in combination with resourceAttributes'));
  if (!self && !spec.user && !(Array.isArray(spec.groups) && spec.groups.length)) errs.push(invalidField('spec.user', spec.user ?? '', 'at least one of user or group must be specified'));
  return errs;
}

export async function handleReview(req: IncomingMessage, res: ServerResponse, target: { resource: string; namespace?: string }, caller: RequestUser, authz: Authorizer): Promise<void> {
  const kind = KINDS[target.resource]!;
  if (req.method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', { group: GROUP, kind: target.resource });
  const body = await readObject(req);
  const spec: Obj = body.spec && typeof body.spec === 'object' ? body.spec : {};
  const meta: Obj = body.metadata && typeof body.metadata === 'object' ? body.metadata : {};
  const reply = (status: Obj, specOut: Obj = spec) => sendJson(res, 201, { kind, apiVersion: `${GROUP}/v1`, metadata: { ...(target.namespace ? { namespace: target.namespace } : {}), creationTimestamp: null }, spec: specOut, status });

  if (target.resource === 'selfsubjectrulesreviews') {
    const ns = str(spec.namespace);
    if (!ns) throw badRequest('no namespace on request');
    const rules = authz.rulesFor?.(caller, ns) ?? { resourceRules: [], nonResourceRules: [], incomplete: true, errors: [] };
    const status: Obj = { resourceRules: rules.resourceRules, nonResourceRules: rules.nonResourceRules, incomplete: rules.incomplete };
    if (rules.errors.length) status.evaluationError = rules.errors.length === 1 ? rules.errors[0] : `[${rules.errors.join(', ')}]`;
    return reply(status, {});
  }

  const self = target.resource === 'selfsubjectaccessreviews';
  const errs = validateSpec(spec, self);
  if (target.resource === 'localsubjectaccessreviews') {
    if (!isEmpty({ ...meta, namespace: undefined })) errs.unshift(invalidField('metadata', meta, 'must be empty except for namespace'));
    if (spec.nonResourceAttributes) errs.push(invalidField('spec.nonResourceAttributes', spec.nonResourceAttributes, 'disallowed on this kind of request'));
    if (spec.resourceAttributes && str(spec.resourceAttributes.namespace) !== str(meta.namespace)) errs.push(invalidField('spec.resourceAttributes.namespace', str(spec.resourceAttributes.namespace), 'must match metadata.namespace'));
  } else if (!isEmpty(meta)) {
    errs.unshift(invalidField('metadata', meta, 'must be empty'));
  }
  if (errs.length) throw invalid(kind, GROUP, str(meta.name), errs);
  if (target.resource === 'localsubjectaccessreviews' && str(meta.namespace) !== target.namespace) {
    throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${target.namespace}`);
  }
  return reply(self ? reviewStatus(authz, spec, caller) : reviewStatus(authz, spec));
}

/** The status of a (Self)SubjectAccessReview with this spec: as the spec's user, or `self`. */
export function reviewStatus(authz: Authorizer, spec: Obj, self?: RequestUser): Obj {
  const subject: RequestUser = self ?? { user: str(spec.user), groups: Array.isArray(spec.groups) ? spec.groups.map(String) : [], ...(spec.uid ? { uid: str(spec.uid) } : {}), ...(spec.extra ? { extra: spec.extra } : {}) };
  const r = authz.authorize(attributesFrom(subject, spec));
  const status: Obj = { allowed: r.decision === 'Allow' };
  if (r.decision === 'Deny') status.denied = true;
  if (r.reason) status.reason = r.reason;
  if (r.error) status.evaluationError = r.error;
  return status;
}
