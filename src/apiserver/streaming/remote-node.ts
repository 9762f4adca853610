// NodeStreaming for nodes whose agent runs in another process or on another machine: the API
// server calls the node's kubelet server (src/agent/kubelet-server/) at the Node's InternalIP and
// status.daemonEndpoints.kubeletEndpoint.Port, with its kubelet client certificate, over the wire
// described in src/streaming/kubelet-wire.ts. The node's refusals come back as the ApiErrors the
// node raised; failing to reach the node gives upstream's "error dialing backend: dial tcp ...".
import https from 'node:https';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { Readable, Writable, type Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { Obj } from '../../api/resource.ts';
import type { ExecOptions, LogOptions, NodeStreaming, PodRef, StreamOptions, StreamSession, TerminalSize } from '../../streaming/types.ts';
import {
  attachPath,
  CH_CLOSE,
  CH_RESIZE,
  CH_STATUS,
  CH_STDERR,
  CH_STDIN,
  CH_STDOUT,
  errorFromResponse,
  EXEC_SUBPROTOCOL,
  execPath,
  exitCodeOf,
  frame,
  logsPath,
  PORT_FORWARD_SUBPROTOCOL,
  portForwardPath,
} from '../../streaming/kubelet-wire.ts';
import { webSocketDuplex } from '../../streaming/ws-duplex.ts';
import { ApiError } from '../errors.ts';
import { findResource } from '../request.ts';
import type { ResourceStore } from '../resource-store.ts';
import { ProxyError } from './target.ts';

/** The kubelet's port when a Node does not say (status.daemonEndpoints.kubeletEndpoint.Port 0 or absent). */
export const DEFAULT_KUBELET_PORT = 10250;
const DIAL_TIMEOUT_MS = 30_000;

export interface KubeletClientCredentials {
  certPem: string;
  keyPem: string;
}

export interface KubeletEndpoint {
  host: string;
  port: number;
}

/** "host:port" as Go's net.JoinHostPort writes it (IPv6 in brackets). */
export function joinHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

// The address types the API server tries, in order (kubeadm's --kubelet-preferred-address-types,
// less Hostname: a name would need a DNS answer the API server may not have).
const PREFERRED_ADDRESS_TYPES = ['InternalIP', 'ExternalIP'];

/** Where a Node's kubelet server listens, as upstream's NodeConnectionInfoGetter finds it. */
export function kubeletEndpoint(node: Obj): KubeletEndpoint {
  const addresses: Obj[] = node.status?.addresses ?? [];
  let host: string | undefined;
  for (const type of PREFERRED_ADDRESS_TYPES) {
    host = addresses.find((a) => a.type === type && a.address)?.address;
    if (host) break;
  }
  if (!host) {
    // Go prints a []NodeAddress as [{Type Address} ...].
    throw new ProxyError(500, '', `no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(' ')}]`);
  }
  const port = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port);
  return { host, port: Number.isInteger(port) && port > 0 ? port : DEFAULT_KUBELET_PORT };
}

/**
 * Documentation ranges (RFC 5737) are never routable: simulated nodes carry them as InternalIP.
 * Nothing is sent there; the dial fails as an unroutable one would.
 */
export function isDocumentationAddress(host: string): boolean {
  return /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$/.test(host) || /^2001:db8:/i.test(host);
}

/** A socket-level failure in Go's words ("dial tcp 10.0.0.5:10250: connect: connection refused"). */
export function dialErrorText(hostPort: string, err: NodeJS.ErrnoException | Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ETIMEDOUT: 'i/o timeout',
    ECONNRESET: 'read: connection reset by peer',
  };
  if (code && words[code]) return `dial tcp ${hostPort}: ${words[code]}`;
  if (/handshake has timed out/i.test(err.message)) return `dial tcp ${hostPort}: i/o timeout`;
  return err.message;
}

export class RemoteNodeStreaming implements NodeStreaming {
  private readonly endpoint: () => KubeletEndpoint;
  private readonly credentials: KubeletClientCredentials;

  /** `endpoint` is asked on every call, so a node that moved (new address or port) is followed. */
  constructor(endpoint: () => KubeletEndpoint, credentials: KubeletClientCredentials) {
    this.endpoint = endpoint;
    this.credentials = credentials;
  }

