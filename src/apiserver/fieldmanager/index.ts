// Field ownership, as upstream's apiserver fieldmanager keeps it over structured-merge-diff:
// - recordUpdate: every create, update and patch gives the writer the fields it changed (an
//   Update entry) and takes them, and the fields it removed, from everyone else;
// - apply: server-side apply merges a configuration into the live object, owns exactly what it
//   sets, drops what it stopped setting (unless someone else owns it) and refuses to change
//   fields others own unless forced.
// Both work on a view of the object without the fields the server owns (apiVersion, kind, name,
// uid, resourceVersion...) and without the part another endpoint writes (status on the main
// resource, everything but status on /status).
import type { Obj, ResourceDef } from '../../api/resource.ts';
import { components, type Schema } from '../../api/schema.ts';
import { invalid } from '../errors.ts';
import { FieldSet } from './fieldset.ts';
import { capUpdateManagers, conflictError, decodeManaged, encodeManaged, FIELD_MANAGER_MAX_LENGTH, managerId, type Conflict, type Managed, type ManagedEntry } from './managers.ts';
import { compare, deepEqual, merge, removeFields, toFieldSet } from './typed.ts';

export { managerFromUserAgent } from './managers.ts';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The manager upstream's skipNonAppliedManager gives the fields of an object that had no field
 * management (created before it existed, or whose managedFields were reset with `[{}]`) when it is
 * first applied to: the applier then conflicts with them like with any other manager's.
 */
export const BEFORE_FIRST_APPLY = 'before-first-apply';

/** Metadata the server sets: never owned by anyone (upstream's stripMeta). */
const SERVER_META = new Set(['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion']);

export interface Writer {
  manager: string;
  /** The group/version of the request. */
  apiVersion: string;
  subresource?: string;
}

/** The part of an object whose fields have owners, as shallow copies (objects are shared). */
function view(r: ResourceDef, obj: Obj | undefined, subresource: string | undefined): Obj {
  if (!obj) return {};
  // Every subresource written like status (status, a CSR's approval) writes into status.
  if (subresource) return obj.status === undefined ? {} : { status: obj.status };
  const out: Obj = {};
  // Status is written through /status where the kind has it: the main resource ignores it.
  const skipStatus = r.subresources.includes('status');
  for (const k in obj) {
    if (k === 'apiVersion' || k === 'kind' || (k === 'status' && skipStatus)) continue;
    if (k === 'metadata') {
      const meta: Obj = {};
      let any = false;
      for (const m in obj.metadata) {
        if (SERVER_META.has(m)) continue;
        meta[m] = obj.metadata[m];
        any = true;
      }
      if (any) out.metadata = meta;
      continue;
    }
    out[k] = obj[k];
  }
  return out;
}

const schemaOf = (r: ResourceDef): Schema | undefined => components[r.schema];

/**
 * Records a write (Update operation) in next.metadata.managedFields. `live` is the stored object
 * (undefined on create). Managed fields the client sent replace the stored ones, as upstream lets
 * clients edit them (`[{}]` clears them); an empty or absent list keeps the stored ones.
 */
export function recordUpdate(r: ResourceDef, live: Obj | undefined, next: Obj, w: Writer, now: string): void {
  const sent = next.metadata?.managedFields;
  // Clients usually send back what they read: only a list that differs from the stored one counts as an edit.
  const useSent = !w.subresource && Array.isArray(sent) && sent.length > 0 && !deepEqual(sent, live?.metadata?.managedFields);
  const managed = decodeManaged(useSent ? sent : live?.metadata?.managedFields);
  if (live && !tracked(managed)) {
    // Upstream's skipNonAppliedManager: an untracked object starts being tracked at its first
    // apply, not at an update (which is how `[{}]` clears managedFields for good).
    delete next.metadata.managedFields;
    return;
  }
  const cmp = compare(view(r, live, w.subresource), view(r, next, w.subresource), schemaOf(r));
  const id = managerId({ manager: w.manager, operation: 'Update', apiVersion: w.apiVersion, subresource: w.subresource });
  let touched = useSent;
  if (!cmp.removed.empty() || !cmp.changed.empty()) {
    for (const [mid, e] of managed) {
      if (mid === id) continue;
      const left = e.set.difference(cmp.changed).difference(cmp.removed);
      if (!left.equals(e.set)) {
        managed.set(mid, { ...e, set: left, raw: undefined });
        touched = true;
      }
    }
  }
  if (!cmp.changed.empty() || !cmp.removed.empty()) {
    const prev = managed.get(id);
    const base = prev ? prev.set.difference(cmp.removed) : new FieldSet();
    const set = base.union(cmp.changed);
    // The time moves only when the writer took fields (upstream's managedFieldsUpdater).
    const time = cmp.changed.empty() ? prev?.time : now;
    managed.set(id, { manager: w.manager, operation: 'Update', apiVersion: w.apiVersion, subresource: w.subresource, time, set });
    touched = true;
  }
  if (!touched) {
    // Nothing changed hands: keep the stored list as it is (same objects, so no-op writes stay no-ops).
    if (live?.metadata?.managedFields) next.metadata.managedFields = live.metadata.managedFields;
    else delete next.metadata.managedFields;
    return;
  }
  capUpdateManagers(managed);
  setManaged(next, managed);
}

