// Making the directories that back provisioned volumes, in batches on a helper thread.
//
// A provisioning burst makes a directory per claim. Each mkdir is slow-ish kernel work on a busy
// disk (mkdir + chmod cost ~0.2 CPU-ms each here), and handing each one to the thread pool wakes a
// pool thread per call, which on a small machine takes the core from the event loop every time.
// Requests go to the helper in batches instead, as the store's group commit does: one batch at the
// helper at a time, and whatever is asked for meanwhile goes together with the next. Sending a
// batch per event-loop turn instead cost one postMessage (~35 µs of the main thread) per directory
// in a burst, since provisioning syncs rarely share a turn. Without the helper (it failed to
// start, or died), the calls are made on the thread pool one by one.
import { Worker } from 'node:worker_threads';
import { chmod, mkdir } from 'node:fs/promises';

/** What the helper runs: for each path, mkdir (parents too when missing), then chmod to the mode, since umask narrows it. */
const HELPER = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', ({ paths, mode }) => {
  parentPort.postMessage(paths.map((p) => {
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
      return { code: err.code, message: err.message };
    }
  }));
});
`;

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
  /** Batches handed to the helper so far (for tests and curiosity). */
  batchesSent = 0;

  constructor(mode: number) {
    this.mode = mode;
  }

  /** Makes the directory with exactly `mode`; resolves once it exists. */
  make(path: string): Promise<void> {
    if (this.broken || this.stopped) return makeDirectory(path, this.mode);
    return new Promise<void>((resolve, reject) => {
      this.gathering.push({ path, resolve, reject });
      // With a batch at the helper, its answer sends this one; else the next turn does, so that
      // requests of this turn share it.
      if (!this.flushScheduled && this.inFlight.length === 0) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
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
    // Keeps the process alive only while there is work in flight, as a pending fs call would.
    worker.ref();
    worker.postMessage({ paths: batch.map((p) => p.path), mode: this.mode });
  }

  private helper(): Worker | undefined {
    if (this.worker || this.broken || this.stopped) return this.worker;
    try {
      const worker = new Worker(HELPER, { eval: true });
      worker.on('message', (results: ({ code?: string; message: string } | null)[]) => {
        const batch = this.inFlight.shift() ?? [];
        batch.forEach((p, i) => {
          const r = results[i];
          if (!r) p.resolve();
          else p.reject(Object.assign(new Error(r.message), { code: r.code }));
        });
        if (this.inFlight.length === 0) worker.unref();
        this.flush();
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
