// Exec and attach over SPDY/3.1 (kubectl's fallback when the WebSocket upgrade is refused, and what
// older clients speak). After the upgrade the client opens one stream per standard stream, named
// by the streamType header (error, stdin, stdout, stderr, resize); the session starts once all the
// streams the request asked for exist, as the kubelet waits for them.
import type { SpdyConnection, SpdyStream } from '../../streaming/spdy/index.ts';
import { headerValue } from '../../streaming/spdy/index.ts';
import type { StreamOptions, TerminalSize } from '../../streaming/types.ts';
import type { ClientStreams } from './remotecommand.ts';
import { legacyStatusText, type Status } from './status.ts';
import { ResizeDecoder } from './websocket.ts';

/** Remote command sub-protocols over SPDY, newest first; v5 behaves as v4 here (SPDY has its own half-close). */
export const SPDY_EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

/** The kubelet's default wait for the client's streams. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

/** After the status, how long the client gets to close the connection before it is cut. */
const CLOSE_GRACE_MS = 60_000;

function protocolVersion(protocol: string): number {
  const m = /^v(\d+)\./.exec(protocol);
  return m ? Number(m[1]) : 1;
}

/**
 * Collects the client's streams; resolves with them once all expected ones are open, rejects on
 * timeout or when the connection closes first.
 */
export function awaitExecStreams(conn: SpdyConnection, protocol: string, opts: StreamOptions, timeoutMs = STREAM_CREATION_TIMEOUT_MS): Promise<Map<string, SpdyStream>> {
  const version = protocolVersion(protocol);
  const expected = 1 + Number(opts.stdin) + Number(opts.stdout) + Number(opts.stderr) + Number(opts.tty && version >= 3);
  const streams = new Map<string, SpdyStream>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error('timed out waiting for client to create streams')), timeoutMs);
    const onStream = (stream: SpdyStream) => {
      const type = headerValue(stream.headers, 'streamtype') ?? '';
      if (!['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type) || streams.has(type)) {
        stream.reset();
        return;
      }
      stream.reply();
      streams.set(type, stream);
      if (streams.size >= expected) done();
    };
    const onClose = () => done(new Error('connection closed before the streams were created'));
    const done = (err?: Error) => {
      clearTimeout(timer);
      conn.off('stream', onStream);
      conn.off('close', onClose);
      if (err) reject(err);
      else resolve(streams);
    };
    conn.on('stream', onStream);
    conn.on('close', onClose);
  });
}

/** The client side of a session from its SPDY streams. */
export function spdyClientStreams(conn: SpdyConnection, protocol: string, streams: Map<string, SpdyStream>): ClientStreams {
  const version = protocolVersion(protocol);
  const errorStream = streams.get('error');
  const stdin = streams.get('stdin');
  let resizeHandler: ((s: TerminalSize) => void) | undefined;
  let goneHandler: (() => void) | undefined;
  let finished = false;
  const resize = streams.get('resize');
  if (resize) {
    const dec = new ResizeDecoder();
    resize.on('data', (d: Buffer) => {
      for (const size of dec.push(d.toString('utf8'))) resizeHandler?.(size);
    });
  }
  // Nothing is read from the error stream; draining it lets the client's half-close arrive.
  errorStream?.resume();
  for (const s of streams.values()) s.on('error', () => {});
  conn.on('close', () => {
    if (finished) return;
    finished = true;
    goneHandler?.();
  });

  return {
    stdin,
    stdout: streams.get('stdout'),
    stderr: streams.get('stderr'),
    onResize(h) {
      resizeHandler = h;
    },
    onGone(h) {
      goneHandler = h;
    },
    writeStatus(status: Status) {
      const body = version >= 4 ? JSON.stringify(status) : legacyStatusText(status);
      if (!errorStream || body === undefined) return Promise.resolve();
      return new Promise<void>((resolve) => errorStream.write(body, () => resolve()));
    },
    finish() {
      if (finished) return;
      finished = true;
      // Our halves of every stream end (the client reads to EOF), then the connection goes away
      // as the kubelet's does; the client closes it once it has read everything.
      for (const s of streams.values()) if (!s.writableEnded) s.end();
      conn.close();
      const cut = setTimeout(() => conn.destroy(), CLOSE_GRACE_MS);
      cut.unref();
      void conn.closed.then(() => clearTimeout(cut));
    },
  };
}
