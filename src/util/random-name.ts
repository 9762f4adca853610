// Random suffixes of generated names (generateName, a pod's kube-api-access-xxxxx volume), as
// upstream's utilrand.String(5), from pooled random bytes (random-pool.ts).
import { pooledRandomBytes } from './random-pool.ts';

// Upstream's generated-name alphabet: no vowels (no words) and no look-alike characters.
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** A string of `n` (default 5) characters of upstream's alphabet. */
export function randomNameSuffix(n = 5): string {
  const bytes = pooledRandomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_CHARS[bytes[i]! % NAME_CHARS.length];
  return s;
}
