// An opt-in record of the SQLite store's commits, for benchmarks that need to know where a chain
// of dependent writes spends its time (bench/statefulset.ts's OrderedReady step): the store's
// commit round trips, or this thread's work between them. ORDINAL_TRACE_COMMITS=<file> turns it
// on; each answered batch then appends one line to the file:
//   <sent µs> <committed µs> <key> <key> ...
// Times are CLOCK_MONOTONIC microseconds (process.hrtime), which other processes on the machine
// read too: a benchmark can set them beside its own observations. Off, it costs the store one
// check per batch.
import { createWriteStream, type WriteStream } from 'node:fs';

export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

class CommitTrace {
  private readonly out: WriteStream;
  /** Lines not yet written: one stream write per event-loop turn, not per commit, so that tracing perturbs what it measures less. */
  private lines: string[] = [];

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'a' });
  }

  /** A batch sent at `sentUs` (monotonicUs) is committed now. */
  committed(sentUs: number, keys: readonly string[]): void {
    const now = monotonicUs();
    if (!this.lines.length) setImmediate(() => this.flush());
    this.lines.push(`${sentUs} ${now} ${keys.join(' ')}\n`);
  }

  private flush(): void {
    this.out.write(this.lines.join(''));
    this.lines = [];
  }
}

const path = process.env.ORDINAL_TRACE_COMMITS;
export const commitTrace: CommitTrace | undefined = path ? new CommitTrace(path) : undefined;
