// The etcd calls Ordinal makes (KV range, txn, put, delete and compaction, lease grants, the watch
// stream), typed, over rpc.ts. Everything that talks to etcd in the server goes through it: the
// store's hot path, the compaction rounds and the master leases. (The etcd3 package, which loads
// and parses etcd's .proto files at start, is no longer loaded by the server.)
import { EtcdRpc, type EtcdConnection } from './rpc.ts';
import {
  type RangeReq,
  type RangeRes,
  type TxnReq,
  type TxnRes,
  compactionMsg,
  decodeHeaderRevision,
  decodeLeaseGrant,
  decodeRange,
  decodeTxn,
  deleteRangeMsg,
  encode,
  leaseGrantMsg,
  putMsg,
  rangeMsg,
  txnMsg,
} from './wire.ts';

const KV = '/etcdserverpb.KV/';

export class EtcdClient {
  private readonly rpc: EtcdRpc;
  /** Called with the header revision of every reply (the store keeps the newest it heard of). */
  onRevision: (rev: number) => void = () => {};

  constructor(conn: EtcdConnection) {
    this.rpc = new EtcdRpc(conn);
  }

  async range(req: RangeReq): Promise<RangeRes> {
    const res = decodeRange(await this.rpc.call(`${KV}Range`, encode(rangeMsg(req)), true));
    this.onRevision(res.revision);
    return res;
  }

  /** A transaction; never repeated once it may have reached etcd (see rpc.ts). */
  async txn(req: TxnReq): Promise<TxnRes> {
    const res = decodeTxn(await this.rpc.call(`${KV}Txn`, encode(txnMsg(req)), false));
    this.onRevision(res.revision);
    return res;
  }

  /** An unguarded put (optionally attached to a lease); resolves with its revision. */
  async put(key: string | Buffer, value: string | Buffer, lease?: bigint): Promise<number> {
    const rev = decodeHeaderRevision(await this.rpc.call(`${KV}Put`, encode(putMsg(key, value, lease)), false));
    this.onRevision(rev);
    return rev;
  }

  async deleteRange(key: string | Buffer, rangeEnd?: string | Buffer): Promise<number> {
    const rev = decodeHeaderRevision(await this.rpc.call(`${KV}DeleteRange`, encode(deleteRangeMsg(key, rangeEnd)), false));
    this.onRevision(rev);
    return rev;
  }

  /** Compacts history up to revision (a repeat of a done compaction fails as 'compacted'). */
  async compact(revision: number): Promise<void> {
    await this.rpc.call(`${KV}Compact`, encode(compactionMsg(revision)), true);
  }

  /** A new lease of ttlSeconds; resolves with its ID (an int64, hence a bigint). */
  async leaseGrant(ttlSeconds: number): Promise<bigint> {
    const res = decodeLeaseGrant(await this.rpc.call('/etcdserverpb.Lease/LeaseGrant', encode(leaseGrantMsg(ttlSeconds)), false));
    if (res.error) throw new Error(`etcd refused a lease: ${res.error}`);
    return res.id;
  }

  /** etcd's Watch stream (messages in wire.ts's encoding); see EtcdRpc.watch. */
  watch(onMessage: (m: Buffer) => void, onEnd: (err: Error) => void): Promise<{ send(m: Buffer): void; cancel(): void }> {
    return this.rpc.watch(onMessage, onEnd);
  }

  close(): void {
    this.rpc.close();
  }
}
