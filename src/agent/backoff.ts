// Crash-loop back-off for restarting containers, as the kubelet's: the first restart after a crash
// is immediate, each later one waits the current back-off (base, doubling to the cap), and a
// container that stayed up long enough (twice the cap) starts over at the base.

export interface BackoffEntry {
  /** The wait before the next restart. */
  delayMs: number;
  /** When the crash that last advanced the back-off happened (its finishedAt). */
  lastCrashMs: number;
}

export interface BackoffDecision {
  /** When the container may be started again. */
  restartAtMs: number;
  /** The entry to keep once it is restarted. */
  next: BackoffEntry;
}

export function restartDecision(entry: BackoffEntry | undefined, crashedAtMs: number, baseMs: number, maxMs: number): BackoffDecision {
  if (!entry || crashedAtMs - entry.lastCrashMs > 2 * maxMs) {
    return { restartAtMs: crashedAtMs, next: { delayMs: baseMs, lastCrashMs: crashedAtMs } };
  }
  return { restartAtMs: crashedAtMs + entry.delayMs, next: { delayMs: Math.min(entry.delayMs * 2, maxMs), lastCrashMs: crashedAtMs } };
}

/** A duration as Go's time.Duration prints it (10s, 1m20s, 5m0s, 1.5s), for upstream-looking messages. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const totalSeconds = ms / 1000;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds - h * 3600 - m * 60;
  const sText = `${Number.isInteger(s) ? s : Number(s.toFixed(3))}s`;
  if (h) return `${h}h${m}m${sText}`;
  if (m) return `${m}m${sText}`;
  return sText;
}
