// The audit policy (audit.k8s.io/v1 Policy, upstream apiserver audit/policy checker.go and
// apis/audit/validation): rules tried in order, the first that matches a request gives its level
// and the stages left out. Pure.
import { parse as parseYaml } from 'yaml';
import type { Obj, RequestUser } from '../../api/resource.ts';
import type { Attributes } from '../authorization/types.ts';

export type Level = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type Stage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

const LEVELS: Level[] = ['None', 'Metadata', 'Request', 'RequestResponse'];
const STAGES: Stage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'];

export interface GroupResources {
  group: string;
  resources: string[];
  resourceNames: string[];
}

export interface PolicyRule {
  level: Level;
  users: string[];
  userGroups: string[];
  verbs: string[];
  resources: GroupResources[];
  namespaces: string[];
  nonResourceURLs: string[];
  omitStages: Stage[];
  omitManagedFields?: boolean;
}

export interface AuditPolicy {
  rules: PolicyRule[];
  omitStages: Stage[];
  omitManagedFields: boolean;
}

export interface RequestAuditConfig {
  level: Level;
  omitStages: Stage[];
  omitManagedFields: boolean;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** Parses and validates a policy document (YAML or JSON); throws an Error with upstream's wording. */
export function parsePolicy(text: string): AuditPolicy {
  let doc: Obj;
  try {
    doc = parseYaml(text) as Obj;
  } catch (err) {
    throw new Error(`failed decoding: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new Error('failed decoding: the policy is not an object');
  if (doc.apiVersion !== undefined && doc.apiVersion !== 'audit.k8s.io/v1') throw new Error(`unsupported audit policy apiVersion ${JSON.stringify(doc.apiVersion)}: only audit.k8s.io/v1 is served`);
  if (doc.kind !== undefined && doc.kind !== 'Policy') throw new Error(`unexpected kind ${JSON.stringify(doc.kind)}: expected Policy`);
  const errs: string[] = [];
  const stageList = (v: unknown, path: string): Stage[] => {
    const out: Stage[] = [];
    strings(v).forEach((s, i) => {
      if (STAGES.includes(s as Stage)) out.push(s as Stage);
      else errs.push(`${path}[${i}]: Unsupported value: "${s}": supported values: ${STAGES.map((x) => `"${x}"`).join(', ')}`);
    });
    return out;
  };
  const rules: PolicyRule[] = (Array.isArray(doc.rules) ? doc.rules : []).map((r: Obj, i: number) => {
    const path = `rules[${i}]`;
    const level = r?.level as Level;
    if (!level) errs.push(`${path}.level: Required value`);
    else if (!LEVELS.includes(level)) errs.push(`${path}.level: Unsupported value: "${level}": supported values: ${LEVELS.map((x) => `"${x}"`).join(', ')}`);
    const resources: GroupResources[] = (Array.isArray(r?.resources) ? r.resources : []).map((g: Obj, j: number) => {
      const gr = { group: String(g?.group ?? ''), resources: strings(g?.resources), resourceNames: strings(g?.resourceNames) };
      if (gr.resourceNames.length && !gr.resources.length) errs.push(`${path}.resources[${j}].resourceNames: Invalid value: ${JSON.stringify(gr.resourceNames)}: using resourceNames requires at least one resource`);
      return gr;
    });
    const nonResourceURLs = strings(r?.nonResourceURLs);
    if (nonResourceURLs.length && (resources.length || strings(r?.namespaces).length)) {
      errs.push(`${path}.nonResourceURLs: Invalid value: ${JSON.stringify(nonResourceURLs)}: rules cannot apply to both regular resources and non-resource URLs`);
    }
    nonResourceURLs.forEach((u, j) => {
      if (!u.startsWith('/')) errs.push(`${path}.nonResourceURLs[${j}]: Invalid value: "${u}": non-resource URL rules must begin with a '/' character`);
      else if (u.slice(0, -1).includes('*')) errs.push(`${path}.nonResourceURLs[${j}]: Invalid value: "${u}": non-resource URL wildcards '*' must be the final character of the rule`);
    });
    const rule: PolicyRule = { level, users: strings(r?.users), userGroups: strings(r?.userGroups), verbs: strings(r?.verbs), resources, namespaces: strings(r?.namespaces), nonResourceURLs, omitStages: stageList(r?.omitStages, `${path}.omitStages`) };
    if (typeof r?.omitManagedFields === 'boolean') rule.omitManagedFields = r.omitManagedFields;
    return rule;
  });
  const omitStages = stageList(doc.omitStages, 'omitStages');
  if (errs.length) throw new Error(errs.join(', '));
  if (!rules.length) throw new Error('loaded illegal policy with 0 rules');
  return { rules, omitStages, omitManagedFields: doc.omitManagedFields === true };
}

/** The level and omitted stages for a request: the first rule that matches, or None. `user` is the authenticated (not impersonated) user. */
export function evaluatePolicy(policy: AuditPolicy, user: RequestUser | undefined, a: Attributes): RequestAuditConfig {
  for (const r of policy.rules) {
    if (!ruleMatches(r, user, a)) continue;
    return { level: r.level, omitStages: [...new Set([...r.omitStages, ...policy.omitStages])], omitManagedFields: r.omitManagedFields ?? policy.omitManagedFields };
  }
  return { level: 'None', omitStages: policy.omitStages, omitManagedFields: policy.omitManagedFields };
}

// No user (a failed authentication): rules limited to users or groups do not match.
function ruleMatches(r: PolicyRule, user: RequestUser | undefined, a: Attributes): boolean {
  if (r.users.length && (!user || !r.users.includes(user.user))) return false;
  if (r.userGroups.length && (!user || !r.userGroups.some((g) => user.groups.includes(g)))) return false;
  if (r.verbs.length && !r.verbs.includes(a.verb)) return false;
  if (r.namespaces.length || r.resources.length) {
    if (!a.resourceRequest) return false;
    if (r.namespaces.length && !r.namespaces.includes(a.namespace)) return false;
    if (r.resources.length && !r.resources.some((g) => groupResourceMatches(g, a))) return false;
    return true;
  }
  if (r.nonResourceURLs.length) {
    if (a.resourceRequest) return false;
    return r.nonResourceURLs.some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  }
  return true;
}

function groupResourceMatches(g: GroupResources, a: Attributes): boolean {
  if (g.group !== a.apiGroup) return false;
  if (!g.resources.length) return true;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  for (const res of g.resources) {
    const hit =
      res === '*' ||
      res === combined ||
      (res.startsWith('*/') && a.subresource && res.slice(2) === a.subresource) ||
      (res.endsWith('/*') && res.slice(0, -2) === a.resource);
    if (!hit) continue;
    if (!g.resourceNames.length || g.resourceNames.includes(a.name)) return true;
  }
  return false;
}
