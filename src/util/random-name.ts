// Random suffixes of generated names (generateName, a pod's kube-api-access-xxxxx volume), as
// upstream's utilrand.String(5). The bytes come from a pool filled a few thousand at a time: a
// crypto call for each five bytes cost more than the rest of making the name.
import { randomFillSync } from 'node:crypto';

// Upstream's generated-name alphabet: no vowels (no words) and no look-alike characters.
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

const pool = Buffer.alloc(4096);
let next = pool.length;

/** A string of `n` (default 5) characters of upstream's alphabet. */
export function randomNameSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    s += NAME_CHARS[pool[next++]! % NAME_CHARS.length];
  }
  return s;
}
