// The JSON of cached objects, kept with each object for as long as its resource is being
// listed over HTTP, so that a LIST writes text it already has instead of serializing every
// item again.
//
// Memory: an encoding is about as large as the object's JSON (10,000 pods with managedFields: ~22
// MiB), so encodings are made lazily, by the first LIST (or Table, or metadata list) of a resource,
// and dropped with their resource when no LIST has asked for it for a while (IDLE_MS): a cluster that
// nobody lists over HTTP (in-process components read the watch cache directly) pays nothing. An
// encoding is keyed weakly by the object itself: objects are immutable and replaced on change, so
// an encoding leaves with the version it was made from and can never be stale.
import type { Obj } from '../../api/resource.ts';
import { encode } from '../../storage/cache.ts';

export interface Encoded {
  /**
   * JSON.stringify(obj): the very string the watch cache's encode() made (and may share with its
   * recent-encodings table), not a copy. Kept as text rather than bytes: turning each encoding
   * into a buffer of its own cost more than the encoding itself on a cold LIST, and writing the
   * text into a response chunk is a copy like any other.
   */
  readonly json: string;
  /**
   * The text of metadata's value, a slice of json (which V8 keeps as a view into it, not a copy):
   * undefined until first asked for, null when the object has no metadata object.
   */
  meta: string | null | undefined;
}

/**
 * How long a resource's encodings stay without a LIST asking for them: between one and two of
 * these. ORDINAL_LIST_ENCODINGS_IDLE_MS overrides it (tests).
 */
const IDLE_MS = Number(process.env.ORDINAL_LIST_ENCODINGS_IDLE_MS) || 60_000;

interface ResourceEncodings {
  byObject: WeakMap<Obj, Encoded>;
  /** Whether a LIST used these since the last sweep. */
  used: boolean;
}

const resources = new Map<string, ResourceEncodings>();
let sweeper: NodeJS.Timeout | undefined;

function sweep(): void {
  for (const [bucket, e] of resources) {
    if (e.used) e.used = false;
    else resources.delete(bucket);
  }
  if (resources.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/** Encodings of one resource (its storage bucket), for one LIST: marks the resource as listed. */
export function listEncodings(bucket: string): ResourceEncodings {
  let e = resources.get(bucket);
  if (!e) {
    resources.set(bucket, (e = { byObject: new WeakMap(), used: true }));
    sweeper ??= setInterval(sweep, IDLE_MS).unref();
  }
  e.used = true;
  return e;
}

/** The object's JSON, kept for later LISTs of its resource. */
export function encodedFor(encodings: ResourceEncodings, obj: Obj): Encoded {
  let enc = encodings.byObject.get(obj);
  if (!enc) encodings.byObject.set(obj, (enc = encodeObject(obj)));
  return enc;
}

/**
 * Hands over an encoding made anyway (a watch event's): kept only when the object's resource is
 * being listed, where the next LIST would otherwise make it again.
 */
export function offerEncoding(bucket: string, obj: Obj, json: string): void {
  const e = resources.get(bucket);
  if (e && !e.byObject.has(obj)) e.byObject.set(obj, { json, meta: undefined });
}

/** The JSON kept for an object, if its resource is being listed and a LIST or watch encoded this version. */
export function keptJson(bucket: string, obj: Obj): string | undefined {
  return resources.get(bucket)?.byObject.get(obj)?.json;
}

/** The JSON of an object that is not kept (e.g. a version converted for one request). */
export function encodeObject(obj: Obj): Encoded {
  return { json: encode(obj), meta: undefined };
}

/** The text of the object's metadata value, a slice of its encoding; undefined when it has none. */
export function metadataJson(enc: Encoded): string | undefined {
  if (enc.meta === undefined) {
    const span = metadataSpan(enc.json);
    enc.meta = span ? enc.json.slice(span[0], span[1]) : null;
  }
  return enc.meta ?? undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const METADATA_KEY = '"metadata"';

/**
 * Where the value of the top-level "metadata" field lies in compact JSON text, when it is an
 * object: a scan that skips strings, so that braces and keys inside them do not count.
 */
export function metadataSpan(s: string): [number, number] | undefined {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      i = stringEnd(s, i);
      // A key of the top-level object followed by its value.
      if (depth === 1 && s.charCodeAt(i + 1) === COLON && i + 1 - start === METADATA_KEY.length && s.startsWith(METADATA_KEY, start)) {
        const valueStart = i + 2;
        if (s.charCodeAt(valueStart) !== OPEN_BRACE) return undefined;
        const valueEnd = containerEnd(s, valueStart);
        return valueEnd < 0 ? undefined : [valueStart, valueEnd];
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return undefined;
}

/** The index of the quote closing the string that opens at i. */
function stringEnd(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    const d = s.charCodeAt(i);
    if (d === BACKSLASH) i++;
    else if (d === QUOTE) return i;
  }
  return s.length;
}

/** The index just past the object or array that opens at start, or -1 when it does not close. */
function containerEnd(s: string, start: number): number {
  let depth = 0;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(s, i);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return -1;
}
