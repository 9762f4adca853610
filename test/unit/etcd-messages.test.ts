// The translation between the store's terms and etcd's own messages (src/storage/etcd/messages.ts):
// requests come out as etcd's .proto reads them, and replies built from etcd's .proto come back
// with exact revisions, exact int64 lease IDs, exact key bytes, and a put's previous value unread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../src/storage/etcd/proto.ts';
import { Result, Target, decodeReply, encodeRequest } from '../../src/storage/etcd/messages.ts';

const obj = (t: (typeof pb)[keyof typeof pb], buf: Buffer) => t.toObject(t.decode(buf), { longs: String, bytes: String, oneofs: true }) as Record<string, any>;
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('a guarded create compares the create revision with 0: the oneof member is sent though it is 0', () => {
  const buf = encodeRequest.txn({ compare: [{ key: 'k', target: Target.Create, result: Result.Equal, value: 0 }], success: [{ put: { key: 'k', value: 'v' } }] });
  const m = obj(pb.TxnRequest, buf);
  assert.equal(m.compare[0].target_union, 'create_revision');
  assert.equal(m.compare[0].create_revision, '0');
  assert.equal(m.compare[0].key, b64('k'));
  assert.equal(m.success[0].request_put.value, b64('v'));
});

test('an update compares the mod revision and asks for the previous kv; its failure reads the key only', () => {
  const big = 2 ** 52 + 3;
  const buf = encodeRequest.txn({
    compare: [{ key: 'k', target: Target.Mod, result: Result.Equal, value: big }],
    success: [{ put: { key: 'k', value: 'v', prevKv: true } }],
    failure: [{ range: { key: 'k', keysOnly: true } }],
  });
  const m = obj(pb.TxnRequest, buf);
  assert.equal(m.compare[0].mod_revision, String(big));
  assert.equal(m.compare[0].target, 2);
  assert.equal(m.success[0].request_put.prev_kv, true);
  assert.equal(m.failure[0].request_range.keys_only, true);
});

test('a lease ID beyond 2^53 survives both ways exactly', () => {
  const id = 7587880453263982345n;
  const reply = pb.LeaseGrantResponse.encode({ header: { revision: 9 }, ID: id.toString(), TTL: 15 }).finish() as Buffer;
  assert.deepEqual(decodeReply.leaseGrant(reply), { revision: 9, id, ttl: 15, error: '' });
  assert.equal(obj(pb.PutRequest, encodeRequest.put({ key: 'k', value: 'v', lease: id })).lease, id.toString());
  const negative = -2n;
  assert.equal(decodeReply.leaseGrant(pb.LeaseGrantResponse.encode({ ID: negative.toString() }).finish() as Buffer).id, negative);
});

test('a range reply: revisions as numbers, values as text, and the last key as its exact bytes', () => {
  const odd = Buffer.from([0x2f, 0xff, 0xfe]);
  const reply = pb.RangeResponse.encode({
    header: { revision: 2 ** 40 },
    kvs: [
      { key: Buffer.from('/a'), create_revision: 5, mod_revision: 7, version: 2, value: Buffer.from('{"x":"é"}') },
      { key: odd, create_revision: 8, mod_revision: 8, version: 1 },
    ],
    more: true,
    count: 10,
  }).finish() as Buffer;
  const res = decodeReply.range(reply);
  assert.equal(res.revision, 2 ** 40);
  assert.deepEqual(res.kvs[0], { key: '/a', createRev: 5, modRev: 7, version: 2, value: '{"x":"é"}' });
  assert.equal(res.kvs[1].value, '', 'an empty value is left out on the wire');
  assert.equal(res.more, true);
  assert.equal(res.count, 10);
  assert.deepEqual(res.lastKey, odd);
});

test("a watch reply: a put's previous value is left undecoded, a delete's is read", () => {
  const kv = (v: string, rev: number) => ({ key: Buffer.from('/k'), create_revision: 3, mod_revision: rev, version: 1, value: Buffer.from(v) });
  const reply = pb.WatchResponse.encode({
    header: { revision: 12 },
    watch_id: 0,
    events: [
      { type: 0, kv: kv('new', 11), prev_kv: kv('old', 10) },
      { type: 1, kv: { key: Buffer.from('/k'), mod_revision: 12 }, prev_kv: kv('new', 11) },
    ],
  }).finish() as Buffer;
  const res = decodeReply.watch(reply, 'deletes');
  assert.equal(res.revision, 12);
  assert.equal(res.events[0].type, 'put');
  assert.equal(res.events[0].kv.value, 'new');
  assert.equal(res.events[0].prevKv?.modRev, 10);
  assert.equal(res.events[0].prevKv?.value, undefined);
  assert.equal(res.events[1].type, 'delete');
  assert.equal(res.events[1].prevKv?.value, 'new');
  assert.equal(decodeReply.watch(reply, 'all').events[0].prevKv?.value, 'old');

  const canceled = decodeReply.watch(pb.WatchResponse.encode({ canceled: true, compact_revision: 40, cancel_reason: 'compacted' }).finish() as Buffer);
  assert.deepEqual([canceled.canceled, canceled.compactRevision, canceled.cancelReason], [true, 40, 'compacted']);
});

test('a watch create request starts after a revision and asks for previous kvs and progress', () => {
  const m = obj(pb.WatchRequest, encodeRequest.watchCreate({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), startRevision: 41, prevKv: true, progressNotify: true }));
  assert.equal(m.request_union, 'create_request');
  assert.deepEqual([m.create_request.start_revision, m.create_request.prev_kv, m.create_request.progress_notify], ['41', true, true]);
});
