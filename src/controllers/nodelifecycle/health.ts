// The node lifecycle controller's view of one node's health (upstream's tryUpdateNodeHealth), as a
// pure function of what it saw last time, the Node and Lease it sees now, and its own clock.
//
// The controller never trusts the kubelet's clock: a node is alive when the controller itself saw
// its Ready heartbeat time or its Lease renewTime move, and it keeps that moment (probeMs) in memory.
import type { Obj } from '../../api/resource.ts';
import { nowTimestamp } from '../../apiserver/resource-store.ts';

export interface NodeHealth {
  /** The Ready condition as last seen (undefined while the node never posted one). */
  ready: Obj | undefined;
  /** When (controller clock, ms) the controller last saw a sign of life. */
  probeMs: number;
  /** The Lease renewTime last seen, in ms. */
  leaseRenewMs?: number;
}

export interface HealthOptions {
  /** --node-monitor-grace-period */
  gracePeriodMs: number;
  /** --node-startup-grace-period: applies while the node never posted Ready. */
  startupGracePeriodMs: number;
}

export interface HealthDecision {
  /** What to remember for the next pass (if `conditions` is written, only once that write succeeded). */
  health: NodeHealth;
  /** Ready before this pass (a fake Unknown one for a node that never posted Ready). */
  observedReady: Obj;
  /** Ready after this pass (undefined while never posted and still within the startup grace). */
  currentReady: Obj | undefined;
  /** The node's new status.conditions, when they must be written (Ready changed). */
  conditions?: Obj[];
}

/** The node-condition types the controller turns Unknown; NetworkUnavailable belongs to the network's controller. */
export const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export const findCondition = (node: Obj | undefined, type: string): Obj | undefined => (node?.status?.conditions ?? []).find((c: Obj) => c.type === type);

/** Lease renewTime (RFC 3339 with micro- or nanoseconds) in ms. */
export function microTimeMs(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? undefined : ms;
}

export function decideNodeHealth(prev: NodeHealth | undefined, node: Obj, lease: Obj | undefined, nowMs: number, opts: HealthOptions): HealthDecision {
  const created = Date.parse(node.metadata.creationTimestamp ?? '') || nowMs;
  const currentReady = findCondition(node, 'Ready');
  let grace: number;
  let observedReady: Obj;
  let health: NodeHealth | undefined = prev && { ...prev };
  if (!currentReady) {
    // Never posted: judged from its creation, with the (longer) startup grace.
    observedReady = { type: 'Ready', status: 'Unknown', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: node.metadata.creationTimestamp };
    grace = opts.startupGracePeriodMs;
    health = health ? { ...health, ready: undefined } : { ready: undefined, probeMs: created };
  } else {
    observedReady = { ...currentReady };
    grace = opts.gracePeriodMs;
    if (!health || !health.ready) {
      // First sight of a Ready condition (also after a controller restart): count from now.
      health = { ready: currentReady, probeMs: nowMs, leaseRenewMs: health?.leaseRenewMs };
    } else if (health.ready.lastHeartbeatTime !== currentReady.lastHeartbeatTime) {
      health = { ...health, ready: currentReady, probeMs: nowMs };
    } else {
      health = { ...health, ready: currentReady };
    }
  }
  const renewMs = microTimeMs(lease?.spec?.renewTime);
  if (renewMs !== undefined && (health.leaseRenewMs === undefined || health.leaseRenewMs < renewMs)) {
    health = { ...health, leaseRenewMs: renewMs, probeMs: nowMs };
  }
  if (!(nowMs > health.probeMs + grace)) return { health, observedReady, currentReady };

  // Silent for longer than the grace: every kubelet-owned condition becomes Unknown.
  const now = nowTimestamp(nowMs);
  const conditions: Obj[] = (node.status?.conditions ?? []).map((c: Obj) => ({ ...c }));
  for (const type of KUBELET_CONDITIONS) {
    const c = conditions.find((x) => x.type === type);
    if (!c) {
      conditions.push({ type, status: 'Unknown', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: now, reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
    } else if (c.status !== 'Unknown') {
      Object.assign(c, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now });
    }
  }
  const newReady = conditions.find((c) => c.type === 'Ready')!;
  if (sameCondition(newReady, observedReady)) return { health, observedReady, currentReady };
  return { health: { ...health, ready: newReady }, observedReady, currentReady: newReady, conditions };
}

const sameCondition = (a: Obj, b: Obj): boolean =>
  ['type', 'status', 'reason', 'message', 'lastHeartbeatTime', 'lastTransitionTime'].every((k) => (a[k] ?? '') === (b[k] ?? ''));
