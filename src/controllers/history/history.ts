// ControllerRevision utilities, as upstream's controller history package: revision naming and
// hashing, ordering, equality, and which old revisions a history limit lets go. All pure; the
// writes live in ./control.ts.
import type { Obj } from '../../api/resource.ts';

/** Label on a ControllerRevision holding its hash (the name suffix, without the parent's name). */
export const HASH_LABEL = 'controller.kubernetes.io/hash';

/** Names are `<parent>-<hash>`; the parent part is cut so the whole stays a valid object name. */
const MAX_PREFIX = 223;

/** 32-bit FNV-1 (multiply, then xor — not FNV-1a) over bytes. */
export function fnv1(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ b) >>> 0;
  }
  return h;
}

// Upstream's "safe" alphabet: no vowels (so no words) and no look-alike characters.
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** Maps every character through the safe alphabet by its code, as upstream's SafeEncodeString. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE[s.charCodeAt(i) % SAFE.length];
  return out;
}

const utf8 = new TextEncoder();

/** The hash of revision data (its exact bytes) salted with the collision count, when given. */
export function hashRevision(data: string, collisionCount?: number): string {
  let h = fnv1(utf8.encode(data));
  if (collisionCount !== undefined && collisionCount !== null) h = fnv1(utf8.encode(String(collisionCount)), h);
  return safeEncode(String(h));
}

export function revisionName(parentName: string, hash: string): string {
  return `${parentName.slice(0, MAX_PREFIX)}-${hash}`;
}

/**
 * JSON as Go's encoding/json writes a map: keys sorted at every level, compact, and with the
 * HTML-sensitive characters escaped. Revision data must be byte-stable, because both its hash
 * and kubectl's "template already matches" check compare bytes.
 */
export function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => goJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${goString(k)}:${goJson(o[k])}`).join(',')}}`;
  }
  if (typeof value === 'string') return goString(value);
  return JSON.stringify(value);
}

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The canonical text of a revision's data, whatever key order the server returned it in. */
export function revisionData(rev: Obj): string {
  return goJson(rev.data ?? null);
}

/** Revision number ascending; ties broken by age, then name (upstream's SortControllerRevisions). */
export function sortRevisions(revisions: readonly Obj[]): Obj[] {
  return [...revisions].sort((a, b) => {
    const ra = Number(a.revision ?? 0);
    const rb = Number(b.revision ?? 0);
    if (ra !== rb) return ra - rb;
    const ta = a.metadata.creationTimestamp ?? '';
    const tb = b.metadata.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
  });
}

/** The hash label read as a 32-bit integer, as upstream does; most safe-encoded hashes are not numbers. */
function numericHash(rev: Obj): number | undefined {
  const s = rev.metadata?.labels?.[HASH_LABEL];
  if (typeof s !== 'string' || !/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= -(2 ** 31) && n < 2 ** 31 ? n >>> 0 : undefined;
}

/** Same data bytes (and, when both labels read as numbers, the same hash). */
export function equalRevision(a: Obj | undefined, b: Obj | undefined): boolean {
  if (!a || !b) return a === b;
  const ha = numericHash(a);
  const hb = numericHash(b);
  if (ha !== undefined && hb !== undefined && ha !== hb) return false;
  return revisionData(a) === revisionData(b);
}

export function findEqualRevisions(revisions: readonly Obj[], needle: Obj): Obj[] {
  return revisions.filter((r) => equalRevision(r, needle));
}

/** One more than the highest revision number of a sorted list, or 1 for an empty history. */
export function nextRevision(sorted: readonly Obj[]): number {
  return sorted.length ? Number(sorted[sorted.length - 1].revision ?? 0) + 1 : 1;
}

export interface ParentKind {
  apiVersion: string;
  kind: string;
}

export function controllerRefTo(parent: Obj, kind: ParentKind): Obj {
  return { apiVersion: kind.apiVersion, kind: kind.kind, name: parent.metadata.name, uid: parent.metadata.uid, controller: true, blockOwnerDeletion: true };
}

export function controllerOf(obj: Obj): Obj | undefined {
  return (obj.metadata?.ownerReferences ?? []).find((r: Obj) => r.controller === true);
}

/**
 * A new ControllerRevision object for `parent` (not yet stored): named and labelled with the hash
 * of `data` and the collision count, controlled by the parent.
 */
export function newControllerRevision(parent: Obj, kind: ParentKind, templateLabels: Record<string, string> | undefined, data: string, revision: number, collisionCount: number): Obj {
  const hash = hashRevision(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(parent.metadata.name, hash),
      namespace: parent.metadata.namespace,
      labels: { ...(templateLabels ?? {}), [HASH_LABEL]: hash },
      ownerReferences: [controllerRefTo(parent, kind)],
    },
    data: JSON.parse(data),
    revision,
  };
}

/**
 * Which revisions a history limit lets go: those no one uses (not current, not update, not named
 * by a pod), oldest first, beyond the newest `limit` of them. A negative limit keeps everything.
 */
export function revisionsToTruncate(sorted: readonly Obj[], live: ReadonlySet<string>, limit: number): Obj[] {
  const history = sorted.filter((r) => !live.has(r.metadata.name));
  if (limit < 0 || history.length <= limit) return [];
  return history.slice(0, history.length - limit);
}
