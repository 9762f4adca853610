// Random bytes from the system's CSPRNG, drawn a few kilobytes at a time: generated names and the
// simulated runtime's IDs need a few bytes each, thousands of times a second, and one getrandom
// call per name or ID cost more than everything else in making it.
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(8192);
let next = pool.length;

/** `n` (at most 8192) fresh random bytes: a view into the pool, valid until the next call. */
export function pooledRandomBytes(n: number): Buffer {
  if (next + n > pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const bytes = pool.subarray(next, next + n);
  next += n;
  return bytes;
}
