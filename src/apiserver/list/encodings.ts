// The JSON bytes of cached objects, kept with each object for as long as its resource is being
// listed over HTTP, so that a LIST writes buffers it already has instead of serializing
// every item again.
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
  /** JSON.stringify(obj), as UTF-8. */
  readonly bytes: Buffer;
  /** Byte offsets of metadata's value in bytes (start inclusive, end exclusive); -1 until found, -2 when absent. */
  metaStart: number;
  metaEnd: number;
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

/** The object's JSON bytes, kept for later LISTs of its resource. */
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
  if (e && !e.byObject.has(obj)) e.byObject.set(obj, fromString(json));
}

/** The JSON bytes of an object that is not kept (e.g. a version converted for one request). */
export function encodeObject(obj: Obj): Encoded {
  return fromString(encode(obj));
}

function fromString(json: string): Encoded {
  // A buffer of its own, not a slice of Node's shared pool: a kept slice would pin the whole
  // pool slab (8 KiB) for as long as it lives.
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(json));
  bytes.write(json, 0, 'utf8');
  return { bytes, metaStart: -1, metaEnd: -1 };
}

/** The bytes of the object's metadata value, a view into its encoding; undefined when it has none. */
export function metadataBytes(enc: Encoded): Buffer | undefined {
  if (enc.metaStart === -1) {
    const span = metadataSpan(enc.bytes);
    enc.metaStart = span ? span[0] : -2;
    enc.metaEnd = span ? span[1] : -2;
  }
  return enc.metaStart < 0 ? undefined : enc.bytes.subarray(enc.metaStart, enc.metaEnd);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const METADATA_KEY = Buffer.from('"metadata"');

/**
 * Where the value of the top-level "metadata" field lies in compact JSON bytes, when it is an
 * object. Structural characters are ASCII, and UTF-8 never uses ASCII bytes inside a multi-byte
 * character, so a byte scan that skips strings finds them exactly.
 */
export function metadataSpan(b: Uint8Array): [number, number] | undefined {
  let depth = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) {
      const start = i;
      i = stringEnd(b, i);
      // A key of the top-level object followed by its value.
      if (depth === 1 && b[i + 1] === COLON && i + 1 - start === METADATA_KEY.length && METADATA_KEY.equals(b.subarray(start, i + 1))) {
        const valueStart = i + 2;
        if (b[valueStart] !== OPEN_BRACE) return undefined;
        const valueEnd = containerEnd(b, valueStart);
        return valueEnd < 0 ? undefined : [valueStart, valueEnd];
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return undefined;
}

/** The index of the quote closing the string that opens at i. */
function stringEnd(b: Uint8Array, i: number): number {
  for (i++; i < b.length; i++) {
    const d = b[i];
    if (d === BACKSLASH) i++;
    else if (d === QUOTE) return i;
  }
  return b.length;
}

/** The index just past the object or array that opens at start, or -1 when it does not close. */
function containerEnd(b: Uint8Array, start: number): number {
  let depth = 0;
  for (let i = start; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) i = stringEnd(b, i);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return -1;
}
