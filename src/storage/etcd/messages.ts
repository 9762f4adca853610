// The etcd requests the store makes and the replies it reads, in the store's terms, translated to
// and from etcd's protobuf messages (proto.ts). The translation is what keeps the driver cheap:
// protobufjs decodes a reply once; only the fields the store reads are then copied out, revisions
// as JS numbers (exact: etcd's revisions are far below 2^53) rather than strings, lease IDs as
// bigints (int64s that do pass 2^53), and values decoded as UTF-8 only when the store reads them.
import { pb, root } from './proto.ts';

/** How protobufjs hands over an int64: a Long (the `long` package) or, when it fits, a number. */
type Int64 = number | { low: number; high: number; toNumber(): number };

const num = (v: Int64 | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());
const big = (v: Int64 | null | undefined): bigint => {
  if (v == null) return 0n;
  if (typeof v === 'number') return BigInt(v);
  return BigInt.asIntN(64, (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0));
};
const bytes = (v: string | Buffer) => (typeof v === 'string' ? Buffer.from(v) : v);
const optBytes = (v: string | Buffer | undefined) => (v === undefined ? undefined : bytes(v));

/** etcd's Compare.CompareTarget and Compare.CompareResult (rpc.proto's enums). */
export const Target = { Version: 0, Create: 1, Mod: 2, Value: 3, Lease: 4 } as const;
export const Result = { Equal: 0, Greater: 1, Less: 2, NotEqual: 3 } as const;
// Written out for their literal types; checked against the loaded .proto so they cannot drift.
for (const [name, consts] of [['CompareTarget', Target], ['CompareResult', Result]] as const) {
  const values = root.lookupEnum(`etcdserverpb.Compare.${name}`).values;
  for (const [k, v] of Object.entries(consts)) if (values[k] !== v) throw new Error(`etcd's Compare.${name}.${k} is not ${v}`);
}

// ----------------------------------------------------------------------------- requests

export interface RangeReq {
  key: string | Buffer;
  rangeEnd?: string | Buffer;
  limit?: number;
  revision?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
}

const rangeMsg = (r: RangeReq) => ({
  key: bytes(r.key),
  range_end: optBytes(r.rangeEnd),
  limit: r.limit,
  revision: r.revision,
  keys_only: r.keysOnly,
  count_only: r.countOnly,
});

/** A comparison on one key: its target (create, mod revision or version) against a number. */
export interface Cmp {
  key: string | Buffer;
  target: (typeof Target)['Version' | 'Create' | 'Mod'];
  result: (typeof Result)[keyof typeof Result];
  value: number;
}

/** The oneof member of Compare that the target names (its presence is the choice, even at 0). */
const cmpField = { [Target.Version]: 'version', [Target.Create]: 'create_revision', [Target.Mod]: 'mod_revision' } as const;

const cmpMsg = (c: Cmp) => ({ result: c.result, target: c.target, key: bytes(c.key), [cmpField[c.target]]: c.value });

export type Op =
  | { put: { key: string | Buffer; value: string | Buffer; prevKv?: boolean; lease?: bigint } }
  | { range: RangeReq }
  | { deleteRange: { key: string | Buffer; rangeEnd?: string | Buffer; prevKv?: boolean } };

const putMsg = (p: { key: string | Buffer; value: string | Buffer; prevKv?: boolean; lease?: bigint }) => ({
  key: bytes(p.key),
  value: bytes(p.value),
  // protobufjs takes an int64 beyond 2^53 as its decimal string.
  lease: p.lease === undefined ? undefined : p.lease.toString(),
  prev_kv: p.prevKv,
});

function opMsg(op: Op) {
  if ('put' in op) return { request_put: putMsg(op.put) };
  if ('range' in op) return { request_range: rangeMsg(op.range) };
  const d = op.deleteRange;
  return { request_delete_range: { key: bytes(d.key), range_end: optBytes(d.rangeEnd), prev_kv: d.prevKv } };
}

export interface TxnReq {
  compare: Cmp[];
  success: Op[];
  failure?: Op[];
}

