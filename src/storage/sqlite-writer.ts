// The SQLite store's writer thread: applies changes and answers once their commit is on disk, so
// the fsync never blocks the API server's event loop.
//
// Group commit happens here, not on the main thread: the main thread sends each turn's changes as
// they come, and everything that arrived while the previous commit ran goes into the next
// transaction, with one fsync. The writer so starts its next commit as soon as one ends, whether or
// not the main thread (busy with a burst) has read the answer to the last one yet.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { openDatabase, writeBatch, type Row } from './sqlite-schema.ts';

export interface WriterRequest {
  id: number;
  rows?: Row[];
  compactTo?: number;
}

/** The answer to the requests with these ids, in the order they were sent; an error fails them all. */
export interface WriterReply {
  ids: number[];
  error?: string;
}

const port = workerData.port as MessagePort;
const db = openDatabase(workerData.path as string);
const write = writeBatch(db);

/** Answers `requests` once `work` has run: with the error it threw, if any, for all of them. */
function answer(requests: WriterRequest[], work: () => void): void {
  if (!requests.length) return;
  const ids = requests.map((r) => r.id);
  try {
    work();
    port.postMessage({ ids } satisfies WriterReply);
  } catch (err) {
    port.postMessage({ ids, error: String((err as Error)?.stack ?? err) } satisfies WriterReply);
  }
}

function commit(requests: WriterRequest[]): void {
  const writes = requests.filter((r) => r.rows);
  // All rows in one transaction, in the order sent (revision order).
  answer(writes, () => write(writes.flatMap((r) => r.rows!)));
  // Compaction after them: it only drops log entries older than the rows just written.
  const compactions = requests.filter((r) => r.compactTo !== undefined);
  answer(compactions, () => {
    const to = Math.max(...compactions.map((r) => r.compactTo!));
    db.prepare('DELETE FROM log WHERE rev <= ?').run(to);
    db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)').run('compacted', to);
  });
}

port.on('message', (first: WriterRequest) => {
  const requests = [first];
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) requests.push(m.message as WriterRequest);
  commit(requests);
});
