// SPDY/3 name/value header blocks and their compression.
//
// A block is: a 32-bit count, then per header a 32-bit name length, the (lowercase) name, a 32-bit
// value length and the value, where several values for one name are joined with NUL bytes. Each
// direction of a connection compresses all its blocks with ONE zlib stream primed with the SPDY/3
// dictionary, ending every block with a sync flush, so the peer's single inflate context can
// decode each frame as it arrives. The contexts must therefore be used in frame order, which is
// why this module works synchronously (see `syncFlush`).
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.ts';

/** Header names are lowercase; a name with several values maps to an array. */
export type SpdyHeaders = Record<string, string | string[]>;

/** The first value of a header, looked up case-insensitively. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export class SpdyProtocolError extends Error {
  /** The stream the error concerns, 0 for the whole connection. */
  readonly streamId: number;
  constructor(message: string, streamId = 0) {
    super(message);
    this.name = 'SpdyProtocolError';
    this.streamId = streamId;
  }
}

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries: Array<[Buffer, Buffer]> = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join('\0') : value;
    entries.push([Buffer.from(name.toLowerCase(), 'utf8'), Buffer.from(joined, 'utf8')]);
  }
  let size = 4;
  for (const [n, v] of entries) size += 8 + n.length + v.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(entries.length, 0);
  let off = 4;
  for (const [n, v] of entries) {
    out.writeUInt32BE(n.length, off);
    n.copy(out, off + 4);
    off += 4 + n.length;
    out.writeUInt32BE(v.length, off);
    v.copy(out, off + 4);
    off += 4 + v.length;
  }
  return out;
}

export function decodeHeaderBlock(block: Buffer, streamId = 0): SpdyHeaders {
  const fail = (what: string): never => {
    throw new SpdyProtocolError(`malformed header block: ${what}`, streamId);
  };
  if (block.length < 4) fail('too short');
  const count = block.readUInt32BE(0);
  const headers: SpdyHeaders = {};
  let off = 4;
  for (let i = 0; i < count; i++) {
    if (off + 4 > block.length) fail('truncated name length');
    const nlen = block.readUInt32BE(off);
    off += 4;
    if (nlen === 0 || off + nlen > block.length) fail('bad name length');
    const name = block.toString('utf8', off, off + nlen).toLowerCase();
    off += nlen;
    if (off + 4 > block.length) fail('truncated value length');
    const vlen = block.readUInt32BE(off);
    off += 4;
    if (off + vlen > block.length) fail('bad value length');
    const values = block.toString('utf8', off, off + vlen).split('\0');
    off += vlen;
    const prev = headers[name];
    const all = prev === undefined ? values : [...(Array.isArray(prev) ? prev : [prev]), ...values];
    headers[name] = all.length === 1 ? all[0]! : all;
  }
  return headers;
}

// Node's zlib streams are asynchronous, but a SPDY connection must compress and decompress header
// blocks strictly in frame order within one long-lived context, and an ordered async pipeline for
// a few hundred bytes per frame costs more than it saves. Node's own one-shot *Sync helpers drive
// the native handle synchronously (and then close it); we do the same without closing, so the
// context keeps its history between frames. `_handle.writeSync` and `_writeState` are the
// internals those helpers use; the unit tests would catch a Node release that changes them.
interface ZlibInternals {
  _handle: {
    writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  } | null;
  /** [output bytes left, input bytes left] after the last write. */
  _writeState: Uint32Array;
}

const OUT_CHUNK = 16 * 1024;

function syncFlush(engine: zlib.Deflate | zlib.Inflate, input: Buffer): Buffer {
  const z = engine as unknown as ZlibInternals;
  if (!z._handle) throw new Error('zlib context is closed');
  const out: Buffer[] = [];
  let inOff = 0;
  let inLen = input.length;
  for (;;) {
    const buf = Buffer.allocUnsafe(OUT_CHUNK);
    z._handle.writeSync(zlib.constants.Z_SYNC_FLUSH, input, inOff, inLen, buf, 0, OUT_CHUNK);
    // The native side reports errors by destroying the stream synchronously.
    if (engine.errored) throw engine.errored;
    const availOut = z._writeState[0]!;
    const availIn = z._writeState[1]!;
    if (availOut < OUT_CHUNK) out.push(buf.subarray(0, OUT_CHUNK - availOut));
    inOff += inLen - availIn;
    inLen = availIn;
    // Output space left over means zlib has consumed the input and flushed everything.
    if (availOut !== 0) break;
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

function newEngine<T extends zlib.Deflate | zlib.Inflate>(engine: T): T {
  // Errors surface through syncFlush; the stream's own 'error' event must not go unhandled.
  engine.on('error', () => {});
  return engine;
}

/** Compresses the header blocks one side of a connection sends. */
export class HeaderCompressor {
  private readonly engine = newEngine(zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: zlib.constants.Z_BEST_COMPRESSION }));

  compress(headers: SpdyHeaders): Buffer {
    return syncFlush(this.engine, encodeHeaderBlock(headers));
  }

  close(): void {
    this.engine.close();
  }
}

/** Decompresses the header blocks one side of a connection receives. */
export class HeaderDecompressor {
  private readonly engine = newEngine(zlib.createInflate({ dictionary: SPDY3_DICTIONARY }));

  decompress(compressed: Buffer, streamId = 0): SpdyHeaders {
    let raw: Buffer;
    try {
      raw = syncFlush(this.engine, compressed);
    } catch (err) {
      throw new SpdyProtocolError(`header block does not decompress: ${(err as Error).message}`, streamId);
    }
    return decodeHeaderBlock(raw, streamId);
  }

  close(): void {
    this.engine.close();
  }
}
