// The API server's streaming endpoints: pods/exec, pods/attach and pods/portforward (connection
// upgrades to WebSocket or SPDY/3.1) and pods/log (a streamed GET). Requests are validated as
// upstream's pod registry does, then handed to the pod's node through NodeStreaming.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Obj } from '../../api/resource.ts';
import type { NodeStreaming, NodeStreamingRegistry, StreamSession } from '../../streaming/types.ts';
import { SpdyConnection, acceptSpdyUpgrade, isSpdyUpgrade, negotiateStreamProtocol, offeredStreamProtocols, STREAM_PROTOCOL_HEADER } from '../../streaming/spdy/index.ts';
import type { Authenticator } from '../authn.ts';
import { ApiError, badRequest, internalError } from '../errors.ts';
import { findResource, parseResourcePath, type ResourceRequest } from '../request.ts';
import type { ResourceStore } from '../resource-store.ts';
import { log } from '../../util/log.ts';
import { serveLogs } from './logs.ts';
import { servePortForward, PORT_FORWARD_PROTOCOL, SPDY_TUNNEL_PREFIX } from './portforward.ts';
import { writeRawError, writeRawResponse } from './raw-response.ts';
import { runSession } from './remotecommand.ts';
import { awaitExecStreams, spdyClientStreams, SPDY_EXEC_PROTOCOLS } from './spdy-exec.ts';
import { assertNotCompleted, assignedNode, nodeUnavailable, ProxyError, parseExecOptions, parseStreamOptions, podRef, resolveContainer, streamingSubresource, type StreamingSubresource } from './target.ts';
import { CHANNEL_PROTOCOLS, offeredWebSocketProtocols, webSocketClientStreams } from './websocket.ts';

export { streamingSubresource, STREAMING_SUBRESOURCES } from './target.ts';

export interface StreamingOptions {
  resources: ResourceStore;
  /** Where nodes offer their pods' streams; without it every streaming request is refused as unreachable. */
  registry?: NodeStreamingRegistry;
  /**
   * Nodes not registered in-process: reached over the network (RemoteNodeStreaming). Throws the
   * API's error for a node that does not exist.
   */
  remote?: (nodeName: string) => NodeStreaming;
  authenticate: Authenticator;
}

export interface StreamingEndpoints {
  /** For the HTTP server's shouldUpgradeCallback: only these endpoints take over connections. */
  wantsUpgrade(req: IncomingMessage): boolean;
  /** The HTTP server's 'upgrade' event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Plain requests to a streaming subresource (pods/log; the others demand an upgrade). */
  handleRequest(req: IncomingMessage, res: ServerResponse, rr: ResourceRequest, url: URL): Promise<void>;
  /** Cuts every upgraded connection (server shutdown). */
  close(): void;
}

/** What an exec, attach or port-forward request resolved to. */
interface Target {
  sub: Exclude<StreamingSubresource, 'log'>;
  pod: Obj;
  container: string;
  node: NodeStreaming;
  q: URLSearchParams;
}

