// Where objects live in etcd. Inside Ordinal every key is '/registry/<group>/<resource>/[<ns>/]<name>'
// (group 'core' for the legacy group): the watch cache buckets by those four segments. In etcd the
// keys are laid out as kube-apiserver lays them out, so that `etcdctl get --prefix /registry/`
// reads like any cluster's: built-in resources under their resource name alone (whatever their
// group), a few under historical names, and resources of other groups (CRDs, aggregated APIs) under
// '<group>/<resource>'. The mapping is a bijection on the keys Ordinal writes; etcd keys it does not
// know (another program's, upstream's own bookkeeping) map to nothing and are ignored.

export interface GroupResource {
  /** '' or 'core' for the legacy group. */
  group: string;
  resource: string;
}

/** kube-apiserver's specialDefaultResourcePrefixes: resources stored under another name than their own. */
const SPECIAL_PREFIXES: Record<string, string> = {
  'core/replicationcontrollers': 'controllers',
  'core/endpoints': 'services/endpoints',
  'core/nodes': 'minions',
  'core/services': 'services/specs',
  'extensions/ingresses': 'ingress',
  'networking.k8s.io/ingresses': 'ingress',
  'extensions/podsecuritypolicies': 'podsecuritypolicy',
  'policy/podsecuritypolicies': 'podsecuritypolicy',
};

/**
 * Groups served by the aggregator and the CRD server keep their group in the key, as every
 * group that is not built into kube-apiserver does.
 */
const GROUP_PREFIXED = new Set(['apiextensions.k8s.io', 'apiregistration.k8s.io']);

export class KeyLayout {
  /** The etcd prefix, without a trailing slash ('/registry' by default, kube-apiserver's --etcd-prefix). */
  readonly prefix: string;
  /** 'core/pods' → 'pods' */
  private readonly toEtcdPrefix = new Map<string, string>();
  /** 'pods' → 'core/pods', 'services/specs' → 'core/services' */
  private readonly fromEtcdPrefix = new Map<string, string>();

  /** builtins: the resources built into the server (any others are taken for custom resources). */
  constructor(builtins: GroupResource[], prefix = '/registry') {
    this.prefix = prefix.replace(/\/+$/, '');
    for (const { group, resource } of builtins) {
      const gr = `${group || 'core'}/${resource}`;
      const stored = GROUP_PREFIXED.has(group) ? gr : (SPECIAL_PREFIXES[gr] ?? resource);
      this.toEtcdPrefix.set(gr, stored);
      // Two groups may share storage (e.g. ingresses in extensions and networking.k8s.io): the
      // first one registered owns the reverse direction.
      if (!this.fromEtcdPrefix.has(stored)) this.fromEtcdPrefix.set(stored, gr);
    }
  }

  /**
   * '/registry/core/pods/default/web-0' → '/registry/pods/default/web-0'. Also maps prefixes that
   * end after the resource or the namespace ('/registry/core/pods/', '/registry/core/pods/default/').
   * '/registry/' alone is the whole key space.
   */
  toEtcd(key: string): string {
    const parts = splitInternal(key);
    if (!parts) throw new Error(`not an Ordinal storage key: ${key}`);
    if (parts.group === undefined) return `${this.prefix}/`;
    const gr = `${parts.group}/${parts.resource}`;
    const stored = this.toEtcdPrefix.get(gr) ?? gr;
    return `${this.prefix}/${stored}${parts.rest}`;
  }

  /** The inverse of toEtcd, or undefined for etcd keys that are not Ordinal objects. */
  fromEtcd(etcdKey: string): string | undefined {
    if (!etcdKey.startsWith(`${this.prefix}/`)) return undefined;
    const path = etcdKey.slice(this.prefix.length + 1);
    const first = path.indexOf('/');
    if (first <= 0) return undefined;
    const second = path.indexOf('/', first + 1);
    // Two-segment stored prefixes ('services/specs', or '<group>/<resource>') are tried first.
    if (second > 0) {
      const two = path.slice(0, second);
      const gr = this.fromEtcdPrefix.get(two);
      if (gr) return `/registry/${gr}${path.slice(second)}`;
    }
    const one = path.slice(0, first);
    const gr = this.fromEtcdPrefix.get(one);
    if (gr) return `/registry/${gr}${path.slice(first)}`;
    // Resource names never hold a dot and group names of custom resources always do.
    if (one.includes('.') && second > 0 && second + 1 < path.length) return `/registry/${path}`;
    return undefined;
  }
}

/** '/registry/<group>/<resource><rest>' in parts; group undefined for '/registry/' itself. */
function splitInternal(key: string): { group?: string; resource?: string; rest: string } | undefined {
  if (!key.startsWith('/registry/')) return undefined;
  const path = key.slice('/registry/'.length);
  if (path === '') return { rest: '' };
  const slash = path.indexOf('/');
  if (slash <= 0) return undefined;
  const second = path.indexOf('/', slash + 1);
  if (second < 0) return undefined;
  return { group: path.slice(0, slash), resource: path.slice(slash + 1, second), rest: path.slice(second) };
}
