// Whether one set of rules covers another (upstream component-helpers rbac/validation
// policy_comparator.go, and the compaction and rendering of what is missing). Pure. Used by
// escalation prevention and by policy reconciliation.
import type { PolicyRule } from './rules.ts';

const ALL = '*';
const list = (v: unknown): string[] => (Array.isArray(v) ? v : []);
const hasAll = (set: string[], want: string[]) => want.every((w) => set.includes(w));

/** One verb on one resource of one group (and one name), or one verb on one URL. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  const names = list(rule.resourceNames);
  for (const g of list(rule.apiGroups)) {
    for (const r of list(rule.resources)) {
      for (const v of list(rule.verbs)) {
        if (names.length) for (const n of names) out.push({ apiGroups: [g], resources: [r], verbs: [v], resourceNames: [n] });
        else out.push({ apiGroups: [g], resources: [r], verbs: [v] });
      }
    }
  }
  for (const u of list(rule.nonResourceURLs)) for (const v of list(rule.verbs)) out.push({ nonResourceURLs: [u], verbs: [v] });
  return out;
}

function resourcesCover(owner: string[], wanted: string[]): boolean {
  if (owner.includes(ALL)) return true;
  for (const r of wanted) {
    if (owner.includes(r)) continue;
    const slash = r.indexOf('/');
    if (slash >= 0 && owner.includes(`*${r.slice(slash)}`)) continue;
    return false;
  }
  return true;
}

function urlsCover(owner: string[], wanted: string[]): boolean {
  return wanted.every((w) => owner.some((o) => o === w || (o.endsWith('*') && w.startsWith(o.slice(0, -1)))));
}

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const ov = list(owner.verbs);
  const og = list(owner.apiGroups);
  const on = list(owner.resourceNames);
  const sn = list(sub.resourceNames);
  const verbs = ov.includes(ALL) || hasAll(ov, list(sub.verbs));
  const groups = og.includes(ALL) || hasAll(og, list(sub.apiGroups));
  const names = sn.length === 0 ? on.length === 0 : on.length === 0 || hasAll(on, sn);
  return verbs && groups && resourcesCover(list(owner.resources), list(sub.resources)) && names && urlsCover(list(owner.nonResourceURLs), list(sub.nonResourceURLs));
}

/** Whether `owner` covers every piece of `servant`, and the pieces it does not. */
export function covers(owner: PolicyRule[], servant: PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const s of servant) for (const piece of breakdownRule(s)) if (!owner.some((o) => ruleCovers(o, piece))) missing.push(piece);
  return { covered: missing.length === 0, missing };
}

/** Merges the verbs of pieces on the same group, resource and name (upstream CompactRules). */
export function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple = !list(r.nonResourceURLs).length && list(r.apiGroups).length === 1 && list(r.resources).length === 1 && list(r.resourceNames).length <= 1;
    if (!isSimple) {
      out.push(r);
      continue;
    }
    const key = JSON.stringify([r.apiGroups![0], r.resources![0], list(r.resourceNames)[0] ?? null]);
    const have = simple.get(key);
    if (have) have.verbs = [...list(have.verbs), ...list(r.verbs)];
    else simple.set(key, { ...r, verbs: [...list(r.verbs)] });
  }
  return [...out, ...simple.values()];
}

/** Go's %q of a []string: ["a" "b"]. */
export function goQuoteList(v: string[]): string {
  return `[${v.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** upstream rbacv1helpers.CompactString. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (list(r.apiGroups).length) parts.push(`APIGroups:${goQuoteList(r.apiGroups!)}`);
  if (list(r.resources).length) parts.push(`Resources:${goQuoteList(r.resources!)}`);
  if (list(r.nonResourceURLs).length) parts.push(`NonResourceURLs:${goQuoteList(r.nonResourceURLs!)}`);
  if (list(r.resourceNames).length) parts.push(`ResourceNames:${goQuoteList(r.resourceNames!)}`);
  if (list(r.verbs).length) parts.push(`Verbs:${goQuoteList(r.verbs!)}`);
  return `{${parts.join(', ')}}`;
}
