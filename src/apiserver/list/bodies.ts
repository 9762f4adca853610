// LIST response bodies as sequences of pieces: the envelope, then each item's encoding as kept by
// encodings.ts (or, joined in runs, slices of it and Table rows), so that no body is built as one string. Each body is
// byte for byte what JSON.stringify gives for the same list object (field order included): the
// envelope is that stringify with an empty item array, cut before the array closes.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import { partialMetadata, tableEnvelope, type IncludeObject } from '../table.ts';
import { metadataJson, type Encoded } from './encodings.ts';
import type { Piece } from './send.ts';

export type EncodedOf = (obj: Obj) => Encoded;

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

/** `{...envelope fields,"<field>":[` from JSON.stringify of the envelope with an empty array last. */
function openEnvelope(envelope: Obj, field: string): Buffer {
  const text = JSON.stringify({ ...envelope, [field]: [] });
  return Buffer.from(text.slice(0, -2));
}

/** A list of objects (PodList and the like): `{"kind","apiVersion","metadata","items":[...]}`. */
export function* objectListBody(envelope: Obj, items: readonly Obj[], encodedOf: EncodedOf): Generator<Piece> {
  yield openEnvelope(envelope, 'items');
  for (let i = 0; i < items.length; i++) {
    if (i > 0) yield COMMA;
    yield encodedOf(items[i]).json;
  }
  yield CLOSE;
}

/**
 * Small pieces (a Table row, an item's metadata) are joined into runs of about this many UTF-16
 * units before they are handed on: each piece costs a call into the response chunk's encoder
 * (some 200 ns, about what copying a kilobyte costs), while joining a run costs one flat copy of it.
 */
const RUN = 16 * 1024;

/** The start of a PartialObjectMetadata of a version, up to its metadata value. */
const metadataOpeners = new Map<string, string>();
function metadataOpener(version: string): string {
  let s = metadataOpeners.get(version);
  if (s === undefined) metadataOpeners.set(version, (s = `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/${version}","metadata":`));
  return s;
}

/** An item's PartialObjectMetadata: its metadata text (a slice of its encoding) in the envelope partialMetadata() gives. */
function partialMetadataJson(obj: Obj, version: string, encodedOf: EncodedOf): string {
  const meta = metadataJson(encodedOf(obj));
  return meta === undefined ? JSON.stringify(partialMetadata(obj, version)) : `${metadataOpener(version)}${meta}}`;
}

/** PartialObjectMetadataList (metadata-only informers, e.g. the garbage collector's). */
export function* metadataListBody(envelope: Obj, items: readonly Obj[], version: string, encodedOf: EncodedOf): Generator<Piece> {
  yield openEnvelope(envelope, 'items');
  let run = '';
  for (let i = 0; i < items.length; i++) {
    run += `${i > 0 ? ',' : ''}${partialMetadataJson(items[i], version, encodedOf)}`;
    if (run.length >= RUN) {
      yield run;
      run = '';
    }
  }
  if (run) yield run;
  yield CLOSE;
}

export interface TableOptions {
  include: IncludeObject;
  version: string;
  resourceVersion?: string;
  continue?: string;
  remaining?: number;
  /** The time ages are computed at (tests); now by default. */
  now?: number;
}

/**
 * A meta.k8s.io Table (`kubectl get`): rows of cells computed now (ages change), each with the
 * item's object or metadata from its kept encoding.
 */
export function* tableBody(r: ResourceDef, items: readonly Obj[], opts: TableOptions, encodedOf: EncodedOf): Generator<Piece> {
  const now = opts.now ?? Date.now();
  yield openEnvelope(tableEnvelope(r, opts), 'rows');
  const include = opts.include;
  let run = '';
  for (let i = 0; i < items.length; i++) {
    const obj = items[i];
    run += `${i > 0 ? ',' : ''}{"cells":${JSON.stringify(r.table.cells(obj, now))}`;
    if (include === 'None') run += '}';
    else if (include === 'Object') {
      // A whole object is large: it goes out as the kept text itself rather than joined into the run.
      yield `${run},"object":`;
      yield encodedOf(obj).json;
      run = '}';
      continue;
    } else run += `,"object":${partialMetadataJson(obj, opts.version, encodedOf)}}`;
    if (run.length >= RUN) {
      yield run;
      run = '';
    }
  }
  if (run) yield run;
  yield CLOSE;
}
