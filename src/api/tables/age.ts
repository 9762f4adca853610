/** Upstream's human-readable duration (apimachinery duration.HumanDuration), used by AGE columns. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const d = Math.floor(hours / 24) % 365;
    return d === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${d}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/**
 * Parsed timestamps, by their text: a Table of many objects parses the same few creation seconds
 * over and over (objects made together share them), and parsing one costs more than finding it.
 * Emptied when it grows past MAX_PARSED, so it stays small whatever the timestamps.
 */
const parsed = new Map<string, number>();
const MAX_PARSED = 4096;

/** Date.parse(timestamp), remembered. */
function parseTime(timestamp: string): number {
  let ms = parsed.get(timestamp);
  if (ms === undefined) {
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(timestamp, (ms = Date.parse(timestamp)));
  }
  return ms;
}

/** AGE cell from a creationTimestamp. */
export function age(timestamp: string | undefined, now: number): string {
  if (!timestamp) return '<unknown>';
  return humanDuration(now - parseTime(timestamp));
}
