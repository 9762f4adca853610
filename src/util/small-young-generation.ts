// Worker threads with a young generation of their own size.
//
// `ordinal` runs with --max-semi-space-size=16 (src/cli/node-flags.ts): the main thread allocates
// hundreds of MiB per scale-up and a larger young generation saves it scavenges. V8 flags are
// process-wide, though, and a worker thread's isolate takes the flag too (it wins over the
// Worker's resourceLimits.maxYoungGenerationSizeMb). The SQLite writer receives every stored value
// once and drops it, and with 16 MiB semi-spaces its heap kept 32 MiB of young generation
// committed after a scale-up for at most a few MiB live.
//
// An isolate reads the flag once, when it is created: the flag is set to the worker's size while
// its isolate is created (until the thread is online) and then put back. The main isolate, created
// long before, keeps its own size (Heap::ConfigureHeap reads the flag only at creation).
import { setFlagsFromString } from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const FLAG = /^--max[-_]semi[-_]space[-_]size(?:=(\d+))?$/;

/**
 * The semi-space size this process was started with (MiB; 0 = V8's own choice): the last
 * --max-semi-space-size in NODE_OPTIONS or on the command line, which come in that order.
 */
export function startSemiSpaceMb(execArgv: readonly string[], nodeOptions = ''): number {
  let mb = 0;
  const args = [...nodeOptions.split(/\s+/).filter(Boolean), ...execArgv];
  for (let i = 0; i < args.length; i++) {
    const m = FLAG.exec(args[i]!);
    if (!m) continue;
    const value = m[1] ?? args[++i];
    if (value !== undefined && /^\d+$/.test(value)) mb = Number(value);
  }
  return mb;
}

/** Workers whose isolates are being created with a different semi-space size; the flag is put back when none is left. */
let starting = 0;

/** A Worker whose isolate gets semi-spaces of at most `semiSpaceMb` MiB. */
export function workerWithSemiSpace(url: URL | string, options: WorkerOptions, semiSpaceMb: number): Worker {
  setFlagsFromString(`--max-semi-space-size=${semiSpaceMb}`);
  starting++;
  let w: Worker;
  try {
    w = new Worker(url, options);
  } catch (err) {
    started();
    throw err;
  }
  // 'online' comes once the thread runs JavaScript, so its isolate exists; a thread that fails
  // to start exits instead. (No 'error' listener: one would change what an unhandled error does.)
  // Whichever comes first removes both, so the count drops once.
  const once = () => {
    w.off('online', once);
    w.off('exit', once);
    started();
  };
  w.on('online', once);
  w.on('exit', once);
  return w;
}

function started(): void {
  if (--starting === 0) setFlagsFromString(`--max-semi-space-size=${startSemiSpaceMb(process.execArgv, process.env.NODE_OPTIONS)}`);
}
