// The nodes/proxy subresource: /api/v1/nodes/NAME/proxy/PATH reaches PATH on the node's kubelet
// API (`kubectl get --raw /api/v1/nodes/NAME/proxy/pods` lists what the node really runs). A node
// whose agent runs in this process answers from that agent through the same handler its kubelet
// server uses; any other node is called over HTTPS with the API server's kubelet client identity.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeStreamingRegistry } from '../streaming/types.ts';
import { parseKubeletPath } from '../streaming/kubelet-wire.ts';
import { serveKubeletRequest } from '../streaming/kubelet-routes.ts';
import { ApiError, badRequest } from './errors.ts';
import { findResource } from './request.ts';
import type { ResourceStore } from './resource-store.ts';
import type { RemoteNodeStreaming } from './streaming/remote-node.ts';

export interface NodeProxyTarget {
  node: string;
  /** The path on the node, with its leading slash ('/' when none was given). */
  path: string;
}

/** Matches /api/v1/nodes/NAME/proxy[/PATH]; the path is kept as sent (not decoded) for the node. */
export function nodeProxyTarget(rawPathname: string): NodeProxyTarget | undefined {
  const m = /^\/api\/v1\/nodes\/([^/]+)\/proxy(\/.*)?$/.exec(rawPathname);
  if (!m) return undefined;
  return { node: decodeURIComponent(m[1]!), path: m[2] ?? '/' };
}

export interface NodeProxyContext {
  resources: ResourceStore;
  registry?: NodeStreamingRegistry;
  remote?: (nodeName: string) => RemoteNodeStreaming;
}

// Request headers worth passing on to the node; the caller's credentials are not among them.
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'content-length', 'user-agent'];
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'content-length', 'cache-control', 'x-content-type-options'];

export async function serveNodeProxy(req: IncomingMessage, res: ServerResponse, target: NodeProxyTarget, url: URL, ctx: NodeProxyContext): Promise<void> {
  const nodes = findResource('', 'nodes')!;
  // The node must exist whoever serves it: NotFound as upstream (nodes "x" not found).
  ctx.resources.get(nodes, undefined, target.node);

  const local = ctx.registry?.backend(target.node);
  if (local) {
    const route = parseKubeletPath(target.path, url.searchParams);
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
      return;
    }
    return serveKubeletRequest(req, res, route, local);
  }

  if (!ctx.remote) throw new ApiError(503, 'ServiceUnavailable', `error trying to reach service: no node agent is serving node ${target.node}`);
  const remote = ctx.remote(target.node);
  const headers: Record<string, string> = {};
  for (const h of FORWARDED_REQUEST_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const method = req.method ?? 'GET';
  if (method === 'CONNECT' || method === 'TRACE') throw badRequest(`method ${method} is not proxied`);
  let upstream: IncomingMessage;
  try {
    upstream = await remote.request(method, target.path + url.search, headers, method === 'GET' || method === 'HEAD' ? undefined : req);
  } catch (err) {
    const dialText = (err as { dialText?: string }).dialText;
    // Upstream's proxy answers an unreachable backend with 503 "error trying to reach service: <dial error>".
    if (dialText) throw new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${dialText}`);
    throw err;
  }
  const out: Record<string, string | string[]> = {};
  for (const h of FORWARDED_RESPONSE_HEADERS) {
    const v = upstream.headers[h];
    if (v !== undefined) out[h] = v;
  }
  res.writeHead(upstream.statusCode ?? 502, out);
  res.flushHeaders();
  res.on('close', () => {
    if (!upstream.complete) upstream.destroy();
  });
  upstream.pipe(res);
}
