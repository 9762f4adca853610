// The RBAC authorizer (upstream plugin/pkg/auth/authorizer/rbac): a request is allowed when some
// binding that names the user, one of its groups or its service account grants a role with a
// rule covering it. Reads the watch cache, so it is eventually consistent like upstream's
// informer-backed authorizer.
//
// Speed: bindings are indexed by subject, and answers are cached per identity and per request
// without its object name (decision-cache.ts), so a controller writing pod after pod asks RBAC
// once. Any change to a role or binding bumps the policy generation: the index is rebuilt and
// the cached answers dropped lazily, on the next question.
import type { Obj, RequestUser } from '../../api/resource.ts';
import type { WatchCache } from '../../storage/cache.ts';
import { DecisionCache, type CachedAnswer, type Grant } from './decision-cache.ts';
import { apiGroupMatches, nonResourceURLMatches, resourceMatches, verbMatches, type PolicyRule } from './rules.ts';
import { ALLOW, NO_OPINION, type Attributes, type AuthorizationResult, type Authorizer, type RulesResult } from './types.ts';

const RBAC = 'rbac.authorization.k8s.io';
export const RBAC_BUCKETS = {
  roles: `/registry/${RBAC}/roles/`,
  clusterRoles: `/registry/${RBAC}/clusterroles/`,
  roleBindings: `/registry/${RBAC}/rolebindings/`,
  clusterRoleBindings: `/registry/${RBAC}/clusterrolebindings/`,
};

const SA_PREFIX = 'system:serviceaccount:';

interface IndexedBinding {
  binding: Obj;
  /** The subject that matched, for the allow reason. */
  subject: Obj;
  cluster: boolean;
}

/** Where roles and bindings come from; the watch cache in the server, plain lists in tests. */
export interface RbacSource {
  list(bucket: string, prefix?: string): Obj[];
  get(key: string): Obj | undefined;
  /** Calls back on any change of the bucket. */
  onChange(bucket: string, fn: () => void): () => void;
}

export function cacheSource(cache: WatchCache): RbacSource {
  return {
    list: (bucket, prefix) => cache.list(bucket, prefix ?? bucket).map((c) => c.obj),
    get: (key) => cache.get(key)?.obj,
    onChange: (bucket, fn) => cache.subscribe(bucket, fn),
  };
}

/** Upstream's appliesToUser: which users a subject names (ServiceAccount namespace defaults to the binding's). */
export function subjectKey(subject: Obj, bindingNamespace: string): string | undefined {
  switch (subject?.kind) {
    case 'User':
      return `u:${subject.name}`;
    case 'Group':
      return `g:${subject.name}`;
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      // A ClusterRoleBinding's service account without a namespace names nobody.
      return ns ? `u:${SA_PREFIX}${ns}:${subject.name}` : undefined;
    }
  }
  return undefined;
}

function describeSubject(s: Obj, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `ServiceAccount "${s.name}/${s.namespace || bindingNamespace}"`;
  return `${s.kind} "${s.name}"`;
}

export class RbacAuthorizer implements Authorizer {
  private readonly src: RbacSource;
  private index?: Map<string, IndexedBinding[]>;
  private readonly answers = new DecisionCache();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(src: RbacSource) {
    this.src = src;
    const invalidate = () => {
      this.index = undefined;
      this.answers.invalidate();
    };
    for (const b of Object.values(RBAC_BUCKETS)) this.unsubscribe.push(src.onChange(b, invalidate));
  }

  close(): void {
    for (const u of this.unsubscribe) u();
  }

  private buildIndex(): Map<string, IndexedBinding[]> {
    const index = new Map<string, IndexedBinding[]>();
    const add = (binding: Obj, cluster: boolean) => {
      const ns = cluster ? '' : String(binding.metadata?.namespace ?? '');
      for (const subject of Array.isArray(binding.subjects) ? binding.subjects : []) {
        const key = subjectKey(subject, ns);
        if (!key) continue;
        let l = index.get(key);
        if (!l) index.set(key, (l = []));
        // A binding naming the same subject twice is still one grant.
        if (!l.some((x) => x.binding === binding)) l.push({ binding, subject, cluster });
      }
    };
    // ClusterRoleBindings first, as upstream visits them first.
    for (const b of this.src.list(RBAC_BUCKETS.clusterRoleBindings)) add(b, true);
    for (const b of this.src.list(RBAC_BUCKETS.roleBindings)) add(b, false);
    return index;
  }

  /** The bindings that apply to the user in the namespace ("" for cluster-wide only), in upstream's order. */
  private bindingsFor(user: RequestUser, namespace: string): IndexedBinding[] {
    const index = (this.index ??= this.buildIndex());
    const keys = [`u:${user.user}`, ...user.groups.map((g) => `g:${g}`)];
    const cluster: IndexedBinding[] = [];
    const local: IndexedBinding[] = [];
    const seen = new Set<Obj>();
    for (const k of keys) {
      for (const ib of index.get(k) ?? []) {
        if (seen.has(ib.binding)) continue;
        if (ib.cluster) cluster.push(ib);
        else if (namespace && ib.binding.metadata?.namespace === namespace) local.push(ib);
        else continue;
        seen.add(ib.binding);
      }
    }
    return [...cluster, ...local];
  }

