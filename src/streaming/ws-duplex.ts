// A byte stream over a WebSocket that keeps TCP's half-close: a forwarded connection whose client
// has finished sending (an HTTP client that shuts down its write side) must still get its answer.
// Binary messages carry bytes; an empty binary message says "no more bytes from me". The socket
// closes once both directions have ended. Both ends of a port-forward use it (API server and node).
import { Duplex } from 'node:stream';
import { WebSocket } from 'ws';

/** Buffered bytes above which writes wait for the socket. */
const HIGH_WATER = 1024 * 1024;

export function webSocketDuplex(ws: WebSocket): Duplex {
  let readEnded = false;
  let writeEnded = false;
  const maybeClose = () => {
    if (readEnded && writeEnded && ws.readyState === WebSocket.OPEN) ws.close(1000);
  };
  const duplex = new Duplex({
    allowHalfOpen: true,
    read() {
      ws.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== WebSocket.OPEN) return cb(new Error('the connection to the other end is closed'));
      if (chunk.length === 0) return cb();
      let called = false;
      const done = (err?: Error | null) => {
        if (called) return;
        called = true;
        cb(err ?? null);
      };
      ws.send(chunk, { binary: true }, done);
      if (ws.bufferedAmount < HIGH_WATER) done();
    },
    final(cb) {
      writeEnded = true;
      if (ws.readyState !== WebSocket.OPEN) return cb();
      ws.send(Buffer.alloc(0), { binary: true }, () => {
        cb();
        maybeClose();
      });
    },
    destroy(err, cb) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
        if (err) ws.terminate();
        else ws.close(1000);
      }
      cb(err);
    },
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || readEnded) return;
    if (data.length === 0) {
      readEnded = true;
      duplex.push(null);
      maybeClose();
      return;
    }
    if (!duplex.push(data)) ws.pause();
  });
  ws.on('close', (code) => {
    if (!readEnded) {
      readEnded = true;
      // An abnormal close cuts the stream; a normal one only ends what was left open.
      if (code !== 1000 && code !== 1005) return void duplex.destroy(new Error(`the connection to the other end was lost (close code ${code})`));
      duplex.push(null);
    }
    if (!duplex.writableFinished && !duplex.destroyed) duplex.destroy();
  });
  ws.on('error', (err) => duplex.destroy(err));
  return duplex;
}
