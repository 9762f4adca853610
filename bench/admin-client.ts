// The benchmarks' HTTPS client for a cluster started in a data dir: the admin's client
// certificate, JSON requests over keep-alive sockets, and watches on sockets of their own whose
// events carry the arrival time of the chunk they came in.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AdminClient {
  send(method: string, path: string, body?: unknown, contentType?: string): Promise<any>;
  /** Resolves once the server has answered the watch (so nothing after it is missed); `onEnd` hears a watch the server ended. */
  watch(path: string, onEvent: (type: string, obj: any, arrived: number) => void, onEnd?: () => void): Promise<() => void>;
  /** Stops every watch and closes the sockets. */
  close(): void;
}

export function adminClient(url: string, dataDir: string, opts: { maxSockets: number; clock?: () => number }): AdminClient {
  const pki = join(dataDir, 'pki');
  const tls = { ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) };
  const u = new URL(url);
  const agent = new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets, ...tls });
  const clock = opts.clock ?? (() => 0);
  const watches = new Set<() => void>();

  const sendOnce = (method: string, path: string, body: unknown, contentType: string) =>
    new Promise<any>((res, rej) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      // With a length: Node sends the body of a DELETE neither chunked nor with one of its own.
      const req = https.request({ host: u.hostname, port: u.port, method, path, agent, headers: { Accept: 'application/json', ...(payload ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) } : {}) } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (d: Buffer) => chunks.push(d));
        r.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((r.statusCode ?? 0) >= 300) rej(new Error(`${method} ${path}: ${r.statusCode} ${text.slice(0, 500)}`));
          // /metrics answers in Prometheus text, handed over as it came.
          else res(String(r.headers['content-type']).startsWith('text/plain') ? text : JSON.parse(text));
        });
      });
      req.on('error', rej);
      req.end(payload);
    });

  // A keep-alive socket left idle during a long wait may have been closed by the server: retry a GET once.
  const send = (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<any> =>
    sendOnce(method, path, body, contentType).catch((err) => {
      if (method === 'GET' && (err as NodeJS.ErrnoException).code === 'ECONNRESET') return sendOnce(method, path, body, contentType);
      throw err;
    });

  const watch = (path: string, onEvent: (type: string, obj: any, arrived: number) => void, onEnd?: () => void) =>
    new Promise<() => void>((res, rej) => {
      // Its own connection: a watch holds a socket for as long as it runs.
      const req = https.request({ host: u.hostname, port: u.port, method: 'GET', path, ...tls, agent: false, headers: { Accept: 'application/json' } }, (r) => {
        if (r.statusCode !== 200) return rej(new Error(`watch ${path}: ${r.statusCode}`));
        let buf = '';
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => {
          // The arrival time of the chunk stands for every event in it.
          const arrived = clock();
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line) continue;
            const e = JSON.parse(line);
            onEvent(e.type, e.object, arrived);
          }
        });
        let stopped = false;
        const ended = () => {
          if (!stopped) onEnd?.();
        };
        r.on('end', ended);
        r.on('error', ended);
        const stop = () => {
          stopped = true;
          watches.delete(stop);
          req.destroy();
        };
        watches.add(stop);
        res(stop);
      });
      req.on('error', (err) => {
        if (!req.destroyed) rej(err);
      });
      req.end();
    });

  return {
    send,
    watch,
    close: () => {
      for (const w of [...watches]) w();
      agent.destroy();
    },
  };
}
