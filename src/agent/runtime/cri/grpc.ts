// Unary gRPC calls over HTTP/2 on a unix socket, with node:http2: the only kind of call the CRI
// needs besides streaming (exec/attach/port-forward go through the runtime's own streaming server,
// not gRPC). A lost connection is re-made on the next call, so a restarted containerd is picked up.
import type http2 from 'node:http2';
import net from 'node:net';

// node:http2 (some 20 ms of CPU to load) loads with the first CRI connection: a node on the
// simulated runtime, which imports this file for GrpcError, never makes one.
const h2 = () => process.getBuiltinModule('node:http2');

/** gRPC status codes the runtime looks at. */
export const GRPC = { OK: 0, CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, UNIMPLEMENTED: 12, UNAVAILABLE: 14 } as const;

export class GrpcError extends Error {
  readonly code: number;
  readonly method: string;
  readonly details: string;

  constructor(code: number, method: string, details: string) {
    super(`${method}: ${details || 'failed'} (grpc status ${code})`);
    this.code = code;
    this.method = method;
    this.details = details;
  }
}

export class GrpcUnixClient {
  readonly socket: string;
  private session: http2.ClientHttp2Session | undefined;

  constructor(socket: string) {
    this.socket = socket;
  }

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = h2().connect('http://localhost', { createConnection: () => net.connect(this.socket) });
    // Errors surface on the calls in flight; a broken session is replaced on the next call.
    session.on('error', () => {});
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    // Idle connections must not keep the process alive.
    session.unref();
    this.session = session;
    return session;
  }

  /** One unary call: `path` is "/package.Service/Method"; resolves with the response message bytes. */
  call(path: string, request: Buffer, timeoutMs: number): Promise<Buffer> {
    const method = path.slice(path.lastIndexOf('/') + 1);
    return new Promise((resolve, reject) => {
      let session: http2.ClientHttp2Session;
      try {
        session = this.connect();
      } catch (err) {
        reject(new GrpcError(GRPC.UNAVAILABLE, method, String(err)));
        return;
      }
      const frame = Buffer.alloc(5 + request.length);
      frame.writeUInt32BE(request.length, 1); // byte 0: not compressed
      request.copy(frame, 5);
      const req = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
      });
      // The server enforces grpc-timeout; this guards against a server that never answers at all.
      req.setTimeout(timeoutMs + 5000, () => req.close(h2().constants.NGHTTP2_CANCEL));
      const chunks: Buffer[] = [];
      let status: number | undefined;
      let details = '';
      const takeStatus = (h: http2.IncomingHttpHeaders) => {
        if (h['grpc-status'] === undefined) return;
        status = Number(h['grpc-status']);
        try {
          details = decodeURIComponent(String(h['grpc-message'] ?? ''));
        } catch {
          details = String(h['grpc-message'] ?? '');
        }
      };
      req.on('response', takeStatus); // an error answer may come as headers only
      req.on('trailers', takeStatus);
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('error', (err) => reject(new GrpcError(GRPC.UNAVAILABLE, method, `${err.message} (socket ${this.socket})`)));
      req.on('close', () => {
        if (status === undefined) return reject(new GrpcError(GRPC.UNAVAILABLE, method, `connection closed without a status (socket ${this.socket})`));
        if (status !== GRPC.OK) return reject(new GrpcError(status, method, details));
        const all = Buffer.concat(chunks);
        if (all.length < 5) return resolve(Buffer.alloc(0));
        if (all[0] !== 0) return reject(new GrpcError(GRPC.UNIMPLEMENTED, method, 'compressed responses are not supported'));
        resolve(all.subarray(5, 5 + all.readUInt32BE(1)));
      });
      req.end(frame);
    });
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}
