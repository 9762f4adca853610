// rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding: upstream's
// v1 defaults and validation (pkg/apis/rbac/v1/defaults.go, pkg/apis/rbac/validation), v1.32.
import type { Obj, Strategy } from '../resource.ts';
import { invalid, notSupported, required } from '../field-errors.ts';
import { type Errs, asArray, asObj, deepEqual, invalidRendered, isObj } from '../validation/fields.ts';

/** Go's %#v of a []string, as upstream prints a rule's URLs. */
const goStrings = (v: unknown[]) => `[]string{${v.map((x) => JSON.stringify(String(x))).join(', ')}}`;
import { nameIsDNSSubdomain, type NameValidator } from '../validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.ts';
import { validateLabelSelector } from '../validation/selector.ts';
import { keepGeneration } from './generic.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Upstream's ValidateRBACName: any name that is a safe path segment. */
export const nameIsPathSegment: NameValidator = (name, prefix) => {
  const errs: string[] = [];
  if (!prefix) {
    if (name === '.' || name === '..') return [`may not be '${name}'`];
  }
  for (const c of ['/', '%']) if (name.includes(c)) errs.push(`may not contain '${c}'`);
  return errs;
};

function validateRule(rule: unknown, namespaced: boolean, path: string): Errs {
  const r = asObj(rule);
  const errs: Errs = [];
  const verbs = asArray(r.verbs);
  const urls = asArray(r.nonResourceURLs);
  if (!verbs.length) errs.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
  if (urls.length) {
    if (namespaced) errs.push(invalidRendered(`${path}.nonResourceURLs`, goStrings(urls), 'namespaced rules cannot apply to non-resource URLs'));
    if (asArray(r.apiGroups).length || asArray(r.resources).length || asArray(r.resourceNames).length) {
      errs.push(invalidRendered(`${path}.nonResourceURLs`, goStrings(urls), 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (!asArray(r.apiGroups).length) errs.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (!asArray(r.resources).length) errs.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

function validateRules(obj: Obj, namespaced: boolean): Errs {
  return asArray(obj.rules).flatMap((rule, i) => validateRule(rule, namespaced, `rules[${i}]`));
}

export function validateRole(role: Obj): Errs {
  return [...validateObjectMeta(role.metadata, { namespaced: true, nameFn: nameIsPathSegment }), ...validateRules(role, true)];
}

export function validateClusterRole(role: Obj): Errs {
  const errs = [...validateObjectMeta(role.metadata, { namespaced: false, nameFn: nameIsPathSegment }), ...validateRules(role, false)];
  if (role.aggregationRule != null) {
    const selectors = asArray(asObj(role.aggregationRule).clusterRoleSelectors);
    if (!selectors.length) errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    selectors.forEach((s, i) => errs.push(...validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`)));
  }
  return errs;
}

function validateSubject(s: unknown, namespaced: boolean, path: string): Errs {
  const subject = asObj(s);
  const errs: Errs = [];
  const name = typeof subject.name === 'string' ? subject.name : '';
  if (!name) errs.push(required(`${path}.name`));
  switch (subject.kind) {
    case 'ServiceAccount':
      if (name) for (const m of nameIsDNSSubdomain(name, false)) errs.push(invalid(`${path}.name`, name, m));
      if ((subject.apiGroup ?? '') !== '') errs.push(notSupported(`${path}.apiGroup`, subject.apiGroup, ['']));
      if (!namespaced && !subject.namespace) errs.push(required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (subject.apiGroup !== RBAC_GROUP) errs.push(notSupported(`${path}.apiGroup`, subject.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(`${path}.kind`, subject.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(b: Obj, namespaced: boolean): Errs {
  const errs = validateObjectMeta(b.metadata, { namespaced, nameFn: nameIsPathSegment });
  const ref = asObj(b.roleRef);
  if (ref.apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  const name = typeof ref.name === 'string' ? ref.name : '';
  if (!name) errs.push(required('roleRef.name'));
  else for (const m of nameIsPathSegment(name, false)) errs.push(invalid('roleRef.name', name, m));
  asArray(b.subjects).forEach((s, i) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

/** Go's %#v of an rbac.RoleRef, as upstream prints a changed roleRef. */
function goRoleRef(ref: Obj): string {
  return `rbac.RoleRef{APIGroup:${JSON.stringify(String(ref.apiGroup ?? ''))}, Kind:${JSON.stringify(String(ref.kind ?? ''))}, Name:${JSON.stringify(String(ref.name ?? ''))}}`;
}

function validateBindingUpdate(b: Obj, old: Obj, namespaced: boolean): Errs {
  const errs = [...validateObjectMetaUpdate(b.metadata, old.metadata), ...validateBinding(b, namespaced)];
  if (!deepEqual(asObj(b.roleRef), asObj(old.roleRef))) errs.push(invalidRendered('roleRef', goRoleRef(asObj(b.roleRef)), 'cannot change roleRef'));
  return errs;
}

function defaultBinding(b: Obj): void {
  if (isObj(b.roleRef) && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
  for (const s of asArray(b.subjects)) {
    if (!isObj(s) || s.apiGroup) continue;
    if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
    else if (s.kind === 'ServiceAccount') s.apiGroup = '';
  }
}

const noGeneration = (obj: Obj) => {
  if (obj.metadata) delete obj.metadata.generation;
};

function strategy(validate: (o: Obj) => Errs, validateUpdate: (o: Obj, old: Obj) => Errs, defaults: (o: Obj) => void = () => {}): Strategy {
  return { default: defaults, prepareForCreate: noGeneration, prepareForUpdate: keepGeneration, validate, validateUpdate };
}

export const roleStrategy = strategy(validateRole, (o, old) => [...validateObjectMetaUpdate(o.metadata, old.metadata), ...validateRole(o)]);
export const clusterRoleStrategy = strategy(validateClusterRole, (o, old) => [...validateObjectMetaUpdate(o.metadata, old.metadata), ...validateClusterRole(o)]);
export const roleBindingStrategy = strategy((b) => validateBinding(b, true), (b, old) => validateBindingUpdate(b, old, true), defaultBinding);
export const clusterRoleBindingStrategy = strategy((b) => validateBinding(b, false), (b, old) => validateBindingUpdate(b, old, false), defaultBinding);
