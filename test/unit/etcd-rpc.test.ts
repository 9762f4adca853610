// The etcd client's calls (src/storage/etcd/rpc.ts) against stand-in gRPC servers (grpc-js) on
// loopback: replies and status errors, and which failures are retried: reads on another attempt,
// writes only when they certainly never reached a server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import grpc from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { EtcdRpc, type EtcdRpcError } from '../../src/storage/etcd/rpc.ts';

type Behaviour = 'ok' | 'unavailable' | 'compacted';
const servers: grpc.Server[] = [];
after(() => servers.forEach((s) => s.forceShutdown()));

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
