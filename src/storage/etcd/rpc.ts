// etcd's services, one connection per member for the life of the client: unary calls (the
// store's reads and writes) straight over node:http2 (unary-http2.ts), the Watch stream over
// @grpc/grpc-js. No retry policy, circuit breaker or host shuffle wraps a call, as the etcd3
// package adds (several times the CPU of the call itself at the store's rates). Calls go to the
// member that last answered and move to the next only when one fails as unavailable.
// Retries follow etcd's own client (clientv3): reads are repeated on another member, writes only
// when they never left this process (no connection to send them on, or a stream the member
// refused), so that a write is applied at most once: a transaction repeated after it was applied
// would fail its own comparison.
import { readFileSync } from 'node:fs';
import grpc from '@grpc/grpc-js';
import { type MemberTls, GrpcCallError, UnaryHttp2Member } from './unary-http2.ts';

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

/** A failed call: gRPC's status code, etcd's message (e.g. 'etcdserver: mvcc: required revision has been compacted') and whether the request may have reached etcd. */
export { GrpcCallError as EtcdRpcError };

/** Whether another member may answer where this one failed. */
const memberUnavailable = (err: { code?: number }) => err.code === grpc.status.UNAVAILABLE;

/** The TLS of --etcd-cafile, --etcd-certfile and --etcd-keyfile (and of https:// members), or undefined for cleartext. */
function memberTls(o: EtcdConnection): MemberTls | undefined {
  const secure = o.servers.filter((s) => s.startsWith('https:')).length;
  if (secure && secure < o.servers.length) throw new Error('--etcd-servers mixes https and http members');
  if (o.caFile || o.certFile || o.keyFile) {
    if (!o.caFile) throw new Error('--etcd-cafile is required with --etcd-certfile and --etcd-keyfile');
    // A CA given for plain http:// members means TLS all the same, as etcd's clients take it.
    return { ca: readFileSync(o.caFile), cert: o.certFile ? readFileSync(o.certFile) : undefined, key: o.keyFile ? readFileSync(o.keyFile) : undefined };
  }
  return secure ? {} : undefined;
}

function channelCredentials(tls: MemberTls | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

/** A bidirectional stream (etcd's Watch): send a request; cancel ends it from this side. */
export interface BidiStream<Req> {
  send(m: Req): void;
  cancel(): void;
}

export class EtcdRpc {
  /** Each member's Watch streams (grpc-js). */
  private readonly members: grpc.Client[];
  /** Each member's unary calls. */
  private readonly unary: UnaryHttp2Member[];
  /** The member calls go to until one fails as unavailable. */
  private pinned = 0;
  private closed = false;

  constructor(o: EtcdConnection) {
    if (!o.servers.length) throw new Error('no etcd servers given');
    const tls = memberTls(o);
    const creds = channelCredentials(tls);
    // channelz (gRPC's introspection service) counts and traces every call; nothing here reads it.
    const options = { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES, 'grpc.enable_channelz': 0 };
    const addresses = o.servers.map((s) => s.replace(/^https?:\/\//, '').replace(/\/+$/, ''));
    this.members = addresses.map((a) => new grpc.Client(a, creds, options));
    this.unary = addresses.map((a) => new UnaryHttp2Member(a, tls, MAX_MESSAGE_BYTES));
  }

  private async once<Res>(member: number, method: string, message: Buffer, decode: (b: Buffer) => Res): Promise<Res> {
    const reply = await this.unary[member].call(method, message);
    try {
      return decode(reply);
    } catch (err) {
      // As grpc-js reports a reply its deserializer refused.
      throw new GrpcCallError(grpc.status.INTERNAL, `cannot decode the reply to ${method}: ${(err as Error).message}`, true);
    }
  }

  /**
   * One unary call, e.g. ('/etcdserverpb.KV/Txn', its encoder, its decoder, the request) → the
   * decoded reply. repeatable: the call may be applied twice without harm (reads, compaction).
   */
  async call<Req, Res>(method: string, encode: (r: Req) => Buffer, decode: (b: Buffer) => Res, request: Req, repeatable: boolean): Promise<Res> {
    const attempts = Math.max(3, this.members.length + 1);
    // Encoded once for all attempts; an encoder's error is the caller's, never retried.
    const message = encode(request);
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new GrpcCallError(grpc.status.CANCELLED, 'the etcd client is closed', false);
      const member = this.pinned;
      try {
        return await this.once(member, method, message, decode);
      } catch (e) {
        if (!(e instanceof GrpcCallError)) throw e;
        if (memberUnavailable(e)) this.unpin(member);
        if (attempt >= attempts || !(repeatable ? memberUnavailable(e) : !e.sent)) throw e;
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
    if (this.closed) throw new GrpcCallError(grpc.status.CANCELLED, 'the etcd client is closed', false);
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
    s.on('end', () => end(new GrpcCallError(grpc.status.UNAVAILABLE, `the ${method} stream ended`, true)));
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
    for (const u of this.unary) u.close();
  }
}
