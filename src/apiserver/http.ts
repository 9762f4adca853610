// Small HTTP helpers shared by the handlers: reading bodies with a size limit, writing JSON.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, tooLarge } from './errors.ts';

/** Upstream's limit for request bodies. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Request bodies as read, for the audit log's requestObject (weakly held: gone with the request). */
const bodies = new WeakMap<IncomingMessage, Buffer>();

const decodedBodies = new WeakMap<IncomingMessage, unknown>();

/** The body readBody read from a request, if it did. */
export function requestBodyOf(req: IncomingMessage): Buffer | undefined {
  return bodies.get(req);
}

/** Keeps the object a body decoded to (YAML or protobuf bodies), so the audit log shows it as JSON. */
export function recordRequestObject(req: IncomingMessage, obj: unknown): void {
  decodedBodies.set(req, obj);
}

export function requestObjectOf(req: IncomingMessage): unknown {
  return decodedBodies.get(req);
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.set(req, body);
      resolve(body);
    });
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  sendRaw(res, code, typeof body === 'string' ? body : JSON.stringify(body), 'application/json', headers);
}

export function sendRaw(res: ServerResponse, code: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.code, err.toStatus());
}
