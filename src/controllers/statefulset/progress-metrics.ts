// The progress deadline's metrics (progress.ts), served on the API server's /metrics when the
// controllers run in its process: which sets are past their deadline now, and how often any was.
import type { ProgressDecision } from './progress.ts';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class ProgressMetrics {
  /** namespace/name → past its deadline; only sets with a deadline are listed. */
  private readonly exceeded = new Map<string, boolean>();
  private transitions = 0;

  /** Records what a sync of the set `key` wrote (undefined: the set has no deadline). */
  observe(key: string, d: ProgressDecision | undefined): void {
    if (!d || d.conditions === undefined || d.lastProgress === null) {
      this.exceeded.delete(key);
      return;
    }
    if (d.newlyExceeded) this.transitions++;
    this.exceeded.set(key, d.exceeded);
  }

  forget(key: string): void {
    this.exceeded.delete(key);
  }

  /** Forgets every set (a controller that stops leading no longer knows their state); the counter stays. */
  reset(): void {
    this.exceeded.clear();
  }

  readonly render = (): string => {
    const lines = [
      '# HELP ordinal_statefulset_progress_deadline_exceeded Whether a StatefulSet with the ordinal.dev/progress-deadline-seconds annotation has made no progress for that long (1) or not (0).',
      '# TYPE ordinal_statefulset_progress_deadline_exceeded gauge',
    ];
    for (const [key, exceeded] of [...this.exceeded].sort(([a], [b]) => a.localeCompare(b))) {
      const [ns, name] = key.split('/');
      lines.push(`ordinal_statefulset_progress_deadline_exceeded{namespace="${esc(ns!)}",statefulset="${esc(name!)}"} ${exceeded ? 1 : 0}`);
    }
    lines.push(
      '# HELP ordinal_statefulset_progress_deadline_exceeded_total Times a StatefulSet passed its progress deadline (Progressing turned False, ProgressDeadlineExceeded).',
      '# TYPE ordinal_statefulset_progress_deadline_exceeded_total counter',
      `ordinal_statefulset_progress_deadline_exceeded_total ${this.transitions}`,
    );
    return lines.join('\n') + '\n';
  };
}

/** One per process, as the /metrics it is served on. */
export const progressMetrics = new ProgressMetrics();
