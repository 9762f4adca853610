// CRD status conditions: set one by type, keeping lastTransitionTime when its status is unchanged.
import type { Obj } from '../api/resource.ts';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** A copy of status with the condition set (conditions are kept in upstream's order of first setting). */
export function setCondition(status: Obj, c: Condition, now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')): Obj {
  const conditions: Obj[] = Array.isArray(status.conditions) ? [...status.conditions] : [];
  const i = conditions.findIndex((x) => x.type === c.type);
  const lastTransitionTime = i >= 0 && conditions[i].status === c.status ? conditions[i].lastTransitionTime : now;
  const next = { type: c.type, status: c.status, lastTransitionTime, reason: c.reason, message: c.message };
  if (i >= 0) conditions[i] = next;
  else conditions.push(next);
  return { ...status, conditions };
}

export function conditionOf(crd: Obj, type: string): Obj | undefined {
  return (Array.isArray(crd.status?.conditions) ? crd.status.conditions : []).find((c: Obj) => c.type === type);
}
