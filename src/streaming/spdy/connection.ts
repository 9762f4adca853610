// A SPDY/3.1 connection over any byte Duplex, usable as client or server, with each SPDY stream
// exposed as a Node Duplex. Built to interoperate with moby/spdystream (the Go library kubectl,
// the kubelet and containerd's streaming server use), which shapes a few choices:
//
// - Flow control: spdystream neither sends nor honours WINDOW_UPDATE, so we never wait for send
//   window (a peer that never grants more would otherwise stall us after 64 KiB), and we send none
//   either: containerd 1.6's streaming server dropped the connection mid-transfer now and then when
//   it received them (about 1 exec in 70 with 300 KiB each way on a loaded machine; none in 200
//   without). Memory stays bounded by pausing the transport while one stream's unread data is
//   large, the same head-of-line blocking spdystream itself has.
// - spdystream drops DATA on a stream it opened until it has seen SYN_REPLY, and kubectl waits for
//   the reply before using a stream; our streams likewise hold writes until the reply arrives.
// - A peer reset (RST_STREAM) or a dropped transport ends a stream's readable side after the data
//   already received, rather than destroying it: upstream servers write a command's last output
//   and its exit status and then reset every stream at once, and that output must still be read.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { encodeFrame, FrameDecoder, DEFAULT_WINDOW, GoAwayStatus, RstStatus, SettingsId } from './frames.ts';
import type { Frame } from './frames.ts';
import { HeaderCompressor, HeaderDecompressor, SpdyProtocolError } from './headers.ts';
import type { SpdyHeaders } from './headers.ts';

export interface SpdyConnectionOptions {
  /** True on the side that accepted the transport: it opens even-numbered streams. */
  server: boolean;
  /** Reading the transport pauses while one stream holds more unread bytes than this (default 4 MiB). */
  maxStreamBuffer?: number;
  /** Largest DATA frame payload we send (default 32 KiB). */
  maxDataFrame?: number;
}

export interface OpenStreamOptions {
  /** Send SYN_STREAM with FIN: this side sends no data on the stream. */
  fin?: boolean;
  /** 0 (highest) to 7. */
  priority?: number;
}

export class SpdyStream extends Duplex {
  readonly id: number;
  /** The SYN_STREAM headers: ours for streams we opened, the peer's for streams it opened. */
  readonly headers: SpdyHeaders;
  /** True when this side opened the stream. */
  readonly local: boolean;
  /** The SYN_REPLY headers, once received (streams we opened). */
  replyHeaders?: SpdyHeaders;
  /** Set when the stream was reset, by either side (the RST_STREAM status; 0 for a lost connection). */
  resetStatus?: number;
  /**
   * Streams we opened: resolves with the peer's SYN_REPLY headers, rejects if the stream is reset
   * or the connection closes first. Streams the peer opened: resolves once we reply.
   */
  readonly replied: Promise<SpdyHeaders>;

  private readonly conn: SpdyConnection;
  private isReplied = false;
  private resolveReply!: (h: SpdyHeaders) => void;
  private rejectReply!: (e: Error) => void;
  private localFin = false;
  private remoteFin = false;
  private dead = false;

  /** @internal Created by SpdyConnection. */
  constructor(conn: SpdyConnection, id: number, headers: SpdyHeaders, local: boolean, maxBuffer: number) {
    super({ allowHalfOpen: true, readableHighWaterMark: Math.min(maxBuffer, 256 * 1024) });
    this.conn = conn;
    this.id = id;
    this.headers = headers;
    this.local = local;
    this.replied = new Promise<SpdyHeaders>((resolve, reject) => {
      this.resolveReply = resolve;
      this.rejectReply = reject;
    });
    // Callers that never look at `replied` must not see an unhandled rejection.
    this.replied.catch(() => {});
  }

  /** The peer will send no more data (FIN or reset); what it sent may still be unread. */
  get remoteEnded(): boolean {
    return this.remoteFin;
  }

  /** Answers a stream the peer opened (SYN_REPLY). Writing or ending first replies with no headers. */
  reply(headers: SpdyHeaders = {}, opts: { fin?: boolean } = {}): void {
    if (this.local) throw new Error('only streams opened by the peer are replied to');
    if (this.isReplied || this.dead) return;
    this.isReplied = true;
    this.conn.sendFrame({ type: 'syn_reply', streamId: this.id, fin: !!opts.fin, headers });
    this.resolveReply(headers);
    if (opts.fin) {
      this.localFin = true;
      this.end();
      this.maybeDone();
    }
  }

