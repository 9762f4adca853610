// Host-gateway routing, as flannel's host-gw backend: every node reaches every other node's pod
// range through that node's InternalIP, on one L2 network, with no overlay and no NAT. The decision
// is pure: from the nodes the API lists and the routes this agent installed, what to add and remove.
import type { Obj } from '../../api/resource.ts';

export interface PodRoute {
  /** Destination pod range, e.g. 10.244.3.0/24. */
  cidr: string;
  /** The owning node's InternalIP. */
  via: string;
}

/** The routes this node should have: one per other node that has a pod range and an InternalIP. */
export function desiredRoutes(self: string, nodes: Iterable<Obj>): PodRoute[] {
  const out: PodRoute[] = [];
  for (const n of nodes) {
    if (n.metadata?.name === self || n.metadata?.deletionTimestamp) continue;
    const via = (n.status?.addresses ?? []).find((a: Obj) => a.type === 'InternalIP')?.address as string | undefined;
    const cidrs: string[] = n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []);
    if (!via || via.includes(':')) continue;
    for (const cidr of cidrs) if (!cidr.includes(':')) out.push({ cidr, via });
  }
  return out.sort((a, b) => a.cidr.localeCompare(b.cidr));
}

/** What to change so that exactly `desired` is installed, given the routes installed now. */
export function routeChanges(installed: PodRoute[], desired: PodRoute[]): { add: PodRoute[]; remove: PodRoute[] } {
  const key = (r: PodRoute) => `${r.cidr} ${r.via}`;
  const have = new Set(installed.map(key));
  const want = new Set(desired.map(key));
  const wantCidrs = new Set(desired.map((r) => r.cidr));
  return {
    // `ip route replace` moves a range whose node changed address in one step.
    add: desired.filter((r) => !have.has(key(r))),
    remove: installed.filter((r) => !want.has(key(r)) && !wantCidrs.has(r.cidr)),
  };
}