  async exec(pod: PodRef, container: string, opts: ExecOptions): Promise<StreamSession> {
    return this.session(execPath(pod, container, opts), opts);
  }

  async attach(pod: PodRef, container: string, opts: StreamOptions): Promise<StreamSession> {
    return this.session(attachPath(pod, container, opts), opts);
  }

  async portForward(pod: PodRef, port: number): Promise<Duplex> {
    const ws = await this.open(portForwardPath(pod, port), PORT_FORWARD_SUBPROTOCOL);
    return webSocketDuplex(ws);
  }

  async logs(pod: PodRef, opts: LogOptions): Promise<Readable> {
    const res = await this.get(logsPath(pod, opts));
    if (res.statusCode !== 200) throw errorFromResponse(res.statusCode ?? 500, await readAll(res));
    return res;
  }

  /** A TLS handshake with the node's kubelet server, as the API server's kubelet client. */
  reachable(): Promise<void> {
    const { host, port } = this.endpoint();
    const hp = joinHostPort(host, port);
    if (isDocumentationAddress(host)) return Promise.reject(dialError(`dial tcp ${hp}: connect: network is unreachable`));
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host, port, cert: this.credentials.certPem, key: this.credentials.keyPem, rejectUnauthorized: false, timeout: DIAL_TIMEOUT_MS });
      socket.once('secureConnect', () => {
        socket.end();
        resolve();
      });
      socket.once('timeout', () => socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      socket.once('error', (err) => reject(dialError(dialErrorText(hp, err))));
    });
  }

  /** GET on the node's kubelet server (the node proxy uses request() for other methods). */
  get(path: string): Promise<IncomingMessage> {
    return this.request('GET', path, {});
  }

  /**
   * One HTTPS request to the node. Failing to reach it rejects with upstream's client error text,
   * `Get "https://host:port/path": dial tcp ...`, which the API server shows as it is.
   */
  request(method: string, path: string, headers: Record<string, string>, body?: Readable): Promise<IncomingMessage> {
    const { host, port } = this.endpoint();
    const hp = joinHostPort(host, port);
    const url = `https://${hp}${path}`;
    const verb = method[0] + method.slice(1).toLowerCase();
    const failed = (text: string) => Object.assign(new ProxyError(500, '', `${verb} ${JSON.stringify(url)}: ${text}`), { dialText: text });
    if (isDocumentationAddress(host)) return Promise.reject(failed(`dial tcp ${hp}: connect: network is unreachable`));
    return new Promise((resolve, reject) => {
      const req = https.request({
        host,
        port,
        method,
        path,
        headers,
        cert: this.credentials.certPem,
        key: this.credentials.keyPem,
        // Upstream's API server does not verify kubelet serving certificates unless given their CA.
        rejectUnauthorized: false,
        agent: false,
        timeout: DIAL_TIMEOUT_MS,
      });
      req.once('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.once('response', (res) => {
        req.setTimeout(0);
        resolve(res);
      });
      req.once('error', (err) => reject(failed(dialErrorText(hp, err))));
      if (body) body.pipe(req);
      else req.end();
    });
  }

  /** Opens a WebSocket to the node; the node's refusal (before the upgrade) rejects with its ApiError. */
  private open(path: string, protocol: string): Promise<WebSocket> {
    const { host, port } = this.endpoint();
    const hp = joinHostPort(host, port);
    if (isDocumentationAddress(host)) return Promise.reject(dialError(`dial tcp ${hp}: connect: network is unreachable`));
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`wss://${hp}${path}`, [protocol], {
        cert: this.credentials.certPem,
        key: this.credentials.keyPem,
        rejectUnauthorized: false,
        perMessageDeflate: false,
        handshakeTimeout: DIAL_TIMEOUT_MS,
        maxPayload: 64 * 1024 * 1024,
      });
      let settled = false;
      ws.once('open', () => {
        settled = true;
        resolve(ws);
      });
      ws.once('unexpected-response', (_req, res) => {
        settled = true;
        void readAll(res).then((body) => {
          reject(errorFromResponse(res.statusCode ?? 500, body));
          ws.terminate();
        });
      });
      ws.on('error', (err) => {
        if (settled) return;
        settled = true;
        reject(dialError(dialErrorText(hp, err)));
      });
    });
  }

  private async session(path: string, opts: StreamOptions): Promise<StreamSession> {
    const ws = await this.open(path, EXEC_SUBPROTOCOL);
    return sessionOverWebSocket(ws, opts);
  }
}

