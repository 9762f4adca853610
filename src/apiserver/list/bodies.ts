// LIST response bodies as sequences of pieces: the envelope, then each item's encoding as kept by
// encodings.ts (or a slice of it), so that no body is built as one string. Each body is
// byte for byte what JSON.stringify gives for the same list object (field order included): the
// envelope is that stringify with an empty item array, cut before the array closes.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import { partialMetadata, tableEnvelope, type IncludeObject } from '../table.ts';
import { metadataJson, type Encoded } from './encodings.ts';
import type { Piece } from './send.ts';

export type EncodedOf = (obj: Obj) => Encoded;

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');
const CLOSE_OBJECT = Buffer.from('}');

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

/** The start of a PartialObjectMetadata of a version, up to its metadata value. */
const metadataOpeners = new Map<string, Buffer>();
function metadataOpener(version: string): Buffer {
  let b = metadataOpeners.get(version);
  if (!b) metadataOpeners.set(version, (b = Buffer.from(`{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/${version}","metadata":`)));
  return b;
}

/** An item's PartialObjectMetadata: its metadata bytes in the envelope partialMetadata() gives. */
function* partialMetadataPieces(obj: Obj, version: string, encodedOf: EncodedOf): Generator<Piece> {
  const meta = metadataJson(encodedOf(obj));
  if (meta === undefined) {
    yield JSON.stringify(partialMetadata(obj, version));
    return;
  }
  yield metadataOpener(version);
  yield meta;
  yield CLOSE_OBJECT;
}

/** PartialObjectMetadataList (metadata-only informers, e.g. the garbage collector's). */
export function* metadataListBody(envelope: Obj, items: readonly Obj[], version: string, encodedOf: EncodedOf): Generator<Piece> {
  yield openEnvelope(envelope, 'items');
  for (let i = 0; i < items.length; i++) {
    if (i > 0) yield COMMA;
    yield* partialMetadataPieces(items[i], version, encodedOf);
  }
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

const ROW_OBJECT = Buffer.from(',"object":');

/**
 * A meta.k8s.io Table (`kubectl get`): rows of cells computed now (ages change), each with the
 * item's object or metadata from its kept encoding.
 */
export function* tableBody(r: ResourceDef, items: readonly Obj[], opts: TableOptions, encodedOf: EncodedOf): Generator<Piece> {
  const now = opts.now ?? Date.now();
  yield openEnvelope(tableEnvelope(r, opts), 'rows');
  for (let i = 0; i < items.length; i++) {
    const obj = items[i];
    const cells = `${i > 0 ? ',' : ''}{"cells":${JSON.stringify(r.table.cells(obj, now))}`;
    if (opts.include === 'None') {
      yield `${cells}}`;
      continue;
    }
    yield cells;
    yield ROW_OBJECT;
    if (opts.include === 'Object') yield encodedOf(obj).json;
    else yield* partialMetadataPieces(obj, opts.version, encodedOf);
    yield CLOSE_OBJECT;
  }
  yield CLOSE;
}
