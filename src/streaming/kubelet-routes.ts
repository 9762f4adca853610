// The kubelet API's plain (non-upgrade) requests: GET /pods, /healthz and /containerLogs. The node
// agent's kubelet server answers them with this, and so does the API server's node proxy for an
// agent in its own process (no TLS hop there): `kubectl get --raw /api/v1/nodes/N/proxy/pods`
// reads alike whichever process runs the node.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Obj } from '../api/resource.ts';
import { ApiError } from '../apiserver/errors.ts';
import type { NodeStreaming, PodRef } from './types.ts';
import { pipeLogs } from './pipe-logs.ts';
import { errorBody, type KubeletRoute } from './kubelet-wire.ts';

/** What a node offers through its kubelet API. */
export interface KubeletBackend {
  streaming: NodeStreaming;
  /** A v1 PodList of the pods the node runs. */
  listPods(): Promise<Obj>;
}

export function sendStatus(res: ServerResponse, err: unknown): void {
  const apiErr = err instanceof ApiError ? err : new ApiError(500, 'InternalError', (err as Error)?.message ?? String(err));
  if (res.headersSent) {
    // Mid-stream there is no status to send: cut the response so the client sees it incomplete.
    res.destroy();
    return;
  }
  res.writeHead(apiErr.code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.end(errorBody(apiErr));
}

/** Serves a parsed route that needs no upgrade; exec, attach and port-forward answer 400 here. */
export async function serveKubeletRequest(req: IncomingMessage, res: ServerResponse, route: KubeletRoute, node: KubeletBackend): Promise<void> {
  try {
    const method = req.method ?? 'GET';
    if (route.kind === 'healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    if (route.kind === 'pods') {
      const list = await node.listPods();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(list));
      return;
    }
    if (route.kind === 'containerLogs') {
      const uid = route.uid ?? (await podUid(node, route.namespace, route.name));
      const pod: PodRef = { namespace: route.namespace, name: route.name, uid };
      const stream = await node.streaming.logs(pod, route.opts);
      await pipeLogs(stream, res, {
        follow: route.opts.follow,
        headers: { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' },
        failBeforeStart: (err) => sendStatus(res, err),
      });
      return;
    }
    throw new ApiError(400, 'BadRequest', 'Upgrade request required');
  } catch (err) {
    sendStatus(res, err);
  }
}

/** The kubelet finds a pod's logs by namespace and name: the uid of the one it runs under that name. */
async function podUid(node: KubeletBackend, namespace: string, name: string): Promise<string> {
  const list = await node.listPods();
  const pod = (list.items as Obj[] | undefined)?.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name);
  if (!pod) throw new ApiError(404, 'NotFound', `pod ${JSON.stringify(name)} does not exist`);
  return pod.metadata.uid;
}
