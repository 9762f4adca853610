// gRPC's wire protocol over node:http2, for etcd's hot calls. @grpc/grpc-js runs each call through
// interceptors, a resolver, a load-balancing and a subchannel call, with metadata objects and
// timers of its own: at the store's rates (tens of thousands of calls a minute) that machinery cost
// more CPU than encoding, sending and decoding the messages. A call here is one HTTP/2 stream:
// request headers, one length-prefixed message, then the reply's message and its grpc-status
// trailer (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';

/** gRPC status codes the store tells apart. */
export const Status = { OK: 0, CANCELLED: 1, UNKNOWN: 2, INTERNAL: 13, UNAVAILABLE: 14, RESOURCE_EXHAUSTED: 8 } as const;

/** A failed call: gRPC's status code and message; sent: whether the request may have reached the server. */
export class GrpcError extends Error {
  readonly code: number;
  readonly sent: boolean;
  constructor(code: number, message: string, sent: boolean) {
    super(message);
    this.code = code;
    this.sent = sent;
  }
}

export interface H2Options {
  /** 'http://host:port' or 'https://host:port'. */
  url: string;
  /** TLS: the CA to trust (else the system's), and a client certificate and key. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  maxMessageBytes: number;
}

/** The request message with gRPC's 5-byte prefix (not compressed, big-endian length). */
export function frame(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + msg.length);
  out[0] = 0;
  out.writeUInt32BE(msg.length, 1);
  msg.copy(out, 5);
  return out;
}

/** Splits a byte stream into gRPC messages as chunks arrive. */
export class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly max: number;
  constructor(maxMessageBytes: number) {
    this.max = maxMessageBytes;
  }

  /** Adds a chunk; returns the messages it completed. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.buffered < 5) return out;
      let head = this.chunks[0];
      if (head.length < 5) head = this.join();
      if (head[0] !== 0) throw new GrpcError(Status.INTERNAL, 'compressed gRPC messages are not supported', true);
      const len = head.readUInt32BE(1);
      if (len > this.max) throw new GrpcError(Status.RESOURCE_EXHAUSTED, `gRPC message of ${len} bytes exceeds the limit of ${this.max}`, true);
      if (this.buffered < 5 + len) return out;
      if (head.length < 5 + len) head = this.join();
      out.push(head.subarray(5, 5 + len));
      const rest = head.subarray(5 + len);
      this.buffered -= 5 + len;
      if (rest.length) this.chunks[0] = rest;
      else this.chunks.shift();
    }
  }

  /** Whether a message was cut off (bytes left over when the stream ended). */
  pending(): boolean {
    return this.buffered > 0;
  }

  private join(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }
}

