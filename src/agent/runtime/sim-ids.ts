// Cheap sources of the simulated runtime's identifiers and timestamps. A node creates two IDs and
// reads the clock a few times for each pod it starts; at thousands of pods a second, one
// getrandom call per ID and a Date formatted per call showed in the agents' profile.
import { pooledRandomBytes } from '../../util/random-pool.ts';
import { nowTimestamp } from '../../util/timestamp.ts';

/** A fresh random ID (64 hex characters, as containerd's sandbox and container IDs). */
export function randomId(): string {
  return pooledRandomBytes(32).toString('hex');
}

/** Now as RFC 3339 with second precision (the kubelet's container timestamps as the API shows them). */
export const nowSeconds = (): string => nowTimestamp();
