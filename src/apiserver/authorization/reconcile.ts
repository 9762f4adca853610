// Reconciling RBAC objects with what they should hold (upstream pkg/registry/rbac/reconciliation),
// as the bootstrap policy is kept at every start: missing objects are created; existing ones gain
// missing rules, aggregation selectors, subjects, labels and annotations, and lose nothing; a
// binding whose roleRef changed is recreated; objects annotated autoupdate=false are left alone.
// Pure.
import type { Obj } from '../../api/resource.ts';
import { covers } from './covers.ts';
import { AUTOUPDATE_ANNOTATION } from './bootstrap-policy.ts';

export type ReconcileAction = { op: 'none' } | { op: 'create'; obj: Obj } | { op: 'update'; obj: Obj } | { op: 'recreate'; obj: Obj };

const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);

function isProtected(existing: Obj): boolean {
  return existing.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === 'false';
}

/** Expected labels and annotations are added; existing values win. `changed` when something was added. */
function mergedMeta(expected: Obj, existing: Obj): { meta: Obj; changed: boolean } {
  const meta = { ...existing.metadata };
  let changed = false;
  for (const field of ['labels', 'annotations']) {
    const want: Record<string, string> = expected.metadata?.[field] ?? {};
    const have: Record<string, string> = existing.metadata?.[field] ?? {};
    const add = Object.keys(want).filter((k) => !(k in have));
    if (!add.length) continue;
    changed = true;
    meta[field] = { ...have, ...Object.fromEntries(add.map((k) => [k, want[k]])) };
  }
  return { meta, changed };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function reconcileRole(expected: Obj, existing: Obj | undefined): ReconcileAction {
  if (!existing) return { op: 'create', obj: expected };
  if (isProtected(existing)) return { op: 'none' };
  const { meta, changed: metaChanged } = mergedMeta(expected, existing);
  let changed = metaChanged;
  const out: Obj = { ...existing, metadata: meta };
  // At a restart the rules are usually just as expected: that is decided without the rule-by-rule cover check.
  const { missing } = same(existing.rules, expected.rules) ? { missing: [] } : covers(list(existing.rules), list(expected.rules));
  if (missing.length) {
    out.rules = [...list(existing.rules), ...missing];
    changed = true;
  }
  if (expected.aggregationRule) {
    const have = list(existing.aggregationRule?.clusterRoleSelectors);
    const add = list(expected.aggregationRule.clusterRoleSelectors).filter((s) => !have.some((h) => same(h, s)));
    if (add.length || !existing.aggregationRule) {
      out.aggregationRule = { ...existing.aggregationRule, clusterRoleSelectors: [...have, ...add] };
      changed = true;
    }
  }
  return changed ? { op: 'update', obj: out } : { op: 'none' };
}

const subjectKey = (s: Obj) => JSON.stringify([s.kind, s.apiGroup ?? '', s.name, s.namespace ?? '']);

export function reconcileBinding(expected: Obj, existing: Obj | undefined): ReconcileAction {
  if (!existing) return { op: 'create', obj: expected };
  if (isProtected(existing)) return { op: 'none' };
  const ref = (r: Obj | undefined) => [r?.apiGroup, r?.kind, r?.name];
  const { meta, changed } = mergedMeta(expected, existing);
  if (!same(ref(existing.roleRef), ref(expected.roleRef))) return { op: 'recreate', obj: { ...expected, metadata: { name: meta.name, namespace: meta.namespace, labels: meta.labels, annotations: meta.annotations } } };
  const out: Obj = { ...existing, metadata: meta };
  const have = new Set(list(existing.subjects).map(subjectKey));
  const add = list(expected.subjects).filter((s) => !have.has(subjectKey(s)));
  if (add.length) out.subjects = [...list(existing.subjects), ...add];
  return changed || add.length ? { op: 'update', obj: out } : { op: 'none' };
}
