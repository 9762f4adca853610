// Making the directories that back provisioned volumes, in batches on a helper thread.
//
// A provisioning burst makes a directory per claim. Each mkdir is slow-ish kernel work on a busy
// disk (mkdir + chmod cost ~0.2 CPU-ms each here), and handing each one to the thread pool wakes a
// pool thread per call, which on a small machine takes the core from the event loop every time.
// Requests go to the helper in batches instead, as the store's group commit does: one batch at the
// helper at a time, and whatever is asked for meanwhile goes together with the next. Sending a
// batch per event-loop turn instead cost one postMessage (~35 µs of the main thread) per directory
// in a burst, since provisioning syncs rarely share a turn. And as a helper that keeps up answers
// a batch of one or two within the turn, at most one batch goes every GATHER_MS: a steady stream of
// claims (the scheduler hands them over a few at a time) then costs a message pair per GATHER_MS,
// not per directory, while a lone request after a quiet spell still goes at once. A batch travels
// as one string and its answer as null when all went well: cloning arrays cost more than the data.
// Without the helper (it failed to start, or died), the calls are made on the thread pool one by one.
import { Worker } from 'node:worker_threads';
import { chmod, mkdir } from 'node:fs/promises';

/** What the helper runs: for each path, mkdir (parents too when missing), then chmod to the mode, since umask narrows it. */
const HELPER = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', ({ paths, mode }) => {
  let failed = false;
  const results = paths.split('\0').map((p) => {
    try {
      try {
        fs.mkdirSync(p, mode);
      } catch (err) {
        if (err.code !== 'ENOENT' && err.code !== 'EEXIST') throw err;
        fs.mkdirSync(p, { recursive: true, mode });
      }
      fs.chmodSync(p, mode);
      return null;
    } catch (err) {
      failed = true;
      return { code: err.code, message: err.message };
    }
  });
  parentPort.postMessage(failed ? results : null);
});
`;

/** At most one batch per this many milliseconds, unless the last one went longer ago. */
export const GATHER_MS = 10;

interface Pending {
  path: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** One directory the slow way: mkdir (parents too when missing), then chmod. */
export async function makeDirectory(path: string, mode: number): Promise<void> {
  try {
    await mkdir(path, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EEXIST') throw err;
    await mkdir(path, { recursive: true, mode });
  }
  await chmod(path, mode);
}

export class DirectoryMaker {
  private readonly mode: number;
  private worker: Worker | undefined;
  private broken = false;
  private stopped = false;
  /** Requests not sent yet: they go together once the batch at the helper is answered. */
  private gathering: Pending[] = [];
  /** Batches sent, answered in order (at most one, but for batches the slow way took over after a stop). */
  private readonly inFlight: Pending[][] = [];
  private flushScheduled = false;
  private lastSentAt = -Infinity;
  /** Batches handed to the helper so far (for tests and curiosity). */
  batchesSent = 0;

  constructor(mode: number) {
    this.mode = mode;
  }

  /** Makes the directory with exactly `mode`; resolves once it exists. */
  make(path: string): Promise<void> {
    // NUL separates a batch's paths; no real path holds one, and the slow way says why.
    if (this.broken || this.stopped || path.includes('\0')) return makeDirectory(path, this.mode);
    return new Promise<void>((resolve, reject) => {
      this.gathering.push({ path, resolve, reject });
      // With a batch at the helper, its answer sends this one; else the next turn does (or the
      // end of the gathering time), so that the requests meanwhile share it.
      if (this.inFlight.length === 0) this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = () => {
      this.flushScheduled = false;
      this.flush();
    };
    const wait = this.lastSentAt + GATHER_MS - performance.now();
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  stop(): void {
    this.stopped = true;
    void this.worker?.terminate();
    this.worker = undefined;
    // Nothing is left waiting: what the helper may not have done yet is done (again) the slow way,
    // and so is what waited for its answer.
    for (const batch of this.inFlight.splice(0)) for (const p of batch) makeDirectory(p.path, this.mode).then(p.resolve, p.reject);
    this.flush();
  }

  private flush(): void {
    if (this.inFlight.length > 0) return;
    const batch = this.gathering;
    this.gathering = [];
    if (batch.length === 0) return;
    const worker = this.helper();
    if (!worker) {
      for (const p of batch) makeDirectory(p.path, this.mode).then(p.resolve, p.reject);
      return;
    }
    this.inFlight.push(batch);
    this.batchesSent++;
    this.lastSentAt = performance.now();
    // Keeps the process alive only while there is work in flight, as a pending fs call would.
    worker.ref();
    let paths = batch[0]!.path;
    for (let i = 1; i < batch.length; i++) paths += `\0${batch[i]!.path}`;
    worker.postMessage({ paths, mode: this.mode });
  }

  private helper(): Worker | undefined {
    if (this.worker || this.broken || this.stopped) return this.worker;
    try {
      const worker = new Worker(HELPER, { eval: true });
      worker.on('message', (results: ({ code?: string; message: string } | null)[] | null) => {
        const batch = this.inFlight.shift() ?? [];
        for (let i = 0; i < batch.length; i++) {
          const p = batch[i]!;
          const r = results?.[i];
          if (!r) p.resolve();
          else p.reject(Object.assign(new Error(r.message), { code: r.code }));
        }
        if (this.inFlight.length === 0) worker.unref();
        if (this.gathering.length > 0) this.scheduleFlush();
      });
      const fail = () => {
        // Whatever the helper had not answered is done the slow way; so is everything after.
        if (this.worker === worker) this.worker = undefined;
        this.broken = true;
        for (const batch of this.inFlight.splice(0)) for (const p of batch) makeDirectory(p.path, this.mode).then(p.resolve, p.reject);
        this.flush();
      };
      worker.on('error', fail);
      worker.on('exit', () => {
        if (!this.stopped) fail();
      });
      worker.unref();
      this.worker = worker;
      return worker;
    } catch {
      this.broken = true;
      return undefined;
    }
  }
}
