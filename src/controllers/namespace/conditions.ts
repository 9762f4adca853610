// The conditions a terminating namespace reports while its content goes, as upstream's namespace
// deleter writes them (pkg/controller/namespace/deletion/status_condition_utils.go): all five
// types, each either its "ok" variant (False) or what is wrong or left (True), so that
// `kubectl describe namespace` tells what a namespace stuck in Terminating waits for.
import type { Obj } from '../../api/resource.ts';

export const CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;

const OK: Record<(typeof CONDITION_TYPES)[number], { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
};

/** What one pass over the namespace's content found. */
export interface ContentTotals {
  /** Objects left after the pass, by "<resource>.<group>" (core kinds end in a dot: "pods."). */
  remaining: Map<string, number>;
  /** Objects left holding each finalizer. */
  finalizers: Map<string, number>;
  /** Kinds whose deletion failed, as "<what failed>: <error>". */
  failures: string[];
}

const counted = (m: Map<string, number>, format: (key: string, n: number) => string) =>
  [...m]
    .filter(([, n]) => n > 0)
    .map(([k, n]) => format(k, n))
    .sort();

/** The non-ok conditions a pass's totals call for, by type. */
function failing(totals: ContentTotals): Map<string, { reason: string; message: string }> {
  const out = new Map<string, { reason: string; message: string }>();
  const kinds = counted(totals.remaining, (k, n) => `${k} has ${n} resource instances`);
  if (kinds.length) out.set('NamespaceContentRemaining', { reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${kinds.join(', ')}` });
  const held = counted(totals.finalizers, (f, n) => `${f} in ${n} resource instances`);
  if (held.length) {
    out.set('NamespaceFinalizersRemaining', { reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${held.join(', ')}` });
  }
  if (totals.failures.length) {
    const failures = [...totals.failures].sort();
    out.set('NamespaceDeletionContentFailure', {
      reason: 'ContentDeletionFailed',
      message: `Failed to delete all resource types, ${failures.length} remaining: ${failures.join(', ')}`,
    });
  }
  return out;
}

/**
 * The namespace's conditions after a pass: every deleter type set from the totals (other types
 * kept as they are), a condition's transition time moved only when its status changes; undefined
 * when nothing changed, so that no write is needed.
 */
export function deletionConditions(current: readonly Obj[] | undefined, totals: ContentTotals, now: string): Obj[] | undefined {
  const conditions = (current ?? []).map((c) => ({ ...c }));
  const bad = failing(totals);
  let changed = false;
  for (const type of CONDITION_TYPES) {
    const want = bad.get(type);
    const status = want ? 'True' : 'False';
    const { reason, message } = want ?? OK[type];
    const old = conditions.find((c) => c.type === type);
    if (!old) {
      conditions.push({ type, status, lastTransitionTime: now, reason, message });
      changed = true;
    } else if (old.status !== status || old.reason !== reason || old.message !== message) {
      if (old.status !== status) old.lastTransitionTime = now;
      Object.assign(old, { status, reason, message });
      changed = true;
    }
  }
  return changed ? conditions : undefined;
}
