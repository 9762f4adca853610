// The etcd client's calls (src/storage/etcd/rpc.ts, over unary-http2.ts) against stand-in gRPC
// servers (grpc-js, and bare HTTP/2 ones) on loopback: replies and status errors, and which failures
// are retried: reads on another attempt, writes only when they certainly never reached a server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import grpc from '@grpc/grpc-js';
import { createServer } from 'node:net';
import http2 from 'node:http2';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { EtcdRpc, type EtcdRpcError } from '../../src/storage/etcd/rpc.ts';

type Behaviour = 'ok' | 'unavailable' | 'compacted';
const servers: grpc.Server[] = [];
after(() => servers.forEach((s) => s.forceShutdown()));

const execFileAsync = promisify(execFile);
const raw = (b: Buffer) => b;
const text = (b: Buffer) => b.toString();
const bytes = (s: string) => Buffer.from(s);

/** A server for KV/Range and KV/Txn that answers each call as `behave` says and counts them by path. */
async function standIn(behave: (path: string, n: number) => Behaviour) {
  const calls = new Map<string, number>();
  const server = new grpc.Server();
  const handler = (path: string): grpc.handleUnaryCall<Buffer, Buffer> => (call, callback) => {
    const n = (calls.get(path) ?? 0) + 1;
    calls.set(path, n);
    const b = behave(path, n);
    if (b === 'unavailable') return callback({ code: grpc.status.UNAVAILABLE, details: 'etcdserver: leader changed' });
    if (b === 'compacted') return callback({ code: grpc.status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted' });
    callback(null, Buffer.concat([Buffer.from('re:'), call.request]));
  };
  const method = (path: string) => ({ path, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw });
  const paths = ['/etcdserverpb.KV/Range', '/etcdserverpb.KV/Txn', '/etcdserverpb.KV/Compact'];
  server.addService(Object.fromEntries(paths.map((p) => [p.split('/')[2], method(p)])), Object.fromEntries(paths.map((p) => [p.split('/')[2], handler(p)])));
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  servers.push(server);
  return { url: `http://127.0.0.1:${port}`, calls };
}

test('a call returns the decoded reply; a status is an error with its code and message', async () => {
  const s = await standIn((path) => (path.endsWith('/Compact') ? 'compacted' : 'ok'));
  const rpc = new EtcdRpc({ servers: [s.url] });
  assert.equal(await rpc.call('/etcdserverpb.KV/Range', bytes, text, 'q', true), 're:q');
  await assert.rejects(rpc.call('/etcdserverpb.KV/Compact', bytes, text, 'c', true), (err: EtcdRpcError) => err.code === grpc.status.OUT_OF_RANGE && /required revision has been compacted/.test(err.message));
  assert.equal(s.calls.get('/etcdserverpb.KV/Compact'), 1, 'an error other than unavailable is not retried');
  rpc.close();
});

test('a read that fails as unavailable is repeated; a write that reached a server is not', async () => {
  const s = await standIn((_path, n) => (n === 1 ? 'unavailable' : 'ok'));
  const rpc = new EtcdRpc({ servers: [s.url] });
  assert.equal(await rpc.call('/etcdserverpb.KV/Range', bytes, text, 'r', true), 're:r');
  assert.equal(s.calls.get('/etcdserverpb.KV/Range'), 2);
  await assert.rejects(rpc.call('/etcdserverpb.KV/Txn', bytes, text, 'w', false), (err: EtcdRpcError) => err.code === grpc.status.UNAVAILABLE && err.sent);
  assert.equal(s.calls.get('/etcdserverpb.KV/Txn'), 1, 'a write that may have been applied is not sent again');
  rpc.close();
});

test('a write that found no member up goes to the next member, once, and later calls stay there', async () => {
  // A port nothing listens on.
  const deadPort = await new Promise<number>((resolve) => {
    const l = createServer().listen(0, '127.0.0.1', () => {
      const p = (l.address() as { port: number }).port;
      l.close(() => resolve(p));
    });
  });
  const live = await standIn(() => 'ok');
  const two = new EtcdRpc({ servers: [`http://127.0.0.1:${deadPort}`, live.url] });
  assert.equal(await two.call('/etcdserverpb.KV/Txn', bytes, text, 'w2', false), 're:w2');
  assert.equal(live.calls.get('/etcdserverpb.KV/Txn'), 1);
  await two.call('/etcdserverpb.KV/Txn', bytes, text, 'w3', false);
  assert.equal(live.calls.get('/etcdserverpb.KV/Txn'), 2);
  two.close();

  // With no member up at all, the write fails as never sent.
  const none = new EtcdRpc({ servers: [`http://127.0.0.1:${deadPort}`] });
  await assert.rejects(none.call('/etcdserverpb.KV/Txn', bytes, text, 'w4', false), (err: EtcdRpcError) => err.code === grpc.status.UNAVAILABLE && !err.sent);
  none.close();
});

/**
 * A bare HTTP/2 server standing in for a member, for what a gRPC server library does not let a
 * test choose: a refused or reset stream, a non-gRPC answer, a slow answer.
 */
async function rawMember(answer: (stream: http2.ServerHttp2Stream, n: number) => void) {
  let n = 0;
  const server = http2.createServer();
  server.on('stream', (stream) => {
    n++;
    const at = n;
    // A stream this side closes with an error code reports it here too.
    stream.on('error', () => {});
    // Read the whole request first, as a member applies a request it has read.
    stream.resume();
    stream.on('end', () => answer(stream, at));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  rawServers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, calls: () => n };
}
const rawServers: http2.Http2Server[] = [];
after(() => rawServers.forEach((s) => s.close()));

const grpcReply = (stream: http2.ServerHttp2Stream, message: string) => {
  const body = Buffer.from(message);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(Buffer.concat([prefix, body]));
};

test('a stream the member refused is sent again, even for a write; a stream reset after the member read it is not', async () => {
  const refusedOnce = await rawMember((stream, n) => (n === 1 ? stream.close(http2.constants.NGHTTP2_REFUSED_STREAM) : grpcReply(stream, 'done')));
  const rpc = new EtcdRpc({ servers: [refusedOnce.url] });
  assert.equal(await rpc.call('/etcdserverpb.KV/Txn', bytes, text, 'w', false), 'done');
  assert.equal(refusedOnce.calls(), 2);
  rpc.close();

  const reset = await rawMember((stream) => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
  const rpc2 = new EtcdRpc({ servers: [reset.url] });
  await assert.rejects(rpc2.call('/etcdserverpb.KV/Txn', bytes, text, 'w', false), (err: EtcdRpcError) => err.code === grpc.status.UNAVAILABLE && err.sent);
  assert.equal(reset.calls(), 1, 'a write that may have been applied is not sent again');
  rpc2.close();
});

test("a status in a trailers-only answer is the call's error, its message percent-decoded; a non-gRPC answer is an error too", async () => {
  const m = await rawMember((stream, n) => {
    if (n === 1) stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '9', 'grpc-message': 'etcdserver: r%C3%A9sum%C3%A9 100%25' }, { endStream: true });
    else stream.respond({ ':status': 503 }, { endStream: true });
  });
  const rpc = new EtcdRpc({ servers: [m.url] });
  await assert.rejects(rpc.call('/etcdserverpb.KV/Txn', bytes, text, 'w', false), (err: EtcdRpcError) => err.code === 9 && err.message === 'etcdserver: résumé 100%');
  await assert.rejects(rpc.call('/etcdserverpb.KV/Txn', bytes, text, 'w', false), (err: EtcdRpcError) => err.code === grpc.status.UNAVAILABLE && /HTTP 503/.test(err.message));
  rpc.close();
});

test('a call under way keeps the process up; an idle connection does not', async () => {
  const slow = await rawMember((stream) => setTimeout(() => grpcReply(stream, 'late'), 300));
  // A child whose only work is the call: it must print the reply (not exit before it), then exit by
  // itself although the client is never closed.
  const script = `
    const { EtcdRpc } = await import(${JSON.stringify(new URL('../../src/storage/etcd/rpc.ts', import.meta.url).href)});
    const rpc = new EtcdRpc({ servers: [${JSON.stringify(slow.url)}] });
    console.log(await rpc.call('/etcdserverpb.KV/Range', (s) => Buffer.from(s), (b) => b.toString(), 'q', true));`;
  const started = Date.now();
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
  assert.equal(stdout.trim(), 'late');
  assert.ok(Date.now() - started < 8_000, 'the child exited once idle');
});
