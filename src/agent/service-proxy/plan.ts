// What a node's service proxy should do, decided from Services and EndpointSlices alone: which
// ClusterIPs the node holds, and for each ClusterIP:port/protocol the backends its traffic goes to.
// Pure, so the rules are table-tested; proxy.ts carries them out.
//
// Backends follow kube-proxy: ready endpoints of the Service's slices, matched by port name and
// protocol; when none is ready, endpoints that are still serving while terminating (so connections
// drain during a rolling update instead of being refused); none at all means no listener, so
// clients are refused at once, as kube-proxy's REJECT rule does.
import type { Obj } from '../../api/resource.ts';

export type Protocol = 'TCP' | 'UDP';

export interface Backend {
  /** An address (endpoint IP) or, for the API server, a host name. */
  host: string;
  port: number;
}

export interface ListenerPlan {
  /** `ip:port/PROTO`: what a listener is known by across plans. */
  key: string;
  ip: string;
  port: number;
  protocol: Protocol;
  /** `namespace/name:portName`, for logs. */
  service: string;
  backends: Backend[];
  /** sessionAffinity ClientIP: how long a client sticks to its backend, in seconds. */
  affinitySeconds?: number;
}

export interface ProxyPlan {
  /** Addresses the node must hold (sorted). */
  addresses: string[];
  /** Listeners with at least one backend (sorted by key). */
  listeners: ListenerPlan[];
}

export interface PlanOptions {
  /** Addresses held whatever the Services say, and served by the node itself (cluster DNS): no listener is planned on them. */
  localAddresses?: string[];
  /**
   * Services whose every TCP port goes to fixed backends instead of their endpoints, by
   * `namespace/name`: the API server's own Service goes to the servers this node's agent talks to.
   */
  fixedBackends?: Record<string, Backend[]>;
  /**
   * Which addresses may be held (the service CIDR): a ClusterIP outside it (stale data, another
   * range) would take over a real address of the network for this host, so it is left alone.
   */
  holdable?: (ip: string) => boolean;
}

/** Where a server URL (an agent's --server) is reached: its host, brackets of an IPv6 literal removed, and port. */
export function backendOfUrl(url: string): Backend {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443) };
}

/** kube-proxy's default ClientIP affinity timeout (3 hours). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export const serviceKey = (o: Obj): string => `${o.metadata.namespace}/${o.metadata.name}`;

/** The node's ClusterIPs of a Service: none for headless and ExternalName Services. IPv4 only. */
export function clusterIPsOf(svc: Obj): string[] {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const ips: string[] = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  return ips.filter((ip) => ip !== 'None' && /^\d+\.\d+\.\d+\.\d+$/.test(ip));
}

/**
 * The backends of one Service port from its slices: ready endpoints, else serving-and-terminating
 * ones. A slice port matches by name ('' for an unnamed port) and protocol.
 */
export function backendsFor(svcPort: Obj, slices: Obj[]): Backend[] {
  const name = svcPort.name ?? '';
  const protocol = svcPort.protocol ?? 'TCP';
  const ready: Backend[] = [];
  const terminating: Backend[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    if ((slice.addressType ?? 'IPv4') !== 'IPv4') continue;
    const port = (slice.ports ?? []).find((p: Obj) => (p.name ?? '') === name && (p.protocol ?? 'TCP') === protocol);
    if (!port || typeof port.port !== 'number') continue;
    for (const ep of slice.endpoints ?? []) {
      const c = ep.conditions ?? {};
      // A nil ready condition means ready (the API's "unknown state, interpret as ready").
      const isReady = c.ready !== false;
      const isServingTerminating = !isReady && c.serving === true && c.terminating === true;
      if (!isReady && !isServingTerminating) continue;
      const address = ep.addresses?.[0];
      if (typeof address !== 'string') continue;
      const id = `${address}:${port.port}`;
      if (seen.has(id)) continue;
      seen.add(id);
      (isReady ? ready : terminating).push({ host: address, port: port.port });
    }
  }
  return ready.length ? ready : terminating;
}

/** Slices by the `namespace/name` of the Service they belong to. */
export function slicesByService(slices: Iterable<Obj>): Map<string, Obj[]> {
  const out = new Map<string, Obj[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${s.metadata.namespace}/${svc}`;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(s);
  }
  return out;
}

export function planProxy(services: Iterable<Obj>, slices: Iterable<Obj>, opts: PlanOptions = {}): ProxyPlan {
  const local = new Set(opts.localAddresses ?? []);
  const addresses = new Set(local);
  const listeners = new Map<string, ListenerPlan>();
  const bySvc = slicesByService(slices);
  for (const svc of services) {
    const ips = clusterIPsOf(svc).filter((ip) => !opts.holdable || opts.holdable(ip));
    if (!ips.length) continue;
    const key = serviceKey(svc);
    const fixed = opts.fixedBackends?.[key];
    const affinitySeconds =
      svc.spec?.sessionAffinity === 'ClientIP' ? (svc.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : undefined;
    for (const ip of ips) {
      addresses.add(ip);
      if (local.has(ip)) continue;
      for (const p of svc.spec?.ports ?? []) {
        const protocol = p.protocol ?? 'TCP';
        if (protocol !== 'TCP' && protocol !== 'UDP') continue;
        const backends = fixed ? (protocol === 'TCP' ? fixed : []) : backendsFor(p, bySvc.get(key) ?? []);
        if (!backends.length) continue;
        const lkey = `${ip}:${p.port}/${protocol}`;
        // Two Services cannot share a ClusterIP; should stale data say otherwise, the first keeps it.
        if (listeners.has(lkey)) continue;
        listeners.set(lkey, { key: lkey, ip, port: p.port, protocol, service: `${key}:${p.name ?? ''}`, backends, ...(affinitySeconds ? { affinitySeconds } : {}) });
      }
    }
  }
  return {
    addresses: [...addresses].sort(),
    listeners: [...listeners.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
  };
}

/** What changes between two sets of held addresses. */
export function addressChanges(have: Iterable<string>, want: Iterable<string>): { add: string[]; remove: string[] } {
  const h = new Set(have);
  const w = new Set(want);
  return { add: [...w].filter((a) => !h.has(a)), remove: [...h].filter((a) => !w.has(a)) };
}