export interface WatchCreateReq {
  key: string | Buffer;
  rangeEnd?: string | Buffer;
  startRevision?: number;
  progressNotify?: boolean;
  prevKv?: boolean;
}

/** Each request's protobuf encoding, as gRPC sends it. */
export const encodeRequest = {
  range: (r: RangeReq): Buffer => pb.RangeRequest.encode(rangeMsg(r)).finish() as Buffer,
  txn: (t: TxnReq): Buffer =>
    pb.TxnRequest.encode({ compare: t.compare.map(cmpMsg), success: t.success.map(opMsg), failure: (t.failure ?? []).map(opMsg) }).finish() as Buffer,
  put: (p: { key: string | Buffer; value: string | Buffer; lease?: bigint }): Buffer => pb.PutRequest.encode(putMsg(p)).finish() as Buffer,
  deleteRange: (d: { key: string | Buffer; rangeEnd?: string | Buffer }): Buffer =>
    pb.DeleteRangeRequest.encode({ key: bytes(d.key), range_end: optBytes(d.rangeEnd) }).finish() as Buffer,
  compact: (c: { revision: number; physical?: boolean }): Buffer => pb.CompactionRequest.encode({ revision: c.revision, physical: c.physical }).finish() as Buffer,
  leaseGrant: (l: { ttlSeconds: number }): Buffer => pb.LeaseGrantRequest.encode({ TTL: l.ttlSeconds }).finish() as Buffer,
  watchCreate: (w: WatchCreateReq): Buffer =>
    pb.WatchRequest.encode({
      create_request: { key: bytes(w.key), range_end: optBytes(w.rangeEnd), start_revision: w.startRevision, progress_notify: w.progressNotify, prev_kv: w.prevKv },
    }).finish() as Buffer,
};

// ----------------------------------------------------------------------------- replies

/** The decoded messages' shapes, as far as the store reads them (field names as in the .proto). */
interface PbKeyValue {
  key: Buffer;
  create_revision: Int64;
  mod_revision: Int64;
  version: Int64;
  value: Buffer;
}
interface PbHeader {
  revision: Int64;
}
interface PbRangeResponse {
  header?: PbHeader | null;
  kvs: PbKeyValue[];
  more: boolean;
  count: Int64;
}
interface PbResponseOp {
  response_range?: PbRangeResponse | null;
  response_put?: { prev_kv?: PbKeyValue | null } | null;
  response_delete_range?: { deleted: Int64; prev_kvs: PbKeyValue[] } | null;
  response_txn?: unknown;
}

/** mvccpb.KeyValue with the fields the store reads (value left out when not wanted). */
export interface KeyValue {
  key: string;
  createRev: number;
  modRev: number;
  version: number;
  value?: string;
}

function keyValue(kv: PbKeyValue, withValue: boolean): KeyValue {
  const out: KeyValue = { key: kv.key.toString('utf8'), createRev: num(kv.create_revision), modRev: num(kv.mod_revision), version: num(kv.version) };
  if (withValue) out.value = kv.value ? kv.value.toString('utf8') : '';
  return out;
}

const headerRevision = (h: PbHeader | null | undefined) => (h ? num(h.revision) : 0);

export interface RangeRes {
  revision: number;
  kvs: KeyValue[];
  more: boolean;
  count: number;
  /**
   * The last key's exact bytes, to continue a paged range after it: keys are decoded as UTF-8, and
   * a key that is not UTF-8 (another program's) would not encode back to itself.
   */
  lastKey?: Buffer;
}

function rangeRes(r: PbRangeResponse): RangeRes {
  const kvs = r.kvs ?? [];
  const res: RangeRes = { revision: headerRevision(r.header), kvs: kvs.map((kv) => keyValue(kv, true)), more: !!r.more, count: num(r.count) };
  // A copy: the decoded key is a view into the whole reply's buffer.
  if (kvs.length) res.lastKey = Buffer.from(kvs[kvs.length - 1].key);
  return res;
}

export type OpRes =
  | { range: RangeRes }
  | { put: { prevKv?: KeyValue } }
  | { deleteRange: { deleted: number; prevKvs: KeyValue[] } }
  | { txn: true };

