// Exec and attach over WebSocket: the "channel.k8s.io" family of sub-protocols. Every message
// starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize); in the base64 variants
// the channel is an ASCII digit and the payload base64 text. v5 (what kubectl 1.30+ asks for)
// adds channel 255, on which the client half-closes a channel ([255, 0] closes stdin); v4 puts a
// Status document on the error channel, older versions only a failure's message.
import { PassThrough, Writable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import type { TerminalSize } from '../../streaming/types.ts';
import type { ClientStreams } from './remotecommand.ts';
import { legacyStatusText, type Status } from './status.ts';

export interface ChannelProtocol {
  version: 1 | 4 | 5;
  base64: boolean;
}

/** The sub-protocols served, upstream's set: v5 as the API server translates it, the rest as kubelets serve them. */
export const CHANNEL_PROTOCOLS: Record<string, ChannelProtocol> = {
  'v5.channel.k8s.io': { version: 5, base64: false },
  'v4.channel.k8s.io': { version: 4, base64: false },
  'v4.base64.channel.k8s.io': { version: 4, base64: true },
  'channel.k8s.io': { version: 1, base64: false },
  'base64.channel.k8s.io': { version: 1, base64: true },
};

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
export const CLOSE = 255;

/** The sub-protocols a WebSocket client offered, in its order. */
export function offeredWebSocketProtocols(req: IncomingMessage): string[] {
  const raw = req.headers['sec-websocket-protocol'];
  return (raw ?? '').split(',').map((p) => p.trim()).filter(Boolean);
}

/** Writes above this many buffered bytes wait for the socket, so a slow client slows the process. */
const HIGH_WATER = 1024 * 1024;

/** Sends bytes on one channel; the returned Writable's callbacks give back-pressure. */
function channelWriter(ws: WebSocket, proto: ChannelProtocol, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== WebSocket.OPEN) return cb(new Error('websocket closed'));
      let called = false;
      const done = (err?: Error | null) => {
        if (called) return;
        called = true;
        cb(err);
      };
      ws.send(encodeFrame(proto, channel, chunk), (err) => done(err ?? null));
      if (ws.bufferedAmount < HIGH_WATER) done();
    },
  });
}

export function encodeFrame(proto: ChannelProtocol, channel: number, payload: Buffer): Buffer | string {
  if (proto.base64) return String.fromCharCode(48 + channel) + payload.toString('base64');
  const frame = Buffer.allocUnsafe(payload.length + 1);
  frame[0] = channel;
  payload.copy(frame, 1);
  return frame;
}

export function decodeFrame(proto: ChannelProtocol, data: Buffer, isBinary: boolean): { channel: number; payload: Buffer } | undefined {
  if (data.length === 0) return undefined;
  if (proto.base64 && !isBinary) return { channel: data[0] - 48, payload: Buffer.from(data.subarray(1).toString('latin1'), 'base64') };
  return { channel: data[0], payload: data.subarray(1) };
}

/**
 * Terminal sizes arrive as JSON objects ({"Width":80,"Height":24}), one per write but not
 * necessarily one per message: split on object boundaries.
 */
export class ResizeDecoder {
  private buf = '';
  push(text: string): TerminalSize[] {
    this.buf += text;
    const out: TerminalSize[] = [];
    let depth = 0;
    let start = -1;
    let consumed = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (c === '{') {
        if (depth === 0) start = i;
        depth++;
      } else if (c === '}' && depth > 0) {
        depth--;
        if (depth === 0) {
          consumed = i + 1;
          try {
            const v = JSON.parse(this.buf.slice(start, i + 1));
            const width = Number(v.Width ?? v.width);
            const height = Number(v.Height ?? v.height);
            if (width >= 0 && height >= 0) out.push({ width, height });
          } catch {}
        }
      }
    }
    this.buf = depth === 0 ? '' : this.buf.slice(consumed);
    if (this.buf.length > 64 * 1024) this.buf = '';
    return out;
  }
}

/** The client side of an exec/attach session over an accepted WebSocket. */
export function webSocketClientStreams(ws: WebSocket, proto: ChannelProtocol, opts: { stdin: boolean; stdout: boolean; stderr: boolean }): ClientStreams {
  const stdin = opts.stdin ? new PassThrough() : undefined;
  const resizeDecoder = new ResizeDecoder();
  let resizeHandler: ((s: TerminalSize) => void) | undefined;
  let goneHandler: (() => void) | undefined;
  let finished = false;

  const closeStdin = () => {
    if (stdin && !stdin.writableEnded) stdin.end();
  };
  stdin?.on('drain', () => ws.resume());
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = decodeFrame(proto, data, isBinary);
    if (!frame) return;
    const { channel, payload } = frame;
    if (channel === STDIN) {
      if (stdin && !stdin.writableEnded && payload.length && !stdin.write(payload)) ws.pause();
    } else if (channel === RESIZE) {
      for (const size of resizeDecoder.push(payload.toString('utf8'))) resizeHandler?.(size);
    } else if (channel === CLOSE && proto.version >= 5) {
      if (payload[0] === STDIN) closeStdin();
    }
  });
  ws.on('close', () => {
    closeStdin();
    if (!finished) {
      finished = true;
      goneHandler?.();
    }
  });
  ws.on('error', () => {});

  // As upstream: an empty message on the lowest writable channel tells the client the session is up.
  const first = opts.stdout ? STDOUT : opts.stderr ? STDERR : ERROR;
  ws.send(encodeFrame(proto, first, Buffer.alloc(0)));

  return {
    stdin,
    stdout: opts.stdout ? channelWriter(ws, proto, STDOUT) : undefined,
    stderr: opts.stderr ? channelWriter(ws, proto, STDERR) : undefined,
    onResize(h) {
      resizeHandler = h;
    },
    onGone(h) {
      goneHandler = h;
    },
    writeStatus(status: Status) {
      const body = proto.version >= 4 ? JSON.stringify(status) : legacyStatusText(status);
      if (body === undefined || ws.readyState !== WebSocket.OPEN) return Promise.resolve();
      return new Promise<void>((resolve, reject) => ws.send(encodeFrame(proto, ERROR, Buffer.from(body)), (err) => (err ? reject(err) : resolve())));
    },
    finish() {
      finished = true;
      closeStdin();
      // A normal close: the client reads everything sent before it, then answers; ws ends the
      // socket when the answer comes (or after its own timeout).
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    },
  };
}
