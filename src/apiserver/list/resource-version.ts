// What state a LIST reads, from its resourceVersion, resourceVersionMatch, limit and continue,
// decided as kube-apiserver 1.32 decides it (ListOptions validation, then the watch cache or etcd):
// pure, so the whole table is testable without a server.
import { forbidden, invalid as invalidField, notSupported } from '../../api/field-errors.ts';
import type { FieldError } from '../../api/field-errors.ts';
import { ApiError, badRequest, gone, invalid, type StatusDetails } from '../errors.ts';

export type ListRead =
  /** No resourceVersion: the latest state, after catching up with every committed write. */
  | { kind: 'consistent' }
  /** resourceVersion=0: whatever this server holds; any age will do. */
  | { kind: 'any' }
  /**
   * At least rv: the latest state once the cache has reached rv. Unpaged, upstream's watch cache
   * waits for rv up to 3 s; paged, etcd answers at once (504 when it has not reached rv).
   */
  | { kind: 'notOlderThan'; rv: number; paged: boolean }
  /** The state at exactly rv (resourceVersionMatch=Exact, or a legacy paged list at rv). */
  | { kind: 'exact'; rv: number }
  /**
   * A continue token: the rest of the list at the token's revision. `versioned`: a version came
   * with it, which upstream refuses (400) once the token itself has decoded.
   */
  | { kind: 'continue'; versioned: boolean };

export interface ListParams {
  resourceVersion?: string | null;
  resourceVersionMatch?: string | null;
  continue?: string | null;
  limit?: number;
}

/** Upstream's message when a list asks for a revision its history no longer holds. */
export const LIST_TOO_OLD = 'The resourceVersion for the provided list is too old.';

/** Exact and NotOlderThan as ListOptions spells them; "" is the legacy (unset) match. */
const MATCHES = ['Exact', 'NotOlderThan', ''];

/**
 * Decides the read, or throws the error upstream answers with: 422 for ListOptions that fail
 * validation (all failures in one message, as upstream aggregates them), 400 for a version given
 * with a continue token, 500 for an unparsable version (the watch cache hands the parse error up
 * unconverted) or 400 where upstream's etcd path parses it (paged and exact reads).
 */
export function decideListRead(p: ListParams): ListRead {
  const rv = p.resourceVersion ?? '';
  const match = p.resourceVersionMatch ?? '';
  const cont = p.continue ?? '';
  const limit = p.limit ?? 0;
  const errs: FieldError[] = [];
  if (match) {
    if (!rv) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (cont) errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (!MATCHES.includes(match)) errs.push(notSupported('resourceVersionMatch', match, MATCHES));
    if (match === 'Exact' && rv === '0') errs.push(forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  }
  if (errs.length) throw invalid('ListOptions', 'meta.k8s.io', '', errs);

  // Upstream would rather forbid any version with a token, but "0" was always accepted (and ignored).
  if (cont) return { kind: 'continue', versioned: !!rv && rv !== '0' };
  if (!rv) return { kind: 'consistent' };
  // Upstream's watch cache serves what it can (unpaged, inexact reads); etcd serves the rest.
  const fromEtcd = match === 'Exact' || (limit > 0 && rv !== '0');
  const parsed = parseResourceVersion(rv);
  if (typeof parsed === 'string') {
    if (fromEtcd) throw badRequest(`invalid resource version: ${parsed}`);
    throw new ApiError(500, '', parsed);
  }
  // A version that parses to 0 but is not spelled "0" ("00") passes validation and reaches etcd
  // as "no revision": the latest state, paged.
  if (parsed === 0) return fromEtcd ? { kind: 'notOlderThan', rv: 0, paged: true } : { kind: 'any' };
  if (match === 'Exact') return { kind: 'exact', rv: parsed };
  // Legacy: a paged list at a version reads that very version (it came from an earlier list).
  if (match === '' && limit > 0) return { kind: 'exact', rv: parsed };
  return { kind: 'notOlderThan', rv: parsed, paged: limit > 0 };
}

/**
 * 504 for a version this server has not reached (upstream's NewTooLargeResourceVersionError). The
 * watch cache, having waited, asks the client to retry after a second; etcd, which answers paged
 * reads without waiting, gives no retry hint.
 */
export function tooLargeResourceVersion(rev: number, current: number, retryAfterSeconds = 0): ApiError {
  const details: StatusDetails = { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] };
  if (retryAfterSeconds) details.retryAfterSeconds = retryAfterSeconds;
  return new ApiError(504, 'Timeout', `Timeout: Too large resource version: ${rev}, current: ${current}`, details);
}

const MAX_UINT64 = 18446744073709551615n;

/**
 * A revision as Go's strconv.ParseUint(s, 10, 64) reads it, or the field error's text upstream
 * gives for one it cannot read. Revisions past 2^53 lose precision as numbers, but any such one
 * is far beyond every revision a store holds, which is all the comparisons need.
 */
export function parseResourceVersion(s: string): number | string {
  const fail = (why: string) => {
    const e = invalidField('resourceVersion', s, `strconv.ParseUint: parsing ${goQuote(s)}: ${why}`);
    return `${e.field}: Invalid value: ${goQuote(s)}: ${e.detail}`;
  };
  if (!/^[0-9]+$/.test(s)) return fail('invalid syntax');
  if (BigInt(s) > MAX_UINT64) return fail('value out of range');
  return Number(s);
}

/** Go's %q of a string, for the characters a query parameter can carry. */
function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** 410 for an exact read of a revision whose history is gone (compacted, or beyond what is kept). */
export const listTooOld = () => gone(LIST_TOO_OLD);

/**
 * 500 for an exact read of a revision the store has not reached: what 1.32 answers, passing
 * etcd's error through unconverted (later releases answer 504 instead).
 */
export const futureRevision = () => new ApiError(500, '', 'etcdserver: mvcc: required revision is a future revision');
