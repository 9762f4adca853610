// Protocol-buffer wire format: just enough to walk a message field by field. Schema-free on
// purpose; the meaning of each field comes from the descriptor tables in descriptors.ts.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

/** A malformed or unsupported body; the API server answers it with 415. */
export class ProtobufDecodeError extends Error {}

/** One field as it appears on the wire: varints as bigint (they may use all 64 bits), the rest raw. */
export type WireValue = { wire: 0; value: bigint } | { wire: 1 | 5; bytes: Buffer } | { wire: 2; bytes: Buffer };

export interface WireField {
  field: number;
  v: WireValue;
}

export class Reader {
  private pos = 0;
  private readonly buf: Buffer;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtobufDecodeError('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  /** A varint known to be small (tags, lengths); avoids bigint arithmetic on the hot path. */
  smallVarint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) throw new ProtobufDecodeError('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new ProtobufDecodeError('length or tag out of range');
  }

  take(n: number): Buffer {
    if (n < 0 || this.pos + n > this.buf.length) throw new ProtobufDecodeError('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  next(): WireField {
    const tag = this.smallVarint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new ProtobufDecodeError('field number 0');
    switch (wire) {
      case WIRE_VARINT:
        return { field, v: { wire, value: this.varint() } };
      case WIRE_FIXED64:
        return { field, v: { wire, bytes: this.take(8) } };
      case WIRE_BYTES:
        return { field, v: { wire, bytes: this.take(this.smallVarint()) } };
      case WIRE_FIXED32:
        return { field, v: { wire, bytes: this.take(4) } };
      default:
        // Groups are a proto1 relic; no Kubernetes message uses them.
        throw new ProtobufDecodeError(`unsupported wire type ${wire} for field ${field}`);
    }
  }
}

/** All fields of a message in wire order. */
export function readFields(buf: Buffer): WireField[] {
  const r = new Reader(buf);
  const out: WireField[] = [];
  while (!r.done) out.push(r.next());
  return out;
}
