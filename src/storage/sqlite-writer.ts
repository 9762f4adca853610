// The SQLite store's writer thread: applies batches of changes in one transaction each and
// answers once the commit is on disk, so the fsync never blocks the API server's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { LogWriter, openDatabase } from './sqlite-schema.ts';
import { unpackRows, type PackedRows } from './sqlite-batch.ts';

const db = openDatabase(workerData.path as string);
const writer = new LogWriter(db);

parentPort!.on('message', (msg: { id: number; rows?: PackedRows; compact?: { from: number; to: number } }) => {
  try {
    if (msg.rows) writer.write(unpackRows(msg.rows));
    if (msg.compact) writer.compact(msg.compact.from, msg.compact.to);
    parentPort!.postMessage({ id: msg.id });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: String((err as Error)?.stack ?? err) });
  }
});