export function createStreamingEndpoints(opts: StreamingOptions): StreamingEndpoints {
  const pods = findResource('', 'pods')!;
  const sockets = new Set<Duplex>();
  const chosenProtocol = new WeakMap<IncomingMessage, string>();
  // Sub-protocols are negotiated here, not by ws: ws rejects the tunnel's "SPDY/3.1+portforward.k8s.io"
  // (a '/' is not allowed in an RFC 7230 token), which kubectl nevertheless sends.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  wss.on('headers', (headers, req) => {
    const p = chosenProtocol.get(req);
    if (p) headers.push(`Sec-WebSocket-Protocol: ${p}`);
  });

  function nodeFor(name: string): NodeStreaming {
    // An agent in this process keeps priority over its own kubelet server.
    const node = opts.registry?.get(name) ?? opts.remote?.(name);
    if (!node) throw nodeUnavailable(name);
    return node;
  }

  /** Validates an exec/attach/portforward request up to the node, in upstream's order. */
  function resolveTarget(rr: ResourceRequest, sub: Exclude<StreamingSubresource, 'log'>, q: URLSearchParams): Target {
    const pod = opts.resources.get(pods, rr.namespace, rr.name!);
    let container = '';
    if (sub !== 'portforward') {
      container = resolveContainer(pod, q.get('container'));
      // Upstream's API server lets an attach to a completed pod through to the kubelet, which
      // answers that the container is not running; `kubectl run` shows that answer.
      if (sub === 'exec') assertNotCompleted(pod);
    }
    const node = nodeFor(assignedNode(pod));
    if (sub === 'exec') parseExecOptions(q);
    if (sub === 'attach') parseStreamOptions(q);
    return { sub, pod, container, node, q };
  }

  function parse(req: IncomingMessage): { rr: ResourceRequest; url: URL; sub: StreamingSubresource } | undefined {
    const url = new URL(req.url ?? '/', 'https://localhost');
    let rr: ResourceRequest | null | undefined;
    try {
      rr = parseResourcePath(url.pathname.replace(/\/+$/, ''));
    } catch {
      return undefined; // a malformed escape: the normal handler answers it
    }
    const sub = rr ? streamingSubresource(rr) : undefined;
    return rr && sub ? { rr, url, sub } : undefined;
  }

  function track(socket: Duplex): void {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  }

  /** Starts the command on the node (before the upgrade is accepted, as the kubelet does). */
  function startNodeSession(t: Target): Promise<StreamSession> {
    const ref = podRef(t.pod);
    return t.sub === 'exec' ? t.node.exec(ref, t.container, parseExecOptions(t.q)) : t.node.attach(ref, t.container, parseStreamOptions(t.q));
  }

  function startExec(t: Target, client: Parameters<typeof runSession>[0], session: StreamSession): void {
    void runSession(client, async () => session, t.sub === 'exec' ? parseExecOptions(t.q).command : []);
  }

  /**
   * Upstream the kubelet asks the runtime for the session before it upgrades the connection, and
   * answers a failure (an unknown or stopped container) with a plain-text error that kubectl shows
   * as "unable to upgrade connection: <message>". The upgrade happens only once the session exists.
   */
  function withNodeSession(socket: Duplex, t: Target, then: (session: StreamSession) => void): void {
    startNodeSession(t).then(
      (session) => {
        if (socket.destroyed) return session.abort();
        then(session);
      },
      (err: unknown) => {
        const apiErr = err instanceof ApiError ? err : internalError(err);
        // A request the node refuses outright (the simulated runtime has no processes) is an API
        // error like any other: a Status, which kubectl prints as "Error from server (BadRequest)".
        // Plain text, kubectl's YAML-tolerant decoder turns a message with ": " into an empty Status.
        if (apiErr.code === 400 || apiErr instanceof ProxyError) return writeRawError(socket, apiErr);
        writeRawResponse(socket, apiErr.code, apiErr.message);
      },
    );
  }

  /**
   * Upstream the API server connects to the kubelet before it accepts a port-forward upgrade, so
   * a node that cannot be reached fails the upgrade ("error upgrading connection: error dialing
   * backend: ..."), not each forwarded connection later. Nodes in this process are always there.
   */
  function withReachableNode(socket: Duplex, t: Target, then: () => void): void {
    if (!t.node.reachable) return then();
    t.node.reachable().then(
      () => {
        if (!socket.destroyed) then();
      },
      (err: unknown) => writeRawError(socket, err instanceof ApiError ? err : internalError(err)),
    );
  }

  function upgradeWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, t: Target): void {
    const offered = offeredWebSocketProtocols(req);
    let protocol: string | undefined;
    if (t.sub === 'portforward') {
      protocol = offered.find((p) => p === SPDY_TUNNEL_PREFIX + PORT_FORWARD_PROTOCOL);
    } else {
      protocol = offered.length === 0 ? '' : offered.find((p) => p in CHANNEL_PROTOCOLS);
    }
    if (protocol === undefined) {
      const supported = t.sub === 'portforward' ? [SPDY_TUNNEL_PREFIX + PORT_FORWARD_PROTOCOL] : Object.keys(CHANNEL_PROTOCOLS);
      return writeRawResponse(socket, 403, `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.join(' ')}]`);
    }
    if (protocol) chosenProtocol.set(req, protocol);
    delete req.headers['sec-websocket-protocol'];
    if (t.sub === 'portforward') return withReachableNode(socket, t, () => acceptWebSocket(req, socket, head, t, protocol));
    withNodeSession(socket, t, (session) => acceptWebSocket(req, socket, head, t, protocol, session));
  }

  function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, t: Target, protocol: string, session?: StreamSession): void {
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (t.sub === 'portforward') {
        // The tunnel: the WebSocket's binary messages carry a SPDY connection's bytes.
        const duplex = createWebSocketStream(ws);
        duplex.on('error', () => {});
        servePortForward(new SpdyConnection(duplex, { server: true }), podRef(t.pod), (port) => t.node.portForward(podRef(t.pod), port));
        return;
      }
      const proto = CHANNEL_PROTOCOLS[protocol || 'channel.k8s.io']!;
      const so = t.sub === 'exec' ? parseExecOptions(t.q) : parseStreamOptions(t.q);
      startExec(t, webSocketClientStreams(ws, proto, so), session!);
    });
  }

  function upgradeSpdy(req: IncomingMessage, socket: Duplex, head: Buffer, t: Target): void {
    if (!/(^|,)\s*upgrade\s*(,|$)/i.test(String(req.headers.connection ?? ''))) {
      return writeRawResponse(socket, 400, `unable to upgrade: missing upgrade headers in request: Connection=${req.headers.connection ?? ''}`);
    }
    const server = t.sub === 'portforward' ? [PORT_FORWARD_PROTOCOL] : SPDY_EXEC_PROTOCOLS;
    const offered = offeredStreamProtocols(req.headers);
    if (offered.length === 0) return writeRawResponse(socket, 400, `unable to upgrade: ${STREAM_PROTOCOL_HEADER} is required`);
    const protocol = negotiateStreamProtocol(offered, server);
    if (!protocol) {
      return writeRawResponse(socket, 403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${server.join(' ')}]`, {
        'X-Accepted-Stream-Protocol-Versions': server,
      });
    }
    if (t.sub === 'portforward') {
      return withReachableNode(socket, t, () => {
        acceptSpdyUpgrade(socket, protocol);
        if (head.length) socket.unshift(head);
        servePortForward(new SpdyConnection(socket, { server: true }), podRef(t.pod), (port) => t.node.portForward(podRef(t.pod), port));
      });
    }
    withNodeSession(socket, t, (session) => {
      acceptSpdyUpgrade(socket, protocol);
      if (head.length) socket.unshift(head);
      const conn = new SpdyConnection(socket, { server: true });
      const so = t.sub === 'exec' ? parseExecOptions(t.q) : parseStreamOptions(t.q);
      awaitExecStreams(conn, protocol, so).then(
        (streams) => startExec(t, spdyClientStreams(conn, protocol, streams), session),
        (err: Error) => {
          log('debug', 'apiserver', 'exec streams not created', { error: err.message });
          session.abort();
          conn.destroy();
        },
      );
    });
  }

  return {
    wantsUpgrade(req) {
      const p = parse(req);
      return !!p && p.sub !== 'log';
    },

    handleUpgrade(req, socket, head) {
      socket.on('error', () => {});
      track(socket);
      (socket as Socket).setNoDelay?.(true);
      try {
        if (!opts.authenticate(req)) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
        const p = parse(req);
        if (!p || p.sub === 'log') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
        const t = resolveTarget(p.rr, p.sub, p.url.searchParams);
        const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
        if (upgrade === 'websocket') return upgradeWebSocket(req, socket, head, t);
        if (isSpdyUpgrade(req.headers)) return upgradeSpdy(req, socket, head, t);
        writeRawResponse(socket, 400, `unable to upgrade: unsupported upgrade protocol ${JSON.stringify(req.headers.upgrade ?? '')}`);
      } catch (err) {
        const apiErr = err instanceof ApiError ? err : internalError(err);
        if (!(err instanceof ApiError)) log('error', 'apiserver', 'streaming upgrade failed', { path: req.url, error: String((err as Error)?.stack ?? err) });
        writeRawError(socket, apiErr);
      }
    },

    async handleRequest(req, res, rr, url) {
      const sub = streamingSubresource(rr)!;
      const q = url.searchParams;
      if (sub === 'log') {
        return serveLogs(req, res, rr.name!, q, { getPod: () => opts.resources.get(pods, rr.namespace, rr.name!), node: nodeFor });
      }
      resolveTarget(rr, sub, q);
      throw badRequest('Upgrade request required');
    },

    close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      wss.close();
    },
  };
}
