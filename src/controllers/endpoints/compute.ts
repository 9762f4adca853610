// What a Service's core/v1 Endpoints should hold, computed purely from the Service and its pods,
// following upstream's endpoints controller: which pods count, which address each gets (with the
// hostname that makes `<pod>.<service>` DNS names work), how ports resolve, and how addresses are
// repacked into subsets.
import type { Obj } from '../../api/resource.ts';
import { jsonEqual } from './equal.ts';

export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
export const MAX_ENDPOINTS_ADDRESSES = 1000;

/** Services the controllers manage: a selector, and not an ExternalName alias. */
export function managesService(svc: Obj): boolean {
  if (svc.spec?.type === 'ExternalName') return false;
  return Object.keys(svc.spec?.selector ?? {}).length > 0;
}

export function selects(svc: Obj, pod: Obj): boolean {
  if (pod.metadata.namespace !== svc.metadata.namespace) return false;
  const labels = pod.metadata.labels ?? {};
  const selector = svc.spec?.selector ?? {};
  // Asked for every pod event and Service: no key list is built for it.
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

/** Whether a Ready condition says True. A loop, not a callback: asked on every pod event, twice. */
export function isPodReady(pod: Obj): boolean {
  const conditions: Obj[] | undefined = pod.status?.conditions;
  if (conditions) for (const c of conditions) if (c.type === 'Ready' && c.status === 'True') return true;
  return false;
}

/** The pod's first Ready condition. */
function readyCondition(pod: Obj): Obj | undefined {
  const conditions: Obj[] | undefined = pod.status?.conditions;
  if (conditions) for (const c of conditions) if (c.type === 'Ready') return c;
  return undefined;
}

const isTerminal = (pod: Obj) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** The pod's IPv4 address (the only family these services have), or undefined. */
export function podIPv4(pod: Obj): string | undefined {
  // podIPs first, then podIP; asked for every changed pod, so no list is built to search.
  for (const p of pod.status?.podIPs ?? []) if (isIPv4(p?.ip)) return p.ip;
  const ip = pod.status?.podIP;
  return isIPv4(ip) ? ip : undefined;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const isIPv4 = (ip: unknown): ip is string => typeof ip === 'string' && ip !== '' && IPV4.test(ip);

/** Upstream's ShouldPodBeInEndpoints: not terminal, has an address, and not terminating unless asked. */
export function shouldPodBeInEndpoints(pod: Obj, includeTerminating: boolean): boolean {
  if (isTerminal(pod)) return false;
  if (!pod.status?.podIP && !(pod.status?.podIPs ?? []).length) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** A hostname is published only for pods that name this service as their subdomain. */
export function shouldSetHostname(pod: Obj, svc: Obj): boolean {
  return !!pod.spec?.hostname && pod.spec?.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace;
}

/**
 * The pod port a service port targets: a number is taken as is; a name is looked up among the
 * containers' ports with the same protocol. Undefined when a name cannot be resolved.
 */
export function findPort(pod: Obj, servicePort: Obj): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  const protocol = servicePort.protocol ?? 'TCP';
  // Sidecars (init containers that keep running) serve ports too.
  const sidecars = (pod.spec?.initContainers ?? []).filter((c: Obj) => c.restartPolicy === 'Always');
  for (const c of [...(pod.spec?.containers ?? []), ...sidecars]) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

export function endpointAddress(pod: Obj, svc: Obj, ip: string): Obj {
  const a: Obj = { ip };
  if (shouldSetHostname(pod, svc)) a.hostname = pod.spec.hostname;
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName;
  a.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
  return a;
}

export function endpointPort(servicePort: Obj, port: number): Obj {
  const p: Obj = {};
  if (servicePort.name) p.name = servicePort.name;
  p.port = port;
  p.protocol = servicePort.protocol ?? 'TCP';
  if (servicePort.appProtocol) p.appProtocol = servicePort.appProtocol;
  return p;
}

const portKey = (p: Obj) => JSON.stringify([p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol ?? '']);
const addressKey = (a: Obj) => `${a.ip}\u0000${a.targetRef?.uid ?? ''}`;

/** What one pod contributes to a Service's Endpoints: its address, offering these ports. */
export interface Entry {
  address: Obj;
  ready: boolean;
  ports: Obj[];
  /** `ports` without repeats, in the order subsets list them, and their keys joined (equal sets, equal signatures). */
  sortedPorts: Obj[];
  portsSig: string;
}

/** The pod's entry in the Service's Endpoints, or undefined when it has none. */
export function podEntry(svc: Obj, pod: Obj): Entry | undefined {
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  if (!selects(svc, pod) || !shouldPodBeInEndpoints(pod, publishNotReady)) return undefined;
  const ip = podIPv4(pod);
  if (!ip) return undefined;
  const servicePorts: Obj[] = svc.spec?.ports ?? [];
  const address = endpointAddress(pod, svc, ip);
  const ready = publishNotReady || isPodReady(pod);
  const ports: Obj[] = [];
  if (servicePorts.length === 0) {
    // Only a headless service may go without ports; its addresses then carry none.
    if (svc.spec?.clusterIP !== 'None') return undefined;
  } else {
    for (const sp of servicePorts) {
      const n = findPort(pod, sp);
      if (n !== undefined) ports.push(endpointPort(sp, n));
    }
    if (!ports.length) return undefined;
  }
  const byKey = new Map<string, Obj>();
  for (const p of ports) if (!byKey.has(portKey(p))) byKey.set(portKey(p), p);
  const keys = [...byKey.keys()].sort();
  return { address, ready, ports, sortedPorts: keys.map((k) => byKey.get(k)!), portsSig: keys.join('\n') };
}

/** One (address, ports) entry per pod, before repacking. */
function entriesFor(svc: Obj, pods: Obj[]): Entry[] {
  const out: Entry[] = [];
  for (const pod of pods) {
    const e = podEntry(svc, pod);
    if (e) out.push(e);
  }
  return out;
}


/** Byte-wise by IP, then by the target's uid, as upstream sorts addresses. */
export function compareAddresses(a: Obj, b: Obj): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * Upstream's RepackSubsets: every port maps to the set of addresses offering it (a ready
 * occurrence wins over a not-ready one); ports served by exactly the same addresses share a subset.
 */
export function repackSubsets(subsets: Obj[]): Obj[] {
  const byPort = new Map<string, { port: Obj | null; addrs: Map<string, { addr: Obj; ready: boolean }> }>();
  const note = (port: Obj | null, addr: Obj, ready: boolean) => {
    const key = port ? portKey(port) : '<none>';
    let e = byPort.get(key);
    if (!e) byPort.set(key, (e = { port, addrs: new Map() }));
    const k = addressKey(addr);
    const seen = e.addrs.get(k);
    if (!seen || (ready && !seen.ready)) e.addrs.set(k, { addr, ready });
  };
  for (const ss of subsets) {
    const ports: (Obj | null)[] = ss.ports?.length ? ss.ports : [null];
    for (const port of ports) {
      for (const a of ss.addresses ?? []) note(port, a, true);
      for (const a of ss.notReadyAddresses ?? []) note(port, a, false);
    }
  }
  const groups = new Map<string, { addrs: { addr: Obj; ready: boolean }[]; ports: Obj[] }>();
  for (const { port, addrs } of byPort.values()) {
    const list = [...addrs.values()].sort((x, y) => compareAddresses(x.addr, y.addr));
    const key = JSON.stringify(list.map((x) => [addressKey(x.addr), x.ready]));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { addrs: list, ports: [] }));
    if (port) g.ports.push(port);
  }
  const out: Obj[] = [];
  for (const g of groups.values()) {
    const ss: Obj = {};
    const ready = g.addrs.filter((x) => x.ready).map((x) => x.addr);
    const notReady = g.addrs.filter((x) => !x.ready).map((x) => x.addr);
    if (ready.length) ss.addresses = ready;
    if (notReady.length) ss.notReadyAddresses = notReady;
    if (g.ports.length) ss.ports = g.ports.sort((a, b) => (portKey(a) < portKey(b) ? -1 : portKey(a) > portKey(b) ? 1 : 0));
    out.push(ss);
  }
  // Upstream orders subsets by a hash of their content; any fixed order serves as well.
  return out.sort((a, b) => {
    const ka = JSON.stringify([(a.ports ?? []).map(portKey), a.addresses?.[0]?.ip ?? a.notReadyAddresses?.[0]?.ip ?? '']);
    const kb = JSON.stringify([(b.ports ?? []).map(portKey), b.addresses?.[0]?.ip ?? b.notReadyAddresses?.[0]?.ip ?? '']);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** The subsets of a service's Endpoints: one subset per (address, port) first, then repacked. */
export function computeSubsets(svc: Obj, pods: Obj[]): Obj[] {
  return repackSubsets(rawSubsets(entriesFor(svc, pods)));
}

function rawSubsets(entries: readonly Entry[]): Obj[] {
  const raw: Obj[] = [];
  for (const e of entries) {
    const key = e.ready ? 'addresses' : 'notReadyAddresses';
    if (e.ports.length === 0) raw.push({ [key]: [e.address] });
    for (const p of e.ports) raw.push({ [key]: [e.address], ports: [p] });
  }
  return raw;
}

/**
 * computeSubsets for entries already sorted by address (compareAddresses). In the usual case every
 * address offers the same ports, and repacking could only make one subset of them all in this very
 * order, so it is built directly; anything else (ports differing per pod, an address listed twice)
 * goes through the full repacking.
 */
export function subsetsFromSorted(entries: readonly Entry[]): Obj[] {
  if (entries.length === 0) return [];
  const sig = entries[0].portsSig;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const prev = i > 0 ? entries[i - 1].address : undefined;
    const twice = prev && prev.ip === e.address.ip && (prev.targetRef?.uid ?? '') === (e.address.targetRef?.uid ?? '');
    if (e.portsSig !== sig || twice) return repackSubsets(rawSubsets(entries));
  }
  const ready: Obj[] = [];
  const notReady: Obj[] = [];
  for (const e of entries) (e.ready ? ready : notReady).push(e.address);
  const ss: Obj = {};
  if (ready.length) ss.addresses = ready;
  if (notReady.length) ss.notReadyAddresses = notReady;
  if (entries[0].sortedPorts.length) ss.ports = entries[0].sortedPorts.slice();
  return [ss];
}

/**
 * desiredFromSubsets(svc, subsetsFromSorted(entries)) in one pass over the entries, building only
 * what truncation keeps: at 10,000 addresses behind a Service, every sync built two arrays of them
 * all only to cut them to a thousand. Anything but one subset goes the long way.
 */
export function desiredFromSorted(svc: Obj, entries: readonly Entry[]): DesiredEndpoints {
  if (entries.length === 0) return desiredFromSubsets(svc, []);
  const sig = entries[0].portsSig;
  let ready = 0;
  let prev: Obj | undefined;
  for (const e of entries) {
    const twice = prev && prev.ip === e.address.ip && (prev.targetRef?.uid ?? '') === (e.address.targetRef?.uid ?? '');
    if (e.portsSig !== sig || twice) return desiredFromSubsets(svc, repackSubsets(rawSubsets(entries)));
    if (e.ready) ready++;
    prev = e.address;
  }
  // truncateSubsets on one subset: past the limit, the first MAX ready addresses when they alone
  // exceed it (and no not-ready ones), else every ready one and the first not-ready up to MAX.
  const overCapacity = entries.length > MAX_ENDPOINTS_ADDRESSES;
  const keepReady = overCapacity && ready > MAX_ENDPOINTS_ADDRESSES ? MAX_ENDPOINTS_ADDRESSES : ready;
  const keepNotReady = !overCapacity ? entries.length - ready : ready > MAX_ENDPOINTS_ADDRESSES ? 0 : MAX_ENDPOINTS_ADDRESSES - ready;
  const addresses: Obj[] = [];
  const notReadyAddresses: Obj[] = [];
  for (const e of entries) {
    if (e.ready ? addresses.length < keepReady : notReadyAddresses.length < keepNotReady) (e.ready ? addresses : notReadyAddresses).push(e.address);
    else if (addresses.length === keepReady && notReadyAddresses.length === keepNotReady) break;
  }
  const ss: Obj = {};
  if (addresses.length) ss.addresses = addresses;
  if (notReadyAddresses.length) ss.notReadyAddresses = notReadyAddresses;
  if (entries[0].sortedPorts.length) ss.ports = entries[0].sortedPorts.slice();
  return { subsets: [ss], labels: endpointsLabels(svc), overCapacity };
}

/** What the Endpoints should hold given the Service's subsets (truncated here if need be). */
export function desiredFromSubsets(svc: Obj, subsets: Obj[]): DesiredEndpoints {
  const overCapacity = truncateSubsets(subsets);
  return { subsets, labels: endpointsLabels(svc), overCapacity };
}

/**
 * Keeps at most MAX_ENDPOINTS_ADDRESSES addresses: not-ready ones go first; each subset keeps a
 * share in proportion to its size (rounded up, so the last may get less). True when truncated.
 */
export function truncateSubsets(subsets: Obj[]): boolean {
  let ready = 0;
  let notReady = 0;
  for (const ss of subsets) {
    ready += ss.addresses?.length ?? 0;
    notReady += ss.notReadyAddresses?.length ?? 0;
  }
  if (ready + notReady <= MAX_ENDPOINTS_ADDRESSES) return false;
  const truncateReady = ready > MAX_ENDPOINTS_ADDRESSES;
  const budget = truncateReady ? MAX_ENDPOINTS_ADDRESSES : MAX_ENDPOINTS_ADDRESSES - ready;
  const total = truncateReady ? ready : notReady;
  let left = budget;
  for (const ss of subsets) {
    const n = (truncateReady ? ss.addresses?.length : ss.notReadyAddresses?.length) ?? 0;
    const share = Math.min(Math.ceil((n / total) * budget), left);
    if (truncateReady) {
      ss.addresses = (ss.addresses ?? []).slice(0, share);
      delete ss.notReadyAddresses;
      left -= ss.addresses.length;
    } else {
      ss.notReadyAddresses = (ss.notReadyAddresses ?? []).slice(0, share);
      left -= ss.notReadyAddresses.length;
    }
    if (ss.addresses?.length === 0) delete ss.addresses;
    if (ss.notReadyAddresses?.length === 0) delete ss.notReadyAddresses;
  }
  return true;
}

/** Endpoints labels: the service's, plus the headless marker when it has no cluster IP. */
export function endpointsLabels(svc: Obj): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (!svc.spec?.clusterIP || svc.spec.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

/** Subsets compared as upstream does: semantically, without the pods' resourceVersions. */
function sameSubsets(a: Obj[] | undefined, b: Obj[] | undefined): boolean {
  const as = a ?? [];
  const bs = b ?? [];
  if (as.length !== bs.length) return false;
  for (let i = 0; i < as.length; i++) {
    if (!sameAddresses(as[i].addresses, bs[i].addresses) || !sameAddresses(as[i].notReadyAddresses, bs[i].notReadyAddresses)) return false;
    if (!jsonEqual(as[i].ports ?? [], bs[i].ports ?? [])) return false;
  }
  return true;
}

function sameAddresses(a: Obj[] | undefined, b: Obj[] | undefined): boolean {
  const as = a ?? [];
  const bs = b ?? [];
  if (as.length !== bs.length) return false;
  for (let i = 0; i < as.length; i++) {
    const x = as[i];
    const y = bs[i];
    if (x === y) continue;
    if (!jsonEqual(x, y, 'targetRef') || !jsonEqual(x.targetRef, y.targetRef, 'resourceVersion')) return false;
  }
  return true;
}

export interface DesiredEndpoints {
  subsets: Obj[];
  labels: Record<string, string>;
  overCapacity: boolean;
}

export function desiredEndpoints(svc: Obj, pods: Obj[]): DesiredEndpoints {
  return desiredFromSubsets(svc, computeSubsets(svc, pods));
}

/** Whether the stored Endpoints already say what is desired (then no write happens). */
export function endpointsUpToDate(current: Obj, want: DesiredEndpoints): boolean {
  if (!sameSubsets(current.subsets, want.subsets)) return false;
  if (!jsonEqual(current.metadata.labels ?? {}, want.labels)) return false;
  const overCapacity = current.metadata.annotations?.[OVER_CAPACITY_ANNOTATION] === 'truncated';
  return overCapacity === want.overCapacity;
}

/** Whether two computed contents say the same (cheap when they share address objects, as consecutive syncs' do). */
export function sameDesired(a: DesiredEndpoints, b: DesiredEndpoints): boolean {
  return a === b || (a.overCapacity === b.overCapacity && jsonEqual(a.labels, b.labels) && sameSubsets(a.subsets, b.subsets));
}

/** The full Endpoints object to write, built on the current one when there is one. */
export function endpointsObject(svc: Obj, want: DesiredEndpoints, current: Obj | undefined, triggerTime: string | undefined): Obj {
  const annotations: Record<string, string> = { ...(current?.metadata.annotations ?? {}) };
  if (triggerTime) annotations[TRIGGER_TIME_ANNOTATION] = triggerTime;
  else delete annotations[TRIGGER_TIME_ANNOTATION];
  if (want.overCapacity) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
  else delete annotations[OVER_CAPACITY_ANNOTATION];
  const metadata: Obj = current ? { ...current.metadata } : { name: svc.metadata.name, namespace: svc.metadata.namespace };
  metadata.labels = want.labels;
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  const ep: Obj = { apiVersion: 'v1', kind: 'Endpoints', metadata };
  if (want.subsets.length) ep.subsets = want.subsets;
  return ep;
}

/** When a pod last changed in a way that matters here: its Ready transition, else its creation. */
export function podTriggerTime(pod: Obj): string | undefined {
  return readyCondition(pod)?.lastTransitionTime ?? pod.metadata.creationTimestamp;
}

/**
 * Whether two versions of a pod look the same to the endpoints: the same addresses, readiness,
 * deletion, phase, hostname, subdomain, node and labels (upstream's podEndpointsChanged reads these
 * too). Compared field by field: both controllers ask on every pod event, and most events (status
 * details) change none of it, so nothing is built for the answer.
 */
export function sameEndpointState(a: Obj, b: Obj): boolean {
  if (a === b) return true;
  const as = a.status;
  const bs = b.status;
  if (as?.podIP !== bs?.podIP || as?.phase !== bs?.phase) return false;
  if (!samePodIPs(as?.podIPs, bs?.podIPs)) return false;
  if (isPodReady(a) !== isPodReady(b)) return false;
  if (!a.metadata.deletionTimestamp !== !b.metadata.deletionTimestamp) return false;
  const ap = a.spec;
  const bp = b.spec;
  if (ap?.hostname !== bp?.hostname || ap?.subdomain !== bp?.subdomain || ap?.nodeName !== bp?.nodeName) return false;
  return sameLabels(a.metadata.labels, b.metadata.labels);
}

function samePodIPs(a: Obj[] | undefined, b: Obj[] | undefined): boolean {
  const n = a?.length ?? 0;
  if (n !== (b?.length ?? 0)) return false;
  for (let i = 0; i < n; i++) if (a![i]?.ip !== b![i]?.ip) return false;
  return true;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true;
  let count = 0;
  for (const k in a) {
    if (b?.[k] !== a[k]) return false;
    count++;
  }
  for (const _k in b) count--;
  return count === 0;
}
