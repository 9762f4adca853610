// etcd's KV and Watch services over @grpc/grpc-js, with the messages of wire.ts. The etcd3 client
// wraps every call in a retry policy, a circuit breaker, a host shuffle, an auth lookup and
// protobufjs: several times the CPU of the call itself at the store's rates. This one keeps one
// channel per member, pins the member that last answered, and moves to the next only when a call
// fails as unavailable.
// Retries follow etcd's own client (clientv3): reads are repeated on another member, writes only
// when they never left this process (no connection to send them on), so that a write is applied
// at most once: a transaction repeated after it was applied would fail its own comparison.
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
  constructor(code: number, details: string) {
    super(details);
    this.code = code;
  }
}

/** Whether a failed call certainly never reached etcd (no connection to any member was up). */
export function neverSent(err: { code?: number; details?: string; message?: string }): boolean {
  return err.code === grpc.status.UNAVAILABLE && /No connection established/.test(err.details ?? err.message ?? '');
}

/** Whether another member may answer where this one failed. */
export function memberUnavailable(err: { code?: number }): boolean {
  return err.code === grpc.status.UNAVAILABLE;
}

export function channelCredentials(o: EtcdConnection): grpc.ChannelCredentials {
  if (o.caFile || o.certFile || o.keyFile) {
    if (!o.caFile) throw new Error('--etcd-cafile is required with --etcd-certfile and --etcd-keyfile');
    return grpc.credentials.createSsl(readFileSync(o.caFile), o.keyFile ? readFileSync(o.keyFile) : null, o.certFile ? readFileSync(o.certFile) : null);
  }
  const secure = o.servers.filter((s) => s.startsWith('https:')).length;
  if (secure && secure < o.servers.length) throw new Error('--etcd-servers mixes https and http members');
  return secure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
}

const same = (b: Buffer) => b;

export class EtcdRpc {
  private readonly members: grpc.Client[];
  /** The member calls go to until one fails as unavailable. */
  private pinned = 0;
  private closed = false;

  constructor(o: EtcdConnection) {
    if (!o.servers.length) throw new Error('no etcd servers given');
    const creds = channelCredentials(o);
    const options = { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES };
    this.members = o.servers.map((s) => new grpc.Client(s.replace(/^https?:\/\//, ''), creds, options));
  }

  private once(member: number, method: string, request: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.members[member].makeUnaryRequest(method, same, same, request, (err: grpc.ServiceError | null, res?: Buffer) => {
        if (err) reject(err);
        else resolve(res ?? Buffer.alloc(0));
      });
    });
  }

  /**
   * One unary call, e.g. ('/etcdserverpb.KV/Txn', encoded request) → the encoded reply.
   * repeatable: the call may be applied twice without harm (reads, compaction).
   */
  async call(method: string, request: Buffer, repeatable: boolean): Promise<Buffer> {
    const attempts = Math.max(3, this.members.length + 1);
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new EtcdRpcError(grpc.status.CANCELLED, 'the etcd client is closed');
      const member = this.pinned;
      try {
        return await this.once(member, method, request);
      } catch (e) {
        const err = e as grpc.ServiceError;
        if (memberUnavailable(err)) this.unpin(member);
        if (attempt >= attempts || !(repeatable ? memberUnavailable(err) : neverSent(err))) throw new EtcdRpcError(err.code ?? grpc.status.UNKNOWN, err.details || err.message);
      }
    }
  }

  /** Moves on from a member that failed, unless another call did already. */
  unpin(member: number): void {
    if (this.pinned === member) this.pinned = (member + 1) % this.members.length;
  }

  /** A Watch stream on the pinned member; `member` is what to pass to unpin when it fails. */
  watchStream(): { stream: grpc.ClientDuplexStream<Buffer, Buffer>; member: number } {
    if (this.closed) throw new EtcdRpcError(grpc.status.CANCELLED, 'the etcd client is closed');
    const member = this.pinned;
    return { stream: this.members[member].makeBidiStreamRequest('/etcdserverpb.Watch/Watch', same, same), member };
  }

  close(): void {
    this.closed = true;
    for (const m of this.members) m.close();
  }
}
