import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { duplexPair } from 'node:stream';
import type { Duplex, Readable } from 'node:stream';
import zlib from 'node:zlib';
import {
  SpdyConnection,
  SpdyStream,
  HeaderCompressor,
  HeaderDecompressor,
  FrameDecoder,
  encodeFrame,
  SPDY3_DICTIONARY,
  RstStatus,
  headerValue,
  decodeHeaderBlock,
  encodeHeaderBlock,
} from '../../src/streaming/spdy/index.ts';
import type { Frame } from '../../src/streaming/spdy/index.ts';

function roundTrip(frames: Frame[]): Frame[] {
  const c = new HeaderCompressor();
  const d = new FrameDecoder(new HeaderDecompressor());
  const wire = Buffer.concat(frames.map((f) => encodeFrame(f, c)));
  // Byte by byte: the decoder must cope with any split.
  const out: Frame[] = [];
  for (let i = 0; i < wire.length; i++) out.push(...d.push(wire.subarray(i, i + 1)));
  return out;
}

test('the SPDY/3 dictionary has the spec size and zlib id', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  let a = 1;
  let b = 0;
  for (const x of SPDY3_DICTIONARY) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  assert.equal(((b << 16) | a) >>> 0, 0xe3c6a7c2);
});

test('every frame type round-trips', () => {
  const frames: Frame[] = [
    { type: 'syn_stream', streamId: 1, associatedId: 0, priority: 3, slot: 0, fin: false, unidirectional: false, headers: { streamtype: 'error', a: ['x', 'y'] } },
    { type: 'syn_stream', streamId: 3, associatedId: 1, priority: 7, slot: 2, fin: true, unidirectional: true, headers: {} },
    { type: 'syn_reply', streamId: 1, fin: false, headers: { ok: '1' } },
    { type: 'syn_reply', streamId: 3, fin: true, headers: {} },
    { type: 'headers', streamId: 1, fin: true, headers: { trailer: 'v' } },
    { type: 'rst_stream', streamId: 5, status: RstStatus.CANCEL },
    { type: 'settings', clear: true, settings: [{ id: 7, value: 65536, flags: 1 }, { id: 4, value: 100, flags: 0 }] },
    { type: 'ping', id: 0xfffffffe },
    { type: 'goaway', lastGoodStreamId: 9, status: 2 },
    { type: 'window_update', streamId: 0, delta: 0x7fffffff },
    { type: 'window_update', streamId: 3, delta: 1000 },
    { type: 'data', streamId: 1, fin: false, data: Buffer.from('hello') },
    { type: 'data', streamId: 0x7fffffff, fin: true, data: Buffer.alloc(0) },
    { type: 'data', streamId: 2, fin: false, data: Buffer.alloc(100_000, 7) },
  ];
  assert.deepEqual(roundTrip(frames), frames);
});

test('unknown control frame types are skipped', () => {
  const unknown = Buffer.from([0x80, 3, 0, 10, 0, 0, 0, 2, 1, 2]); // CREDENTIAL-like, 2 bytes
  const d = new FrameDecoder(new HeaderDecompressor());
  const ping = encodeFrame({ type: 'ping', id: 5 }, new HeaderCompressor());
  assert.deepEqual(d.push(Buffer.concat([unknown, ping])), [{ type: 'ping', id: 5 }]);
});