  /** The rules a binding grants, or the error its roleRef resolves to. */
  private rulesOf(ib: IndexedBinding): { rules: PolicyRule[]; error?: string } {
    const ref = ib.binding.roleRef ?? {};
    if (ref.kind === 'ClusterRole') {
      const role = this.src.get(`${RBAC_BUCKETS.clusterRoles}${ref.name}`);
      if (!role) return { rules: [], error: `clusterrole.rbac.authorization.k8s.io "${ref.name}" not found` };
      return { rules: Array.isArray(role.rules) ? role.rules : [] };
    }
    if (ref.kind === 'Role' && !ib.cluster) {
      const role = this.src.get(`${RBAC_BUCKETS.roles}${ib.binding.metadata?.namespace}/${ref.name}`);
      if (!role) return { rules: [], error: `role.rbac.authorization.k8s.io "${ref.name}" not found` };
      return { rules: Array.isArray(role.rules) ? role.rules : [] };
    }
    return { rules: [], error: `unsupported role reference kind: "${ref.kind}"` };
  }

  /** Bumped by every change to a role or binding; cached answers from an older generation are not used. */
  get generation(): number {
    return this.answers.currentGeneration;
  }

  authorize(a: Attributes): AuthorizationResult {
    return this.answers.lookup(a, () => this.grantsFor(a));
  }

  /**
   * Upstream's visit order, with the name left open: every rule of every applicable binding that
   * covers the verb, group, resource and subresource (or the path), in order, up to the first that
   * covers every name, since no grant after it can ever be the first to allow.
   */
  private grantsFor(a: Attributes): CachedAnswer {
    const errors: string[] = [];
    const grants: Grant[] = [];
    for (const ib of this.bindingsFor(a.user, a.namespace)) {
      const { rules, error } = this.rulesOf(ib);
      if (error) errors.push(error);
      let result: AuthorizationResult | undefined;
      for (const r of rules) {
        if (!verbMatches(r, a.verb)) continue;
        if (a.resourceRequest ? !apiGroupMatches(r, a.apiGroup) || !resourceMatches(r, a.resource, a.subresource) : !nonResourceURLMatches(r, a.path)) continue;
        result ??= ALLOW(allowReason(ib));
        const names = a.resourceRequest && Array.isArray(r.resourceNames) && r.resourceNames.length ? new Set(r.resourceNames) : undefined;
        grants.push(names ? { names, result } : { result });
        if (!names) return { grants, otherwise: result };
      }
    }
    // Only reached when no grant covers every name, so every binding was visited and its errors kept.
    return { grants, otherwise: errors.length ? NO_OPINION(`RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`) : NO_OPINION() };
  }

  /** Every rule the user holds in the namespace (cluster-wide grants included), and the roles that could not be resolved. */
  rules(user: RequestUser, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    for (const ib of this.bindingsFor(user, namespace)) {
      const r = this.rulesOf(ib);
      if (r.error) errors.push(r.error);
      rules.push(...r.rules);
    }
    return { rules, errors };
  }

  rulesFor(user: RequestUser, namespace: string): RulesResult {
    const { rules, errors } = this.rules(user, namespace);
    const resourceRules = [];
    const nonResourceRules = [];
    for (const r of rules) {
      if (Array.isArray(r.nonResourceURLs) && r.nonResourceURLs.length) nonResourceRules.push({ verbs: r.verbs ?? [], nonResourceURLs: r.nonResourceURLs });
      else resourceRules.push({ verbs: r.verbs ?? [], apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], resourceNames: r.resourceNames ?? [] });
    }
    // As upstream, unresolvable roles are reported as an evaluation error, not as an incomplete list.
    return { resourceRules, nonResourceRules, incomplete: false, errors };
  }
}

function allowReason(ib: IndexedBinding): string {
  const b = ib.binding;
  const ns = ib.cluster ? '' : String(b.metadata?.namespace ?? '');
  const where = ib.cluster ? `ClusterRoleBinding "${b.metadata?.name}"` : `RoleBinding "${b.metadata?.name}/${ns}"`;
  return `RBAC: allowed by ${where} of ${b.roleRef?.kind} "${b.roleRef?.name}" to ${describeSubject(ib.subject, ns)}`;
}

/** A fixed set of RBAC objects as a source (unit tests, offline evaluation of a policy). */
export function memorySource(objs: Obj[]): RbacSource {
  const buckets: Record<string, string> = { Role: RBAC_BUCKETS.roles, ClusterRole: RBAC_BUCKETS.clusterRoles, RoleBinding: RBAC_BUCKETS.roleBindings, ClusterRoleBinding: RBAC_BUCKETS.clusterRoleBindings };
  const byKey = new Map<string, Obj>();
  for (const o of objs) {
    const b = buckets[o.kind];
    if (b) byKey.set(`${b}${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`, o);
  }
  return {
    list: (bucket, prefix) => [...byKey].filter(([k]) => k.startsWith(prefix ?? bucket)).map(([, o]) => o),
    get: (key) => byKey.get(key),
    onChange: () => () => {},
  };
}
