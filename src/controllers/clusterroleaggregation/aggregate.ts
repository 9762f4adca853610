// The decision of kube-controller-manager's clusterrole-aggregation controller: the rules an
// aggregated ClusterRole should hold. For each selector in order, the matching ClusterRoles (sorted
// by name, the role itself excluded) contribute each rule not already there. Pure.
import type { Obj } from '../../api/resource.ts';
import { selectorMatches } from '../../api/validation/selector.ts';

const same = (a: unknown, b: unknown) => JSON.stringify(normalRule(a)) === JSON.stringify(normalRule(b));

/** Empty and missing lists are the same rule (Go's semantic equality of nil and empty slices). */
function normalRule(r: unknown): unknown {
  const o = (r ?? {}) as Obj;
  const f = (v: unknown) => (Array.isArray(v) && v.length ? v : null);
  return [f(o.verbs), f(o.apiGroups), f(o.resources), f(o.resourceNames), f(o.nonResourceURLs)];
}

export function aggregatedRules(role: Obj, all: Obj[]): Obj[] {
  const out: Obj[] = [];
  const sorted = [...all].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const selector of role.aggregationRule?.clusterRoleSelectors ?? []) {
    for (const other of sorted) {
      if (other.metadata.name === role.metadata.name) continue;
      if (!selectorMatches(selector, other.metadata.labels ?? {})) continue;
      for (const rule of Array.isArray(other.rules) ? other.rules : []) if (!out.some((r) => same(r, rule))) out.push(rule);
    }
  }
  return out;
}

/** Whether the role's rules already are `rules`, in order. */
export function rulesEqual(current: unknown, rules: Obj[]): boolean {
  const cur = Array.isArray(current) ? current : [];
  return cur.length === rules.length && cur.every((r, i) => same(r, rules[i]));
}