/** Remote nodes by name, from their Node objects; a node that does not exist is the API's NotFound. */
export function remoteNodeResolver(resources: ResourceStore, credentials: KubeletClientCredentials): (nodeName: string) => RemoteNodeStreaming {
  const nodes = findResource('', 'nodes')!;
  return (nodeName) => {
    resources.get(nodes, undefined, nodeName);
    return new RemoteNodeStreaming(() => kubeletEndpoint(resources.get(nodes, undefined, nodeName)), credentials);
  };
}

/** The API server could not reach the node: answered as a Status (kubectl: "Error from server: error dialing backend: ..."). */
function dialError(text: string): ProxyError {
  return new ProxyError(500, '', `error dialing backend: ${text}`);
}

/** The API server's view of a session the node runs: output streams, stdin, resizes and the exit. */
export function sessionOverWebSocket(ws: WebSocket, opts: StreamOptions): StreamSession {
  const stdout = opts.stdout ? new Readable({ read: () => ws.resume() }) : undefined;
  const stderr = opts.stderr ? new Readable({ read: () => ws.resume() }) : undefined;
  const end = (r: Readable | undefined) => {
    if (r && !r.readableEnded && !r.destroyed) r.push(null);
  };
  let resolveExit!: (code: number) => void;
  let rejectExit!: (err: Error) => void;
  let exited = false;
  const exit = new Promise<number>((resolve, reject) => {
    resolveExit = resolve;
    rejectExit = reject;
  });
  ws.on('message', (data: Buffer) => {
    if (data.length === 0) return;
    const channel = data[0];
    const payload = data.subarray(1);
    if (channel === CH_STDOUT || channel === CH_STDERR) {
      const to = channel === CH_STDOUT ? stdout : stderr;
      if (to && !to.readableEnded && !to.push(payload)) ws.pause();
    } else if (channel === CH_CLOSE) {
      end(payload[0] === CH_STDOUT ? stdout : payload[0] === CH_STDERR ? stderr : undefined);
    } else if (channel === CH_STATUS && !exited) {
      exited = true;
      let status: Record<string, any>;
      try {
        status = JSON.parse(payload.toString('utf8'));
      } catch {
        status = { status: 'Failure', message: payload.toString('utf8') };
      }
      const code = exitCodeOf(status);
      if (code !== undefined) resolveExit(code);
      // errorStatus (status.ts) passes a runtime's Status on unchanged.
      else rejectExit(Object.assign(new Error(String(status.message ?? 'error')), { status }));
    }
  });
  ws.on('error', () => {});
  ws.on('close', () => {
    end(stdout);
    end(stderr);
    if (!exited) {
      exited = true;
      rejectExit(new ApiError(500, 'InternalError', 'Internal error occurred: the connection to the node was lost before the command ended'));
    }
  });

  const send = (data: Buffer, cb?: (err?: Error | null) => void) => {
    if (ws.readyState !== WebSocket.OPEN) return cb?.(new Error('the connection to the node is closed'));
    ws.send(data, (err) => cb?.(err ?? null));
  };
  const stdin = opts.stdin
    ? new Writable({
        write(chunk: Buffer, _enc, cb) {
          send(frame(CH_STDIN, chunk), cb);
        },
        final(cb) {
          send(frame(CH_CLOSE, Buffer.of(CH_STDIN)), () => cb());
        },
      })
    : undefined;

  return {
    stdin,
    stdout,
    stderr,
    resize: opts.tty ? (size: TerminalSize) => send(frame(CH_RESIZE, JSON.stringify({ Width: size.width, Height: size.height }))) : undefined,
    exit,
    abort: () => ws.terminate(),
  };
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