  /** Sends a HEADERS frame on the stream. */
  sendHeaders(headers: SpdyHeaders): void {
    if (this.dead || this.localFin) return;
    this.conn.sendFrame({ type: 'headers', streamId: this.id, fin: false, headers });
  }

  /** Aborts the stream in both directions (RST_STREAM). Data not yet read stays readable. */
  reset(status: number = RstStatus.CANCEL): void {
    if (this.dead) return;
    this.conn.sendFrame({ type: 'rst_stream', streamId: this.id, status });
    this.terminate(status);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.whenReplied(() => {
      if (this.dead) return cb();
      this.conn.sendData(this.id, chunk, false, cb);
    });
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.whenReplied(() => {
      if (!this.dead && !this.localFin) {
        this.localFin = true;
        this.conn.sendData(this.id, Buffer.alloc(0), true, () => {});
      }
      this.maybeDone();
      cb();
    });
  }

  override _read(): void {
    this.conn.streamDrained(this);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Destroyed before both directions finished: tell the peer we are gone.
    if (!this.dead && !(this.localFin && this.remoteFin)) {
      this.conn.sendFrame({ type: 'rst_stream', streamId: this.id, status: RstStatus.CANCEL });
      this.terminate(RstStatus.CANCEL);
    }
    this.conn.forget(this);
    cb(err);
  }

  private whenReplied(fn: () => void): void {
    if (this.dead) return fn();
    if (!this.local && !this.isReplied) this.reply();
    if (this.isReplied) return fn();
    this.replied.then(fn, fn);
  }

  /** @internal The SYN_STREAM already carried FIN: no data from this side. */
  markLocalFin(): void {
    this.localFin = true;
    this.end();
  }

  /** @internal */
  onReply(headers: SpdyHeaders, fin: boolean): void {
    if (!this.local || this.isReplied) return;
    this.isReplied = true;
    this.replyHeaders = headers;
    this.resolveReply(headers);
    if (fin) this.onRemoteFin();
  }

  /** @internal */
  onData(data: Buffer, fin: boolean): void {
    if (this.remoteFin || this.dead) return;
    if (data.length) {
      this.push(data);
      this.conn.streamBuffered(this);
    }
    if (fin) this.onRemoteFin();
  }

  /** @internal */
  onRemoteFin(): void {
    if (this.remoteFin) return;
    this.remoteFin = true;
    this.push(null);
    this.maybeDone();
  }

  /** @internal The peer reset the stream, or the connection is gone (status 0). */
  terminate(status: number): void {
    if (this.dead) return;
    this.dead = true;
    this.resetStatus = status;
    if (!this.isReplied) {
      this.isReplied = true;
      this.rejectReply(new Error(status ? `stream ${this.id} was reset (status ${status})` : 'connection closed'));
    }
    if (!this.remoteFin) {
      this.remoteFin = true;
      this.push(null);
    }
    // Later writes are dropped (see _write); ending the writable side stays the caller's choice, so
    // a write racing the reset does not turn into a write-after-end error.
    this.localFin = true;
    this.conn.forget(this);
    this.emit('reset', status);
  }

  private maybeDone(): void {
    if (this.localFin && this.remoteFin) this.conn.forget(this);
  }
}

export interface SpdyConnectionEvents {
  /** The peer opened a stream: answer with stream.reply(), or stream.reset() to refuse. */
  stream: [stream: SpdyStream];
  /** The peer sent GOAWAY: it opens no more streams and processes none of ours above lastGoodStreamId. */
  goaway: [lastGoodStreamId: number, status: number];
  /** The transport is gone; carries the error that ended it, if any. */
  close: [err?: Error];
}

export class SpdyConnection extends EventEmitter<SpdyConnectionEvents> {
  readonly server: boolean;
  /** The peer's announced initial window (we record it but do not wait for window; see above). */
  peerInitialWindow = DEFAULT_WINDOW;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<Error | undefined>;

