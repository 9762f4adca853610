// The node side of `kubectl logs`: which instance of a container to read (the kubelet's
// validateContainerLogStatus, with its errors), and turning that instance's CRI log file into the
// text kubectl shows (the kubelet's ReadLogs: --tail, --since/--since-time, --limit-bytes,
// --timestamps, -f). stdout and stderr go to the one stream, as the kubelet's log endpoint sends them.
//
// Runtimes without processes (the simulated one) write no log file: a container of theirs that has
// started has an empty log, so the output is empty rather than an error (and -f waits for the
// container to stop, as it would on a quiet container).
import { watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { badRequest } from '../apiserver/errors.ts';
import type { LogOptions } from '../streaming/types.ts';
import { findTailStart, parseCriLogLine, renderRecord } from './cri-log-format.ts';
import type { ContainerView } from './pod-worker.ts';
import type { Runtime, RuntimeContainerStatus } from './runtime/types.ts';

export interface LogContext {
  /** The pod's name, for the error messages. */
  podName: string;
  /** Asked whether the followed instance still runs (-f stops at the end of the log once it does not). */
  runtime?: Pick<Runtime, 'containerStatus'>;
  /** For tests: the clock for --since, and how often a followed file is checked without a change event. */
  now?: () => number;
  pollMs?: number;
}

/** Upstream's forced re-check while following (logForceCheckPeriod). */
const FOLLOW_POLL_MS = 1000;
const READ_CHUNK = 64 * 1024;

/**
 * The instance whose log `kubectl logs` shows, as the kubelet picks it from the pod's container
 * status: with --previous the last terminated one; otherwise the running or terminated current
 * one, else the last terminated one; a container that is only waiting has no log yet (400s with
 * upstream's messages).
 */
export function selectLogInstance(c: ContainerView, previous: boolean, podName: string): RuntimeContainerStatus {
  const where = `container "${c.name}" in pod "${podName}"`;
  // What the API status shows: in a crash loop the exited instance is lastState and the state is
  // waiting; otherwise a current instance that has not run yet shows as waiting too.
  const crashLoop = c.waiting === 'CrashLoopBackOff' && c.status?.state === 'exited';
  const current = crashLoop ? undefined : c.status;
  const last = crashLoop ? c.status : c.previous;
  if (previous) {
    if (!last) throw badRequest(`previous terminated ${where} not found`);
    return last;
  }
  if (current?.state === 'running' || current?.state === 'exited') return current;
  if (last) return last;
  const reason = c.waiting ?? (current ? (c.init ? 'PodInitializing' : 'ContainerCreating') : undefined);
  if (reason === 'ErrImagePull') throw badRequest(`${where} is waiting to start: image can't be pulled`);
  if (reason === 'ImagePullBackOff') throw badRequest(`${where} is waiting to start: trying and failing to pull image`);
  if (reason) throw badRequest(`${where} is waiting to start: ${reason}`);
  // Never created and nothing will create it (the pod finished without it).
  throw badRequest(`${where} is terminated`);
}

/** The container's log as kubectl shows it, per the options; follows the instance while it runs when asked. */
export async function openContainerLogs(container: ContainerView, opts: LogOptions, ctx: LogContext = { podName: '' }): Promise<Readable> {
  const instance = selectLogInstance(container, opts.previous, ctx.podName);
  const now = ctx.now ?? Date.now;
  let sinceMs = -Infinity;
  if (opts.sinceSeconds !== undefined) sinceMs = now() - opts.sinceSeconds * 1000;
  if (opts.sinceTime !== undefined) {
    const t = Date.parse(opts.sinceTime);
    if (!Number.isNaN(t) && t > sinceMs) sinceMs = t;
  }
  const runtime = ctx.runtime;
  const stillRunning = async () => {
    if (!runtime) return false;
    try {
      return (await runtime.containerStatus(instance.id)).state === 'running';
    } catch {
      return false;
    }
  };
  const follow = opts.follow && instance.state === 'running';
  const spec: ReadSpec = {
    tailLines: opts.tailLines,
    sinceMs,
    limitBytes: opts.limitBytes,
    timestamps: opts.timestamps,
    follow,
    stillRunning,
    pollMs: ctx.pollMs ?? FOLLOW_POLL_MS,
  };
  if (!instance.logPath) return quietLog(spec);
  let fh: FileHandle;
  try {
    fh = await open(instance.logPath, 'r');
  } catch (err) {
    // As the kubelet reports a log file that is gone.
    throw badRequest(`failed to try resolving symlinks in path "${instance.logPath}": ${describeFsError(err, instance.logPath)}`);
  }
  return readCriLog(fh, instance.logPath, spec);
}

export interface ReadSpec {
  tailLines?: number;
  /** Records stamped before this are left out. */
  sinceMs: number;
  limitBytes?: number;
  timestamps: boolean;
  follow: boolean;
  /** Checked at the end of the file while following: false ends the stream once the rest is read. */
  stillRunning: () => Promise<boolean>;
  pollMs: number;
}

/**
 * A stream of an open CRI log file's text (the file handle is closed when it ends or is destroyed).
 * Exported for tests, which drive it on files they write.
 */
export function readCriLog(fh: FileHandle, path: string, spec: ReadSpec): Readable {
  return pumped(async (emit, signal) => {
    let watcher: FSWatcher | undefined;
    let wake: (() => void) | undefined;
    // Set by change events, so one that arrives between a read and the wait is not lost.
    let changed = false;
    try {
      const { size } = await fh.stat();
      const tail = spec.tailLines !== undefined && spec.tailLines >= 0 ? spec.tailLines : -1;
      let pos = await findTailStart(fh, size, tail);
      // Without -f a tail is counted in records written (a bounded read); with -f it only picks the start.
      let remaining = tail >= 0 && !spec.follow ? tail : Infinity;
      let budget = spec.limitBytes !== undefined && spec.limitBytes >= 0 ? spec.limitBytes : Infinity;
      let pending = Buffer.alloc(0);
      let found = true;
      const buf = Buffer.alloc(READ_CHUNK);

      /** Writes the records of complete lines; false once the tail or the byte limit is used up. */
      const consume = async (lines: Buffer[]): Promise<boolean> => {
        const out: Buffer[] = [];
        let done = false;
        for (const line of lines) {
          if (remaining <= 0) {
            done = true;
            break;
          }
          const rec = parseCriLogLine(line);
          if (!rec) continue;
          remaining--;
          if (rec.timeMs < spec.sinceMs) continue;
          let bytes = renderRecord(rec, spec.timestamps);
          if (bytes.length > budget) bytes = bytes.subarray(0, budget);
          budget -= bytes.length;
          out.push(bytes);
          if (budget <= 0) {
            done = true;
            break;
          }
        }
        if (remaining <= 0) done = true;
        if (out.length) await emit(Buffer.concat(out));
        return !done;
      };

      if (remaining <= 0 || budget <= 0) return;
      for (;;) {
        if (signal.aborted) return;
        changed = false;
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead > 0) {
          pos += bytesRead;
          const data = pending.length ? Buffer.concat([pending, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
          const lines: Buffer[] = [];
          let start = 0;
          for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
            lines.push(data.subarray(start, nl + 1));
            start = nl + 1;
          }
          pending = Buffer.from(data.subarray(start));
          if (!(await consume(lines))) return;
          continue;
        }
        // At the end of what has been written so far.
        if (!spec.follow) {
          // A last line without its newline still counts when not following.
          if (pending.length) await consume([pending]);
          return;
        }
        // The last check said the container had stopped, and everything it wrote is read: done.
        // (An unfinished last line stays unfinished, as upstream leaves it.)
        if (!found) return;
        if (!(await spec.stillRunning())) {
          found = false;
          continue;
        }
        if (!watcher) {
          try {
            watcher = watch(path, { persistent: false }, () => {
              changed = true;
              wake?.();
            });
            watcher.on('error', () => {});
          } catch {
            // No change events (the file went away, say): the periodic check still runs.
          }
          // A write may have landed before the watch began.
          continue;
        }
        if (changed) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, spec.pollMs);
          const onAbort = () => done();
          signal.addEventListener('abort', onAbort, { once: true });
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', onAbort);
            wake = undefined;
            resolve();
          }
          wake = done;
        });
      }
    } finally {
      watcher?.close();
      await fh.close().catch(() => {});
    }
  });
}

