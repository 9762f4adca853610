// Zones and their disruption states (upstream's ComputeZoneState and handleDisruption): how fast
// the controller may put NoExecute taints on the nodes of a zone depends on how much of the zone
// is down, and when every zone is down it assumes the fault is its own (or the network's) and
// taints nothing.
import type { Obj } from '../../api/resource.ts';

export type ZoneState = 'Initial' | 'Normal' | 'PartialDisruption' | 'FullDisruption';

export const EXCLUDE_DISRUPTION_LABEL = 'node.kubernetes.io/exclude-disruption';

/** region + zone labels (topology.kubernetes.io, else the deprecated failure-domain ones); '' without either. */
export function zoneKey(node: Obj): string {
  const l = node.metadata?.labels ?? {};
  const zone = l['topology.kubernetes.io/zone'] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? '';
  const region = l['topology.kubernetes.io/region'] ?? l['failure-domain.beta.kubernetes.io/region'] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\u0000:${zone}`;
}

export interface DisruptionOptions {
  /** --node-eviction-rate (nodes per second) */
  evictionRate: number;
  /** --secondary-node-eviction-rate */
  secondaryEvictionRate: number;
  /** --unhealthy-zone-threshold */
  unhealthyZoneThreshold: number;
  /** --large-cluster-size-threshold */
  largeClusterSizeThreshold: number;
}

/** A zone's state from its nodes' Ready statuses (undefined: never posted, counted as not ready). */
export function computeZoneState(readyStatuses: (string | undefined)[], unhealthyZoneThreshold: number): { notReady: number; state: ZoneState } {
  const ready = readyStatuses.filter((s) => s === 'True').length;
  const notReady = readyStatuses.length - ready;
  if (ready === 0 && notReady > 0) return { notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / (notReady + ready) >= unhealthyZoneThreshold) return { notReady, state: 'PartialDisruption' };
  return { notReady, state: 'Normal' };
}

/** The tainting rate for a zone in a state: a partly broken small zone gets none at all. */
export function zoneRate(state: ZoneState, zoneSize: number, o: DisruptionOptions): number {
  if (state === 'PartialDisruption') return zoneSize > o.largeClusterSizeThreshold ? o.secondaryEvictionRate : 0;
  return o.evictionRate;
}

export type DisruptionPlan =
  | { kind: 'none'; states: Map<string, ZoneState> }
  /** Every zone is fully down: remove the NoExecute taints everywhere, rate 0 in every zone. */
  | { kind: 'enter-master-disruption'; states: Map<string, ZoneState> }
  /** Some node is back: reset every node's probe time, every zone to its state's rate. */
  | { kind: 'exit-master-disruption'; states: Map<string, ZoneState>; rates: Map<string, number> }
  /** Zones whose state changed get their state's rate. */
  | { kind: 'rates'; states: Map<string, ZoneState>; rates: Map<string, number> };

/**
 * Given the states zones were in and each zone's nodes' Ready statuses now, what to do. The states
 * returned replace the old ones (zones without nodes are dropped).
 */
export function planDisruption(old: Map<string, ZoneState>, zones: Map<string, (string | undefined)[]>, o: DisruptionOptions): DisruptionPlan {
  const fresh = new Map<string, ZoneState>();
  let allAreFull = true;
  for (const [zone, statuses] of zones) {
    const { state } = computeZoneState(statuses, o.unhealthyZoneThreshold);
    if (state !== 'FullDisruption') allAreFull = false;
    fresh.set(zone, state);
  }
  const states = new Map<string, ZoneState>();
  for (const zone of zones.keys()) states.set(zone, old.get(zone) ?? 'Initial');
  // New zones count as Initial here (not fully disrupted), as upstream records them before looking.
  const allWereFull = [...states.values()].every((s) => s === 'FullDisruption');
  // Nothing to change while the whole cluster stays down (or there are no nodes).
  if (allAreFull && allWereFull) return { kind: 'none', states };
  if (allAreFull) {
    for (const zone of states.keys()) states.set(zone, 'FullDisruption');
    return { kind: 'enter-master-disruption', states };
  }
  const rates = new Map<string, number>();
  if (allWereFull) {
    for (const zone of states.keys()) {
      rates.set(zone, zoneRate(fresh.get(zone)!, zones.get(zone)!.length, o));
      states.set(zone, fresh.get(zone)!);
    }
    return { kind: 'exit-master-disruption', states, rates };
  }
  for (const [zone, state] of states) {
    const next = fresh.get(zone)!;
    if (state === next) continue;
    rates.set(zone, zoneRate(next, zones.get(zone)!.length, o));
    states.set(zone, next);
  }
  return { kind: 'rates', states, rates };
}
