// The SQLite store's writer thread: applies batches of changes in one transaction each and
// answers once the commit is on disk, so the fsync never blocks the API server's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { LogWriter, openDatabase } from './sqlite-schema.ts';
import { unpackRows, type PackedRows } from './sqlite-batch.ts';

// Started with the database's path, or early (sqlite-writer-start.ts) and told it by a first message.
let writer: LogWriter | undefined = typeof workerData?.path === 'string' ? new LogWriter(openDatabase(workerData.path)) : undefined;

parentPort!.on('message', (msg: { id: number; open?: string; rows?: PackedRows; compact?: { from: number; to: number } }) => {
  if (msg.open !== undefined) {
    // A failure to open ends the thread with an error, which the store reports to the writes waiting (as at a start with workerData).
    writer = new LogWriter(openDatabase(msg.open));
    return;
  }
  try {
    if (!writer) throw new Error('the SQLite writer has no database open');
    if (msg.rows) writer.write(unpackRows(msg.rows));
    if (msg.compact) writer.compact(msg.compact.from, msg.compact.to);
    parentPort!.postMessage({ id: msg.id });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: String((err as Error)?.stack ?? err) });
  }
});
