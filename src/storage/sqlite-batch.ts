// The form in which a batch of changes crosses to the SQLite writer thread. postMessage copies a
// message by walking it: an object per row costs a header and six property names per change, which
// made the main thread's postMessage a few percent of a StatefulSet scale-up's CPU. Numbers in one
// typed array and the strings in two plain arrays cross as a few flat copies instead.
import type { Row } from './sqlite-schema.ts';
import type { StoreEvent } from './types.ts';

export interface PackedRows {
  /** rev, type (0 put, 1 delete), createRev, prevModRev (NaN for none) of each row, in order. */
  nums: Float64Array;
  keys: string[];
  values: string[];
}

const FIELDS = 4;

/** The rows of these changes, in the order given (revision order). */
export function packRows(events: readonly StoreEvent[]): PackedRows {
  const n = events.length;
  const nums = new Float64Array(n * FIELDS);
  const keys = new Array<string>(n);
  const values = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    const o = i * FIELDS;
    nums[o] = e.rev;
    nums[o + 1] = e.type === 'put' ? 0 : 1;
    nums[o + 2] = e.createRev;
    nums[o + 3] = e.prevModRev ?? NaN;
    keys[i] = e.key;
    // A deletion's value is its previous value, already in the file (see sqlite-schema.ts).
    values[i] = e.type === 'put' ? e.value : '';
  }
  return { nums, keys, values };
}

export function unpackRows(p: PackedRows): Row[] {
  const rows: Row[] = new Array(p.keys.length);
  for (let i = 0; i < rows.length; i++) {
    const o = i * FIELDS;
    const prev = p.nums[o + 3]!;
    rows[i] = { rev: p.nums[o]!, type: p.nums[o + 1] === 0 ? 0 : 1, key: p.keys[i]!, value: p.values[i]!, createRev: p.nums[o + 2]!, prevModRev: Number.isNaN(prev) ? null : prev };
  }
  return rows;
}
