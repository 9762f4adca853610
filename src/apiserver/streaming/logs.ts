// GET pods/log: the container's log as text/plain from the node, streamed as it comes (pipe-logs.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Obj } from '../../api/resource.ts';
import type { NodeStreaming } from '../../streaming/types.ts';
import { ApiError, methodNotSupported } from '../errors.ts';
import { parseLogOptions, podRef, resolveContainer } from './target.ts';
import { pipeLogs } from '../../streaming/pipe-logs.ts';

export interface LogRequest {
  getPod(): Obj;
  node(name: string): NodeStreaming;
}

export async function serveLogs(req: IncomingMessage, res: ServerResponse, podName: string, q: URLSearchParams, ctx: LogRequest): Promise<void> {
  if (req.method !== 'GET') throw methodNotSupported({ group: '', resource: 'pods/log' }, req.method ?? '');
  // Upstream validates the options before it looks at the pod.
  const base = parseLogOptions(q, podName);
  const pod = ctx.getPod();
  const container = resolveContainer(pod, q.get('container'));
  const nodeName: string | undefined = pod.spec?.nodeName;
  if (!nodeName) {
    // Upstream answers an unscheduled pod's log with an empty body, not an error.
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
    res.end();
    return;
  }
  const node = ctx.node(nodeName);
  const stream = await node.logs(podRef(pod), { ...base, container });
  await pipeLogs(stream, res, {
    follow: base.follow,
    headers: { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff' },
    failBeforeStart(err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${err.message}`);
      res.writeHead(e.code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(e.toStatus()));
    },
  });
}
