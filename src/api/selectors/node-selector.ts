// Node selectors (NodeSelector, NodeSelectorTerm, NodeSelectorRequirement) as upstream's
// component-helpers evaluate them: used by the scheduler (node affinity) and by the volume
// controller (a local volume's node affinity).
import type { Obj } from '../resource.ts';

/** One NodeSelectorRequirement against a node's labels (matchExpressions). */
export function nodeSelectorRequirementMatches(req: Obj, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  const values: string[] = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      if (!/^-?[0-9]+$/.test(value) || !/^-?[0-9]+$/.test(values[0])) return false;
      const a = BigInt(value);
      const b = BigInt(values[0]);
      return req.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** A NodeSelectorTerm: all its matchExpressions (labels) and matchFields (metadata.name) hold; an empty term matches nothing. */
export function nodeSelectorTermMatches(term: Obj, node: Obj): boolean {
  const exprs: Obj[] = term.matchExpressions ?? [];
  const fields: Obj[] = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  if (!exprs.every((e) => nodeSelectorRequirementMatches(e, labels))) return false;
  return fields.every((f) => f.key === 'metadata.name' && nodeSelectorRequirementMatches(f, { 'metadata.name': node.metadata.name }));
}

/** A NodeSelector: any of its terms matches. */
export const nodeSelectorMatches = (sel: Obj | undefined, node: Obj): boolean => (sel?.nodeSelectorTerms ?? []).some((t: Obj) => nodeSelectorTermMatches(t, node));

