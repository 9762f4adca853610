// What cluster DNS knows about the cluster, kept small and indexed for lookups by name and by
// address: namespaces, Services, the ready addresses of EndpointSlices, and pod IPs. The server
// feeds it from informers one change at a time; tests build one from plain objects. Answers are
// computed from the read-only `ClusterView` side only, so they stay pure.
import type { Obj } from '../api/resource.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** One address of a Service's endpoints, as DNS sees it (only ready ones are kept). */
export interface EndpointAddress {
  ip: string;
  /** Set for pods that name the Service as their subdomain (StatefulSet pods). */
  hostname?: string;
  /** The pod's name, for the optional pod-name endpoint mode. */
  targetName?: string;
}

export interface EndpointPort {
  name: string;
  /** -1 when the slice lists no ports (a headless service without ports still has A records). */
  port: number;
  protocol: string;
}

/** One EndpointSlice reduced to what DNS needs: a group of addresses sharing a set of ports. */
export interface EndpointGroup {
  namespace: string;
  service: string;
  addresses: EndpointAddress[];
  ports: EndpointPort[];
}

export interface PodRecord {
  namespace: string;
  name: string;
  ips: string[];
}

export interface ClusterView {
  /** False until every informer listed once: a missing name then means "don't know yet". */
  readonly synced: boolean;
  /** Changes whenever the data changes; the SOA serial. */
  readonly serial: number;
  hasNamespace(ns: string): boolean;
  service(ns: string, name: string): Obj | undefined;
  endpointGroups(ns: string, service: string): EndpointGroup[];
  servicesByIP(ip: string): Obj[];
  endpointGroupsByIP(ip: string): EndpointGroup[];
  podsByIP(ip: string): PodRecord[];
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
export const isIPv4 = (s: string): boolean => IPV4.test(s) && s.split('.').every((o) => Number(o) <= 255);

const keyOf = (ns: string, name: string) => `${ns}/${name}`;
const objKey = (o: Obj) => keyOf(o.metadata.namespace ?? '', o.metadata.name);

/** A map of sets, for the many-to-many indexes (an IP can belong to several objects for a moment). */
class MultiMap<V> {
  private readonly m = new Map<string, Set<V>>();
  add(k: string, v: V): void {
    let s = this.m.get(k);
    if (!s) this.m.set(k, (s = new Set()));
    s.add(v);
  }
  remove(k: string, v: V): void {
    const s = this.m.get(k);
    if (!s) return;
    s.delete(v);
    if (s.size === 0) this.m.delete(k);
  }
  get(k: string): V[] {
    return [...(this.m.get(k) ?? [])];
  }
}

/** Service ClusterIPs of the IPv4 family (headless services have none). */
export function serviceIPs(svc: Obj): string[] {
  const ips: string[] = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : svc.spec?.clusterIP ? [svc.spec.clusterIP] : [];
  return ips.filter(isIPv4);
}

export const isHeadless = (svc: Obj): boolean => svc.spec?.type !== 'ExternalName' && (!svc.spec?.clusterIP || svc.spec.clusterIP === 'None');

/**
 * A slice as DNS uses it: its service (from the service-name label), the addresses of endpoints
 * whose ready condition is true or unknown, and its ports. Undefined for slices DNS ignores.
 */
export function endpointGroupFromSlice(slice: Obj): EndpointGroup | undefined {
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!service || (slice.addressType && slice.addressType !== 'IPv4')) return undefined;
  const addresses: EndpointAddress[] = [];
  for (const ep of slice.endpoints ?? []) {
    // The API's rule: an unknown ready condition counts as ready. The endpointslice controller
    // already folds publishNotReadyAddresses into `ready`, so DNS just follows it.
    if (ep.conditions?.ready === false) continue;
    for (const ip of ep.addresses ?? []) {
      if (!isIPv4(ip)) continue;
      const a: EndpointAddress = { ip };
      if (ep.hostname) a.hostname = String(ep.hostname).toLowerCase();
      // Names longer than a label can't appear in a DNS name.
      if (ep.targetRef?.name && String(ep.targetRef.name).length < 64) a.targetName = String(ep.targetRef.name).toLowerCase();
      addresses.push(a);
    }
  }
  const ports: EndpointPort[] = (slice.ports ?? []).map((p: Obj) => ({ name: p.name ?? '', port: p.port ?? -1, protocol: p.protocol ?? 'TCP' }));
  return { namespace: slice.metadata.namespace, service, addresses, ports: ports.length ? ports : [{ name: '', port: -1, protocol: '' }] };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function podRecord(pod: Obj): PodRecord | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  // A host-network pod's address is its node's: naming it after the pod would be wrong.
  if (pod.spec?.hostNetwork) return undefined;
  // A loop, not sets and spreads: this runs at every change of every pod (the DNS verifies pod names).
  const ips: string[] = [];
  const add = (ip: unknown) => {
    if (typeof ip === 'string' && isIPv4(ip) && !ips.includes(ip)) ips.push(ip);
  };
  add(pod.status?.podIP);
  const listed = pod.status?.podIPs;
  if (Array.isArray(listed)) for (const p of listed) add(p?.ip);
  if (!ips.length) return undefined;
  return { namespace: pod.metadata.namespace, name: pod.metadata.name, ips };
}

