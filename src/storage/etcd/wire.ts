// The protobuf messages of etcd's v3 API that the store's hot path sends and receives, encoded and
// decoded by hand. A generic codec (the etcd3 client's protobufjs, loaded with longs as strings and
// every default filled in) made a whole object tree per reply, with a string per revision: most of
// the driver's CPU. Here a request is one exact-size buffer, revisions stay JS numbers (they are far
// below 2^53) and a reply yields only the fields the store reads, its values decoded once as UTF-8.
// Field numbers are those of etcd's rpc.proto and kv.proto (api/etcdserverpb, api/mvccpb).

// ----------------------------------------------------------------------------- encoding

/**
 * A message as its fields: [field number, value, always]. A number is a varint, a boolean a varint 1,
 * a string or Buffer length-delimited bytes, an array a nested message. Proto3 leaves out zero,
 * false and empty values unless `always` is set (a oneof member, whose presence is the choice).
 */
export type Field = readonly [no: number, value: number | bigint | boolean | string | Buffer | Msg | undefined, always?: boolean];
export type Msg = readonly Field[];

const varintSize = (n: number): number => {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
};

function present(f: Field): boolean {
  const v = f[1];
  if (v === undefined) return false;
  if (f[2]) return true;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'boolean') return v;
  return v.length > 0;
}

/** Byte sizes of each nested message, computed once and read back in order while writing. */
function measure(msg: Msg, sizes: number[]): number {
  let total = 0;
  for (const f of msg) {
    if (!present(f)) continue;
    const v = f[1]!;
    total += varintSize(f[0] * 8);
    if (typeof v === 'number') total += varintSize(v);
    else if (typeof v === 'bigint') total += bigVarint(v).length;
    else if (typeof v === 'boolean') total += 1;
    else {
      let len: number;
      if (typeof v === 'string') len = Buffer.byteLength(v);
      else if (Buffer.isBuffer(v)) len = v.length;
      else {
        const at = sizes.length;
        sizes.push(0);
        len = measure(v as Msg, sizes);
        sizes[at] = len;
      }
      total += varintSize(len) + len;
    }
  }
  return total;
}

