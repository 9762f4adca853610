// The etcd calls Ordinal makes (KV range, txn, put, delete and compaction, lease grants, the watch
// stream), typed, over rpc.ts. Everything that talks to etcd in the server goes through it: the
// store's hot path, the compaction rounds and the master leases. Messages are etcd's own (proto.ts),
// translated to the store's terms in messages.ts.
import { EtcdRpc, type BidiStream, type EtcdConnection } from './rpc.ts';
import { methods } from './proto.ts';
import { type LeaseGrantRes, type RangeReq, type RangeRes, type TxnReq, type TxnRes, type WatchCreateReq, type WatchRes, decodeReply, encodeRequest } from './messages.ts';

/** A watch reply that could not be decoded: the stream cannot be trusted to go on. */
export class EtcdDecodeError extends Error {}

const raw = (b: Buffer) => b;

export class EtcdClient {
  private readonly rpc: EtcdRpc;
  /** Called with the header revision of every reply (the store keeps the newest it heard of). */
  onRevision: (rev: number) => void = () => {};

  constructor(conn: EtcdConnection) {
    this.rpc = new EtcdRpc(conn);
  }

  async range(req: RangeReq): Promise<RangeRes> {
    const res = await this.rpc.call(methods.range, encodeRequest.range, decodeReply.range, req, true);
    this.onRevision(res.revision);
    return res;
  }

  /** A transaction; never repeated once it may have reached etcd (see rpc.ts). */
  async txn(req: TxnReq): Promise<TxnRes> {
    const res = await this.rpc.call(methods.txn, encodeRequest.txn, decodeReply.txn, req, false);
    this.onRevision(res.revision);
    return res;
  }

  /** An unguarded put (optionally attached to a lease); resolves with its revision. */
  async put(key: string | Buffer, value: string | Buffer, lease?: bigint): Promise<number> {
    const rev = await this.rpc.call(methods.put, encodeRequest.put, decodeReply.put, { key, value, lease }, false);
    this.onRevision(rev);
    return rev;
  }

  async deleteRange(key: string | Buffer, rangeEnd?: string | Buffer): Promise<number> {
    const rev = await this.rpc.call(methods.deleteRange, encodeRequest.deleteRange, decodeReply.deleteRange, { key, rangeEnd }, false);
    this.onRevision(rev);
    return rev;
  }

  /** Compacts history up to revision (a repeat of a done compaction fails as 'compacted'). */
  async compact(revision: number): Promise<void> {
    await this.rpc.call(methods.compact, encodeRequest.compact, decodeReply.compact, { revision }, true);
  }

  /** A new lease of ttlSeconds; resolves with its ID (an int64, hence a bigint). */
  async leaseGrant(ttlSeconds: number): Promise<bigint> {
    const res: LeaseGrantRes = await this.rpc.call(methods.leaseGrant, encodeRequest.leaseGrant, decodeReply.leaseGrant, { ttlSeconds }, false);
    if (res.error) throw new Error(`etcd refused a lease: ${res.error}`);
    return res.id;
  }

  /**
   * etcd's Watch stream on one member: send() a create request; each reply goes to onMessage
   * (a put's previous value left undecoded, see decodeReply.watch). onEnd is called once when the
   * stream ends for any reason but cancel, with an EtcdDecodeError when a reply was unreadable.
   */
  watch(onMessage: (m: WatchRes) => void, onEnd: (err: Error) => void): BidiStream<WatchCreateReq> {
    let stream: BidiStream<Buffer> | undefined;
    let ended = false;
    stream = this.rpc.bidi(
      methods.watch,
      raw,
      raw,
      (buf: Buffer) => {
        if (ended) return;
        let res: WatchRes;
        try {
          res = decodeReply.watch(buf, 'deletes');
        } catch (err) {
          ended = true;
          stream?.cancel();
          return onEnd(new EtcdDecodeError(`cannot decode etcd's watch reply: ${(err as Error).message}`));
        }
        onMessage(res);
      },
      (err) => {
        if (ended) return;
        ended = true;
        onEnd(err);
      },
    );
    return {
      send: (req) => stream.send(encodeRequest.watchCreate(req)),
      cancel: () => {
        ended = true;
        stream.cancel();
      },
    };
  }

  close(): void {
    this.rpc.close();
  }
}