  private readonly transport: Duplex;
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly decoder: FrameDecoder;
  private readonly streams = new Map<number, SpdyStream>();
  private readonly maxStreamBuffer: number;
  private readonly maxDataFrame: number;
  private readonly overfull = new Set<SpdyStream>();
  private readonly pings = new Map<number, { start: bigint; resolve: (ms: number) => void; reject: (e: Error) => void }>();
  private nextStreamId: number;
  private nextPingId: number;
  private lastRemoteStreamId = 0;
  private goAwaySent = false;
  private goAwayReceived = false;
  private isClosed = false;
  private resolveClosed!: (e: Error | undefined) => void;
  private drainWaiters: Array<() => void> = [];

  constructor(transport: Duplex, opts: SpdyConnectionOptions) {
    super();
    this.transport = transport;
    this.server = opts.server;
    this.maxStreamBuffer = opts.maxStreamBuffer ?? 4 * 1024 * 1024;
    this.maxDataFrame = opts.maxDataFrame ?? 32 * 1024;
    this.nextStreamId = opts.server ? 2 : 1;
    this.nextPingId = opts.server ? 2 : 1;
    this.decoder = new FrameDecoder(this.decompressor);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    transport.on('data', (chunk: Buffer) => this.onBytes(chunk));
    transport.on('drain', () => this.flushDrainWaiters());
    transport.on('end', () => this.shutdown());
    transport.on('error', (err: Error) => this.shutdown(err));
    transport.on('close', () => this.shutdown());
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Opens a stream (SYN_STREAM). Its data waits for the peer's SYN_REPLY; see `stream.replied`. */
  openStream(headers: SpdyHeaders, opts: OpenStreamOptions = {}): SpdyStream {
    if (this.isClosed) throw new Error('SPDY connection is closed');
    if (this.goAwayReceived || this.goAwaySent) throw new Error('SPDY connection is going away');
    const id = this.nextStreamId;
    if (id > 0x7fffffff) throw new Error('SPDY stream ids exhausted');
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, headers, true, this.maxStreamBuffer);
    this.streams.set(id, stream);
    this.sendFrame({
      type: 'syn_stream',
      streamId: id,
      associatedId: 0,
      priority: opts.priority ?? 0,
      slot: 0,
      fin: !!opts.fin,
      unidirectional: false,
      headers,
    });
    if (opts.fin) stream.markLocalFin();
    return stream;
  }

  /** Round trip of a PING, in milliseconds. */
  ping(): Promise<number> {
    if (this.isClosed) return Promise.reject(new Error('SPDY connection is closed'));
    const id = this.nextPingId;
    this.nextPingId = this.nextPingId + 2 > 0x7fffffff ? (this.server ? 2 : 1) : this.nextPingId + 2;
    return new Promise((resolve, reject) => {
      this.pings.set(id, { start: process.hrtime.bigint(), resolve, reject });
      this.sendFrame({ type: 'ping', id });
    });
  }

  /** Sends GOAWAY: no new streams either way. Existing streams carry on. */
  goAway(status: number = GoAwayStatus.OK): void {
    if (this.goAwaySent || this.isClosed) return;
    this.goAwaySent = true;
    this.sendFrame({ type: 'goaway', lastGoodStreamId: this.lastRemoteStreamId, status });
  }

  /** Graceful close: GOAWAY, then the transport is ended once every stream has finished. */
  close(): void {
    this.goAway();
    this.maybeFinish();
  }

  /** Immediate close: every stream ends where it is, the transport is destroyed. */
  destroy(err?: Error): void {
    if (this.isClosed) return;
    this.transport.destroy();
    this.shutdown(err);
  }

  /** The number of streams not yet finished in both directions. */
  get activeStreams(): number {
    return this.streams.size;
  }

  /** @internal Writes one frame; returns false when the transport wants us to wait for 'drain'. */
  sendFrame(frame: Frame): boolean {
    if (this.isClosed || this.transport.destroyed || this.transport.writableEnded) return true;
    return this.transport.write(encodeFrame(frame, this.compressor));
  }

  /** @internal Sends data in frames no larger than maxDataFrame; cb runs once the transport accepts more. */
  sendData(streamId: number, data: Buffer, fin: boolean, cb: () => void): void {
    let ok = true;
    if (data.length === 0) {
      ok = this.sendFrame({ type: 'data', streamId, fin, data });
    } else {
      for (let off = 0; off < data.length; off += this.maxDataFrame) {
        const part = data.subarray(off, off + this.maxDataFrame);
        ok = this.sendFrame({ type: 'data', streamId, fin: fin && off + part.length >= data.length, data: part });
      }
    }
    if (ok || this.isClosed) return cb();
    this.drainWaiters.push(cb);
  }