/** grpc-message is percent-encoded. */
function grpcMessage(v: unknown): string {
  const s = String(v ?? '');
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The status a reply's headers or trailers carry, or undefined when they carry none. */
function statusOf(h: IncomingHttpHeaders): GrpcError | { code: 0 } | undefined {
  const raw = h['grpc-status'];
  if (raw === undefined) return undefined;
  const code = Number(raw);
  return code === Status.OK ? { code: 0 } : new GrpcError(code, grpcMessage(h['grpc-message']), true);
}

/** gRPC's mapping of an HTTP status other than 200, for replies that carry no grpc-status. */
function httpStatusError(status: number): GrpcError {
  const code = status === 400 ? Status.INTERNAL : status === 401 ? 16 : status === 403 ? 7 : status === 404 ? 12 : [429, 502, 503, 504].includes(status) ? Status.UNAVAILABLE : Status.UNKNOWN;
  return new GrpcError(code, `the server answered HTTP ${status}`, true);
}

/** One connection to one etcd member, opened on first use and again after it fails. */
export class H2Channel {
  private readonly opts: H2Options;
  private session: ClientHttp2Session | undefined;
  private ready: Promise<ClientHttp2Session> | undefined;
  private closed = false;
  /** Why the last connection failed (a TLS alert, a reset): calls cut off by it say so. */
  private lastError = '';

  constructor(opts: H2Options) {
    this.opts = opts;
  }

  /** The connected session; rejects (never sent) when the member cannot be reached. */
  private connect(): Promise<ClientHttp2Session> {
    if (this.ready) return this.ready;
    const { url, ca, cert, key } = this.opts;
    const ready = new Promise<ClientHttp2Session>((resolve, reject) => {
      const session = http2.connect(url, {
        ...(url.startsWith('https:') ? { ca, cert, key, ALPNProtocols: ['h2'] } : {}),
        // Replies of many objects (lists, watch batches) arrive without waiting on window updates.
        settings: { initialWindowSize: 16 * 1024 * 1024, enablePush: false },
        maxSessionMemory: 512,
      });
      const forget = () => {
        if (this.session === session) this.session = undefined;
        if (this.ready === ready) this.ready = undefined;
      };
      // A TLS alert after the handshake (a client certificate refused) reaches only the socket.
      session.socket?.on('error', (err) => (this.lastError = err.message));
      session.once('connect', () => {
        this.lastError = '';
        session.setLocalWindowSize(64 * 1024 * 1024);
        this.session = session;
        resolve(session);
      });
      session.on('error', (err) => {
        this.lastError = err.message;
        forget();
        reject(new GrpcError(Status.UNAVAILABLE, `No connection established to ${url}: ${err.message}`, false));
      });
      session.once('close', () => {
        forget();
        reject(new GrpcError(Status.UNAVAILABLE, `No connection established to ${url}: the connection closed`, false));
      });
      // A member going away refuses new streams on this connection: the next call opens another.
      session.once('goaway', forget);
    });
    this.ready = ready;
    return ready;
  }

  private async stream(path: string): Promise<ClientHttp2Stream> {
    if (this.closed) throw new GrpcError(Status.CANCELLED, 'the etcd client is closed', false);
    const session = await this.connect();
    try {
      return session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
    } catch (err) {
      // The session closed or went away between connecting and this call: nothing was sent.
      if (this.session === session) this.session = undefined;
      this.ready = undefined;
      throw new GrpcError(Status.UNAVAILABLE, `No connection established to ${this.opts.url}: ${(err as Error).message}`, false);
    }
  }

  /** One unary call: the request message in, the reply message out. */
  async unary(path: string, request: Buffer): Promise<Buffer> {
    const s = await this.stream(path);
    return new Promise((resolve, reject) => {
      const reader = new MessageReader(this.opts.maxMessageBytes);
      let reply: Buffer | undefined;
      let outcome: GrpcError | { code: 0 } | undefined;
      let settled = false;
      const finish = (err?: GrpcError) => {
        if (settled) return;
        settled = true;
        if (err) return reject(err);
        if (!outcome) return reject(new GrpcError(Status.UNAVAILABLE, `the call to ${this.opts.url} ended without a status`, true));
        if (outcome instanceof GrpcError) return reject(outcome);
        if (!reply) return reject(new GrpcError(Status.INTERNAL, 'the call succeeded without a reply message', true));
        resolve(reply);
      };
      s.on('response', (h) => {
        const status = Number(h[':status']);
        if (status !== 200) outcome ??= statusOf(h) ?? httpStatusError(status);
        // A reply with no message carries its status in the headers ("trailers-only").
        else outcome ??= statusOf(h);
      });
      s.on('data', (chunk: Buffer) => {
        try {
          for (const m of reader.push(chunk)) reply ??= m;
        } catch (err) {
          s.close(http2.constants.NGHTTP2_CANCEL);
          finish(err as GrpcError);
        }
      });
      s.on('trailers', (h) => (outcome = statusOf(h) ?? outcome));
      s.on('error', (err: Error & { code?: string }) => {
        // A stream the server refused was never processed (gRPC's transparent-retry rule).
        const refused = s.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
        finish(new GrpcError(Status.UNAVAILABLE, `the call to ${this.opts.url} failed: ${err.message}${this.cause()}`, !refused));
      });
      s.on('close', () => {
        if (s.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) return finish(new GrpcError(Status.UNAVAILABLE, `${this.opts.url} refused the call`, false));
        if (!outcome && s.rstCode !== http2.constants.NGHTTP2_NO_ERROR) return finish(new GrpcError(Status.UNAVAILABLE, `the call to ${this.opts.url} was reset (HTTP/2 error ${s.rstCode})`, true));
        if (reader.pending()) return finish(new GrpcError(Status.INTERNAL, 'the reply message was cut off', true));
        finish();
      });
      s.end(frame(request));
    });
  }

  /**
   * A bidirectional stream (etcd's Watch): `send` writes a message; `onMessage` gets each reply
   * message; `onEnd` is called once, with why it ended. `cancel` ends it from this side.
   */
  async bidi(path: string, onMessage: (m: Buffer) => void, onEnd: (err: GrpcError) => void): Promise<{ send(m: Buffer): void; cancel(): void }> {
    const s = await this.stream(path);
    const reader = new MessageReader(this.opts.maxMessageBytes);
    let ended = false;
    let outcome: GrpcError | { code: 0 } | undefined;
    const end = (err: GrpcError) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    s.on('response', (h) => {
      const status = Number(h[':status']);
      if (status !== 200) outcome = statusOf(h) ?? httpStatusError(status);
      else outcome = statusOf(h);
    });
    s.on('data', (chunk: Buffer) => {
      if (ended) return;
      let msgs: Buffer[];
      try {
        msgs = reader.push(chunk);
      } catch (err) {
        s.close(http2.constants.NGHTTP2_CANCEL);
        return end(err as GrpcError);
      }
      for (const m of msgs) if (!ended) onMessage(m);
    });
    s.on('trailers', (h) => (outcome = statusOf(h) ?? outcome));
    s.on('error', (err) => end(new GrpcError(Status.UNAVAILABLE, `the stream to ${this.opts.url} failed: ${err.message}${this.cause()}`, true)));
    s.on('close', () => end(outcome instanceof GrpcError ? outcome : new GrpcError(Status.UNAVAILABLE, `the stream to ${this.opts.url} ended`, true)));
    return {
      send: (m) => {
        if (!ended) s.write(frame(m));
      },
      cancel: () => {
        ended = true;
        if (!s.destroyed) s.close(http2.constants.NGHTTP2_CANCEL);
      },
    };
  }

  /** The connection's failure, if one is known, to add to a call's. */
  private cause(): string {
    return this.lastError ? ` (connection: ${this.lastError})` : '';
  }

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
    this.ready = undefined;
  }
}
