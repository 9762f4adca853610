// GET pods/log: the container's log as text/plain from the node, streamed as it comes (chunked, so
// `kubectl logs -f` sees each line at once) and torn down when the client goes away.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Obj } from '../../api/resource.ts';
import type { NodeStreaming } from '../../streaming/types.ts';
import { ApiError, methodNotSupported } from '../errors.ts';
import { parseLogOptions, podRef, resolveContainer } from './target.ts';

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
  await pipeToResponse(stream, res, base.follow);
}

function pipeToResponse(stream: Readable, res: ServerResponse, follow: boolean): Promise<void> {
  return new Promise((resolve) => {
    let started = false;
    const done = () => {
      res.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      if (!res.writableFinished) stream.destroy();
      done();
    };
    res.on('close', onClose);
    stream.on('error', (err) => {
      if (!started) {
        const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${err.message}`);
        res.writeHead(e.code, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(e.toStatus()));
      } else {
        // Mid-stream there is no status to send: cut the response so the client sees it incomplete.
        res.destroy();
      }
      done();
    });
    const head = () => {
      if (started) return;
      started = true;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff' });
      res.flushHeaders();
    };
    // A follower sees the response start at once, even before the container writes anything.
    if (follow) head();
    stream.on('data', (chunk: Buffer) => {
      head();
      if (!res.write(chunk)) {
        stream.pause();
        res.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => {
      head();
      res.end();
      done();
    });
  });
}