/** The log of an instance that writes none: empty; with -f open until the instance stops. */
function quietLog(spec: ReadSpec): Readable {
  return pumped(async (_emit, signal) => {
    if (!spec.follow) return;
    while (!signal.aborted && (await spec.stillRunning())) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, spec.pollMs);
        signal.addEventListener('abort', finish, { once: true });
        function finish() {
          clearTimeout(timer);
          signal.removeEventListener('abort', finish);
          resolve();
        }
      });
    }
  });
}

/**
 * A Readable fed by an async producer that honours back-pressure (emit waits while the reader is
 * behind) and stops when the reader goes away (destroy aborts the signal).
 */
function pumped(produce: (emit: (chunk: Buffer) => Promise<void>, signal: AbortSignal) => Promise<void>): Readable {
  const ac = new AbortController();
  let resume: (() => void) | undefined;
  const stream = new Readable({
    read() {
      const r = resume;
      resume = undefined;
      r?.();
    },
    destroy(err, cb) {
      ac.abort();
      const r = resume;
      resume = undefined;
      r?.();
      cb(err);
    },
  });
  const emit = async (chunk: Buffer) => {
    if (ac.signal.aborted) return;
    if (stream.push(chunk)) return;
    await new Promise<void>((r) => (resume = r));
  };
  produce(emit, ac.signal).then(
    () => {
      if (!ac.signal.aborted) stream.push(null);
    },
    (err) => {
      if (!ac.signal.aborted) stream.destroy(err as Error);
    },
  );
  return stream;
}

function describeFsError(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `lstat ${path}: no such file or directory`;
  return (err as Error).message;
}
