// etcd's services over @grpc/grpc-js, one channel per member for the life of the client, each call
// made straight on it (no retry policy, circuit breaker or host shuffle around every call, as the
// etcd3 package adds: several times the CPU of the call itself at the store's rates). Calls go to
// the member that last answered and move to the next only when one fails as unavailable.
// Retries follow etcd's own client (clientv3): reads are repeated on another member, writes only
// when they never left this process (no connection to send them on; a stream the server refused
// is retried by grpc-js itself), so that a write is applied at most once: a transaction repeated
// after it was applied would fail its own comparison.
import { readFileSync } from 'node:fs';
import grpc from '@grpc/grpc-js';

export interface EtcdConnection {
  /** kube-apiserver's --etcd-servers: http://host:port or https://host:port. */
  servers: string[];
  /** --etcd-cafile, --etcd-certfile, --etcd-keyfile (client TLS; the CA alone for server-only TLS). */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Messages of up to this size are accepted from etcd (watch replies carry many objects at once). */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** A failed call: gRPC's status code and etcd's message (e.g. 'etcdserver: mvcc: required revision has been compacted'). */
export class EtcdRpcError extends Error {
  readonly code: number;
  /** Whether the request may have reached etcd. */
  readonly sent: boolean;
  constructor(code: number, message: string, sent: boolean) {
    super(message);
    this.code = code;
    this.sent = sent;
  }
}

/**
 * Whether a failed call certainly never reached etcd: grpc-js had no connection to send it on, or
 * the member refused the stream (grpc-js retries a refused stream once by itself; this is the second).
 */
export function neverSent(err: { code?: number; details?: string; message?: string }): boolean {
  return err.code === grpc.status.UNAVAILABLE && /No connection established|Stream refused by server/.test(err.details ?? err.message ?? '');
}

/** Whether another member may answer where this one failed. */
const memberUnavailable = (err: { code?: number }) => err.code === grpc.status.UNAVAILABLE;

export function channelCredentials(o: EtcdConnection): grpc.ChannelCredentials {
  const secure = o.servers.filter((s) => s.startsWith('https:')).length;
  if (secure && secure < o.servers.length) throw new Error('--etcd-servers mixes https and http members');
  if (o.caFile || o.certFile || o.keyFile) {
    if (!o.caFile) throw new Error('--etcd-cafile is required with --etcd-certfile and --etcd-keyfile');
    // A CA given for plain http:// members means TLS all the same, as etcd's clients take it.
    return grpc.credentials.createSsl(readFileSync(o.caFile), o.keyFile ? readFileSync(o.keyFile) : null, o.certFile ? readFileSync(o.certFile) : null);
  }
  return secure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
}

/** A bidirectional stream (etcd's Watch): send a request; cancel ends it from this side. */
export interface BidiStream<Req> {
  send(m: Req): void;
  cancel(): void;
}

export class EtcdRpc {
  private readonly members: grpc.Client[];
  /** The member calls go to until one fails as unavailable. */
  private pinned = 0;
  private closed = false;

  constructor(o: EtcdConnection) {
    if (!o.servers.length) throw new Error('no etcd servers given');
    const creds = channelCredentials(o);
    // channelz (gRPC's introspection service) counts and traces every call; nothing here reads it.
    const options = { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES, 'grpc.enable_channelz': 0 };
    this.members = o.servers.map((s) => new grpc.Client(s.replace(/^https?:\/\//, ''), creds, options));
  }

  private once<Req, Res>(member: number, method: string, encode: (r: Req) => Buffer, decode: (b: Buffer) => Res, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      // grpc-js captures the caller's stack with a new Error on every call, to append to a failed
      // call's error; this client reports etcd's message instead, and at the store's rates that
      // capture is a tenth of the driver's CPU. It is skipped for the synchronous start of the call.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        this.members[member].makeUnaryRequest(method, encode, decode, request, (err: grpc.ServiceError | null, res?: Res) => {
          if (err) reject(err);
          else resolve(res as Res);
        });
      } finally {
        Error.stackTraceLimit = limit;
      }
    });
  }

  /**
   * One unary call, e.g. ('/etcdserverpb.KV/Txn', its encoder, its decoder, the request) → the
   * decoded reply. repeatable: the call may be applied twice without harm (reads, compaction).
   */
  async call<Req, Res>(method: string, encode: (r: Req) => Buffer, decode: (b: Buffer) => Res, request: Req, repeatable: boolean): Promise<Res> {
    const attempts = Math.max(3, this.members.length + 1);
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new EtcdRpcError(grpc.status.CANCELLED, 'the etcd client is closed', false);
      const member = this.pinned;
      try {
        return await this.once(member, method, encode, decode, request);
      } catch (e) {
        const err = e as grpc.ServiceError;
        if (memberUnavailable(err)) this.unpin(member);
        const unsent = neverSent(err);
        if (attempt >= attempts || !(repeatable ? memberUnavailable(err) : unsent)) {
          throw new EtcdRpcError(err.code ?? grpc.status.UNKNOWN, err.details || err.message, !unsent);
        }
      }
    }
  }

  /** Moves on from a member that failed, unless another call did already. */
  unpin(member: number): void {
    if (this.pinned === member) this.pinned = (member + 1) % this.members.length;
  }

  /**
   * A bidirectional stream on the pinned member: each reply goes to onMessage; onEnd is called once
   * when the stream ends for any reason but cancel (the member is then unpinned).
   */
  bidi<Req, Res>(method: string, encode: (r: Req) => Buffer, decode: (b: Buffer) => Res, onMessage: (m: Res) => void, onEnd: (err: Error) => void): BidiStream<Req> {
    if (this.closed) throw new EtcdRpcError(grpc.status.CANCELLED, 'the etcd client is closed', false);
    const member = this.pinned;
    const s = this.members[member].makeBidiStreamRequest(method, encode, decode);
    let ended = false;
    const end = (err: Error) => {
      if (ended) return;
      ended = true;
      this.unpin(member);
      onEnd(err);
    };
    s.on('data', (m: Res) => {
      if (!ended) onMessage(m);
    });
    s.on('error', (err: Error) => end(err));
    s.on('end', () => end(new EtcdRpcError(grpc.status.UNAVAILABLE, `the ${method} stream ended`, true)));
    return {
      send: (m) => {
        if (!ended) s.write(m);
      },
      cancel: () => {
        ended = true;
        s.cancel();
      },
    };
  }

  close(): void {
    this.closed = true;
    for (const m of this.members) m.close();
  }
}
