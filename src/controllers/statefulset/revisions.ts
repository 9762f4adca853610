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
