// Just enough of the protobuf wire format for the CRI messages: a writer that appends fields in
// order (proto3 leaves default values out, so zeros and empty strings are skipped) and a reader
// that indexes a message's fields by number. No schema compiler and no dependency: the message
// layouts live in messages.ts, next to the field numbers of k8s.io/cri-api's api.proto.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

function pushVarint(out: number[], value: bigint): void {
  // Negative int64/int32 values go on the wire as their 64-bit two's complement (10 bytes).
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

export class ProtoWriter {
  private readonly parts: Buffer[] = [];

  private key(field: number, wire: number): number[] {
    const out: number[] = [];
    pushVarint(out, BigInt((field << 3) | wire));
    return out;
  }

  /** int32/int64/uint32/uint64/enum; 0 is the default and is not written. */
  int(field: number, value: number | bigint | undefined): this {
    if (value === undefined) return this;
    const v = typeof value === 'bigint' ? value : BigInt(Math.trunc(value));
    if (v === 0n) return this;
    const out = this.key(field, WIRE_VARINT);
    pushVarint(out, v);
    this.parts.push(Buffer.from(out));
    return this;
  }

  bool(field: number, value: boolean | undefined): this {
    return value ? this.int(field, 1) : this;
  }

  bytes(field: number, value: Uint8Array): this {
    const head = this.key(field, WIRE_LEN);
    pushVarint(head, BigInt(value.length));
    this.parts.push(Buffer.from(head), Buffer.from(value));
    return this;
  }

  string(field: number, value: string | undefined): this {
    return value ? this.bytes(field, Buffer.from(value, 'utf8')) : this;
  }

  strings(field: number, values: readonly string[] | undefined): this {
    // Repeated strings are written one by one, empty ones included (they are list items).
    for (const v of values ?? []) this.bytes(field, Buffer.from(v, 'utf8'));
    return this;
  }

  /** A nested message; written even when empty when `always` (presence matters, e.g. wrappers). */
  message(field: number, build: ((w: ProtoWriter) => void) | undefined, always = false): this {
    if (!build) return this;
    const w = new ProtoWriter();
    build(w);
    const body = w.finish();
    if (body.length || always) this.bytes(field, body);
    return this;
  }

  messages<T>(field: number, items: readonly T[] | undefined, build: (w: ProtoWriter, item: T) => void): this {
    for (const item of items ?? []) this.message(field, (w) => build(w, item), true);
    return this;
  }

  /** map<string,string>: a repeated entry message with key = 1, value = 2. */
  map(field: number, values: Record<string, string> | undefined): this {
    for (const [k, v] of Object.entries(values ?? {})) this.message(field, (w) => w.string(1, k).string(2, v), true);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

type Raw = bigint | Buffer;

/** A decoded message: each field's raw values, in wire order. */
export class ProtoReader {
  private readonly fields = new Map<number, Raw[]>();

  constructor(buf: Uint8Array) {
    const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    let i = 0;
    const varint = (): bigint => {
      let shift = 0n;
      let v = 0n;
      for (;;) {
        if (i >= b.length) throw new Error('protobuf: truncated varint');
        const byte = b[i++]!;
        v |= BigInt(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return v;
        shift += 7n;
      }
    };
    while (i < b.length) {
      const key = Number(varint());
      const field = key >>> 3;
      const wire = key & 7;
      let value: Raw;
      if (wire === WIRE_VARINT) value = varint();
      else if (wire === WIRE_LEN) {
        const len = Number(varint());
        if (i + len > b.length) throw new Error('protobuf: truncated field');
        value = b.subarray(i, i + len);
        i += len;
      } else if (wire === WIRE_FIXED64) {
        value = b.subarray(i, i + 8);
        i += 8;
      } else if (wire === WIRE_FIXED32) {
        value = b.subarray(i, i + 4);
        i += 4;
      } else throw new Error(`protobuf: unsupported wire type ${wire}`);
      let list = this.fields.get(field);
      if (!list) this.fields.set(field, (list = []));
      list.push(value);
    }
  }

  has(field: number): boolean {
    return this.fields.has(field);
  }

  /** Signed 64-bit integer as a number (nanosecond timestamps lose sub-microsecond precision, which nobody reads). */
  int(field: number): number {
    const v = this.last(field);
    return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : 0;
  }

  /** Signed 64-bit integer exactly. */
  bigint(field: number): bigint {
    const v = this.last(field);
    return typeof v === 'bigint' ? BigInt.asIntN(64, v) : 0n;
  }

  bool(field: number): boolean {
    return this.int(field) !== 0;
  }

  string(field: number): string {
    const v = this.last(field);
    return Buffer.isBuffer(v) ? v.toString('utf8') : '';
  }

  bytes(field: number): Buffer {
    const v = this.last(field);
    return Buffer.isBuffer(v) ? v : Buffer.alloc(0);
  }

  strings(field: number): string[] {
    return (this.fields.get(field) ?? []).filter(Buffer.isBuffer).map((v) => v.toString('utf8'));
  }

  /** A nested message (an empty one when absent, as proto3 reads it). */
  message(field: number): ProtoReader {
    return new ProtoReader(this.bytes(field));
  }

  messages(field: number): ProtoReader[] {
    return (this.fields.get(field) ?? []).filter(Buffer.isBuffer).map((v) => new ProtoReader(v));
  }

  map(field: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.messages(field)) out[e.string(1)] = e.string(2);
    return out;
  }

  // For scalars the last value on the wire wins; for messages proto merges, which CRI never needs.
  private last(field: number): Raw | undefined {
    const list = this.fields.get(field);
    return list?.[list.length - 1];
  }
}
