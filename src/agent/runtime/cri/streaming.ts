// A client for the CRI streaming server (k8s.io/kubelet/pkg/cri/streaming, which containerd
// embeds): the URL a CRI Exec, Attach or PortForward call answers with is upgraded to SPDY/3.1 and
// spoken to as the kubelet (or kubectl) would.
//
// exec/attach use the remotecommand protocol: the client opens one SPDY stream per channel, named
// by a `streamType` header (error, stdin, stdout, stderr, resize). The process's stdin ends when
// the stdin stream is half-closed; when the command is over the server writes its outcome on the
// error stream (v4: a JSON metav1.Status carrying the exit code; v1-v3: an error text) and resets
// every stream. port-forward (portforward.k8s.io) opens an error and a data stream per connection,
// paired by `port` and `requestID` headers; the data stream carries the TCP bytes both ways.
import { Duplex } from 'node:stream';
import type { Readable } from 'node:stream';
import { SpdyConnection, spdyUpgrade, UpgradeError } from '../../../streaming/spdy/index.ts';
import type { SpdyStream } from '../../../streaming/spdy/index.ts';
import type { StreamOptions, StreamSession, TerminalSize } from '../../../streaming/types.ts';

/** The remotecommand sub-protocols, best first (v5 is WebSocket-only). */
export const REMOTECOMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

/** Upstream waits this long for the other side to create or answer streams. */
const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** After the session is over, how long the connection may take to close by itself. */
const CLOSE_GRACE_MS = 5_000;
/** A forwarded connection's data has ended: how long its error stream may take to follow. */
const ERROR_STREAM_GRACE_MS = 2_000;

const delay = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms).unref());

/**
 * The session failed for a reason other than the command's exit code. `status` is the Status
 * object the runtime sent (v4), so the API server can hand it to kubectl unchanged.
 */
export class StreamStatusError extends Error {
  readonly status?: Record<string, unknown>;
  constructor(message: string, status?: Record<string, unknown>) {
    super(message);
    this.name = 'StreamStatusError';
    this.status = status;
  }
}

/**
 * The command's exit code from what the server wrote on the error stream. Nothing, or a v4
 * Success, is 0; a v4 NonZeroExitCode Failure carries the code in its ExitCode cause. Anything
 * else throws StreamStatusError with the server's message.
 */
export function exitCodeFromErrorStream(protocol: string, message: string): number {
  const text = message.trim();
  if (!text) return 0;
  if (protocol !== 'v4.channel.k8s.io') {
    // v1-v3 send only the error's text; a non-zero exit is recognisable by its wording.
    const m = /^command terminated with non-zero exit code:.*?(\d+)\D*$/s.exec(text);
    if (m) return Number(m[1]);
    throw new StreamStatusError(text);
  }
  let status: Record<string, unknown>;
  try {
    status = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new StreamStatusError(`error stream protocol error: ${text}`);
  }
  if (status.status === 'Success') return 0;
  const details = status.details as { causes?: Array<{ reason?: string; message?: string }> } | undefined;
  if (status.status === 'Failure' && status.reason === 'NonZeroExitCode') {
    const cause = details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (cause && Number.isInteger(code) && code >= 0) return code;
    throw new StreamStatusError(`error stream protocol error: no valid ExitCode cause in ${text}`, status);
  }
  throw new StreamStatusError(typeof status.message === 'string' && status.message ? status.message : text, status);
}

function collectText(r: Readable): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * Resolves once a stream has handed its reader everything: ended, torn down, or finished by the
 * peer with nothing left unread (a reader that never looks at an empty stderr must not hold up
 * the exit).
 */
function drained(r: SpdyStream): Promise<void> {
  return new Promise((resolve) => {
    if (r.readableEnded || r.destroyed || (r.remoteEnded && r.readableLength === 0)) return resolve();
    r.once('end', () => resolve());
    r.once('close', () => resolve());
  });
}

