// Privilege escalation prevention for RBAC objects (upstream pkg/registry/rbac: escalation_check.go
// and the policybased storages). It applies whichever authorizer is configured: a Role,
// ClusterRole or binding may only grant what its writer already holds, unless the writer may
// `escalate` (roles) or `bind` (the referenced role), or is in system:masters.
import type { Obj, RequestUser } from '../../api/resource.ts';
import { ApiError, notFound } from '../errors.ts';
import { newForbidden } from './forbidden.ts';
import { PRIVILEGED_GROUP } from './chain.ts';
import { compactRules, compactString, covers, goQuoteList } from './covers.ts';
import { RBAC_BUCKETS, type RbacAuthorizer, type RbacSource } from './rbac.ts';
import type { PolicyRule } from './rules.ts';
import type { Authorizer, WriteAttempt } from './types.ts';

const RBAC = 'rbac.authorization.k8s.io';
const RBAC_PLURALS: Record<string, string> = { Role: 'roles', ClusterRole: 'clusterroles', RoleBinding: 'rolebindings', ClusterRoleBinding: 'clusterrolebindings' };


const rulesOf = (o: Obj | undefined): PolicyRule[] => (Array.isArray(o?.rules) ? o!.rules : []);

/** Upstream IsOnlyMutatingGCFields: an update that only changes owner references or finalizers. */
function onlyGcFields(obj: Obj, old: Obj): boolean {
  const strip = (o: Obj) => {
    const { ownerReferences: _a, finalizers: _b, resourceVersion: _c, managedFields: _d, generation: _e, ...meta } = o.metadata ?? {};
    return JSON.stringify({ ...o, metadata: meta });
  };
  return strip(obj) === strip(old);
}

export class EscalationCheck {
  private readonly authz: Authorizer;
  private readonly rbac: RbacAuthorizer;
  private readonly src: RbacSource;

  constructor(authz: Authorizer, rbac: RbacAuthorizer, src: RbacSource) {
    this.authz = authz;
    this.rbac = rbac;
    this.src = src;
  }

  /** Throws the 403 (or the referenced role's 404) when the write would grant more than its writer holds. */
  check(w: WriteAttempt): void {
    if (w.group !== RBAC || !RBAC_PLURALS[w.kind]) return;
    if (w.operation === 'delete' || w.subresource) return;
    // Writes with no user are the API server's own (its loopback identity is in system:masters).
    if (!w.user || w.user.groups.includes(PRIVILEGED_GROUP)) return;
    if (w.old && onlyGcFields(w.obj, w.old)) return;
    const name = String(w.obj.metadata?.name ?? '');
    const namespace = String(w.obj.metadata?.namespace ?? '');
    const plural = RBAC_PLURALS[w.kind]!;
    if (w.kind === 'Role' || w.kind === 'ClusterRole') {
      if (this.allowed(w.user, 'escalate', plural, w.operation === 'create' ? '' : name, namespace)) return;
      if (w.kind === 'ClusterRole' && (w.obj.aggregationRule || w.old?.aggregationRule)) {
        // Aggregation can pull in any rule, so only a full administrator may set it.
        const all = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }];
        if (!this.confirmNoEscalation(w.user, namespace, all).ok) {
          throw newForbidden(RBAC, plural, name, 'must have cluster-admin privileges to use the aggregationRule');
        }
      }
      const r = this.confirmNoEscalation(w.user, namespace, rulesOf(w.obj));
      if (!r.ok) throw newForbidden(RBAC, plural, name, r.message);
      return;
    }
    // Bindings.
    const ref = w.obj.roleRef ?? {};
    const refPlural = RBAC_PLURALS[ref.kind];
    if (refPlural && this.allowed(w.user, 'bind', refPlural, String(ref.name ?? ''), w.kind === 'RoleBinding' ? namespace : '')) return;
    const rules = this.referencedRules(ref, namespace);
    const r = this.confirmNoEscalation(w.user, namespace, rules);
    if (!r.ok) throw newForbidden(RBAC, plural, name, r.message);
  }

  private allowed(user: RequestUser, verb: string, resource: string, name: string, namespace: string): boolean {
    return this.authz.authorize({ user, verb, resourceRequest: true, path: '', namespace, apiGroup: RBAC, apiVersion: '', resource, subresource: '', name }).decision === 'Allow';
  }

  private referencedRules(ref: Obj, namespace: string): PolicyRule[] {
    if (ref.kind === 'ClusterRole') {
      const role = this.src.get(`${RBAC_BUCKETS.clusterRoles}${ref.name}`);
      if (!role) throw notFound({ group: RBAC, resource: 'clusterroles' }, String(ref.name));
      return rulesOf(role);
    }
    if (ref.kind === 'Role') {
      const role = this.src.get(`${RBAC_BUCKETS.roles}${namespace}/${ref.name}`);
      if (!role) throw notFound({ group: RBAC, resource: 'roles' }, String(ref.name));
      return rulesOf(role);
    }
    throw new ApiError(400, 'BadRequest', `unsupported role reference kind: "${ref.kind}"`);
  }

  /** upstream ConfirmNoEscalation: the writer's rules in the namespace must cover `rules`. */
  confirmNoEscalation(user: RequestUser, namespace: string, rules: PolicyRule[]): { ok: true } | { ok: false; message: string } {
    const owner = this.rbac.rules(user, namespace);
    const { covered, missing } = covers(owner.rules, rules);
    if (covered) return { ok: true };
    const lines = [...new Set(compactRules(missing).map(compactString))].sort();
    let message = `user ${JSON.stringify(user.user)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
    if (owner.errors.length) message += `; resolution errors: [${owner.errors.join(' ')}]`;
    return { ok: false, message };
  }
}
