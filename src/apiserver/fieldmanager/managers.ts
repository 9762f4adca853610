// metadata.managedFields as a table of managers: decoding and encoding entries, upstream's
// manager identity (name, operation, subresource, and for updates the apiVersion), the order
// entries are written in, the cap on update managers, names from user agents, and conflicts.
import { ApiError } from '../errors.ts';
import { decodeFieldsV1, encodeFieldsV1, pathString, type FieldSet } from './fieldset.ts';

export interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  subresource?: string;
  set: FieldSet;
  /** The stored entry this came from while unchanged, re-used as is when writing back. */
  raw?: Record<string, unknown>;
}

export type Managed = Map<string, ManagedEntry>;

/** Upstream keeps at most this many Update entries; older ones are folded together. */
export const MAX_UPDATE_MANAGERS = 10;
export const ANCIENT_CHANGES = 'ancient-changes';
/** Upstream's limit on fieldManager. */
export const FIELD_MANAGER_MAX_LENGTH = 128;

/**
 * Upstream's manager identifier: appliers are one manager whatever apiVersion they apply with,
 * updaters are one per apiVersion.
 */
export function managerId(e: { manager: string; operation: string; apiVersion: string; subresource?: string }): string {
  return JSON.stringify({ manager: e.manager, operation: e.operation, apiVersion: e.operation === 'Apply' ? undefined : e.apiVersion, subresource: e.subresource || undefined });
}

// Stored objects are shared and immutable, so their decoded sets can be remembered.
const decoded = new WeakMap<object, FieldSet>();

/** The managers of an object; entries that cannot be read are left out, as upstream's decode would refuse them. */
export function decodeManaged(list: unknown): Managed {
  const out: Managed = new Map();
  if (!Array.isArray(list)) return out;
  for (const raw of list) {
    if (!raw || typeof raw !== 'object') continue;
    const e = raw as Record<string, unknown>;
    const f = e.fieldsV1;
    let set = f && typeof f === 'object' ? decoded.get(f) : undefined;
    if (!set) {
      set = decodeFieldsV1(f);
      if (f && typeof f === 'object') decoded.set(f, set);
    }
    const entry: ManagedEntry = {
      manager: String(e.manager ?? ''),
      operation: e.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: String(e.apiVersion ?? ''),
      time: typeof e.time === 'string' ? e.time : undefined,
      subresource: typeof e.subresource === 'string' && e.subresource ? e.subresource : undefined,
      set,
      raw: e,
    };
    out.set(managerId(entry), entry);
  }
  return out;
}

/** Entries as upstream writes them: Apply before Update, then oldest first, then by name. */
export function encodeManaged(m: Managed): Record<string, unknown>[] {
  const entries = [...m.values()].filter((e) => !e.set.empty());
  entries.sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    const pt = p.time ?? '';
    const qt = q.time ?? '';
    if (pt !== qt) return pt < qt ? -1 : 1;
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    return (p.subresource ?? '') < (q.subresource ?? '') ? -1 : 1;
  });
  return entries.map((e) => {
    if (e.raw) return e.raw;
    const out: Record<string, unknown> = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion };
    if (e.time) out.time = e.time;
    out.fieldsType = 'FieldsV1';
    out.fieldsV1 = encodeFieldsV1(e.set);
    if (e.subresource) out.subresource = e.subresource;
    decoded.set(out.fieldsV1 as object, e.set);
    return out;
  });
}

/** Folds the oldest Update entries, per apiVersion, into one `ancient-changes` entry until at most `max` remain. */
export function capUpdateManagers(m: Managed, max = MAX_UPDATE_MANAGERS): void {
  const updaters = [...m.entries()].filter(([, e]) => e.operation === 'Update' && !e.set.empty());
  if (updaters.length <= max) return;
  updaters.sort(([a, p], [b, q]) => ((p.time ?? '') !== (q.time ?? '') ? ((p.time ?? '') < (q.time ?? '') ? -1 : 1) : a < b ? -1 : 1));
  const firstOfVersion = new Map<string, string>();
  let count = updaters.length;
  for (const [id, e] of updaters) {
    if (count <= max) break;
    const bucketId = managerId({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: e.apiVersion });
    const first = firstOfVersion.get(e.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(e.apiVersion, id);
      continue;
    }
    let bucket = m.get(bucketId);
    if (!bucket) {
      const f = m.get(first)!;
      m.delete(first);
      bucket = { manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: e.apiVersion, time: f.time, set: f.set };
    }
    m.set(bucketId, { ...bucket, raw: undefined, set: bucket.set.union(e.set), time: e.time });
    m.delete(id);
    count--;
  }
}

/**
 * The manager name upstream records when a request names none: the user agent up to its first
 * `/`, printable characters only, at most 128 bytes ("kubectl/v1.32.0 (linux/amd64) ..." → kubectl).
 */
export function managerFromUserAgent(ua: string | undefined): string {
  const prefix = (ua ?? '').split('/')[0];
  let out = '';
  let bytes = 0;
  for (const ch of prefix) {
    if (/\p{C}/u.test(ch)) continue;
    const n = Buffer.byteLength(ch);
    if (bytes + n > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** A manager as conflict messages print it. */
export function describeManager(e: ManagedEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += e.time ? ` using ${e.apiVersion} at ${e.time}` : ` using ${e.apiVersion}`;
  return s;
}

export interface Conflict {
  manager: ManagedEntry;
  path: string[];
}

/** Upstream's 409 for apply conflicts: one cause per field, the message grouped by manager. */
export function conflictError(conflicts: Conflict[]): ApiError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${describeManager(c.manager)}`, field: pathString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(conflicts[0].manager)}: ${pathString(conflicts[0].path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const k = describeManager(c.manager);
      byManager.set(k, [...(byManager.get(k) ?? []), pathString(c.path)]);
    }
    const lines: string[] = [];
    for (const k of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${k}:`);
      for (const p of byManager.get(k)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}