async function awaitReplies(conn: SpdyConnection, streams: SpdyStream[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out waiting for the container runtime to accept the streams')), STREAM_CREATION_TIMEOUT_MS);
  });
  try {
    await Promise.race([Promise.all(streams.map((s) => s.replied)), timeout]);
  } catch (err) {
    conn.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function closeSoon(conn: SpdyConnection): void {
  conn.close();
  setTimeout(() => conn.destroy(), CLOSE_GRACE_MS).unref();
}

async function upgrade(url: string, protocols: string[]): Promise<{ conn: SpdyConnection; protocol: string }> {
  try {
    const { socket, protocol } = await spdyUpgrade(url, { protocols });
    return { conn: new SpdyConnection(socket, { server: false }), protocol };
  } catch (err) {
    if (err instanceof UpgradeError) throw new Error(`the container runtime's streaming server refused the connection: ${err.body.trim() || `HTTP ${err.status}`}`);
    throw err;
  }
}

/**
 * Opens an exec or attach session on a streaming-server URL (from CRI Exec/Attach). `opts` must
 * match what the CRI request asked for: the server waits for exactly those streams.
 */
export async function openRemoteCommand(url: string, opts: StreamOptions): Promise<StreamSession> {
  const { conn, protocol } = await upgrade(url, REMOTECOMMAND_PROTOCOLS);
  const open = (type: string) => conn.openStream({ streamtype: type });
  // The order kubectl uses; the server accepts any.
  const error = open('error');
  const stdin = opts.stdin ? open('stdin') : undefined;
  const stdout = opts.stdout ? open('stdout') : undefined;
  const stderr = opts.stderr && !opts.tty ? open('stderr') : undefined;
  const resizable = opts.tty && protocol !== 'v2.channel.k8s.io' && protocol !== 'channel.k8s.io' && protocol !== '';
  const resize = resizable ? open('resize') : undefined;
  const streams = [error, stdin, stdout, stderr, resize].filter((s): s is SpdyStream => !!s);
  await awaitReplies(conn, streams);

  const errorText = collectText(error);
  const exit = (async () => {
    try {
      const text = await errorText;
      if (!text && error.resetStatus === 0) throw new Error("lost the connection to the container runtime's streaming server");
      const code = exitCodeFromErrorStream(protocol, text);
      // The outcome arrives after the output, but the output may still be on its way to the reader.
      await Promise.all([stdout, stderr].filter((s): s is SpdyStream => !!s).map(drained));
      return code;
    } finally {
      closeSoon(conn);
    }
  })();
  exit.catch(() => {});

  const session: StreamSession = {
    stdin,
    stdout,
    stderr,
    exit,
    abort: () => conn.destroy(),
  };
  if (resize) {
    session.resize = (size: TerminalSize) => {
      // The server decodes a stream of JSON objects with Go's field names.
      resize.write(JSON.stringify({ Width: size.width, Height: size.height }) + '\n');
    };
  }
  return session;
}

/**
 * One forwarded TCP connection: writes go to the port, reads come from it, end() half-closes it.
 * An error the server reports on the error stream destroys this stream with that message.
 */
class ForwardedConnection extends Duplex {
  private readonly conn: SpdyConnection;
  private readonly data: SpdyStream;

  constructor(conn: SpdyConnection, data: SpdyStream, error: SpdyStream) {
    super({ allowHalfOpen: true });
    this.conn = conn;
    this.data = data;
    data.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) data.pause();
    });
    // The server reports a failure on the error stream and then closes both streams, so the
    // outcome is known only once both have ended: end cleanly, or fail with the server's message.
    const dataEnded = new Promise<void>((resolve) => data.once('end', () => resolve()));
    const errorText = collectText(error);
    dataEnded.then(() => Promise.race([errorText, delay(ERROR_STREAM_GRACE_MS, '')])).then((text) => {
      if (text.trim()) this.destroy(new Error(text.trim()));
      else this.push(null);
    });
    this.once('close', () => closeSoon(conn));
  }

  override _read(): void {
    this.data.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.data.write(chunk, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.data.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.data.destroyed) this.data.destroy();
    if (err) this.conn.destroy();
    cb(err);
  }
}

/** Opens one connection to `port` through a streaming-server URL from CRI PortForward. */
export async function openPortForward(url: string, port: number): Promise<Duplex> {
  const { conn, protocol } = await upgrade(url, [PORT_FORWARD_PROTOCOL]);
  if (protocol !== PORT_FORWARD_PROTOCOL) {
    conn.destroy();
    throw new Error(`the container runtime's streaming server answered with protocol "${protocol}", not ${PORT_FORWARD_PROTOCOL}`);
  }
  const pair = { port: String(port), requestid: '0' };
  const error = conn.openStream({ streamtype: 'error', ...pair });
  const data = conn.openStream({ streamtype: 'data', ...pair });
  await awaitReplies(conn, [error, data]);
  // Only the server writes on the error stream.
  error.end();
  return new ForwardedConnection(conn, data, error);
}
