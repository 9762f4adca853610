// The HTTP/1.1 upgrade that precedes a SPDY/3.1 connection in Kubernetes' streaming protocols
// (exec, attach, port-forward): the client asks with `Connection: Upgrade`, `Upgrade: SPDY/3.1`
// and one `X-Stream-Protocol-Version` header per sub-protocol it speaks, in preference order; the
// server answers 101 naming the sub-protocol it chose, and SPDY frames follow on the socket.
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';

export const SPDY_UPGRADE = 'SPDY/3.1';
export const STREAM_PROTOCOL_HEADER = 'X-Stream-Protocol-Version';

export interface SpdyUpgradeOptions {
  /** Default POST, as kubectl uses. */
  method?: string;
  /** Sub-protocols in preference order, sent as X-Stream-Protocol-Version headers. */
  protocols?: string[];
  headers?: Record<string, string | string[]>;
  /** Gives up on a server that does not answer (default 30 s). */
  timeoutMs?: number;
  /** TLS settings for https URLs. */
  tls?: ConnectionOptions;
}

export interface SpdyUpgradeResult {
  /** The upgraded socket, positioned at the first SPDY frame. */
  socket: Duplex;
  /** The sub-protocol the server chose ('' when it named none). */
  protocol: string;
  headers: IncomingHttpHeaders;
}

/** The server refused the upgrade; carries its status and body (often a Kubernetes Status). */
export class UpgradeError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(status: number, body: string) {
    super(`upgrade refused with HTTP ${status}${body ? `: ${body.trim()}` : ''}`);
    this.name = 'UpgradeError';
    this.status = status;
    this.body = body;
  }
}

/** Connects to `url` and upgrades the connection to SPDY/3.1. */
export function spdyUpgrade(url: string | URL, opts: SpdyUpgradeOptions = {}): Promise<SpdyUpgradeResult> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const headers: Record<string, string | string[]> = {
    ...opts.headers,
    Connection: 'Upgrade',
    Upgrade: SPDY_UPGRADE,
  };
  if (opts.protocols?.length) headers[STREAM_PROTOCOL_HEADER] = opts.protocols;
  const request = target.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(target, { method: opts.method ?? 'POST', headers, ...(opts.tls ?? {}) });
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(err);
    };
    req.setTimeout(opts.timeoutMs ?? 30_000, () => fail(new Error(`no answer to the SPDY upgrade from ${target.host}`)));
    req.on('error', fail);
    req.on('upgrade', (res, socket, head) => {
      if (settled) return socket.destroy();
      settled = true;
      req.setTimeout(0);
      socket.setTimeout(0);
      if (head.length) socket.unshift(head);
      const chosen = res.headers[STREAM_PROTOCOL_HEADER.toLowerCase()];
      resolve({ socket, protocol: (Array.isArray(chosen) ? chosen[0] : chosen) ?? '', headers: res.headers });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => fail(new UpgradeError(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
      res.on('error', fail);
    });
    req.end();
  });
}

/**
 * The server's choice among the sub-protocols a client offered: the first of the client's, in its
 * order, that the server supports (as upstream's httpstream handshake). '' when the client offered
 * none (legacy clients), undefined when nothing matches.
 */
export function negotiateStreamProtocol(clientProtocols: string[], serverProtocols: string[]): string | undefined {
  if (clientProtocols.length === 0) return '';
  return clientProtocols.find((p) => serverProtocols.includes(p));
}

/** The client's offered sub-protocols, from possibly repeated or comma-joined headers. */
export function offeredStreamProtocols(headers: IncomingHttpHeaders): string[] {
  const raw = headers[STREAM_PROTOCOL_HEADER.toLowerCase()];
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** Whether an HTTP request asks to be upgraded to SPDY/3.1. */
export function isSpdyUpgrade(headers: IncomingHttpHeaders): boolean {
  return (headers.upgrade ?? '').toLowerCase().startsWith('spdy/');
}

/** Writes the 101 answer on a socket taken over from an HTTP server's 'upgrade' event. */
export function acceptSpdyUpgrade(socket: Duplex, protocol?: string): void {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', `Upgrade: ${SPDY_UPGRADE}`];
  if (protocol) lines.push(`${STREAM_PROTOCOL_HEADER}: ${protocol}`);
  socket.write(lines.join('\r\n') + '\r\n\r\n');
}
