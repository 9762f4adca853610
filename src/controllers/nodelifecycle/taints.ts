// The taints the node lifecycle controller owns, and how it edits a node's taint list.
import type { Obj } from '../../api/resource.ts';
import { nowTimestamp } from '../../apiserver/resource-store.ts';

export const NOT_READY = 'node.kubernetes.io/not-ready';
export const UNREACHABLE = 'node.kubernetes.io/unreachable';
export const UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

export const NOT_READY_NO_EXECUTE: Obj = { key: NOT_READY, effect: 'NoExecute' };
export const UNREACHABLE_NO_EXECUTE: Obj = { key: UNREACHABLE, effect: 'NoExecute' };

/** Which NoSchedule taint each node condition's status implies (upstream's nodeConditionToTaintKeyStatusMap). */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: NOT_READY, Unknown: UNREACHABLE },
  MemoryPressure: { True: 'node.kubernetes.io/memory-pressure' },
  DiskPressure: { True: 'node.kubernetes.io/disk-pressure' },
  NetworkUnavailable: { True: 'node.kubernetes.io/network-unavailable' },
  PIDPressure: { True: 'node.kubernetes.io/pid-pressure' },
};
const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)));

/** Same taint: key and effect (and value), as upstream's Taint.MatchTaint ignores timeAdded. */
export const matchTaint = (a: Obj, b: Obj): boolean => a.key === b.key && a.effect === b.effect;
export const taintExists = (taints: Obj[] | undefined, t: Obj): boolean => (taints ?? []).some((x) => matchTaint(x, t));

/**
 * The NoSchedule taints a node should carry for its conditions and spec.unschedulable, against the
 * ones of those it carries: what to add and what to remove (upstream's doNoScheduleTaintingPass).
 * Taints of other keys, or other effects, are not the controller's and are left alone.
 */
export function noScheduleTaintChanges(node: Obj): { add: Obj[]; remove: Obj[] } {
  const want: Obj[] = [];
  for (const c of node.status?.conditions ?? []) {
    const key = CONDITION_TAINTS[c.type]?.[c.status];
    if (key) want.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) want.push({ key: UNSCHEDULABLE, effect: 'NoSchedule' });
  const have = (node.spec?.taints ?? []).filter((t: Obj) => t.effect === 'NoSchedule' && (t.key === UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key)));
  return {
    add: want.filter((w) => !have.some((h: Obj) => matchTaint(h, w))),
    remove: have.filter((h: Obj) => !want.some((w) => matchTaint(h, w))),
  };
}

/**
 * The node's taint list with `add` put in (stamped timeAdded now, as SwapNodeControllerTaint does)
 * and `remove` taken out; undefined when nothing changes.
 */
export function swapTaints(taints: Obj[] | undefined, add: Obj[], remove: Obj[], nowMs: number): Obj[] | undefined {
  const current = taints ?? [];
  let next = current.filter((t) => !remove.some((r) => matchTaint(t, r)));
  const missing = add.filter((a) => !next.some((t) => matchTaint(t, a)));
  next = [...next, ...missing.map((a) => ({ key: a.key, ...(a.value ? { value: a.value } : {}), effect: a.effect, timeAdded: nowTimestamp(nowMs) }))];
  return next.length === current.length && missing.length === 0 ? undefined : next;
}
