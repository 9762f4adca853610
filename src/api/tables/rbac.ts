// `kubectl get roles|clusterroles|rolebindings|clusterrolebindings`: upstream's printers.
import type { Obj, TableDef } from '../resource.ts';
import { ageColumn, ageOf, col, doc, nameColumn, nameOf } from './helpers.ts';

/** Roles show their creation time as RFC 3339 in UTC, not an age. */
export const roleTable: TableDef = {
  columns: [nameColumn(), col('Created At', doc('ObjectMeta.creationTimestamp'), { type: 'date' })],
  cells: (role) => [nameOf(role), role.metadata?.creationTimestamp ?? null],
};

function subjectsCells(b: Obj): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of b.subjects ?? []) {
    if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
    else if (s.kind === 'ServiceAccount') sas.push(`${s.namespace ?? ''}/${s.name}`);
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

export const bindingTable: TableDef = {
  columns: [
    nameColumn(),
    col('Role', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.'),
    ageColumn(),
    col('Users', 'Users in the roleBinding', { priority: 1 }),
    col('Groups', 'Groups in the roleBinding', { priority: 1 }),
    col('ServiceAccounts', 'ServiceAccounts in the roleBinding', { priority: 1 }),
  ],
  cells: (b, now) => [nameOf(b), `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, ageOf(b, now), ...subjectsCells(b)],
};
