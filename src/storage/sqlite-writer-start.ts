// The SQLite writer thread, started before the store is opened. A worker thread takes 100–150 ms
// to become ready here (a new V8 isolate, Node's own bootstrap in it, node:sqlite and the writer's
// modules), and a start used to spend that on its first write, waiting, with the second core idle.
// `ordinal up` starts it first thing, so that it boots on the other core while the main thread
// loads its modules; the store then only tells it which file to open.
// Imports nothing of the project's but a small module without imports of its own, so that the
// entry point can call it before anything loads.
import type { Worker } from 'node:worker_threads';
import { workerWithSemiSpace } from '../util/small-young-generation.ts';

const WRITER_URL = new URL('./sqlite-writer.ts', import.meta.url);
/**
 * The writer's semi-spaces (MiB): what it allocates (each batch's rows, as it receives them) is
 * dead by the next batch, so a scavenge finds almost nothing alive; the process's 16 MiB ones
 * kept 32 MiB committed on this thread after a scale-up.
 */
const WRITER_SEMI_SPACE_MB = 1;
const startWriter = (options: { workerData?: unknown } = {}) => workerWithSemiSpace(WRITER_URL, options, WRITER_SEMI_SPACE_MB);

let early: Worker | undefined;

/** Starts the writer thread now, for the SqliteStore this process will open. */
export function startSqliteWriterEarly(): void {
  if (early) return;
  const w = startWriter();
  early = w;
  // Not taken yet, it keeps nothing alive (a command that fails its flags still exits).
  w.unref();
  // A thread that failed before a store took it is dropped: the store starts its own.
  const drop = () => {
    if (early === w) early = undefined;
  };
  w.once('error', drop);
  w.once('exit', drop);
}

/** The writer thread for the database at `path`: the one started early if there is one, else a new one. */
export function sqliteWriterFor(path: string): Worker {
  const w = early;
  early = undefined;
  if (!w) return startWriter({ workerData: { path } });
  w.removeAllListeners('error');
  w.removeAllListeners('exit');
  // Messages arrive in order: the writer opens the file before the first batch reaches it.
  w.postMessage({ open: path });
  return w;
}

/**
 * Whether these `ordinal` arguments open the SQLite store (`up` or `server`, with no --store or
 * --store sqlite), so that starting its writer early is worth it. A wrong guess costs only time:
 * an unused early thread is left unreferenced, and without one the store starts its own.
 */
export function opensSqliteStore(args: readonly string[]): boolean {
  if (args[0] !== 'up' && args[0] !== 'server') return false;
  let store = 'sqlite';
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') return false;
    if (a === '--') break;
    if (a === '--store') store = args[++i] ?? '';
    else if (a.startsWith('--store=')) store = a.slice('--store='.length);
  }
  return store === 'sqlite';
}
