// Writes a JSON body made of pieces to a response: gathered into chunks (one socket write and a
// few TLS records each, rather than one per item), and waiting for the client to take each chunk
// when the socket's buffer is full, so a large LIST holds at most a chunk or two beyond the
// encodings it is made of. A body that fits in one chunk goes out whole, with a Content-Length.
import type { ServerResponse } from 'node:http';

const CHUNK_BYTES = 256 * 1024;

const HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };

export async function sendJsonPieces(res: ServerResponse, code: number, pieces: Iterable<Buffer>): Promise<void> {
  let batch: Buffer[] = [];
  let size = 0;
  let streaming = false;
  try {
    for (const piece of pieces) {
      batch.push(piece);
      size += piece.length;
      if (size < CHUNK_BYTES) continue;
      if (!streaming) {
        streaming = true;
        res.writeHead(code, HEADERS);
      }
      const more = res.write(Buffer.concat(batch, size));
      batch = [];
      size = 0;
      if (!more && !(await drained(res))) return;
    }
  } catch (err) {
    // Too late for an error status: the client sees the body cut short instead.
    if (streaming) res.destroy(err as Error);
    throw err;
  }
  const last = Buffer.concat(batch, size);
  if (!streaming) res.writeHead(code, { ...HEADERS, 'Content-Length': String(last.length) });
  res.end(last);
}

/** Resolves true once the response may take more, false when its connection is gone. */
function drained(res: ServerResponse): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (more: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(more);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
