// gRPC unary calls to one etcd member straight over node:http2, for the store's hot path: each
// write is one unary Txn, and grpc-js's machinery around a call (resolving, retrying and subchannel
// call objects, filters, metadata, a nextTick per step) cost more CPU than the HTTP/2 stream itself
// at the store's rates. A unary call is a POST of one length-prefixed message, answered by one
// message and a grpc-status trailer (or a trailers-only answer carrying the status alone).
// etcd's Watch stream stays on grpc-js (rpc.ts): one long stream, where that machinery is paid once.
import http2 from 'node:http2';

/** gRPC's status codes, as far as this client names them. */
export const GrpcStatus = { OK: 0, CANCELLED: 1, UNKNOWN: 2, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/** A gRPC call that failed: its status code, its message, and whether the request may have reached the member. */
export class GrpcCallError extends Error {
  readonly code: number;
  readonly sent: boolean;
  constructor(code: number, message: string, sent: boolean) {
    super(message);
    this.code = code;
    this.sent = sent;
  }
}

/** TLS to a member: the CA that signed its certificate (else the system's), and this client's certificate and key. */
export interface MemberTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Sessions that connected at some point: a call on a session that never did was never sent. */
const everConnected = new WeakSet<http2.ClientHttp2Session>();

/**
 * Answers larger than the default 64 KiB windows (a Range of thousands of objects at start-up) are
 * not throttled by window updates; memory is bounded by the store's own message limit anyway.
 */
const STREAM_WINDOW = 8 << 20;
const SESSION_WINDOW = 64 << 20;
const SESSION_MEMORY_MB = 512;

/** The status of an answer's headers or trailers, when they carry one. */
function statusOf(h: http2.IncomingHttpHeaders): { code: number; message: string } | undefined {
  const s = h['grpc-status'];
  if (s === undefined) return undefined;
  const raw = h['grpc-message'];
  let message = typeof raw === 'string' ? raw : '';
  // gRPC percent-encodes the message's non-ASCII and control bytes.
  if (message.includes('%')) {
    try {
      message = decodeURIComponent(message);
    } catch {
      // left as sent
    }
  }
  return { code: Number(s), message };
}

/** The one message of a unary answer's body (5-byte prefix: compressed flag, big-endian length). */
function unframe(body: Buffer): Buffer {
  if (body.length < 5) throw new GrpcCallError(GrpcStatus.INTERNAL, `a reply of ${body.length} bytes carries no message`, true);
  if (body[0] !== 0) throw new GrpcCallError(GrpcStatus.INTERNAL, 'the member sent a compressed reply, which was not asked for', true);
  const len = body.readUInt32BE(1);
  if (body.length !== 5 + len) throw new GrpcCallError(GrpcStatus.INTERNAL, `a reply's frame says ${len} bytes but ${body.length - 5} came`, true);
  return body.subarray(5);
}

export class UnaryHttp2Member {
  private readonly authority: string;
  private readonly tls: MemberTls | undefined;
  private readonly maxReplyBytes: number;
  private session: http2.ClientHttp2Session | undefined;
  /** Calls under way, over all sessions: the process stays up for them only. */
  private active = 0;
  private closed = false;

  /** `address` is host:port; `tls` given means https (h2 by ALPN), else cleartext HTTP/2 (h2c, as etcd serves on http:// URLs). */
  constructor(address: string, tls: MemberTls | undefined, maxReplyBytes: number) {
    this.authority = `${tls ? 'https' : 'http'}://${address}`;
    this.tls = tls;
    this.maxReplyBytes = maxReplyBytes;
  }

  private sessionFor(): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const s = http2.connect(this.authority, {
      ...(this.tls ? { ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key } : {}),
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
      maxSessionMemory: SESSION_MEMORY_MB,
    });
    this.session = s;
    s.once('connect', () => {
      everConnected.add(s);
      s.setLocalWindowSize(SESSION_WINDOW);
    });
    // Failures reach the calls through their streams; the session is replaced on the next call.
    s.on('error', () => {});
    const forget = () => {
      if (this.session === s) this.session = undefined;
    };
    s.once('close', forget);
    s.once('goaway', forget);
    if (this.active === 0) s.unref();
    return s;
  }

  /** One unary call: `message` (encoded) to `path` (e.g. /etcdserverpb.KV/Txn); resolves with the encoded reply. */
  call(path: string, message: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new GrpcCallError(GrpcStatus.CANCELLED, 'the etcd client is closed', false));
    const session = this.sessionFor();
    return new Promise<Buffer>((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      } catch (err) {
        // The session was already going away: nothing was sent.
        if (this.session === session) this.session = undefined;
        reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, `No connection established: ${(err as Error).message}`, false));
        return;
      }
      // The process need not stay up for an idle connection, only for calls under way.
      if (this.active++ === 0) session.ref();
      const frame = Buffer.allocUnsafe(5 + message.length);
      frame[0] = 0;
      frame.writeUInt32BE(message.length, 1);
      message.copy(frame, 5);
      stream.end(frame);

      let status: { code: number; message: string } | undefined;
      let httpStatus = 0;
      let first: Buffer | undefined;
      let more: Buffer[] | undefined;
      let streamError: Error | undefined;
      let received = 0;
      let tooLarge = false;
      stream.on('response', (headers) => {
        httpStatus = Number(headers[':status']);
        status = statusOf(headers) ?? status;
      });
      stream.on('trailers', (trailers) => {
        status = statusOf(trailers) ?? status;
      });
      stream.on('data', (chunk: Buffer) => {
        if (tooLarge) return;
        received += chunk.length;
        if (received > this.maxReplyBytes + 5) {
          // Given up on as grpc-js gives up on a message over its limit; the rest is not read.
          tooLarge = true;
          first = more = undefined;
          stream.close(http2.constants.NGHTTP2_CANCEL);
          return;
        }
        if (first === undefined) first = chunk;
        else (more ??= [first]).push(chunk);
      });
      stream.on('error', (err) => {
        streamError = err;
      });
      stream.on('close', () => {
        // This call's session, and a newer one made while it ran.
        if (--this.active === 0) for (const s of [session, this.session]) if (s && !s.destroyed) s.unref();
        if (tooLarge) return reject(new GrpcCallError(GrpcStatus.RESOURCE_EXHAUSTED, `a reply of more than ${this.maxReplyBytes} bytes is over the limit`, true));
        if (status !== undefined) {
          if (status.code !== GrpcStatus.OK) return reject(new GrpcCallError(status.code, status.message, true));
          try {
            resolve(unframe(more ? Buffer.concat(more) : (first ?? Buffer.alloc(0))));
          } catch (err) {
            reject(err);
          }
          return;
        }
        if (httpStatus !== 0 && httpStatus !== 200) {
          // Not a gRPC answer at all (a proxy's, say): gRPC maps these to UNKNOWN or UNAVAILABLE.
          const code = httpStatus === 502 || httpStatus === 503 || httpStatus === 504 ? GrpcStatus.UNAVAILABLE : GrpcStatus.UNKNOWN;
          return reject(new GrpcCallError(code, `the member answered HTTP ${httpStatus}`, true));
        }
        const rst = stream.rstCode;
        if (rst === http2.constants.NGHTTP2_REFUSED_STREAM) {
          return reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, 'Stream refused by server', false));
        }
        if (!everConnected.has(session)) {
          return reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, `No connection established${streamError ? `: ${streamError.message}` : ''}`, false));
        }
        if (rst === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM) {
          return reject(new GrpcCallError(GrpcStatus.RESOURCE_EXHAUSTED, 'the member asked to slow down (ENHANCE_YOUR_CALM)', true));
        }
        // The connection went away or the stream was reset after the request may have left.
        reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, `the call ended without a status${streamError ? `: ${streamError.message}` : rst ? ` (HTTP/2 error ${rst})` : ''}`, true));
      });
    });
  }

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }
}