export class ClusterIndex implements ClusterView {
  synced = false;
  serial = Math.floor(Date.now() / 1000);
  private readonly namespaces = new Set<string>();
  private readonly services = new Map<string, Obj>();
  private readonly serviceByIP = new MultiMap<string>();
  private readonly groups = new Map<string, EndpointGroup>();
  private readonly groupsByService = new MultiMap<string>();
  private readonly groupsByIP = new MultiMap<string>();
  private readonly pods = new Map<string, PodRecord>();
  private readonly podByIP = new MultiMap<string>();

  /** Builds a complete, synced index from plain objects (tests, one-off snapshots). */
  static from(objs: { namespaces?: string[]; services?: Obj[]; slices?: Obj[]; pods?: Obj[] }): ClusterIndex {
    const ix = new ClusterIndex();
    for (const ns of objs.namespaces ?? []) ix.setNamespace(ns, true);
    for (const s of objs.services ?? []) ix.setService(s);
    for (const s of objs.slices ?? []) ix.setSlice(s);
    for (const p of objs.pods ?? []) ix.setPod(p);
    ix.synced = true;
    return ix;
  }

  private touched(): void {
    // Monotonic, and readable as the time of the last change as CoreDNS's serial is.
    this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000));
  }

  setNamespace(name: string, present: boolean): void {
    if (present) this.namespaces.add(name);
    else this.namespaces.delete(name);
    this.touched();
  }

  setService(svc: Obj): void {
    this.deleteService(svc);
    const k = objKey(svc);
    this.services.set(k, svc);
    for (const ip of serviceIPs(svc)) this.serviceByIP.add(ip, k);
  }

  deleteService(svc: Obj): void {
    const k = objKey(svc);
    const old = this.services.get(k);
    if (old) for (const ip of serviceIPs(old)) this.serviceByIP.remove(ip, k);
    this.services.delete(k);
    this.touched();
  }

  setSlice(slice: Obj): void {
    this.deleteSlice(slice);
    const g = endpointGroupFromSlice(slice);
    if (!g) return;
    const k = objKey(slice);
    this.groups.set(k, g);
    this.groupsByService.add(keyOf(g.namespace, g.service), k);
    for (const a of g.addresses) this.groupsByIP.add(a.ip, k);
  }

  deleteSlice(slice: Obj): void {
    const k = objKey(slice);
    const old = this.groups.get(k);
    if (old) {
      this.groupsByService.remove(keyOf(old.namespace, old.service), k);
      for (const a of old.addresses) this.groupsByIP.remove(a.ip, k);
    }
    this.groups.delete(k);
    this.touched();
  }

  setPod(pod: Obj): void {
    const k = objKey(pod);
    const rec = podRecord(pod);
    const old = this.pods.get(k);
    // Pods change often (status, annotations); only an address change matters here.
    if (old && rec && sameList(old.ips, rec.ips)) return;
    this.deletePod(pod);
    if (!rec) return;
    this.pods.set(k, rec);
    for (const ip of rec.ips) this.podByIP.add(ip, k);
    this.touched();
  }

  deletePod(pod: Obj): void {
    const k = objKey(pod);
    const old = this.pods.get(k);
    if (!old) return;
    for (const ip of old.ips) this.podByIP.remove(ip, k);
    this.pods.delete(k);
    this.touched();
  }

  hasNamespace(ns: string): boolean {
    return this.namespaces.has(ns);
  }

  service(ns: string, name: string): Obj | undefined {
    return this.services.get(keyOf(ns, name));
  }

  endpointGroups(ns: string, service: string): EndpointGroup[] {
    return this.groupsByService
      .get(keyOf(ns, service))
      .sort()
      .map((k) => this.groups.get(k)!);
  }

  servicesByIP(ip: string): Obj[] {
    return this.serviceByIP
      .get(ip)
      .sort()
      .map((k) => this.services.get(k)!);
  }

  endpointGroupsByIP(ip: string): EndpointGroup[] {
    return this.groupsByIP
      .get(ip)
      .sort()
      .map((k) => this.groups.get(k)!);
  }

  podsByIP(ip: string): PodRecord[] {
    return this.podByIP
      .get(ip)
      .sort()
      .map((k) => this.pods.get(k)!);
  }
}