function opRes(op: PbResponseOp): OpRes | undefined {
  if (op.response_range) return { range: rangeRes(op.response_range) };
  if (op.response_put) {
    // The previous revisions, not the previous value: the store reads only prev_kv's create_revision.
    const prev = op.response_put.prev_kv;
    return { put: prev ? { prevKv: keyValue(prev, false) } : {} };
  }
  if (op.response_delete_range) {
    const d = op.response_delete_range;
    return { deleteRange: { deleted: num(d.deleted), prevKvs: (d.prev_kvs ?? []).map((kv) => keyValue(kv, true)) } };
  }
  if (op.response_txn) return { txn: true };
  return undefined;
}

export interface TxnRes {
  revision: number;
  succeeded: boolean;
  responses: (OpRes | undefined)[];
}

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
  prevKv?: KeyValue;
}

export interface WatchRes {
  revision: number;
  watchId: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  fragment: boolean;
  events: WatchEvent[];
}

/** mvccpb.Event.EventType's DELETE. */
const DELETE = 1;

export interface LeaseGrantRes {
  revision: number;
  id: bigint;
  ttl: number;
  error: string;
}

/** Each reply's decoding, as gRPC hands it over. */
export const decodeReply = {
  range: (buf: Buffer): RangeRes => rangeRes(pb.RangeResponse.decode(buf) as unknown as PbRangeResponse),
  txn: (buf: Buffer): TxnRes => {
    const m = pb.TxnResponse.decode(buf) as unknown as { header?: PbHeader; succeeded: boolean; responses: PbResponseOp[] };
    return { revision: headerRevision(m.header), succeeded: !!m.succeeded, responses: (m.responses ?? []).map(opRes) };
  },
  // Replies whose only field the store reads is the header's revision.
  put: (buf: Buffer): number => headerRevision((pb.PutResponse.decode(buf) as unknown as { header?: PbHeader }).header),
  deleteRange: (buf: Buffer): number => headerRevision((pb.DeleteRangeResponse.decode(buf) as unknown as { header?: PbHeader }).header),
  compact: (buf: Buffer): number => headerRevision((pb.CompactionResponse.decode(buf) as unknown as { header?: PbHeader }).header),
  leaseGrant: (buf: Buffer): LeaseGrantRes => {
    const m = pb.LeaseGrantResponse.decode(buf) as unknown as { header?: PbHeader; ID: Int64; TTL: Int64; error: string };
    return { revision: headerRevision(m.header), id: big(m.ID), ttl: num(m.TTL), error: m.error ?? '' };
  },
  /**
   * A WatchResponse. prevValues: which events' previous values to decode as text (the others keep
   * only the previous revisions): a put's previous value is rarely read and costs as much as its
   * new one.
   */
  watch: (buf: Buffer, prevValues: 'all' | 'deletes' = 'all'): WatchRes => {
    const m = pb.WatchResponse.decode(buf) as unknown as {
      header?: PbHeader;
      watch_id: Int64;
      created: boolean;
      canceled: boolean;
      compact_revision: Int64;
      cancel_reason: string;
      fragment: boolean;
      events: { type: number; kv?: PbKeyValue | null; prev_kv?: PbKeyValue | null }[];
    };
    const events: WatchEvent[] = (m.events ?? []).map((e) => {
      const type = e.type === DELETE ? 'delete' : 'put';
      const ev: WatchEvent = { type, kv: e.kv ? keyValue(e.kv, true) : { key: '', createRev: 0, modRev: 0, version: 0, value: '' } };
      if (e.prev_kv) ev.prevKv = keyValue(e.prev_kv, prevValues === 'all' || type === 'delete');
      return ev;
    });
    return {
      revision: headerRevision(m.header),
      watchId: num(m.watch_id),
      created: !!m.created,
      canceled: !!m.canceled,
      compactRevision: num(m.compact_revision),
      cancelReason: m.cancel_reason ?? '',
      fragment: !!m.fragment,
      events,
    };
  },
};
