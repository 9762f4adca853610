// Writes a JSON body made of pieces to a response: copied into chunks (one socket write and a
// few TLS records each, rather than one per item), and waiting for the client to take each chunk
// when the socket's buffer is full, so a large LIST holds at most a chunk or two beyond the
// encodings it is made of. A body that fits in one chunk goes out whole, with a Content-Length.
//
// Chunks are reused once their write has completed: a fresh 256 KiB buffer per chunk is memory
// outside V8's heap, and 20 MiB of it per LIST of 10,000 pods made V8 run a full collection every
// few LISTs (profiled: allocating and collecting them cost more than copying into them).
import type { ServerResponse } from 'node:http';

const CHUNK_BYTES = 256 * 1024;
/** Chunks kept for reuse between responses: 1 MiB. */
const POOL_MAX = 4;
const pool: Buffer[] = [];

const HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };

/** Bytes, or text written into the chunk as UTF-8 without a buffer of its own. */
export type Piece = Buffer | string;

export async function sendJsonPieces(res: ServerResponse, code: number, pieces: Iterable<Piece>): Promise<void> {
  // A wrapper of write (the audit log's) may keep the chunks it is handed: those are not reused.
  const reuse = !Object.hasOwn(res, 'write');
  let chunk: Buffer | undefined;
  let size = 0;
  let streaming = false;
  /** Sends what the chunk holds; false once the connection is gone. */
  const flush = async (): Promise<boolean> => {
    if (!streaming) {
      streaming = true;
      res.writeHead(code, HEADERS);
    }
    const full = chunk!;
    chunk = undefined;
    const more = reuse ? res.write(full.subarray(0, size), () => release(full)) : res.write(full.subarray(0, size));
    size = 0;
    return more || (await drained(res));
  };
  try {
    for (const piece of pieces) {
      const text = typeof piece === 'string';
      // Text takes at most 3 bytes per UTF-16 unit: counting them exactly would read it twice.
      const length = text ? piece.length * 3 : piece.length;
      chunk ??= take();
      if (size + length > CHUNK_BYTES) {
        if (size > 0 && !(await flush())) return;
        chunk ??= take();
        // A piece larger than a chunk goes out as it is.
        if (length > CHUNK_BYTES) {
          if (!streaming) {
            streaming = true;
            res.writeHead(code, HEADERS);
          }
          if (!res.write(piece) && !(await drained(res))) return;
          continue;
        }
      }
      if (text) size += chunk.write(piece, size, 'utf8');
      else {
        chunk.set(piece, size);
        size += length;
      }
      if (size === CHUNK_BYTES && !(await flush())) return;
    }
  } catch (err) {
    // Too late for an error status: the client sees the body cut short instead.
    if (streaming) res.destroy(err as Error);
    throw err;
  }
  if (!streaming) {
    // The whole body in one chunk: a copy of its own, as the response may hold it after end().
    const body = Buffer.from((chunk ?? Buffer.alloc(0)).subarray(0, size));
    // That chunk never left: it goes back to the pool even when a wrapper watches the writes.
    if (chunk) release(chunk);
    res.writeHead(code, { ...HEADERS, 'Content-Length': String(body.length) });
    res.end(body);
    return;
  }
  if (chunk && size > 0) {
    const last = chunk;
    res.end(last.subarray(0, size), reuse ? () => release(last) : undefined);
  } else {
    if (chunk) release(chunk);
    res.end();
  }
}

function take(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
}

/** Called when a chunk's write has completed (or failed): nothing reads it any more. */
function release(chunk: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(chunk);
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
