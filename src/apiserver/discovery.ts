// Discovery documents, legacy and aggregated (apidiscovery.k8s.io/v2), built once from the registry.
import type { ResourceDef, SubresourceName } from '../api/resource.ts';
import { resources, groupVersion, createOnlyResources, onResourcesChanged } from '../api/registry.ts';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface SubDef {
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

function subresourceDef(r: ResourceDef, s: SubresourceName): SubDef {
  switch (s) {
    case 'status':
    case 'approval':
      return { kind: r.kind, verbs: ['get', 'patch', 'update'] };
    case 'scale':
      return { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };
    case 'binding':
      return { kind: 'Binding', verbs: ['create'] };
    case 'eviction':
      return { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] };
    case 'finalize':
      return { kind: r.kind, verbs: ['update'] };
    case 'token':
      return { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] };
  }
}

/** Connect subresources served outside the generic registry (src/apiserver/streaming), as upstream lists them. */
const CONNECT_SUBRESOURCES: Record<string, { name: string; def: SubDef }[]> = {
  'v1/pods': [
    { name: 'attach', def: { kind: 'PodAttachOptions', verbs: ['create', 'get'] } },
    { name: 'exec', def: { kind: 'PodExecOptions', verbs: ['create', 'get'] } },
    { name: 'log', def: { kind: 'Pod', verbs: ['get'] } },
    { name: 'portforward', def: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] } },
  ],
  // The node proxy (src/apiserver/node-proxy.ts).
  'v1/nodes': [{ name: 'proxy', def: { kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] } }],
};

/** A resource's subresources in name order, as upstream's discovery lists them. */
function subresourcesOf(r: ResourceDef): { name: string; def: SubDef }[] {
  const all = [...r.subresources.map((s) => ({ name: s as string, def: subresourceDef(r, s) })), ...(CONNECT_SUBRESOURCES[`${groupVersion(r)}/${r.plural}`] ?? [])];
  return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Served groups and their versions, in discovery order; rebuilt when custom kinds change. */
export let groups: { name: string; versions: string[] }[] = [];

function buildGroups(): void {
  const out: { name: string; versions: string[] }[] = [];
  for (const r of [...resources, ...createOnlyResources]) {
    let g = out.find((x) => x.name === r.group);
    if (!g) out.push((g = { name: r.group, versions: [] }));
    if (!g.versions.includes(r.version)) g.versions.push(r.version);
  }
  // Upstream lists authentication.k8s.io right after apps (and events.k8s.io, which we do not serve).
  const auth = out.findIndex((g) => g.name === 'authentication.k8s.io');
  const apps = out.findIndex((g) => g.name === 'apps');
  if (auth > apps && apps >= 0) out.splice(apps + 1, 0, ...out.splice(auth, 1));
  // A custom group lists its versions by Kubernetes version priority, the preferred one first.
  const custom = new Set(resources.filter((r) => r.custom).map((r) => r.group));
  for (const g of out) if (custom.has(g.name)) g.versions.sort(compareKubeVersions);
  groups = out;
}
buildGroups();
onResourcesChanged(buildGroups);

/** Kubernetes version priority: GA before beta before alpha, higher numbers first, then other names alphabetically. */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return { rank: 0, major: 0, minor: 0 };
    return { rank: m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, major: Number(m[1]), minor: Number(m[3] ?? 0) };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.rank !== y.rank) return y.rank - x.rank;
  if (x.rank === 0) return a < b ? -1 : a > b ? 1 : 0;
  if (x.major !== y.major) return y.major - x.major;
  return y.minor - x.minor;
}

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(g: { name: string; versions: string[] }) {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

export function apiGroupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.filter((g) => g.name).map(apiGroup) };
}

export function apiGroupDoc(name: string) {
  const g = groups.find((x) => x.name === name && name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g) } : undefined;
}

export function apiResourceList(gv: string) {
  const rs = resources.filter((r) => groupVersion(r) === gv);
  const createOnly = createOnlyResources.filter((r) => groupVersion(r) === gv);
  if (!rs.length && !createOnly.length) return undefined;
  const list: object[] = createOnly.map((r) => ({ name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: ['create'] }));
  for (const r of rs) {
    const entry: Record<string, unknown> = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: VERBS };
    if (r.shortNames.length) entry.shortNames = r.shortNames;
    if (r.categories.length) entry.categories = r.categories;
    list.push(entry);
    for (const { name: s, def: d } of subresourcesOf(r)) {
      const sub: Record<string, unknown> = { name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced, kind: d.kind, verbs: d.verbs };
      if (d.group) Object.assign(sub, { group: d.group, version: d.version });
      list.push(sub);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources: list };
}

/** Aggregated discovery for '/api' (core) or '/apis' (named groups). */
export function aggregatedDiscovery(core: boolean, version: 'v2' | 'v2beta1') {
  const items = groups
    .filter((g) => (core ? g.name === '' : g.name !== ''))
    .map((g) => ({
      metadata: { name: g.name, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: [
          ...createOnlyResources
            .filter((r) => r.group === g.name && r.version === v)
            .map((r) => ({
              resource: r.plural,
              responseKind: { group: r.group, version: r.version, kind: r.kind },
              scope: r.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: r.singular,
              verbs: ['create'],
            })),
          ...resources
          .filter((r) => r.group === g.name && r.version === v)
          .map((r) => {
            const e: Record<string, unknown> = {
              resource: r.plural,
              responseKind: { group: r.group, version: r.version, kind: r.kind },
              scope: r.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: r.singular,
              verbs: VERBS,
            };
            if (r.shortNames.length) e.shortNames = r.shortNames;
            if (r.categories.length) e.categories = r.categories;
            const subs = subresourcesOf(r);
            if (subs.length) {
              e.subresources = subs.map(({ name: s, def: d }) => {
                return { subresource: s, responseKind: { group: d.group ?? r.group, version: d.version ?? r.version, kind: d.kind }, verbs: d.verbs };
              });
            }
            return e;
          }),
        ],
        freshness: 'Current',
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

/** Which aggregated discovery version the client accepts, if any. */
export function wantsAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    if (!part.includes('as=APIGroupDiscoveryList') || !part.includes('g=apidiscovery.k8s.io')) continue;
    if (/v=v2(;|$|\s)/.test(part)) return 'v2';
    if (part.includes('v=v2beta1')) return 'v2beta1';
  }
  return undefined;
}
