// Turns list/watch query selectors into object predicates, and uses the cache's field indexes
// (pods by spec.nodeName, anything by name) instead of scanning where a selector allows it.
import type { Obj, ResourceDef } from '../api/resource.ts';
import type { CachedObject } from '../storage/cache.ts';
import { badRequest } from './errors.ts';
import type { ResourceStore } from './resource-store.ts';
import { keyFor, bucketFor } from './resource-store.ts';
import * as sel from '../api/selectors/index.ts';

export function makeFilter(r: ResourceDef, labelSelector: string | null | undefined, fieldSelector: string | null | undefined): (obj: Obj) => boolean {
  const labels = labelSelector ? parseLabels(labelSelector) : undefined;
  const fields = fieldSelector ? parseFields(r, fieldSelector) : undefined;
  if (!labels && !fields) return () => true;
  return (obj) => (!labels || sel.matchesLabels(labels, obj.metadata?.labels ?? {})) && (!fields || sel.fieldsMatch(fields, sel.fieldValuesFor(r.kind, obj)));
}

function parseLabels(s: string): sel.LabelSelector {
  try {
    return sel.parseLabelSelector(s);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}

function parseFields(r: ResourceDef, s: string): sel.FieldSelector {
  try {
    return sel.validateFieldSelector(r.kind, sel.parseFieldSelector(s));
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}

/**
 * The indexed field value a watch's selector pins (pods' spec.nodeName=<node>), so that it can
 * subscribe to those changes alone; undefined = every change of the resource is looked at.
 * Unscheduled pods (spec.nodeName=) are not indexed, so that selector looks at every change.
 */
export function watchTrigger(rs: ResourceStore, r: ResourceDef, fieldSelector: string | null | undefined): { field: string; value: string } | undefined {
  if (!fieldSelector || r.kind !== 'Pod' || r.group !== '') return undefined;
  const node = sel.exactFieldMatch(parseFields(r, fieldSelector), 'spec.nodeName');
  if (!node || !rs.cache.hasIndex(bucketFor(r), 'spec.nodeName')) return undefined;
  return { field: 'spec.nodeName', value: node };
}

/** Candidates for a list from an index when the field selector pins an indexed field; undefined = scan. */
export function indexedLookup(rs: ResourceStore, r: ResourceDef, namespace: string | undefined, fieldSelector: string | null | undefined): CachedObject[] | undefined {
  if (!fieldSelector) return undefined;
  const parsed = parseFields(r, fieldSelector);
  const name = sel.exactFieldMatch(parsed, 'metadata.name');
  if (name !== undefined && (namespace !== undefined || !r.namespaced)) {
    const hit = rs.cache.get(keyFor(r, namespace, name));
    return hit ? [hit] : [];
  }
  const node = r.kind === 'Pod' ? sel.exactFieldMatch(parsed, 'spec.nodeName') : undefined;
  // Unscheduled pods (spec.nodeName=) are not in the index: that selector scans.
  if (node) {
    const hits = rs.cache.lookup(bucketFor(r), 'spec.nodeName', node);
    if (hits) return namespace === undefined ? hits : hits.filter((h) => h.obj.metadata.namespace === namespace);
  }
  return undefined;
}

export function formatLabelSelector(selector: Obj | undefined): string {
  return sel.formatLabelSelector(selector);
}

export function selectorMatchesLabels(selector: Obj | undefined, labels: Record<string, string>): boolean {
  return sel.matchesLabels(sel.labelSelectorFromObject(selector), labels);
}
