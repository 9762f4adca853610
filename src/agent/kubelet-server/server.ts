// The node agent's HTTPS API, as the kubelet's port 10250: exec, attach, port-forward and container
// logs for this node's pods, GET /pods and /healthz. The API server reaches it for nodes that run
// in another process or on another machine (src/apiserver/streaming/remote-node.ts). Every request
// needs a client certificate from the cluster CA of an identity allowed by ./authorize.ts.
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Obj } from '../../api/resource.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { selfSignedServingPair } from '../../apiserver/pki.ts';
import { writeRawError, writeRawResponse } from '../../apiserver/streaming/raw-response.ts';
import type { NodeStreaming } from '../../streaming/types.ts';
import { EXEC_SUBPROTOCOL, parseKubeletPath, PORT_FORWARD_SUBPROTOCOL, type KubeletRoute } from '../../streaming/kubelet-wire.ts';
import { webSocketDuplex } from '../../streaming/ws-duplex.ts';
import { log } from '../../util/log.ts';
import { authorize, callerFromCertificate, type Decision } from './authorize.ts';
import { serveKubeletRequest, sendStatus } from '../../streaming/kubelet-routes.ts';
import { serveSession } from './sessions.ts';

export interface KubeletServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  streaming: NodeStreaming;
  /** A v1 PodList of what the node really runs. */
  listPods: () => Promise<Obj>;
  /** The cluster CA: client certificates must chain to it. */
  caCertPem: string;
  /** The serving pair; without one a self-signed pair is made, as the kubelet does by default. */
  servingCertPem?: string;
  servingKeyPem?: string;
  nodeName: string;
}

export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

type UpgradeRoute = Extract<KubeletRoute, { kind: 'exec' | 'attach' | 'portForward' }>;

export async function startKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  const ca = new X509Certificate(opts.caCertPem);
  const serving = opts.servingCertPem && opts.servingKeyPem ? { certPem: opts.servingCertPem, keyPem: opts.servingKeyPem } : selfSignedServingPair(opts.nodeName, [opts.host]);
  const backend = { streaming: opts.streaming, listPods: opts.listPods };
  const sockets = new Set<Duplex>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  const chosenProtocol = new WeakMap<IncomingMessage, string>();
  // The sub-protocol is answered here: ws would otherwise pick from what the client offered.
  wss.on('headers', (headers, req) => {
    const p = chosenProtocol.get(req);
    if (p) headers.push(`Sec-WebSocket-Protocol: ${p}`);
  });

  const server = https.createServer({
    key: serving.keyPem,
    cert: serving.certPem,
    ca: opts.caCertPem,
    requestCert: true,
    // Refusals are HTTP answers (401/403), not TLS alerts, so clients see why.
    rejectUnauthorized: false,
    // The kubelet's server, like the API server's, takes 1 MiB of request line and headers.
    maxHeaderSize: 1 << 20,
  });
  server.keepAliveTimeout = 120_000;

  function decide(req: IncomingMessage, pathname: string): Decision {
    const tls = req.socket as TLSSocket;
    const caller = callerFromCertificate(tls.getPeerCertificate?.(), tls.authorized === true, ca);
    return authorize(caller, req.method ?? 'GET', pathname);
  }

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', 'https://node');
    const d = decide(req, url.pathname);
    if (!d.allowed) {
      res.writeHead(d.code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(d.message + '\n');
      return;
    }
    let route: KubeletRoute | undefined;
    try {
      route = parseKubeletPath(url.pathname, url.searchParams);
    } catch (err) {
      return sendStatus(res, err);
    }
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
      return;
    }
    void serveKubeletRequest(req, res, route, backend);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const url = new URL(req.url ?? '/', 'https://node');
    const d = decide(req, url.pathname);
    if (!d.allowed) return writeRawResponse(socket, d.code, d.message + '\n');
    let route: KubeletRoute | undefined;
    try {
      route = parseKubeletPath(url.pathname, url.searchParams);
    } catch (err) {
      return writeRawError(socket, err as ApiError);
    }
    if (!route || (route.kind !== 'exec' && route.kind !== 'attach' && route.kind !== 'portForward')) return writeRawResponse(socket, 404, '404 page not found\n');
    if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return writeRawResponse(socket, 400, 'unable to upgrade: only WebSocket is served here\n');
    const wanted = route.kind === 'portForward' ? PORT_FORWARD_SUBPROTOCOL : EXEC_SUBPROTOCOL;
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(wanted)) return writeRawResponse(socket, 400, `unable to upgrade: the ${wanted} sub-protocol is required\n`);
    chosenProtocol.set(req, wanted);
    delete req.headers['sec-websocket-protocol'];
    startUpgrade(req, socket, head, route);
  });

  /**
   * As the kubelet: the runtime is asked first, and a refusal (unknown container, container not
   * running, pod not here) is the answer to the upgrade request, before any WebSocket exists.
   */
  function startUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, route: UpgradeRoute): void {
    const s = opts.streaming;
    const started: Promise<{ accept: (ws: WebSocket) => void; cancel: () => void }> =
      route.kind === 'portForward'
        ? s.portForward(route.pod, route.port).then((target) => ({
            accept: (ws) => bridge(webSocketDuplex(ws), target),
            cancel: () => target.destroy(),
          }))
        : (route.kind === 'exec' ? s.exec(route.pod, route.container, route.opts) : s.attach(route.pod, route.container, route.opts)).then((session) => ({
            accept: (ws) => serveSession(ws, session, route.kind === 'exec' ? route.opts.command : []),
            cancel: () => session.abort(),
          }));
    started.then(
      ({ accept, cancel }) => {
        if (socket.destroyed) return cancel();
        wss.handleUpgrade(req, socket, head, accept);
      },
      (err: unknown) => {
        const apiErr = err instanceof ApiError ? err : new ApiError(500, 'InternalError', (err as Error)?.message ?? String(err));
        writeRawError(socket, apiErr);
      },
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log('info', 'agent', 'kubelet server listening', { node: opts.nodeName, address: `${opts.host}:${port}` });
  return {
    port,
    async close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A forwarded connection: bytes both ways, half-closes kept, either side's failure ends both. */
function bridge(ws: Duplex, target: Duplex): void {
  target.on('error', (err) => ws.destroy(err));
  ws.on('error', () => target.destroy());
  ws.on('close', () => target.destroy());
  target.on('close', () => {
    if (!ws.writableEnded) ws.end();
  });
  target.pipe(ws);
  ws.pipe(target);
}
