// Revisions of a StatefulSet: what a revision records (a strategic-merge patch that puts the pod
// template back), and, each sync, which revision is the update revision — the newest one if the
// template did not change, an older equal one renumbered to the top (a rollback), or a new one.
import type { Obj } from '../../api/resource.ts';
import { equalRevision, findEqualRevisions, goJson, newControllerRevision, nextRevision } from '../history/history.ts';
import { SET_KIND } from './identity.ts';
import { cloneJson } from '../../util/json.ts';

/**
 * The revision data: `{"spec":{"template":{"$patch":"replace",...}}}` in Go's key order. The
 * template metadata carries `creationTimestamp: null`, as Go's typed encoding writes it, so that
 * kubectl's own rendering of the live set (for `rollout undo`) compares equal byte for byte.
 */
export function templatePatch(set: Obj): string {
  const template = cloneJson(set.spec?.template ?? {});
  template.metadata = { creationTimestamp: null, ...(template.metadata ?? {}) };
  template.$patch = 'replace';
  return goJson({ spec: { template } });
}

/** A new (unsaved) revision of the set's current template, carrying the set's annotations. */
export function newRevision(set: Obj, revision: number, collisionCount: number): Obj {
  const cr = newControllerRevision(set, SET_KIND, set.spec?.template?.metadata?.labels, templatePatch(set), revision, collisionCount);
  const annotations = set.metadata.annotations;
  if (annotations && Object.keys(annotations).length) cr.metadata.annotations = { ...annotations };
  return cr;
}

export type UpdateRevisionDecision =
  /** The newest revision already records this template. */
  | { kind: 'existing'; revision: Obj }
  /** An older revision records it: renumber that one to `to` (a rollback). */
  | { kind: 'rollback'; revision: Obj; to: number }
  /** No revision records it: store `revision`. */
  | { kind: 'create'; revision: Obj };

/** Upstream's getStatefulSetRevisions, minus the writes. `sorted` is the set's revisions by number. */
export function decideUpdateRevision(set: Obj, sorted: readonly Obj[], collisionCount: number): UpdateRevisionDecision {
  const candidate = newRevision(set, nextRevision(sorted), collisionCount);
  const equal = findEqualRevisions(sorted, candidate);
  if (equal.length && equalRevision(sorted[sorted.length - 1], equal[equal.length - 1])) return { kind: 'existing', revision: sorted[sorted.length - 1] };
  if (equal.length) return { kind: 'rollback', revision: equal[equal.length - 1], to: candidate.revision };
  return { kind: 'create', revision: candidate };
}

/** The revision named by status.currentRevision, if it still exists; the update revision otherwise. */
export function findCurrentRevision(set: Obj, sorted: readonly Obj[], update: Obj): Obj {
  const name = set.status?.currentRevision;
  return (name && sorted.find((r) => r.metadata.name === name)) || update;
}

/**
 * decideUpdateRevision hashes the template (in Go's JSON form) on every call; a controller syncing
 * a busy set asks the same question many times a second. While the template, the collision count
 * and the revision objects are what they were, the newest revision is still the update revision,
 * so that answer is reused. Any other answer leads to a write and is decided afresh.
 */
export class UpdateRevisionMemo {
  private last: { key: string; sorted: readonly Obj[]; revision: Obj } | undefined;

  decide(set: Obj, sorted: readonly Obj[], collisionCount: number): UpdateRevisionDecision {
    const key = JSON.stringify([set.metadata.uid, set.metadata.name, set.metadata.namespace, set.metadata.annotations ?? null, set.spec?.template ?? null, collisionCount]);
    const last = this.last;
    if (last && last.key === key && last.sorted.length === sorted.length && last.sorted.every((r, i) => r === sorted[i])) {
      return { kind: 'existing', revision: last.revision };
    }
    const decision = decideUpdateRevision(set, sorted, collisionCount);
    this.last = decision.kind === 'existing' ? { key, sorted: [...sorted], revision: decision.revision } : undefined;
    return decision;
  }
}
