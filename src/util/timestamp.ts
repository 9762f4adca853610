// Timestamps as upstream's metav1.Time serializes them: RFC 3339 with second precision.

/**
 * Formatted once per second: every write stamps something, and in a burst thousands of writes
 * fall in the same few seconds.
 */
export function nowTimestamp(ms = Date.now()): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastStampSecond) {
    lastStamp = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    lastStampSecond = second;
  }
  return lastStamp;
}
let lastStampSecond = NaN;
let lastStamp = '';
