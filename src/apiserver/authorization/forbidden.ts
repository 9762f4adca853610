// The 403 a refused request gets: upstream's responsewriters.Forbidden over apierrors.NewForbidden.
import { ApiError } from '../errors.ts';
import type { Attributes } from './types.ts';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** "User "u" cannot verb resource "r[/sub]" in API group "g" in the namespace "ns"" (or at the cluster scope, or a path). */
export function forbiddenMessage(a: Attributes): string {
  const user = a.user.user;
  if (!a.resourceRequest) return `User ${q(user)} cannot ${a.verb} path ${q(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  if (a.namespace) return `User ${q(user)} cannot ${a.verb} resource ${q(resource)} in API group ${q(a.apiGroup)} in the namespace ${q(a.namespace)}`;
  return `User ${q(user)} cannot ${a.verb} resource ${q(resource)} in API group ${q(a.apiGroup)} at the cluster scope`;
}

/** Go's %q: JSON quoting is the same for the names that occur here. */
function q(s: string): string {
  return JSON.stringify(s);
}

/** apierrors.NewForbidden: prefixed with the qualified resource and name when there are any. */
export function newForbidden(group: string, resource: string, name: string, message: string): ApiError {
  const qualified = group ? `${resource}.${group}` : resource;
  let full: string;
  if (!group && !resource) full = `forbidden: ${message}`;
  else if (!name) full = `${qualified} is forbidden: ${message}`;
  else full = `${qualified} ${q(name)} is forbidden: ${message}`;
  const details: Record<string, string> = {};
  if (name) details.name = name;
  if (group) details.group = group;
  if (resource) details.kind = resource;
  return new ApiError(403, 'Forbidden', full, details);
}

export function forbiddenError(a: Attributes, reason: string): ApiError {
  const msg = forbiddenMessage(a).replace(/[&<>]/g, (c) => HTML_ESCAPES[c]!);
  return newForbidden(a.apiGroup, a.resource, a.name, reason ? `${msg}: ${reason}` : msg);
}
