// SPDY/3.1 frames: their in-memory form, encoding, and an incremental decoder.
//
// Every frame has an 8-byte header. Control frames: 1 bit set, 15-bit version (3), 16-bit type,
// 8-bit flags, 24-bit payload length. DATA frames: 1 bit clear, 31-bit stream id, 8-bit flags,
// 24-bit length. Header blocks inside SYN_STREAM, SYN_REPLY and HEADERS are compressed with the
// connection's per-direction zlib context (headers.ts).
import { HeaderCompressor, HeaderDecompressor, SpdyProtocolError } from './headers.ts';
import type { SpdyHeaders } from './headers.ts';

export const SPDY_VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
export const FLAG_SETTINGS_CLEAR = 0x01;

/** RST_STREAM status codes. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

/** SETTINGS ids. */
export const SettingsId = {
  UPLOAD_BANDWIDTH: 1,
  DOWNLOAD_BANDWIDTH: 2,
  ROUND_TRIP_TIME: 3,
  MAX_CONCURRENT_STREAMS: 4,
  CURRENT_CWND: 5,
  DOWNLOAD_RETRANS_RATE: 6,
  INITIAL_WINDOW_SIZE: 7,
  CLIENT_CERTIFICATE_VECTOR_SIZE: 8,
} as const;

/** The initial per-stream and per-connection flow-control window of SPDY/3.1. */
export const DEFAULT_WINDOW = 64 * 1024;
/** The largest payload the 24-bit length field can carry. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export interface Setting {
  id: number;
  value: number;
  flags: number;
}

export type Frame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | {
      type: 'syn_stream';
      streamId: number;
      associatedId: number;
      priority: number;
      slot: number;
      fin: boolean;
      unidirectional: boolean;
      headers: SpdyHeaders;
    }
  | { type: 'syn_reply'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; clear: boolean; settings: Setting[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'window_update'; streamId: number; delta: number };

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new RangeError('SPDY frame payload too large');
  const head = Buffer.allocUnsafe(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.allocUnsafe(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/**
 * Encodes one frame. Frames with header blocks use (and advance) `compressor`, so frames must be
 * written to the wire in the order they were encoded.
 */