/** An int64 beyond 2^53 (etcd's lease IDs) as a varint; negative values as their two's complement. */
function bigVarint(v: bigint): Buffer {
  let n = BigInt.asUintN(64, v);
  const bytes: number[] = [];
  while (n >= 0x80n) {
    bytes.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  bytes.push(Number(n));
  return Buffer.from(bytes);
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  if (n < 0 || !Number.isSafeInteger(n)) throw new RangeError(`cannot encode ${n} as an unsigned varint`);
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

function write(msg: Msg, buf: Buffer, pos: number, sizes: number[], next: { i: number }): number {
  for (const f of msg) {
    if (!present(f)) continue;
    const v = f[1]!;
    if (typeof v === 'number') {
      pos = writeVarint(buf, pos, f[0] * 8);
      pos = writeVarint(buf, pos, v);
    } else if (typeof v === 'bigint') {
      pos = writeVarint(buf, pos, f[0] * 8);
      pos += bigVarint(v).copy(buf, pos);
    } else if (typeof v === 'boolean') {
      pos = writeVarint(buf, pos, f[0] * 8);
      buf[pos++] = 1;
    } else {
      pos = writeVarint(buf, pos, f[0] * 8 + 2);
      if (typeof v === 'string') {
        pos = writeVarint(buf, pos, Buffer.byteLength(v));
        pos += buf.write(v, pos);
      } else if (Buffer.isBuffer(v)) {
        pos = writeVarint(buf, pos, v.length);
        pos += v.copy(buf, pos);
      } else {
        pos = writeVarint(buf, pos, sizes[next.i++]);
        pos = write(v as Msg, buf, pos, sizes, next);
      }
    }
  }
  return pos;
}

/** The message in protobuf's binary form, in one buffer of its exact size. */
export function encode(msg: Msg): Buffer {
  const sizes: number[] = [];
  const size = measure(msg, sizes);
  const buf = Buffer.allocUnsafe(size);
  const end = write(msg, buf, 0, sizes, { i: 0 });
  if (end !== size) throw new Error(`protobuf encoding wrote ${end} bytes, not ${size}`);
  return buf;
}

/** etcd's Compare.CompareTarget and Compare.CompareResult. */
export const Target = { Version: 0, Create: 1, Mod: 2, Value: 3, Lease: 4 } as const;
export const Result = { Equal: 0, Greater: 1, Less: 2, NotEqual: 3 } as const;

export interface RangeReq {
  key: string | Buffer;
  rangeEnd?: string | Buffer;
  limit?: number;
  revision?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
}

export const rangeMsg = (r: RangeReq): Msg => [
  [1, r.key],
  [2, r.rangeEnd],
  [3, r.limit],
  [4, r.revision],
  [8, r.keysOnly],
  [9, r.countOnly],
];

/** A comparison on one key: its target (create, mod revision or version) against a number. */
export interface Cmp {
  key: string | Buffer;
  target: (typeof Target)['Version' | 'Create' | 'Mod'];
  result: (typeof Result)[keyof typeof Result];
  value: number;
}

const cmpMsg = (c: Cmp): Msg => [
  [1, c.result],
  [2, c.target],
  [3, c.key],
  // The oneof member named by the target: version 4, create_revision 5, mod_revision 6.
  [c.target === Target.Version ? 4 : c.target === Target.Create ? 5 : 6, c.value, true],
];

export type Op =
  | { put: { key: string | Buffer; value: string | Buffer; prevKv?: boolean; lease?: number } }
  | { range: RangeReq }
  | { deleteRange: { key: string | Buffer; rangeEnd?: string | Buffer; prevKv?: boolean } };

function opMsg(op: Op): Msg {
  if ('put' in op) return [[2, [[1, op.put.key], [2, op.put.value, true], [3, op.put.lease], [4, op.put.prevKv]], true]];
  if ('range' in op) return [[1, rangeMsg(op.range), true]];
  return [[3, [[1, op.deleteRange.key], [2, op.deleteRange.rangeEnd], [3, op.deleteRange.prevKv]], true]];
}

export interface TxnReq {
  compare: Cmp[];
  success: Op[];
  failure?: Op[];
}

export const txnMsg = (t: TxnReq): Msg => [
  ...t.compare.map((c): Field => [1, cmpMsg(c), true]),
  ...t.success.map((o): Field => [2, opMsg(o), true]),
  ...(t.failure ?? []).map((o): Field => [3, opMsg(o), true]),
];

export const compactionMsg = (revision: number, physical = false): Msg => [
  [1, revision],
  [2, physical],
];

export const putMsg = (key: string | Buffer, value: string | Buffer, lease?: bigint): Msg => [
  [1, key],
  [2, value],
  [3, lease],
];

export const deleteRangeMsg = (key: string | Buffer, rangeEnd?: string | Buffer): Msg => [
  [1, key],
  [2, rangeEnd],
];

/** LeaseGrantRequest: etcd picks the ID. */
export const leaseGrantMsg = (ttlSeconds: number): Msg => [[1, ttlSeconds]];

export interface WatchCreateReq {
  key: string | Buffer;
  rangeEnd?: string | Buffer;
  startRevision?: number;
  progressNotify?: boolean;
  prevKv?: boolean;
}

/** WatchRequest{create_request}. */
export const watchCreateMsg = (w: WatchCreateReq): Msg => [
  [1, [[1, w.key], [2, w.rangeEnd], [3, w.startRevision], [4, w.progressNotify], [6, w.prevKv]], true],
];

// ----------------------------------------------------------------------------- decoding

/** A cursor over one message's bytes. */
class Reader {
  readonly buf: Buffer;
  readonly end: number;
  pos: number;
  constructor(buf: Buffer, start: number, end: number) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Unsigned varints up to 2^53, as etcd's revisions, counts and flags are. */
  varint(): number {
    const buf = this.buf;
    let x = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated protobuf varint');
      const b = buf[this.pos++];
      x += (b & 0x7f) * mul;
      if (b < 0x80) return x;
      mul *= 128;
    }
  }

  /** A signed int64 of any size (etcd's lease IDs). */
  bigVarint(): bigint {
    let x = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated protobuf varint');
      const b = this.buf[this.pos++];
      x |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, x);
      shift += 7n;
    }
  }

  /** Reads a length prefix: the nested bytes are [returned start, this.pos). */
  span(): number {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new Error('truncated protobuf field');
    return start;
  }

  string(): string {
    const start = this.span();
    return this.buf.toString('utf8', start, this.pos);
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.span();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wireType}`);
    if (this.pos > this.end) throw new Error('truncated protobuf field');
  }
}

/** mvccpb.KeyValue with the fields the store reads (value left out when not wanted). */
export interface KeyValue {
  key: string;
  createRev: number;
  modRev: number;
  version: number;
  value?: string;
}

function keyValue(r: Reader, end: number, withValue: boolean): KeyValue {
  const kv: KeyValue = { key: '', createRev: 0, modRev: 0, version: 0 };
  while (r.pos < end) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    if (no === 1 && wt === 2) kv.key = r.string();
    else if (no === 2 && wt === 0) kv.createRev = r.varint();
    else if (no === 3 && wt === 0) kv.modRev = r.varint();
    else if (no === 4 && wt === 0) kv.version = r.varint();
    else if (no === 5 && wt === 2) {
      if (withValue) kv.value = r.string();
      else r.span();
    } else r.skip(wt);
  }
  // An empty value is left out on the wire.
  if (withValue && kv.value === undefined) kv.value = '';
  return kv;
}

/** Reads a nested message with `fn`, leaving the reader after it. */
function nested<T>(r: Reader, fn: (r: Reader, end: number) => T): T {
  const start = r.span();
  const end = r.pos;
  const inner = new Reader(r.buf, start, end);
  return fn(inner, end);
}

/** ResponseHeader.revision: the store's revision when the request was served. */
function headerRevision(r: Reader, end: number): number {
  let rev = 0;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === (3 << 3)) rev = r.varint();
    else r.skip(tag & 7);
  }
  return rev;
}

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

/** A KeyValue's key field, copied out as bytes. */
function rawKey(buf: Buffer, start: number, end: number): Buffer {
  const r = new Reader(buf, start, end);
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) {
      const at = r.span();
      return Buffer.from(buf.subarray(at, r.pos));
    }
    r.skip(tag & 7);
  }
  return Buffer.alloc(0);
}

function rangeRes(r: Reader, end: number): RangeRes {
  const res: RangeRes = { revision: 0, kvs: [], more: false, count: 0 };
  let lastStart = -1;
  let lastEnd = -1;
  while (r.pos < end) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    if (no === 1 && wt === 2) res.revision = nested(r, headerRevision);
    else if (no === 2 && wt === 2) {
      lastStart = r.span();
      lastEnd = r.pos;
      res.kvs.push(keyValue(new Reader(r.buf, lastStart, lastEnd), lastEnd, true));
    } else if (no === 3 && wt === 0) res.more = r.varint() !== 0;
    else if (no === 4 && wt === 0) res.count = r.varint();
    else r.skip(wt);
  }
  if (lastStart >= 0) res.lastKey = rawKey(r.buf, lastStart, lastEnd);
  return res;
}

export function decodeRange(buf: Buffer): RangeRes {
  return rangeRes(new Reader(buf, 0, buf.length), buf.length);
}

export type OpRes =
  | { range: RangeRes }
  | { put: { prevKv?: KeyValue } }
  | { deleteRange: { deleted: number; prevKvs: KeyValue[] } }
  | { txn: true };

function opRes(r: Reader, end: number): OpRes | undefined {
  let out: OpRes | undefined;
  while (r.pos < end) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    if (no === 1 && wt === 2) out = { range: nested(r, rangeRes) };
    else if (no === 2 && wt === 2) {
      out = {
        put: nested(r, (rr, e) => {
          const put: { prevKv?: KeyValue } = {};
          while (rr.pos < e) {
            const t = rr.varint();
            if (t === ((2 << 3) | 2)) put.prevKv = nested(rr, (x, xe) => keyValue(x, xe, true));
            else rr.skip(t & 7);
          }
          return put;
        }),
      };
    } else if (no === 3 && wt === 2) {
      out = {
        deleteRange: nested(r, (rr, e) => {
          const del = { deleted: 0, prevKvs: [] as KeyValue[] };
          while (rr.pos < e) {
            const t = rr.varint();
            if (t === (2 << 3)) del.deleted = rr.varint();
            else if (t === ((3 << 3) | 2)) del.prevKvs.push(nested(rr, (x, xe) => keyValue(x, xe, true)));
            else rr.skip(t & 7);
          }
          return del;
        }),
      };
    } else if (no === 4 && wt === 2) {
      r.span();
      out = { txn: true };
    } else r.skip(wt);
  }
  return out;
}

export interface TxnRes {
  revision: number;
  succeeded: boolean;
  responses: (OpRes | undefined)[];
}

export function decodeTxn(buf: Buffer): TxnRes {
  const r = new Reader(buf, 0, buf.length);
  const res: TxnRes = { revision: 0, succeeded: false, responses: [] };
  while (r.pos < buf.length) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    if (no === 1 && wt === 2) res.revision = nested(r, headerRevision);
    else if (no === 2 && wt === 0) res.succeeded = r.varint() !== 0;
    else if (no === 3 && wt === 2) res.responses.push(nested(r, opRes));
    else r.skip(wt);
  }
  return res;
}

/** Any reply whose only field the store reads is its header's revision (CompactionResponse, ...). */
export function decodeHeaderRevision(buf: Buffer): number {
  const r = new Reader(buf, 0, buf.length);
  let rev = 0;
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) rev = nested(r, headerRevision);
    else r.skip(tag & 7);
  }
  return rev;
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

/**
 * A WatchResponse. prevValues: which events' previous values to decode (the others keep only the
 * previous revisions): a put's previous value is rarely read and costs as much as its new one.
 */
export function decodeWatch(buf: Buffer, prevValues: 'all' | 'deletes' = 'all'): WatchRes {
  const r = new Reader(buf, 0, buf.length);
  const res: WatchRes = { revision: 0, watchId: 0, created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment: false, events: [] };
  while (r.pos < buf.length) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    if (no === 1 && wt === 2) res.revision = nested(r, headerRevision);
    else if (no === 2 && wt === 0) res.watchId = r.varint();
    else if (no === 3 && wt === 0) res.created = r.varint() !== 0;
    else if (no === 4 && wt === 0) res.canceled = r.varint() !== 0;
    else if (no === 5 && wt === 0) res.compactRevision = r.varint();
    else if (no === 6 && wt === 2) res.cancelReason = r.string();
    else if (no === 7 && wt === 0) res.fragment = r.varint() !== 0;
    else if (no === 11 && wt === 2) res.events.push(nested(r, (rr, e) => watchEvent(rr, e, prevValues)));
    else r.skip(wt);
  }
  return res;
}

function watchEvent(r: Reader, end: number, prevValues: 'all' | 'deletes'): WatchEvent {
  let type: 'put' | 'delete' = 'put';
  let kv: KeyValue | undefined;
  // The previous kv's bytes, decoded once the event's type is known (fields may come in any order).
  let prevAt = -1;
  let prevEnd = -1;
  while (r.pos < end) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    if (no === 1 && wt === 0) type = r.varint() === 1 ? 'delete' : 'put';
    else if (no === 2 && wt === 2) kv = nested(r, (rr, e) => keyValue(rr, e, true));
    else if (no === 3 && wt === 2) {
      prevAt = r.span();
      prevEnd = r.pos;
    } else r.skip(wt);
  }
  const ev: WatchEvent = { type, kv: kv ?? { key: '', createRev: 0, modRev: 0, version: 0, value: '' } };
  if (prevAt >= 0) ev.prevKv = keyValue(new Reader(r.buf, prevAt, prevEnd), prevEnd, prevValues === 'all' || type === 'delete');
  return ev;
}

export interface LeaseGrantRes {
  revision: number;
  id: bigint;
  ttl: number;
  error: string;
}

export function decodeLeaseGrant(buf: Buffer): LeaseGrantRes {
  const r = new Reader(buf, 0, buf.length);
  const res: LeaseGrantRes = { revision: 0, id: 0n, ttl: 0, error: '' };
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) res.revision = nested(r, headerRevision);
    else if (tag === (2 << 3)) res.id = r.bigVarint();
    else if (tag === (3 << 3)) res.ttl = r.varint();
    else if (tag === ((4 << 3) | 2)) res.error = r.string();
    else r.skip(tag & 7);
  }
  return res;
}
