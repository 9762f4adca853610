// Cheap sources of the simulated runtime's identifiers and timestamps. A node creates two IDs and
// reads the clock a few times for each pod it starts; at thousands of pods a second, one
// getrandom call per ID and a Date formatted per call showed in the agents' profile.
import { randomFillSync } from 'node:crypto';

/** Bytes of an ID: 64 hex characters, as containerd's sandbox and container IDs. */
const ID_BYTES = 32;
/** IDs drawn per refill of the pool. */
const POOL_IDS = 128;
const pool = Buffer.alloc(ID_BYTES * POOL_IDS);
let next = POOL_IDS;

/** A fresh random ID (64 hex characters); the randomness comes from the system's CSPRNG in batches. */
export function randomId(): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const start = next++ * ID_BYTES;
  return pool.toString('hex', start, start + ID_BYTES);
}

let cachedSecond = NaN;
let cachedText = '';

/** Now as RFC 3339 with second precision (the kubelet's container timestamps as the API shows them); one format per second. */
export function nowSeconds(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedText = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    cachedSecond = second;
  }
  return cachedText;
}