/** Whether any manager owns any field (upstream's len(managed.Fields()) > 0, `[{}]` owning none). */
function tracked(managed: Managed): boolean {
  for (const e of managed.values()) if (!e.set.empty()) return true;
  return false;
}

function setManaged(obj: Obj, managed: Managed): void {
  const list = encodeManaged(managed);
  obj.metadata ??= {};
  if (list.length) obj.metadata.managedFields = list;
  else delete obj.metadata.managedFields;
}

export interface ApplyRequest {
  writer: Writer;
  force: boolean;
  now: string;
}

/**
 * Server-side apply of `config` onto `live` (undefined: the object is created). Returns the object
 * to store, with its managedFields; throws upstream's 409 on conflicts unless forced.
 */
export function apply(r: ResourceDef, live: Obj | undefined, config: Obj, req: ApplyRequest): Obj {
  const { writer: w } = req;
  const schema = schemaOf(r);
  const managed = decodeManaged(live?.metadata?.managedFields);
  const cfg = view(r, config, w.subresource);
  const before = view(r, live, w.subresource);
  if (live && !tracked(managed)) {
    // What the object already holds is recorded as an Update by before-first-apply (in the
    // request's version and subresource, as upstream records it), before the apply is merged.
    managed.clear();
    const existing = compare({}, before, schema).changed;
    if (!existing.empty()) {
      const entry = { manager: BEFORE_FIRST_APPLY, operation: 'Update' as const, apiVersion: w.apiVersion, subresource: w.subresource, time: req.now, set: existing };
      managed.set(managerId(entry), entry);
    }
  }
  const id = managerId({ manager: w.manager, operation: 'Apply', apiVersion: w.apiVersion, subresource: w.subresource });
  const applied = toFieldSet(cfg, schema);
  const previous = managed.get(id);
  let merged = merge(before, cfg, schema) as Obj;
  const others = [...managed].filter(([mid]) => mid !== id);
  if (previous && !previous.set.empty()) {
    // What this manager applied before and no longer does goes, unless someone else owns it too.
    let owned = applied;
    for (const [, e] of others) owned = owned.union(e.set);
    merged = removeFields(merged, schema, previous.set.difference(applied), owned) as Obj;
  }
  // Compared as it will be stored, defaults included, as upstream compares the defaulted object:
  // an atomic list the server fills defaults into (a StatefulSet's volumeClaimTemplates) applied
  // again unchanged is no change.
  const cmp = compare(before, defaulted(r, merged), schema);
  const conflicts: Conflict[] = [];
  for (const [, e] of others) {
    for (const path of e.set.intersection(cmp.changed).paths()) conflicts.push({ manager: e, path });
  }
  let force = req.force;
  if (conflicts.length && !force && w.manager === 'kubectl' && live && upgradableFromClientSide(r, live, conflicts, schema)) force = true;
  if (conflicts.length && !force) throw conflictError(conflicts);
  for (const [mid, e] of others) {
    const left = e.set.difference(cmp.changed).difference(cmp.removed);
    if (!left.equals(e.set)) managed.set(mid, { ...e, set: left, raw: undefined });
  }
  const objectChanged = !cmp.changed.empty() || !cmp.removed.empty();
  const sameSet = previous && previous.set.equals(applied);
  if (!sameSet || objectChanged) {
    managed.set(id, { manager: w.manager, operation: 'Apply', apiVersion: w.apiVersion, subresource: w.subresource, time: objectChanged || !previous ? req.now : previous.time, set: applied });
  }
  const out = rebuild(r, live, config, merged, w.subresource);
  if (w.manager === 'kubectl' && live?.metadata?.annotations?.[LAST_APPLIED] !== undefined && out.metadata?.annotations?.[LAST_APPLIED] !== undefined) {
    // Keeps client-side apply working after a server-side one (upstream's lastAppliedUpdater).
    out.metadata.annotations = { ...out.metadata.annotations, [LAST_APPLIED]: lastAppliedOf(config) };
  }
  setManaged(out, managed);
  return out;
}

