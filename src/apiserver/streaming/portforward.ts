// Port-forward over SPDY ("portforward.k8s.io"), either on the upgraded HTTP connection or tunnelled
// inside WebSocket binary messages (kubectl 1.32's first choice, "SPDY/3.1+portforward.k8s.io").
// The client opens two streams per forwarded connection, an error stream and a data stream, both
// carrying the headers streamType, port and requestID; once both exist the data stream is joined
// to a TCP connection to that port in the pod, and a failure is written as text on the error stream.
import type { Duplex } from 'node:stream';
import type { SpdyConnection, SpdyStream } from '../../streaming/spdy/index.ts';
import { headerValue } from '../../streaming/spdy/index.ts';
import type { PodRef } from '../../streaming/types.ts';
import { STREAM_CREATION_TIMEOUT_MS } from './spdy-exec.ts';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** The WebSocket sub-protocol prefix for SPDY tunnelled over WebSocket. */
export const SPDY_TUNNEL_PREFIX = 'SPDY/3.1+';

/** After one direction of a forwarded connection ends, how long the other may go on (as containerd's forwarder). */
const HALF_CLOSED_GRACE_MS = 1000;

type Dial = (port: number) => Promise<Duplex>;

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Parses a port header as the kubelet does; returns the port or the message to send back. */
export function parsePortHeader(value: string | undefined): number | string {
  const v = value ?? '';
  if (!/^\d+$/.test(v) || Number(v) > 65535) return `unable to parse '${v}' as a port: strconv.ParseUint: parsing ${JSON.stringify(v)}: ${/^\d+$/.test(v) ? 'value out of range' : 'invalid syntax'}`;
  const port = Number(v);
  if (port < 1) return `port '${port}' must be greater than 0`;
  return port;
}

/** Serves port-forward streams on a server-side SPDY connection until it closes. */
export function servePortForward(conn: SpdyConnection, pod: PodRef, dial: Dial, timeoutMs = STREAM_CREATION_TIMEOUT_MS): void {
  const pairs = new Map<string, Pair>();
  const podLabel = `${pod.name}_${pod.namespace}`;

  conn.on('stream', (stream) => {
    stream.on('error', () => {});
    const type = headerValue(stream.headers, 'streamtype');
    if (type !== 'data' && type !== 'error') {
      stream.reset();
      return;
    }
    stream.reply();
    // Clients of the first protocol version sent no requestID: the pair is the error stream and
    // the data stream opened right after it.
    const requestId = headerValue(stream.headers, 'requestid') ?? String(type === 'error' ? stream.id : stream.id - 2);
    let pair = pairs.get(requestId);
    if (!pair) {
      pair = {
        timer: setTimeout(() => {
          pairs.delete(requestId);
          const p = pair!;
          if (p.error) p.error.end(`timed out waiting for streams for request ${requestId}`);
          p.data?.reset();
        }, timeoutMs),
      };
      pair.timer.unref();
      pairs.set(requestId, pair);
    }
    if (pair[type]) {
      stream.reset();
      return;
    }
    pair[type] = stream;
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      void forward(pair.data, pair.error, dial, podLabel, pod.uid);
    }
  });
  conn.on('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
  });
}

async function forward(data: SpdyStream, error: SpdyStream, dial: Dial, podLabel: string, uid: string): Promise<void> {
  // The client only reads the error stream; what it sends there is drained.
  error.resume();
  const port = parsePortHeader(headerValue(data.headers, 'port'));
  const fail = (message: string) => {
    error.end(message);
    if (!data.writableEnded) data.end();
  };
  if (typeof port === 'string') return fail(port);
  let target: Duplex;
  try {
    target = await dial(port);
  } catch (err) {
    return fail(`error forwarding port ${port} to pod ${podLabel}, uid ${uid}: ${(err as Error).message}`);
  }
  if (data.resetStatus !== undefined) {
    target.destroy();
    return;
  }
  let finished = false;
  let grace: NodeJS.Timeout | undefined;
  const finish = (message?: string) => {
    if (finished) return;
    finished = true;
    clearTimeout(grace);
    data.unpipe(target);
    target.unpipe(data);
    if (!data.writableEnded) data.end();
    if (message) error.end(message);
    else if (!error.writableEnded) error.end();
    target.destroy();
  };
  let clientDone = false;
  let podDone = false;
  const oneSideDone = () => {
    if (clientDone && podDone) return finish();
    if (!grace) grace = setTimeout(() => finish(), HALF_CLOSED_GRACE_MS);
  };
  target.on('error', (err: Error) => finish(`error forwarding port ${port} to pod ${podLabel}, uid ${uid}: ${err.message}`));
  // The client's end of the data stream half-closes the pod connection; the pod's end ends the stream.
  data.pipe(target);
  target.pipe(data);
  data.on('end', () => {
    clientDone = true;
    oneSideDone();
  });
  target.on('end', () => {
    podDone = true;
    oneSideDone();
  });
  target.on('close', () => {
    podDone = true;
    oneSideDone();
  });
  data.on('reset', () => finish());
}
