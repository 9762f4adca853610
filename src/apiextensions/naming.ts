// The naming decision (upstream's naming controller): a definition's names are accepted unless
// another definition of the same group already serves one of them. Pure.
import type { Obj } from '../api/resource.ts';
import type { Condition } from './conditions.ts';

export interface NamingDecision {
  acceptedNames: Obj;
  namesAccepted: Condition;
}

/** Decides crd's accepted names against the names the other definitions of its group hold. */
export function decideNames(crd: Obj, others: Obj[]): NamingDecision {
  const group = crd.spec?.group;
  const requested: Obj = crd.spec?.names ?? {};
  const taken = { resources: new Set<string>(), kinds: new Set<string>() };
  for (const o of others) {
    if (o.metadata?.name === crd.metadata?.name || o.spec?.group !== group) continue;
    const n: Obj = o.status?.acceptedNames ?? {};
    for (const r of [n.plural, n.singular, ...(n.shortNames ?? [])]) if (r) taken.resources.add(r);
    for (const k of [n.kind, n.listKind]) if (k) taken.kinds.add(k);
  }
  const current: Obj = crd.status?.acceptedNames ?? {};
  const conflict = (reason: string, message: string): NamingDecision => ({
    // Names already accepted stay served while the new ones conflict, as upstream keeps them.
    acceptedNames: current.plural ? current : { plural: '', kind: '' },
    namesAccepted: { type: 'NamesAccepted', status: 'False', reason, message },
  });
  if (taken.resources.has(requested.plural)) return conflict('PluralConflict', `"${requested.plural}" is already in use`);
  if (taken.resources.has(requested.singular)) return conflict('SingularConflict', `"${requested.singular}" is already in use`);
  for (const s of requested.shortNames ?? []) if (taken.resources.has(s)) return conflict('ShortNamesConflict', `"${s}" is already in use`);
  if (taken.kinds.has(requested.kind)) return conflict('KindConflict', `"${requested.kind}" is already in use`);
  if (taken.kinds.has(requested.listKind)) return conflict('ListKindConflict', `"${requested.listKind}" is already in use`);
  const acceptedNames: Obj = { plural: requested.plural, singular: requested.singular, kind: requested.kind, listKind: requested.listKind };
  if (requested.shortNames?.length) acceptedNames.shortNames = requested.shortNames;
  if (requested.categories?.length) acceptedNames.categories = requested.categories;
  return { acceptedNames, namesAccepted: { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' } };
}
