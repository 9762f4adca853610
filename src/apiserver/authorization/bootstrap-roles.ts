// The API server's rbac/bootstrap-roles start-up step: the default policy (bootstrap-policy.ts)
// reconciled into the store (reconcile.ts) at every start, so a deleted default rule or binding
// comes back, and the administrator's additions stay.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import { findResource } from '../request.ts';
import type { ResourceStore } from '../resource-store.ts';
import { AUTOUPDATE_ANNOTATION, bootstrapPolicy, RETIRED_CLUSTER_ROLE_BINDINGS } from './bootstrap-policy.ts';
import { reconcileBinding, reconcileRole, type ReconcileAction } from './reconcile.ts';
import { log } from '../../util/log.ts';

const RBAC = 'rbac.authorization.k8s.io';

export async function reconcileBootstrapPolicy(rs: ResourceStore): Promise<void> {
  const p = bootstrapPolicy();
  const kinds: [string, Obj[], (e: Obj, x: Obj | undefined) => ReconcileAction][] = [
    ['clusterroles', p.clusterRoles, reconcileRole],
    ['clusterrolebindings', p.clusterRoleBindings, reconcileBinding],
    ['roles', p.roles, reconcileRole],
    ['rolebindings', p.roleBindings, reconcileBinding],
  ];
  // All kinds at once (the namespaces they live in exist already): the store commits a first
  // start's objects in one or two batches instead of one batch per kind.
  await Promise.all(kinds.flatMap(([plural, objs, reconcile]) => objs.map((expected) => apply(rs, findResource(RBAC, plural)!, expected, reconcile))));
  const crbs = findResource(RBAC, 'clusterrolebindings')!;
  for (const name of RETIRED_CLUSTER_ROLE_BINDINGS) {
    const old = rs.find(crbs, undefined, name);
    if (!old || old.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') continue;
    log('info', 'apiserver', `rbac/bootstrap-roles: delete retired ClusterRoleBinding ${name}`);
    await rs.delete(crbs, undefined, name, { preconditions: { uid: old.metadata.uid } }).catch(() => undefined);
  }
}

async function apply(rs: ResourceStore, r: ResourceDef, expected: Obj, reconcile: (e: Obj, x: Obj | undefined) => ReconcileAction): Promise<void> {
  const ns = expected.metadata.namespace as string | undefined;
  const existing = rs.find(r, ns, expected.metadata.name);
  // No copy of `expected`: bootstrapPolicy() builds new objects on each call, and create/update copy what they store.
  const action = reconcile(expected, existing);
  if (action.op === 'none') return;
  if (action.op !== 'create') log('info', 'apiserver', `rbac/bootstrap-roles: ${action.op} ${r.kind} ${ns ? `${ns}/` : ''}${expected.metadata.name}`);
  // typed: the policy is built here, as a compiled client's objects: no body for decoding's checks to look at.
  if (action.op === 'create') await rs.create(r, ns, action.obj, { typed: true });
  else if (action.op === 'update') await rs.update(r, ns, expected.metadata.name, action.obj, { typed: true });
  else {
    await rs.delete(r, ns, expected.metadata.name, { preconditions: { uid: existing!.metadata.uid } });
    await rs.create(r, ns, action.obj, { typed: true });
  }
}
