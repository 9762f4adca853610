// The etcd client's gRPC transport (src/storage/etcd/h2.ts, rpc.ts) against a stand-in gRPC server
// on loopback (node:http2): message framing across chunks, status trailers, and which failures
// are retried: reads always, writes only when they certainly never reached a server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { MessageReader, frame, GrpcError } from '../../src/storage/etcd/h2.ts';
import { EtcdRpc } from '../../src/storage/etcd/rpc.ts';

test('messages are split out of chunks however the bytes arrive', () => {
  const msgs = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('x'.repeat(70_000)), Buffer.from('end')];
  const bytes = Buffer.concat(msgs.map(frame));
  for (const size of [1, 3, 5, 7, 4096, bytes.length]) {
    const r = new MessageReader(1 << 20);
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) out.push(...r.push(bytes.subarray(i, i + size)));
    assert.deepEqual(out.map((m) => m.toString()), msgs.map((m) => m.toString()), `chunks of ${size}`);
    assert.equal(r.pending(), false);
  }
  const cut = new MessageReader(1 << 20);
  cut.push(frame(Buffer.from('hello')).subarray(0, 7));
  assert.equal(cut.pending(), true);
  assert.throws(() => new MessageReader(10).push(frame(Buffer.alloc(11))), /exceeds the limit/);
});

type Behaviour = 'ok' | 'reset' | 'refuse' | 'status';
const servers: http2.Http2Server[] = [];
after(() => servers.forEach((s) => s.close()));

/** A server that answers each call as `behave` says and counts the calls by path. */
async function standIn(behave: (path: string, n: number) => Behaviour) {
  const calls = new Map<string, number>();
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    const n = (calls.get(path) ?? 0) + 1;
    calls.set(path, n);
    const chunks: Buffer[] = [];
    // Closing a stream with an error code reports that error here too.
    stream.on('error', () => {});
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const b = behave(path, n);
      if (b === 'reset') return stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      if (b === 'refuse') return stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      if (b === 'status') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '9', 'grpc-message': 'etcdserver:%20mvcc:%20required%20revision%20has%20been%20compacted' }, { endStream: true });
        return;
      }
      const request = Buffer.concat(chunks).subarray(5);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      // The reply echoes the request, in two chunks.
      const reply = frame(Buffer.concat([Buffer.from('re:'), request]));
      stream.write(reply.subarray(0, 3));
      stream.end(reply.subarray(3));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

test('a call sends one framed message and returns the reply; a grpc-status is an error with its message', async () => {
  const s = await standIn((path) => (path.endsWith('/Compact') ? 'status' : 'ok'));
  const rpc = new EtcdRpc({ servers: [s.url] });
  assert.equal((await rpc.call('/etcdserverpb.KV/Range', Buffer.from('q'), true)).toString(), 're:q');
  await assert.rejects(rpc.call('/etcdserverpb.KV/Compact', Buffer.from('c'), true), (err: GrpcError) => err.code === 9 && /required revision has been compacted/.test(err.message));
  rpc.close();
});

test('a read that fails on the way is repeated; a write that may have been applied is not', async () => {
  const s = await standIn((_path, n) => (n === 1 ? 'reset' : 'ok'));
  const rpc = new EtcdRpc({ servers: [s.url] });
  assert.equal((await rpc.call('/etcdserverpb.KV/Range', Buffer.from('r'), true)).toString(), 're:r');
  assert.equal(s.calls.get('/etcdserverpb.KV/Range'), 2);
  await assert.rejects(rpc.call('/etcdserverpb.KV/Txn', Buffer.from('w'), false), (err: GrpcError) => err.code === 14 && err.sent);
  assert.equal(s.calls.get('/etcdserverpb.KV/Txn'), 1, 'a write reset after it was sent is not sent again');
  rpc.close();
});

test('a write the server refused, or that found no member up, goes to the next member', async () => {
  const s = await standIn((_path, n) => (n === 1 ? 'refuse' : 'ok'));
  const rpc = new EtcdRpc({ servers: [s.url] });
  assert.equal((await rpc.call('/etcdserverpb.KV/Txn', Buffer.from('w'), false)).toString(), 're:w');
  assert.equal(s.calls.get('/etcdserverpb.KV/Txn'), 2);
  rpc.close();

  // The first member is down (nothing listens there): the write is sent to the second, once.
  const down = http2.createServer();
  await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
  const deadUrl = `http://127.0.0.1:${(down.address() as AddressInfo).port}`;
  await new Promise<void>((r) => down.close(() => r()));
  const live = await standIn(() => 'ok');
  const two = new EtcdRpc({ servers: [deadUrl, live.url] });
  assert.equal((await two.call('/etcdserverpb.KV/Txn', Buffer.from('w2'), false)).toString(), 're:w2');
  assert.equal(live.calls.get('/etcdserverpb.KV/Txn'), 1);
  // Later calls stay on the member that answered.
  await two.call('/etcdserverpb.KV/Txn', Buffer.from('w3'), false);
  assert.equal(live.calls.get('/etcdserverpb.KV/Txn'), 2);
  two.close();
});