  private flushDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /** @internal A stream buffered more data: pause the transport if it holds too much. */
  streamBuffered(stream: SpdyStream): void {
    if (stream.readableLength > this.maxStreamBuffer) {
      this.overfull.add(stream);
      this.transport.pause();
    }
  }

  /** @internal A stream's reader wants more. */
  streamDrained(stream: SpdyStream): void {
    if (this.overfull.delete(stream) && this.overfull.size === 0 && !this.isClosed) this.transport.resume();
  }

  /** @internal A stream finished in both directions or was reset. */
  forget(stream: SpdyStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    this.streamDrained(stream);
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if ((this.goAwaySent || this.goAwayReceived) && this.streams.size === 0 && !this.isClosed) {
      this.transport.end();
    }
  }

  private onBytes(chunk: Buffer): void {
    if (this.isClosed) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      // A broken header block poisons the shared zlib context: the connection cannot go on.
      this.goAway(GoAwayStatus.PROTOCOL_ERROR);
      this.destroy(err as Error);
      return;
    }
    for (const frame of frames) {
      if (this.isClosed) return;
      this.onFrame(frame);
    }
  }

  private isPeerStreamId(id: number): boolean {
    return id % 2 === (this.server ? 1 : 0);
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case 'syn_stream':
        return this.onSynStream(frame);
      case 'syn_reply':
        this.streams.get(frame.streamId)?.onReply(frame.headers, frame.fin);
        return;
      case 'headers': {
        const s = this.streams.get(frame.streamId);
        if (!s) return;
        s.emit('headers', frame.headers);
        if (frame.fin) s.onRemoteFin();
        return;
      }
      case 'data': {
        const s = this.streams.get(frame.streamId);
        s?.onData(frame.data, frame.fin);
        return;
      }
      case 'rst_stream':
        this.streams.get(frame.streamId)?.terminate(frame.status);
        return;
      case 'settings':
        for (const s of frame.settings) if (s.id === SettingsId.INITIAL_WINDOW_SIZE) this.peerInitialWindow = s.value;
        return;
      case 'ping': {
        if (frame.id % 2 !== this.nextPingId % 2) {
          this.sendFrame({ type: 'ping', id: frame.id });
          return;
        }
        const p = this.pings.get(frame.id);
        if (p) {
          this.pings.delete(frame.id);
          p.resolve(Number(process.hrtime.bigint() - p.start) / 1e6);
        }
        return;
      }
      case 'goaway': {
        this.goAwayReceived = true;
        // Streams we opened that the peer never processed will not be answered.
        for (const s of [...this.streams.values()]) {
          if (s.local && s.id > frame.lastGoodStreamId) s.terminate(RstStatus.REFUSED_STREAM);
        }
        this.emit('goaway', frame.lastGoodStreamId, frame.status);
        this.maybeFinish();
        return;
      }
      case 'window_update':
        // Not enforced on the sending side (see the file comment).
        return;
    }
  }

  private onSynStream(frame: Extract<Frame, { type: 'syn_stream' }>): void {
    const id = frame.streamId;
    if (id === 0 || !this.isPeerStreamId(id) || id <= this.lastRemoteStreamId) {
      this.sendFrame({ type: 'rst_stream', streamId: id, status: RstStatus.PROTOCOL_ERROR });
      return;
    }
    this.lastRemoteStreamId = id;
    if (this.goAwaySent || this.listenerCount('stream') === 0) {
      this.sendFrame({ type: 'rst_stream', streamId: id, status: RstStatus.REFUSED_STREAM });
      return;
    }
    const stream = new SpdyStream(this, id, frame.headers, false, this.maxStreamBuffer);
    this.streams.set(id, stream);
    if (frame.fin || frame.unidirectional) stream.onRemoteFin();
    this.emit('stream', stream);
  }

  private shutdown(err?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const s of [...this.streams.values()]) s.terminate(0);
    this.streams.clear();
    for (const p of this.pings.values()) p.reject(new Error('SPDY connection closed'));
    this.pings.clear();
    this.flushDrainWaiters();
    this.compressor.close();
    this.decompressor.close();
    if (!this.transport.destroyed) this.transport.end();
    this.emit('close', err);
    this.resolveClosed(err);
  }
}

export { SpdyProtocolError };