/** The stored object with the merged view put back in place of its view. */
function rebuild(r: ResourceDef, live: Obj | undefined, config: Obj, merged: Obj, subresource: string | undefined): Obj {
  if (subresource) {
    const out: Obj = { ...live, metadata: { ...live?.metadata } };
    if (merged.status === undefined) delete out.status;
    else out.status = merged.status;
    return out;
  }
  const out: Obj = {};
  const base = live ?? { apiVersion: config.apiVersion, kind: config.kind, metadata: { name: config.metadata?.name, namespace: config.metadata?.namespace, generateName: undefined } };
  for (const k in base) {
    if (k === 'apiVersion' || k === 'kind' || (k === 'status' && r.subresources.includes('status'))) out[k] = base[k];
  }
  for (const k in merged) if (k !== 'metadata') out[k] = merged[k];
  const meta: Obj = {};
  for (const m in base.metadata ?? {}) if (SERVER_META.has(m) && base.metadata[m] !== undefined) meta[m] = base.metadata[m];
  Object.assign(meta, merged.metadata ?? {});
  out.metadata = meta;
  return out;
}

/**
 * Whether conflicts are only with fields that the object's last-applied-configuration annotation
 * set to the values they still have: kubectl's first server-side apply after client-side ones
 * takes those over (upstream's lastAppliedManager).
 */
function upgradableFromClientSide(r: ResourceDef, live: Obj, conflicts: Conflict[], schema: Schema | undefined): boolean {
  const text = live.metadata?.annotations?.[LAST_APPLIED];
  if (typeof text !== 'string') return false;
  let last: Obj;
  try {
    last = JSON.parse(text);
  } catch {
    return false;
  }
  if (!last || typeof last !== 'object') return false;
  const lastView = view(r, last, undefined);
  const cmp = compare(lastView, view(r, live, undefined), schema);
  const allowed = toFieldSet(lastView, schema).difference(cmp.changed).difference(cmp.removed);
  return conflicts.every((c) => allowed.has(c.path));
}

/** The annotation's value for an applied configuration: the configuration without the annotation, keys sorted. */
function lastAppliedOf(config: Obj): string {
  const c: Obj = { ...config, metadata: { ...config.metadata } };
  const ann = { ...(c.metadata.annotations ?? {}) };
  delete ann[LAST_APPLIED];
  if (Object.keys(ann).length) c.metadata.annotations = ann;
  else delete c.metadata.annotations;
  return JSON.stringify(sortKeys(c));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

/** Upstream's checks of PatchOptions for an apply: a manager is required, and not too long. */
export function validateApplyOptions(fieldManager: string | null): void {
  if (!fieldManager) throw invalid('PatchOptions', 'meta.k8s.io', '', [{ type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' }]);
  checkFieldManager(fieldManager);
}

export function checkFieldManager(fieldManager: string | null): void {
  if (fieldManager && Buffer.byteLength(fieldManager) > FIELD_MANAGER_MAX_LENGTH) {
    throw invalid('PatchOptions', 'meta.k8s.io', '', [{ type: 'FieldValueTooLong', field: 'fieldManager', badValue: fieldManager, detail: `may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes` }]);
  }
}

export type { ManagedEntry };

function defaulted(r: ResourceDef, obj: Obj): Obj {
  const copy = structuredClone(obj);
  try {
    if (r.convertIn && r.convert) return defaultedInVersion(r, copy);
    r.strategy.default(copy);
  } catch {
    return obj; // an object the strategy cannot default yet is compared as applied
  }
  return copy;
}

/** An older version of a built-in kind is defaulted in its stored form, then seen again in its own. */
function defaultedInVersion(r: ResourceDef, obj: Obj): Obj {
  const stored = r.convertIn!(obj);
  r.strategy.default(stored);
  const back = r.convert!(stored);
  // Only the parts the view had: conversion fills in others (status) the comparison must not see.
  const out: Obj = {};
  for (const k of Object.keys(obj)) if (back[k] !== undefined) out[k] = back[k];
  return out;
}
