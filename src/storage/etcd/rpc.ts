// etcd's KV and Watch services for the store's hot path: the messages of wire.ts over the gRPC
// transport of h2.ts. The etcd3 client wraps every call in a retry policy, a circuit breaker, a
// host shuffle and an auth lookup over @grpc/grpc-js and protobufjs: several times the CPU of the
// call itself at the store's rates. This one keeps one connection per member, pins the member that
// last answered, and moves to the next only when a call fails as unavailable.
// Retries follow etcd's own client (clientv3): reads are repeated on another member, writes only
// when they never left this process (no connection to send them on, or a stream the server
// refused), so that a write is applied at most once: a transaction repeated after it was applied
// would fail its own comparison.
import { readFileSync } from 'node:fs';
import { GrpcError, H2Channel, Status } from './h2.ts';

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

export { GrpcError as EtcdRpcError };

/** Whether another member may answer where this one failed. */
const memberUnavailable = (err: GrpcError) => err.code === Status.UNAVAILABLE;

export class EtcdRpc {
  private readonly members: H2Channel[];
  /** The member calls go to until one fails as unavailable. */
  private pinned = 0;
  private closed = false;

  constructor(o: EtcdConnection) {
    if (!o.servers.length) throw new Error('no etcd servers given');
    if (!o.caFile && (o.certFile || o.keyFile)) throw new Error('--etcd-cafile is required with --etcd-certfile and --etcd-keyfile');
    const secure = o.servers.filter((s) => s.startsWith('https:')).length;
    if (secure && secure < o.servers.length) throw new Error('--etcd-servers mixes https and http members');
    const tls = {
      ca: o.caFile ? readFileSync(o.caFile) : undefined,
      cert: o.certFile ? readFileSync(o.certFile) : undefined,
      key: o.keyFile ? readFileSync(o.keyFile) : undefined,
    };
    // A CA given for plain http:// members means TLS all the same, as etcd's clients take it.
    const scheme = secure || tls.ca ? 'https://' : 'http://';
    this.members = o.servers.map((s) => new H2Channel({ url: scheme + s.replace(/^https?:\/\//, ''), ...tls, maxMessageBytes: MAX_MESSAGE_BYTES }));
  }

  /**
   * One unary call, e.g. ('/etcdserverpb.KV/Txn', encoded request) → the encoded reply.
   * repeatable: the call may be applied twice without harm (reads, compaction).
   */
  async call(method: string, request: Buffer, repeatable: boolean): Promise<Buffer> {
    const attempts = Math.max(3, this.members.length + 1);
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new GrpcError(Status.CANCELLED, 'the etcd client is closed', false);
      const member = this.pinned;
      try {
        return await this.members[member].unary(method, request);
      } catch (e) {
        const err = e instanceof GrpcError ? e : new GrpcError(Status.UNKNOWN, String((e as Error)?.message ?? e), true);
        if (memberUnavailable(err)) this.unpin(member);
        const retry = memberUnavailable(err) && (repeatable || !err.sent);
        if (attempt >= attempts || !retry) throw err;
      }
    }
  }

  /** Moves on from a member that failed, unless another call did already. */
  unpin(member: number): void {
    if (this.pinned === member) this.pinned = (member + 1) % this.members.length;
  }

  /**
   * A Watch stream on the pinned member: each reply message goes to onMessage; onEnd is called
   * once when the stream ends for any reason but cancel (the member is then unpinned).
   */
  async watch(onMessage: (m: Buffer) => void, onEnd: (err: Error) => void): Promise<{ send(m: Buffer): void; cancel(): void }> {
    if (this.closed) throw new GrpcError(Status.CANCELLED, 'the etcd client is closed', false);
    const member = this.pinned;
    try {
      return await this.members[member].bidi('/etcdserverpb.Watch/Watch', onMessage, (err) => {
        this.unpin(member);
        onEnd(err);
      });
    } catch (err) {
      this.unpin(member);
      throw err;
    }
  }

  close(): void {
    this.closed = true;
    for (const m of this.members) m.close();
  }
}