test('header blocks share one zlib context per direction', () => {
  const c = new HeaderCompressor();
  const headers = { streamtype: 'stdout', requestid: '0', port: '80', 'x-long-name': 'value'.repeat(20) };
  const blocks = [1, 2, 3, 4, 5].map(() => c.compress(headers));
  // Later blocks reuse the history, so they shrink.
  assert.ok(blocks[4]!.length < blocks[0]!.length / 2, `${blocks.map((b) => b.length)}`);
  const d = new HeaderDecompressor();
  for (const b of blocks) assert.deepEqual(d.decompress(b), headers);
  // A fresh context cannot decode a later block alone.
  assert.throws(() => new HeaderDecompressor().decompress(blocks[2]!));
  // The first block is a plain zlib stream primed with the dictionary, sync-flushed.
  const raw = zlib.inflateSync(blocks[0]!, { dictionary: SPDY3_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.deepEqual(decodeHeaderBlock(raw), headers);
});

test('header block layout: count, length-prefixed names and NUL-joined values', () => {
  const b = encodeHeaderBlock({ A: ['1', '2'] });
  assert.deepEqual([...b], [0, 0, 0, 1, 0, 0, 0, 1, 97, 0, 0, 0, 3, 49, 0, 50]);
  assert.deepEqual(decodeHeaderBlock(b), { a: ['1', '2'] });
  assert.equal(headerValue({ a: ['1', '2'] }, 'A'), '1');
});

async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const s = await accepted;
  server.close();
  return [client, s];
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

// Streams can arrive several per transport chunk, so collect them from the start.
const queues = new WeakMap<SpdyConnection, { got: SpdyStream[]; waiting: Array<(s: SpdyStream) => void> }>();
function watch(conn: SpdyConnection): SpdyConnection {
  const q = { got: [] as SpdyStream[], waiting: [] as Array<(s: SpdyStream) => void> };
  queues.set(conn, q);
  conn.on('stream', (s) => {
    const w = q.waiting.shift();
    if (w) w(s);
    else q.got.push(s);
  });
  return conn;
}
function nextStream(conn: SpdyConnection): Promise<SpdyStream> {
  const q = queues.get(conn)!;
  const s = q.got.shift();
  return s ? Promise.resolve(s) : new Promise((r) => q.waiting.push(r));
}

async function pairOver(kind: 'net' | 'memory'): Promise<{ client: SpdyConnection; server: SpdyConnection; ends: Duplex[] }> {
  const [a, b] = kind === 'net' ? await socketPair() : duplexPair();
  return { client: watch(new SpdyConnection(a, { server: false })), server: watch(new SpdyConnection(b, { server: true })), ends: [a, b] };
}

for (const kind of ['net', 'memory'] as const) {
  test(`streams with headers, replies and half-close (${kind})`, { timeout: 20000 }, async () => {
    const { client, server } = await pairOver(kind);
    const accepted = nextStream(server);
    const s1 = client.openStream({ streamtype: 'stdin', requestid: '1' });
    const s2 = client.openStream({ streamtype: 'stdout' }, { fin: true });
    assert.equal(s1.id, 1);
    assert.equal(s2.id, 3);
    // Written before the reply: held until SYN_REPLY arrives.
    s1.write('hello ');
    const peer1 = await accepted;
    assert.equal(peer1.id, 1);
    assert.equal(headerValue(peer1.headers, 'streamType'), 'stdin');
    const peer2 = await nextStream(server);
    peer1.reply({ answer: 'yes' });
    peer2.reply();
    assert.deepEqual(await s1.replied, { answer: 'yes' });
    s1.end('world');
    // Half-close: the server reads to EOF, then still answers.
    assert.equal((await readAll(peer1)).toString(), 'hello world');
    peer1.end('bye');
    assert.equal((await readAll(s1)).toString(), 'bye');
    // s2 carries data only from the server.
    peer2.end('out');
    assert.equal((await readAll(s2)).toString(), 'out');
    assert.equal((await readAll(peer2)).length, 0);
    // Server-initiated streams get even ids.
    const fromServer = server.openStream({ x: '1' });
    assert.equal(fromServer.id, 2);
    const got = await nextStream(client);
    got.reply();
    fromServer.end('ping');
    assert.equal((await readAll(got)).toString(), 'ping');
    got.end();
    await readAll(fromServer);
    assert.equal(await server.ping().then((ms) => typeof ms), 'number');
    assert.equal(await client.ping().then((ms) => typeof ms), 'number');
    client.close();
    await Promise.all([client.closed, server.closed]);
  });
}

test('reset: the peer sees EOF after the data already sent, and a reset event', { timeout: 20000 }, async () => {
  const { client, server } = await pairOver('net');
  const accepted = nextStream(server);
  const s = client.openStream({ streamtype: 'data' });
  const peer = await accepted;
  peer.reply();
  peer.write('last words');
  const resetSeen = new Promise<number>((r) => s.once('reset', r));
  peer.reset(RstStatus.CANCEL);
  assert.equal(await resetSeen, RstStatus.CANCEL);
  assert.equal((await readAll(s)).toString(), 'last words');
  // Writes after a reset are dropped, not errors.
  s.write('ignored');
  s.end();
  // A stream reset before its reply rejects `replied`.
  const refused = client.openStream({ x: 'y' });
  const p = await nextStream(server);
  p.reset(RstStatus.REFUSED_STREAM);
  await assert.rejects(refused.replied, /reset/);
  // Destroying a live stream resets it on the other side.
  const s3 = client.openStream({});
  const p3 = await nextStream(server);
  p3.reply();
  await s3.replied;
  const peerReset = new Promise<number>((r) => p3.once('reset', r));
  s3.destroy();
  assert.equal(await peerReset, RstStatus.CANCEL);
  client.destroy();
  await server.closed;
});

test('more than 64 KiB each way, with no WINDOW_UPDATE either way', { timeout: 20000 }, async () => {
  const { client, server } = await pairOver('net');
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9)) & 0xff;
  const accepted = nextStream(server);
  const s = client.openStream({ streamtype: 'stdin' });
  const peer = await accepted;
  peer.reply();
  const echoed = readAll(s);
  // Echo back everything, ending when the client ends.
  peer.pipe(peer);
  s.end(big);
  const back = await echoed;
  assert.equal(back.length, big.length);
  assert.ok(back.equals(big));
  client.close();
  await server.closed;
});

