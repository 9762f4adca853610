// The EndpointSlices a Service should have, and the fewest writes to get there from the slices it
// has, as upstream's endpointslice reconciler: endpoints are grouped by the ports they resolve
// to, each group spread over slices of at most 100 endpoints; endpoints stay in the slice they
// are in, new ones fill slices with room before new slices are made, empty slices go, and a
// service with no endpoints at all keeps one empty placeholder slice.
import type { Obj } from '../../api/resource.ts';
import { findPort, isPodReady, podIPv4, shouldPodBeInEndpoints, shouldSetHostname, selects, HEADLESS_LABEL, TRIGGER_TIME_ANNOTATION } from '../endpoints/compute.ts';
import { cloneJson } from '../../util/json.ts';
import { jsonEqual } from '../endpoints/equal.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** One endpoint of a slice for a pod, upstream's field by field. */
export function sliceEndpoint(pod: Obj, svc: Obj, ip: string): Obj {
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const serving = publishNotReady || isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  // A terminating pod is never "ready", unless the service publishes not-ready addresses anyway.
  const ready = publishNotReady || (serving && !terminating);
  const ep: Obj = { addresses: [ip], conditions: { ready, serving, terminating } };
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec.hostname;
  ep.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  return ep;
}

export function slicePorts(pod: Obj, svc: Obj): Obj[] {
  const out: Obj[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: Obj = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

export const portsKey = (ports: Obj[] | undefined): string =>
  JSON.stringify((ports ?? []).map((p) => [p.name ?? '', p.port ?? null, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort());

export const endpointKey = (ep: Obj): string => ep.targetRef?.uid ?? ep.addresses?.[0] ?? '';

export interface PortGroup {
  ports: Obj[];
  endpoints: Obj[];
}

/** What one pod contributes to its Service's slices. */
export interface SliceEntry {
  /** The pod's name: slices list endpoints in this order. */
  name: string;
  endpoint: Obj;
  ports: Obj[];
  portsKey: string;
}

/** The pod's entry in the Service's slices, or undefined when it has none. Terminating pods have one (with their conditions). */
export function podSliceEntry(svc: Obj, pod: Obj): SliceEntry | undefined {
  if (!selects(svc, pod) || !shouldPodBeInEndpoints(pod, true)) return undefined;
  const ip = podIPv4(pod);
  if (!ip) return undefined;
  const ports = slicePorts(pod, svc);
  return { name: pod.metadata.name, endpoint: sliceEndpoint(pod, svc, ip), ports, portsKey: portsKey(ports) };
}

export const compareSliceEntries = (a: SliceEntry, b: SliceEntry): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Entries sorted by compareSliceEntries, grouped by their resolved ports (groups in order of first appearance). */
export function groupsFromSorted(entries: readonly SliceEntry[]): Map<string, PortGroup> {
  const groups = new Map<string, PortGroup>();
  for (const e of entries) {
    let g = groups.get(e.portsKey);
    if (!g) groups.set(e.portsKey, (g = { ports: e.ports, endpoints: [] }));
    g.endpoints.push(e.endpoint);
  }
  return groups;
}

/** Desired endpoints grouped by their resolved ports; terminating pods are kept (with their conditions). */
export function desiredGroups(svc: Obj, pods: Obj[]): Map<string, PortGroup> {
  const entries: SliceEntry[] = [];
  for (const pod of pods) {
    const e = podSliceEntry(svc, pod);
    if (e) entries.push(e);
  }
  return groupsFromSorted(entries.sort(compareSliceEntries));
}

export function sliceLabels(svc: Obj): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries<string>(svc.metadata.labels ?? {})) {
    if (k !== SERVICE_NAME_LABEL && k !== MANAGED_BY_LABEL && k !== HEADLESS_LABEL) labels[k] = v;
  }
  if (!svc.spec?.clusterIP || svc.spec.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = svc.metadata.name;
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  return labels;
}

export function ownerReference(svc: Obj): Obj {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** A new slice (the API server names it from generateName). */
export function newSlice(svc: Obj, ports: Obj[], endpoints: Obj[], triggerTime?: string): Obj {
  const slice: Obj = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${svc.metadata.name}-`,
      namespace: svc.metadata.namespace,
      labels: sliceLabels(svc),
      ownerReferences: [ownerReference(svc)],
    },
    addressType: 'IPv4',
    endpoints,
  };
  if (triggerTime) slice.metadata.annotations = { [TRIGGER_TIME_ANNOTATION]: triggerTime };
  if (ports.length) slice.ports = ports;
  return slice;
}

export interface SlicePlan {
  create: Obj[];
  update: Obj[];
  delete: Obj[];
}

export function metadataCurrent(slice: Obj, svc: Obj): boolean {
  return jsonEqual(slice.metadata.labels ?? {}, sliceLabels(svc)) && (slice.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === svc.metadata.uid && r.controller);
}

export function refreshed(slice: Obj, svc: Obj, endpoints: Obj[], triggerTime?: string): Obj {
  // The old endpoints are replaced, so not worth copying.
  const next: Obj = cloneJson({ ...slice, endpoints: [] });
  next.endpoints = endpoints;
  next.metadata.labels = sliceLabels(svc);
  const refs: Obj[] = (next.metadata.ownerReferences ?? []).filter((r: Obj) => !(r.kind === 'Service' && r.controller));
  next.metadata.ownerReferences = [ownerReference(svc), ...refs];
  if (triggerTime) next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [TRIGGER_TIME_ANNOTATION]: triggerTime };
  return next;
}

/**
 * The writes that turn `existing` (this service's slices) into the desired groups. `sent` may give
 * for a slice the endpoints a previous plan wrote into its current version: compared in place of
 * the stored ones they mostly are the very objects desired again, so unchanged ones cost nothing.
 */
export function planSlices(
  svc: Obj,
  existing: Obj[],
  desired: Map<string, PortGroup>,
  triggerTime?: string,
  max = MAX_ENDPOINTS_PER_SLICE,
  sent: (slice: Obj) => Obj[] | undefined = () => undefined,
): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const slices = [...existing].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  const totalDesired = [...desired.values()].reduce((n, g) => n + g.endpoints.length, 0);
  if (totalDesired === 0) {
    // Keep (or make) exactly one empty placeholder.
    const keep = slices.find((s) => (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0);
    for (const s of slices) if (s !== keep) plan.delete.push(s);
    if (!keep) plan.create.push(newSlice(svc, [], [], triggerTime));
    else if (!metadataCurrent(keep, svc)) plan.update.push(refreshed(keep, svc, [], triggerTime));
    return plan;
  }
  for (const [key, group] of desired) {
    const remaining = new Map<string, Obj>();
    for (const e of group.endpoints) remaining.set(endpointKey(e), e);
    // Slices of this port set, kept with their still-desired endpoints (refreshed where changed).
    const kept: { slice: Obj; endpoints: Obj[]; dirty: boolean }[] = [];
    for (const s of slices.filter((x) => portsKey(x.ports) === key)) {
      const endpoints: Obj[] = [];
      let dirty = !metadataCurrent(s, svc);
      for (const e of sent(s) ?? s.endpoints ?? []) {
        const k = endpointKey(e);
        const want = remaining.get(k);
        if (!want || endpoints.length >= max) {
          dirty = true;
          continue;
        }
        remaining.delete(k);
        if (!jsonEqual(e, want)) dirty = true;
        endpoints.push(want);
      }
      kept.push({ slice: s, endpoints, dirty });
    }
    // New endpoints go first into slices being written anyway, then into others with room.
    const order = [...kept.filter((k) => k.dirty && k.endpoints.length > 0), ...kept.filter((k) => !k.dirty)];
    const rest = [...remaining.values()];
    let next = 0;
    for (const k of order) {
      while (next < rest.length && k.endpoints.length < max) {
        k.endpoints.push(rest[next++]);
        k.dirty = true;
      }
    }
    for (const k of kept) {
      if (k.endpoints.length === 0) plan.delete.push(k.slice);
      else if (k.dirty) plan.update.push(refreshed(k.slice, svc, k.endpoints, triggerTime));
    }
    for (let i = next; i < rest.length; i += max) plan.create.push(newSlice(svc, group.ports, rest.slice(i, i + max), triggerTime));
  }
  for (const s of slices) if (!desired.has(portsKey(s.ports))) plan.delete.push(s);
  return plan;
}
