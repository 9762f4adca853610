// Request attributes from a URL and method, as upstream's RequestInfoFactory derives them
// (apiserver endpoints/request/requestinfo.go). Pure.
import type { RequestUser } from '../../api/resource.ts';
import type { Attributes } from './types.ts';

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/**
 * `path` is the URL path (not decoded), `query` its parameters. Resource requests are paths under
 * /api/<version>/... or /apis/<group>/<version>/...; everything else is a non-resource request whose
 * verb is the lower-cased method.
 */
export function requestAttributes(user: RequestUser, method: string, path: string, query: URLSearchParams): Attributes {
  const a: Attributes = { user, verb: method.toLowerCase(), resourceRequest: false, path, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '' };
  let parts = path.split('/').filter(Boolean);
  try {
    parts = parts.map(decodeURIComponent);
  } catch {
    return a;
  }
  if (parts[0] === 'api' && parts.length >= 3) {
    a.apiVersion = parts[1]!;
    parts = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    a.apiGroup = parts[1]!;
    a.apiVersion = parts[2]!;
    parts = parts.slice(3);
  } else {
    return a;
  }
  a.resourceRequest = true;
  let prefixVerb = '';
  if (parts[0] === 'watch' || parts[0] === 'proxy') {
    prefixVerb = parts[0];
    a.verb = prefixVerb;
    parts = parts.slice(1);
  } else {
    switch (method.toUpperCase()) {
      case 'POST': a.verb = 'create'; break;
      case 'GET': case 'HEAD': a.verb = 'get'; break;
      case 'PUT': a.verb = 'update'; break;
      case 'PATCH': a.verb = 'patch'; break;
      case 'DELETE': a.verb = 'delete'; break;
      default: a.verb = '';
    }
  }
  // /namespaces/<ns>/<resource>...: the namespace, then the resource path within it; the
  // namespace's own subresources (status, finalize) stay on the namespaces resource.
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) a.namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }
  a.resource = parts[0] ?? '';
  if (parts.length >= 2) a.name = parts[1]!;
  if (parts.length >= 3 && prefixVerb !== 'proxy') a.subresource = parts[2]!;
  // A GET without a name lists, or watches when asked to.
  if (!a.name && a.verb === 'get') {
    const w = query.get('watch');
    a.verb = w !== null && w !== 'false' && w !== '0' ? 'watch' : 'list';
  }
  if (!a.name && a.verb === 'delete') a.verb = 'deletecollection';
  // Selectors travel with list, watch and deletecollection, unless the deprecated watch path was used.
  if ((a.verb === 'list' || a.verb === 'watch' || a.verb === 'deletecollection') && prefixVerb === '') {
    const fs = query.get('fieldSelector');
    const ls = query.get('labelSelector');
    if (fs) a.fieldSelector = fs;
    if (ls) a.labelSelector = ls;
  }
  // A list or watch narrowed to one name by field selector is authorized as on that name.
  if ((a.verb === 'list' || a.verb === 'watch') && !a.name) {
    const name = singleNameSelector(query.get('fieldSelector'));
    if (name !== undefined) a.name = name;
  }
  return a;
}

/** The name a field selector pins with metadata.name=<x> (or ==), when that is its only requirement on the name. */
function singleNameSelector(sel: string | null): string | undefined {
  if (!sel) return undefined;
  let found: string | undefined;
  for (const term of sel.split(',')) {
    const m = /^\s*metadata\.name\s*(==|=)\s*(.*?)\s*$/.exec(term);
    if (!m) continue;
    if (found !== undefined) return undefined;
    found = m[2]!;
  }
  return found;
}
