// The node's end of an exec or attach session on the kubelet wire (src/streaming/kubelet-wire.ts):
// the runtime's StreamSession on one side, the API server's WebSocket on the other. Output is
// sent as it comes, each output stream is closed with a close frame once drained, and only then
// does the final Status follow: the API server relies on that order to deliver all output first.
import type { Readable } from 'node:stream';
import { WebSocket } from 'ws';
import { errorStatus, exitCodeStatus, SUCCESS } from '../../apiserver/streaming/status.ts';
import type { StreamSession } from '../../streaming/types.ts';
import { CH_CLOSE, CH_RESIZE, CH_STATUS, CH_STDERR, CH_STDIN, CH_STDOUT, frame } from '../../streaming/kubelet-wire.ts';
import { ResizeDecoder } from '../../apiserver/streaming/websocket.ts';

/** Buffered bytes above which the session's output waits for the socket (a slow client slows the process). */
const HIGH_WATER = 1024 * 1024;

export function serveSession(ws: WebSocket, session: StreamSession, command: string[]): void {
  let finished = false;
  ws.on('error', () => {});
  ws.on('close', () => {
    if (!finished) {
      finished = true;
      session.abort();
    }
  });

  // API server -> process: stdin bytes, its half-close, terminal sizes.
  const stdin = session.stdin;
  stdin?.on('error', () => {}); // the process may exit while bytes are still coming
  stdin?.on('drain', () => ws.resume());
  const resizes = new ResizeDecoder();
  ws.on('message', (data: Buffer) => {
    if (data.length === 0) return;
    const channel = data[0];
    const payload = data.subarray(1);
    if (channel === CH_STDIN) {
      if (stdin && !stdin.writableEnded && payload.length && !stdin.write(payload)) ws.pause();
    } else if (channel === CH_CLOSE) {
      if (payload[0] === CH_STDIN && stdin && !stdin.writableEnded) stdin.end();
    } else if (channel === CH_RESIZE) {
      for (const size of resizes.push(payload.toString('utf8'))) session.resize?.(size);
    }
  });

  // Process -> API server.
  const outputs = [forward(ws, session.stdout, CH_STDOUT), forward(ws, session.stderr, CH_STDERR)];
  void (async () => {
    let status: Record<string, unknown>;
    try {
      const code = await session.exit;
      await Promise.all(outputs);
      status = code === 0 ? SUCCESS : exitCodeStatus(command, code);
    } catch (err) {
      await Promise.all(outputs);
      status = errorStatus(err);
    }
    if (finished || ws.readyState !== WebSocket.OPEN) return;
    finished = true;
    ws.send(frame(CH_STATUS, JSON.stringify(status)), () => {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    });
  })();
}

/** Sends one output stream on its channel, then its close frame; settles when it is all handed to the socket. */
function forward(ws: WebSocket, from: Readable | undefined, channel: number): Promise<void> {
  const close = () => new Promise<void>((resolve) => (ws.readyState === WebSocket.OPEN ? ws.send(frame(CH_CLOSE, Buffer.of(channel)), () => resolve()) : resolve()));
  if (!from) return close();
  return new Promise<void>((resolve) => {
    let paused = false;
    const sent = () => {
      if (paused && (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount <= HIGH_WATER / 2)) {
        paused = false;
        from.resume();
      }
    };
    from.on('data', (chunk: Buffer) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(frame(channel, chunk), sent);
      if (!paused && ws.bufferedAmount > HIGH_WATER) {
        paused = true;
        from.pause();
      }
    });
    from.once('end', () => void close().then(resolve));
    from.once('error', () => void close().then(resolve));
    ws.once('close', () => resolve());
  });
}