export function encodeFrame(frame: Frame, compressor: HeaderCompressor): Buffer {
  switch (frame.type) {
    case 'data': {
      if (frame.data.length > MAX_FRAME_PAYLOAD) throw new RangeError('SPDY data frame too large');
      const head = Buffer.allocUnsafe(8);
      head.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
      head.writeUInt32BE(((frame.fin ? FLAG_FIN : 0) << 24) | frame.data.length, 4);
      return frame.data.length ? Buffer.concat([head, frame.data]) : head;
    }
    case 'syn_stream': {
      const fixed = Buffer.allocUnsafe(10);
      fixed.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
      fixed.writeUInt32BE(frame.associatedId & 0x7fffffff, 4);
      fixed[8] = (frame.priority & 0x7) << 5;
      fixed[9] = frame.slot & 0xff;
      const flags = (frame.fin ? FLAG_FIN : 0) | (frame.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
      return controlFrame(FrameType.SYN_STREAM, flags, Buffer.concat([fixed, compressor.compress(frame.headers)]));
    }
    case 'syn_reply':
    case 'headers': {
      const type = frame.type === 'syn_reply' ? FrameType.SYN_REPLY : FrameType.HEADERS;
      const payload = Buffer.concat([u32s(frame.streamId & 0x7fffffff), compressor.compress(frame.headers)]);
      return controlFrame(type, frame.fin ? FLAG_FIN : 0, payload);
    }
    case 'rst_stream':
      return controlFrame(FrameType.RST_STREAM, 0, u32s(frame.streamId & 0x7fffffff, frame.status));
    case 'settings': {
      const payload = Buffer.allocUnsafe(4 + frame.settings.length * 8);
      payload.writeUInt32BE(frame.settings.length, 0);
      frame.settings.forEach((s, i) => {
        payload.writeUInt32BE((((s.flags & 0xff) << 24) | (s.id & 0xffffff)) >>> 0, 4 + i * 8);
        payload.writeUInt32BE(s.value >>> 0, 8 + i * 8);
      });
      return controlFrame(FrameType.SETTINGS, frame.clear ? FLAG_SETTINGS_CLEAR : 0, payload);
    }
    case 'ping':
      return controlFrame(FrameType.PING, 0, u32s(frame.id));
    case 'goaway':
      return controlFrame(FrameType.GOAWAY, 0, u32s(frame.lastGoodStreamId & 0x7fffffff, frame.status));
    case 'window_update':
      return controlFrame(FrameType.WINDOW_UPDATE, 0, u32s(frame.streamId & 0x7fffffff, frame.delta & 0x7fffffff));
  }
}

/**
 * Turns the bytes of one direction of a connection into frames. Unknown control frame types are
 * skipped, as the protocol asks.
 */
export class FrameDecoder {
  private readonly decompressor: HeaderDecompressor;
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(decompressor: HeaderDecompressor) {
    this.decompressor = decompressor;
  }

  /** Feeds bytes; returns the frames now complete. Throws SpdyProtocolError on malformed input. */
  push(chunk: Buffer): Frame[] {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.buffered >= 8) {
      const head = this.peek(8);
      const length = head.readUInt32BE(4) & 0xffffff;
      if (this.buffered < 8 + length) break;
      const all = this.take(8 + length);
      const frame = this.decode(all.subarray(0, 8), all.subarray(8));
      if (frame) frames.push(frame);
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }

  private decode(head: Buffer, p: Buffer): Frame | undefined {
    const flags = head[4]!;
    if ((head[0]! & 0x80) === 0) {
      const streamId = head.readUInt32BE(0) & 0x7fffffff;
      if (streamId === 0) throw new SpdyProtocolError('DATA frame on stream 0');
      // Copy: the payload may be a view of a larger transport chunk that would otherwise stay alive.
      return { type: 'data', streamId, fin: (flags & FLAG_FIN) !== 0, data: Buffer.from(p) };
    }
    const type = head.readUInt16BE(2);
    const need = (n: number, what: string) => {
      if (p.length < n) throw new SpdyProtocolError(`${what} frame too short`);
    };
    const fin = (flags & FLAG_FIN) !== 0;
    switch (type) {
      case FrameType.SYN_STREAM: {
        need(10, 'SYN_STREAM');
        const streamId = p.readUInt32BE(0) & 0x7fffffff;
        return {
          type: 'syn_stream',
          streamId,
          associatedId: p.readUInt32BE(4) & 0x7fffffff,
          priority: p[8]! >> 5,
          slot: p[9]!,
          fin,
          unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0,
          headers: this.decompressor.decompress(p.subarray(10), streamId),
        };
      }
      case FrameType.SYN_REPLY:
      case FrameType.HEADERS: {
        need(4, type === FrameType.SYN_REPLY ? 'SYN_REPLY' : 'HEADERS');
        const streamId = p.readUInt32BE(0) & 0x7fffffff;
        const headers = this.decompressor.decompress(p.subarray(4), streamId);
        return { type: type === FrameType.SYN_REPLY ? 'syn_reply' : 'headers', streamId, fin, headers };
      }
      case FrameType.RST_STREAM:
        need(8, 'RST_STREAM');
        return { type: 'rst_stream', streamId: p.readUInt32BE(0) & 0x7fffffff, status: p.readUInt32BE(4) };
      case FrameType.SETTINGS: {
        need(4, 'SETTINGS');
        const n = p.readUInt32BE(0);
        need(4 + n * 8, 'SETTINGS');
        const settings: Setting[] = [];
        for (let i = 0; i < n; i++) {
          const word = p.readUInt32BE(4 + i * 8);
          settings.push({ flags: word >>> 24, id: word & 0xffffff, value: p.readUInt32BE(8 + i * 8) });
        }
        return { type: 'settings', clear: (flags & FLAG_SETTINGS_CLEAR) !== 0, settings };
      }
      case FrameType.PING:
        need(4, 'PING');
        return { type: 'ping', id: p.readUInt32BE(0) };
      case FrameType.GOAWAY:
        need(4, 'GOAWAY');
        // SPDY/2 peers send no status; treat a missing one as OK.
        return { type: 'goaway', lastGoodStreamId: p.readUInt32BE(0) & 0x7fffffff, status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
      case FrameType.WINDOW_UPDATE:
        need(8, 'WINDOW_UPDATE');
        return { type: 'window_update', streamId: p.readUInt32BE(0) & 0x7fffffff, delta: p.readUInt32BE(4) & 0x7fffffff };
      default:
        return undefined;
    }
  }
}
