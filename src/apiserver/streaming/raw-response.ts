// Answers on a socket taken from the HTTP server's 'upgrade' event, which has no ServerResponse:
// refusals (Status JSON, as the normal handlers send) written as plain HTTP/1.1.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApiError } from '../errors.ts';

export function writeRawResponse(socket: Duplex, code: number, body: string, headers: Record<string, string | string[]> = {}): void {
  if (socket.destroyed || !socket.writable) return;
  const lines = [`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Unknown'}`];
  const all: Record<string, string | string[]> = { 'Cache-Control': 'no-cache, private', 'Content-Type': 'text/plain; charset=utf-8', ...headers, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' };
  for (const [k, v] of Object.entries(all)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
  socket.end(lines.join('\r\n') + '\r\n\r\n' + body);
  // A client that never reads must not keep the socket.
  setTimeout(() => socket.destroy(), 10_000).unref();
}

export function writeRawError(socket: Duplex, err: ApiError): void {
  writeRawResponse(socket, err.code, JSON.stringify(err.toStatus()), { 'Content-Type': 'application/json' });
}
