// Turns a URL path into what it addresses: a resource, maybe a namespace, name and subresource.
import type { ResourceDef } from '../api/resource.ts';
import { resources, groupVersion, onResourcesChanged } from '../api/registry.ts';

export interface ResourceRequest {
  resource: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** Legacy '/watch/' path prefix. */
  watchPath: boolean;
}

let byGvPlural = new Map<string, ResourceDef>();
/** By group and plural: the first served version of each, as a scan of `resources` finds it. */
let byGroupPlural = new Map<string, ResourceDef>();
function index(): void {
  const m = new Map<string, ResourceDef>();
  const g = new Map<string, ResourceDef>();
  for (const r of resources) {
    m.set(`${groupVersion(r)}/${r.plural}`, r);
    const k = `${r.group}/${r.plural}`;
    if (!g.has(k)) g.set(k, r);
  }
  byGvPlural = m;
  byGroupPlural = g;
}
index();
// Custom resources come and go with their definitions; lookups stay one map access.
onResourcesChanged(index);

export function resourceFor(gv: string, plural: string): ResourceDef | undefined {
  return byGvPlural.get(`${gv}/${plural}`);
}

export function findResource(group: string, plural: string): ResourceDef | undefined {
  return byGroupPlural.get(`${group}/${plural}`);
}

/** findResource for clients: a kind the server does not serve is a programming error. */
export function requireResource(group: string, plural: string): ResourceDef {
  const r = findResource(group, plural);
  if (!r) throw new Error(`unknown resource ${plural}.${group}`);
  return r;
}

/** undefined: not a resource path; null: a resource path naming nothing we serve. */
export function parseResourcePath(path: string): ResourceRequest | null | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let gv: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    gv = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    gv = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  // '/namespaces/<ns>/<resource>...' addresses namespaced resources; '/namespaces[/<name>[/status|finalize]]' the namespaces themselves.
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = resourceFor(gv, rest[0]);
  if (!resource || rest.length > 3) return null;
  if (namespace !== undefined && !resource.namespaced) return null;
  return { resource, namespace, name: rest[1], subresource: rest[2], watchPath };
}
