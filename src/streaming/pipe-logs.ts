// A container's log streamed into an HTTP response as it comes (chunked, so `kubectl logs -f` sees
// each line at once), with back-pressure, and torn down when the client goes away. The API
// server's pods/log and the kubelet API's containerLogs answer alike but for their headers and
// error bodies, which the caller gives.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

export interface PipeLogsOptions {
  /** Start the response at once, before the container writes anything, so a follower sees it. */
  follow: boolean;
  /** The 200 response's headers. */
  headers: OutgoingHttpHeaders;
  /** Answers an error that came before any byte of the log. */
  failBeforeStart(err: Error): void;
}

export function pipeLogs(stream: Readable, res: ServerResponse, opts: PipeLogsOptions): Promise<void> {
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
    const head = () => {
      if (started) return;
      started = true;
      res.writeHead(200, opts.headers);
      res.flushHeaders();
    };
    if (opts.follow) head();
    stream.on('error', (err) => {
      // Mid-stream there is no status to send: cut the response so the client sees it incomplete.
      if (started) res.destroy();
      else opts.failBeforeStart(err);
      done();
    });
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
