// The authorizer chain (upstream kubeapiserver/authorizer + authorization/union): members of the
// privileged group are always allowed, then each configured authorizer is asked in turn; the
// first Allow or Deny wins, otherwise the reasons and errors of all are kept.
import type { RequestUser } from '../../api/resource.ts';
import { NO_OPINION, type Attributes, type AuthorizationResult, type Authorizer, type RulesResult } from './types.ts';

/** user.SystemPrivilegedGroup. */
export const PRIVILEGED_GROUP = 'system:masters';

export class AuthorizerChain implements Authorizer {
  private readonly members: Authorizer[];

  constructor(members: Authorizer[]) {
    this.members = members;
  }

  /** Adds an authorizer (the Node authorizer goes before RBAC, as with --authorization-mode=Node,RBAC). */
  insert(a: Authorizer, position = this.members.length): void {
    this.members.splice(position, 0, a);
  }

  authorize(a: Attributes): AuthorizationResult {
    if (a.user.groups.includes(PRIVILEGED_GROUP)) return { decision: 'Allow', reason: '' };
    const reasons: string[] = [];
    const errors: string[] = [];
    for (const m of this.members) {
      const r = m.authorize(a);
      if (r.decision !== 'NoOpinion') return r;
      if (r.reason) reasons.push(r.reason);
      if (r.error) errors.push(r.error);
    }
    return NO_OPINION(reasons.join('\n'), errors.length ? errors.join(', ') : undefined);
  }

  rulesFor(user: RequestUser, namespace: string): RulesResult {
    const out: RulesResult = { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] };
    for (const m of this.members) {
      if (!m.rulesFor) {
        out.incomplete = true;
        continue;
      }
      const r = m.rulesFor(user, namespace);
      out.resourceRules.push(...r.resourceRules);
      out.nonResourceRules.push(...r.nonResourceRules);
      out.incomplete ||= r.incomplete;
      out.errors.push(...r.errors);
    }
    return out;
  }
}
