// The network probes a node agent runs itself (upstream pkg/probe/http and pkg/probe/tcp): an
// HTTP GET that succeeds on 200–399, and a TCP connect that succeeds once the connection is made.
// Failures carry the texts upstream events show ("HTTP probe failed with statuscode: 500",
// "dial tcp 10.0.0.5:81: connect: connection refused"), so `kubectl describe` reads the same.
import https from 'node:https';
import net from 'node:net';
import type { Obj } from '../api/resource.ts';
import { dialErrorText, httpStatusOk, joinHostPort, probeHeaders, probeURL, resolveProbePort } from './prober-logic.ts';
import type { RuntimeProbeResult } from './runtime/types.ts';

// Not `import http from 'node:http'`: its ES module facade reads every export, and the http.WebSocket
// getter among them loads undici, some 40 ms of CPU at every start for nothing used here.
const http = process.getBuiltinModule('node:http');

/** Upstream reads at most this much of a probe's response body. */
const MAX_BODY = 10 * 1024;
/** Upstream's HTTP client gives up after this many redirects. */
const MAX_REDIRECTS = 10;

/**
 * Runs an httpGet or tcpSocket probe against the pod (its IP unless the probe names a host), or
 * returns undefined when the probe is of neither kind.
 */
export async function runNetworkProbe(pod: Obj, container: Obj, probe: Obj): Promise<RuntimeProbeResult | undefined> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  const podIP: string = pod.status?.podIP ?? '';
  if (probe.httpGet) {
    const port = resolveProbePort(probe.httpGet.port, container);
    if ('error' in port) return { ok: false, error: true, output: port.error };
    const host: string = probe.httpGet.host || podIP;
    return httpGetProbe(probeURL(probe.httpGet, host, port.port), probeHeaders(probe.httpGet), timeoutMs);
  }
  if (probe.tcpSocket) {
    const port = resolveProbePort(probe.tcpSocket.port, container);
    if ('error' in port) return { ok: false, error: true, output: port.error };
    return tcpProbe(probe.tcpSocket.host || podIP, port.port, timeoutMs);
  }
  return undefined;
}

/**
 * GET url; 2xx/3xx is success. Redirects to the same host are followed (as Go's client does for
 * the prober); one to another host ends the probe as a success, as upstream's does.
 */
export function httpGetProbe(url: string, headers: Record<string, string>, timeoutMs: number): Promise<RuntimeProbeResult> {
  const deadline = Date.now() + timeoutMs;
  const first = new URL(url);
  const step = (target: URL, redirects: number): Promise<RuntimeProbeResult> =>
    new Promise((resolve) => {
      const lib = target.protocol === 'https:' ? https : http;
      const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      let settled = false;
      const finish = (r: RuntimeProbeResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = lib.request(
        { method: 'GET', host, port, path: target.pathname + target.search, headers, agent: false, rejectUnauthorized: false },
        (res) => {
          const status = res.statusCode ?? 0;
          const location = res.headers.location;
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY) res.destroy();
          });
          const done = () => {
            if (settled) return;
            if (status >= 300 && status < 400 && location) {
              let next: URL;
              try {
                next = new URL(location, target);
              } catch {
                return finish({ ok: true });
              }
              if (next.hostname !== first.hostname) return finish({ ok: true, output: `Probe terminated redundantly` });
              if (redirects >= MAX_REDIRECTS) return finish({ ok: false, output: `Get ${JSON.stringify(next.href)}: stopped after ${MAX_REDIRECTS} redirects` });
              clearTimeout(timer);
              settled = true;
              return void step(next, redirects + 1).then(resolve);
            }
            finish(httpStatusOk(status) ? { ok: true } : { ok: false, output: `HTTP probe failed with statuscode: ${status}` });
          };
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        },
      );
      const timer = setTimeout(() => {
        finish({ ok: false, output: `Get ${JSON.stringify(target.href)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
        req.destroy();
      }, Math.max(0, deadline - Date.now()));
      req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, output: `Get ${JSON.stringify(target.href)}: ${dialErrorText(host, port, err)}` }));
      req.end();
    });
  return step(first, 0);
}

/** Opens a TCP connection and closes it at once; success is the connection being made. */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<RuntimeProbeResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (r: RuntimeProbeResult) => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, output: `dial tcp ${joinHostPort(host, port)}: i/o timeout` }), timeoutMs);
    s.once('connect', () => done({ ok: true }));
    s.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, output: dialErrorText(host, port, err) }));
  });
}

/**
 * The GET of an httpGet lifecycle hook (the kubelet's plain HTTP client): any response counts as
 * done, whatever its status; only a request that cannot be made fails, with Go's error text.
 * Redirects are followed to any host, at most 10. No timeout of its own: `signal` ends it.
 */
export function httpGetHook(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ ok: boolean; error?: string }> {
  const step = (target: URL, redirects: number): Promise<{ ok: boolean; error?: string }> =>
    new Promise((resolve) => {
      const lib = target.protocol === 'https:' ? https : http;
      const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      let settled = false;
      const finish = (r: { ok: boolean; error?: string }) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const req = lib.request({ method: 'GET', host, port, path: target.pathname + target.search, headers, agent: false, rejectUnauthorized: false }, (res) => {
        const location = res.headers.location;
        const status = res.statusCode ?? 0;
        res.on('data', () => {});
        res.on('error', () => {});
        res.destroy();
        if (status >= 300 && status < 400 && location) {
          let next: URL;
          try {
            next = new URL(location, target);
          } catch {
            return finish({ ok: true });
          }
          if (redirects >= MAX_REDIRECTS) return finish({ ok: false, error: `Get ${JSON.stringify(next.href)}: stopped after ${MAX_REDIRECTS} redirects` });
          settled = true;
          signal.removeEventListener('abort', onAbort);
          return void step(next, redirects + 1).then(resolve);
        }
        finish({ ok: true });
      });
      const onAbort = () => {
        finish({ ok: false, error: `Get ${JSON.stringify(target.href)}: context canceled` });
        req.destroy();
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: `Get ${JSON.stringify(target.href)}: ${dialErrorText(host, port, err)}` }));
      req.end();
    });
  return step(new URL(url), 0);
}