test('a raw peer that never grants window is not waited for, and we send no WINDOW_UPDATE (spdystream peers may drop the connection on one)', { timeout: 20000 }, async () => {
  const [ours, theirs] = duplexPair();
  const conn = watch(new SpdyConnection(ours, { server: true }));
  const comp = new HeaderCompressor();
  const dec = new FrameDecoder(new HeaderDecompressor());
  const seen: Frame[] = [];
  theirs.on('data', (c: Buffer) => seen.push(...dec.push(c)));
  theirs.on('end', () => theirs.end());
  const send = (f: Frame) => theirs.write(encodeFrame(f, comp));
  const accepted = nextStream(conn);
  send({ type: 'syn_stream', streamId: 1, associatedId: 0, priority: 0, slot: 0, fin: false, unidirectional: false, headers: { streamtype: 'stdin' } });
  const stream = await accepted;
  stream.reply();
  // We send 1 MiB without any WINDOW_UPDATE from the peer.
  stream.write(Buffer.alloc(1024 * 1024, 1));
  // The peer sends 256 KiB, which we read.
  const chunk = Buffer.alloc(16 * 1024, 2);
  let got = 0;
  const gotAll = new Promise<void>((r) => stream.on('data', (c: Buffer) => (got += c.length) === 256 * 1024 && r()));
  for (let i = 0; i < 16; i++) send({ type: 'data', streamId: 1, fin: false, data: chunk });
  await gotAll;
  await new Promise((r) => setImmediate(r));
  const dataOut = seen.filter((f) => f.type === 'data').reduce((n, f) => n + (f.type === 'data' ? f.data.length : 0), 0);
  assert.equal(dataOut, 1024 * 1024);
  assert.deepEqual(seen.filter((f) => f.type === 'window_update'), []);
  assert.equal(seen.filter((f) => f.type === 'syn_reply').length, 1);
  // PING from the peer is echoed; bad stream ids are refused.
  send({ type: 'ping', id: 7 });
  send({ type: 'syn_stream', streamId: 1, associatedId: 0, priority: 0, slot: 0, fin: false, unidirectional: false, headers: {} });
  await new Promise((r) => setImmediate(r));
  assert.ok(seen.some((f) => f.type === 'ping' && f.id === 7));
  assert.ok(seen.some((f) => f.type === 'rst_stream' && f.streamId === 1 && f.status === RstStatus.PROTOCOL_ERROR));
  // GOAWAY from the peer: once our streams are done, the transport ends.
  send({ type: 'data', streamId: 1, fin: true, data: Buffer.alloc(0) });
  send({ type: 'goaway', lastGoodStreamId: 0, status: 0 });
  stream.end();
  await conn.closed;
});

test('a corrupt header block closes the connection with an error', { timeout: 20000 }, async () => {
  const [ours, theirs] = duplexPair();
  const conn = new SpdyConnection(ours, { server: true });
  const bogus = Buffer.concat([Buffer.from([0x80, 3, 0, 1, 0, 0, 0, 14]), Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from('junk')]);
  theirs.on('data', () => {});
  theirs.write(bogus);
  const err = await conn.closed;
  assert.match(String(err), /header block/);
});
