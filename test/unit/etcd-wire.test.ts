// The hand-coded etcd messages (src/storage/etcd/wire.ts) against protobufjs reading etcd's own
// .proto files (those the etcd3 package ships): what one side encodes, the other decodes the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { Result, Target, compactionMsg, decodeHeaderRevision, decodeLeaseGrant, decodeRange, decodeTxn, decodeWatch, deleteRangeMsg, encode, leaseGrantMsg, putMsg, rangeMsg, txnMsg, watchCreateMsg } from '../../src/storage/etcd/wire.ts';

const protoDir = join(dirname(createRequire(import.meta.url).resolve('etcd3/package.json')), 'proto');
const root = new protobuf.Root().loadSync(join(protoDir, 'rpc.proto'), { keepCase: true });
const T = (name: string) => root.lookupType(name);
/** protobufjs's reading of bytes, with longs as numbers and bytes as strings for comparison. */
const read = (type: string, buf: Buffer) => T(type).toObject(T(type).decode(buf), { longs: Number, bytes: String, enums: String, oneofs: true });
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const write = (type: string, obj: object) => Buffer.from(T(type).encode(T(type).fromObject(obj)).finish());

test('requests encode as etcd reads them: range, txn with each compare and op, compaction, watch', () => {
  assert.deepEqual(read('etcdserverpb.RangeRequest', encode(rangeMsg({ key: '/registry/pods/', rangeEnd: '/registry/pods0', limit: 1000, revision: 2 ** 40 + 7 }))), {
    key: b64('/registry/pods/'),
    range_end: b64('/registry/pods0'),
    limit: 1000,
    revision: 2 ** 40 + 7,
  });
  assert.deepEqual(read('etcdserverpb.RangeRequest', encode(rangeMsg({ key: 'compact_rev_key', countOnly: true }))), { key: b64('compact_rev_key'), count_only: true });

  const value = JSON.stringify({ metadata: { name: 'wëb-0' }, data: 'x'.repeat(300) });
  const txn = read(
    'etcdserverpb.TxnRequest',
    encode(
      txnMsg({
        compare: [
          { key: '/k', target: Target.Create, result: Result.Equal, value: 0 },
          { key: '/k', target: Target.Mod, result: Result.Equal, value: 123456789 },
          { key: '/k', target: Target.Version, result: Result.Greater, value: 3 },
        ],
        success: [{ put: { key: '/k', value, prevKv: true } }, { deleteRange: { key: '/d', prevKv: true } }],
        failure: [{ range: { key: '/k', keysOnly: true } }],
      }),
    ),
  );
  assert.deepEqual(txn.compare, [
    // An explicit zero in the oneof is kept: it says which revision is compared.
    // (Equal and Version are the enums' zero values, which proto3 leaves out.)
    { target: 'Create', key: b64('/k'), create_revision: 0, target_union: 'create_revision' },
    { target: 'Mod', key: b64('/k'), mod_revision: 123456789, target_union: 'mod_revision' },
    { result: 'Greater', key: b64('/k'), version: 3, target_union: 'version' },
  ]);
  assert.equal(Buffer.from(txn.success[0].request_put.value, 'base64').toString(), value);
  assert.equal(txn.success[0].request_put.prev_kv, true);
  assert.deepEqual(txn.success[1], { request_delete_range: { key: b64('/d'), prev_kv: true }, request: 'request_delete_range' });
  assert.deepEqual(txn.failure, [{ request_range: { key: b64('/k'), keys_only: true }, request: 'request_range' }]);

  assert.deepEqual(read('etcdserverpb.CompactionRequest', encode(compactionMsg(99))), { revision: 99 });
  assert.deepEqual(read('etcdserverpb.WatchRequest', encode(watchCreateMsg({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), startRevision: 5, progressNotify: true, prevKv: true }))), {
    create_request: { key: b64(Buffer.from([0])), range_end: b64(Buffer.from([0])), start_revision: 5, progress_notify: true, prev_kv: true },
    request_union: 'create_request',
  });
});

test('replies decode as etcd writes them: header revision, kvs, txn responses, watch events', () => {
  const header = { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: 2 ** 35 + 1, raft_term: 9 };
  const kv = (key: string, rev: number, value?: string) => ({ key: Buffer.from(key), create_revision: 2, mod_revision: rev, version: 4, lease: '7587868470133442315', ...(value !== undefined ? { value: Buffer.from(value) } : {}) });

  const range = decodeRange(write('etcdserverpb.RangeResponse', { header, kvs: [kv('/a', 10, '{"ü":1}'), kv('/b', 11, '')], more: true, count: 2 }));
  assert.deepEqual({ ...range, lastKey: undefined }, {
    lastKey: undefined,
    revision: 2 ** 35 + 1,
    more: true,
    count: 2,
    kvs: [
      { key: '/a', createRev: 2, modRev: 10, version: 4, value: '{"ü":1}' },
      { key: '/b', createRev: 2, modRev: 11, version: 4, value: '' },
    ],
  });

  assert.equal(range.lastKey?.toString(), '/b');
  // A key that is not UTF-8 is kept byte for byte for paging on after it.
  const odd = Buffer.from([0x2f, 0x78, 0xff, 0xfe]);
  assert.deepEqual(decodeRange(write('etcdserverpb.RangeResponse', { header, kvs: [{ key: odd, mod_revision: 1 }] })).lastKey, odd);

  const txn = decodeTxn(
    write('etcdserverpb.TxnResponse', {
      header,
      succeeded: true,
      responses: [{ response_put: { header, prev_kv: kv('/a', 10, 'old') } }, { response_delete_range: { header, deleted: 1, prev_kvs: [kv('/d', 3, 'gone')] } }, { response_range: { header, kvs: [kv('/r', 5)] } }],
    }),
  );
  assert.equal(txn.revision, 2 ** 35 + 1);
  assert.equal(txn.succeeded, true);
  assert.deepEqual(txn.responses, [
    { put: { prevKv: { key: '/a', createRev: 2, modRev: 10, version: 4, value: 'old' } } },
    { deleteRange: { deleted: 1, prevKvs: [{ key: '/d', createRev: 2, modRev: 3, version: 4, value: 'gone' }] } },
    { range: { revision: 2 ** 35 + 1, more: false, count: 0, kvs: [{ key: '/r', createRev: 2, modRev: 5, version: 4, value: '' }], lastKey: Buffer.from('/r') } },
  ]);
  assert.deepEqual(decodeTxn(write('etcdserverpb.TxnResponse', { header })), { revision: 2 ** 35 + 1, succeeded: false, responses: [] });
  assert.equal(decodeHeaderRevision(write('etcdserverpb.CompactionResponse', { header })), 2 ** 35 + 1);

  const watchBytes = write('etcdserverpb.WatchResponse', {
    header,
    watch_id: 0,
    events: [
      { type: 'Put', kv: kv('/a', 12, 'new'), prev_kv: kv('/a', 10, 'old') },
      { type: 'Delete', kv: { key: Buffer.from('/d'), mod_revision: 13 }, prev_kv: kv('/d', 3, 'gone') },
    ],
  });
  const all = decodeWatch(watchBytes, 'all');
  assert.deepEqual(all.events, [
    { type: 'put', kv: { key: '/a', createRev: 2, modRev: 12, version: 4, value: 'new' }, prevKv: { key: '/a', createRev: 2, modRev: 10, version: 4, value: 'old' } },
    { type: 'delete', kv: { key: '/d', createRev: 0, modRev: 13, version: 0, value: '' }, prevKv: { key: '/d', createRev: 2, modRev: 3, version: 4, value: 'gone' } },
  ]);
  // Only a delete's previous value is decoded when asked so; a put keeps its previous revisions.
  const lean = decodeWatch(watchBytes, 'deletes');
  assert.deepEqual(lean.events[0].prevKv, { key: '/a', createRev: 2, modRev: 10, version: 4 });
  assert.equal(lean.events[1].prevKv?.value, 'gone');

  const cancelled = decodeWatch(write('etcdserverpb.WatchResponse', { header, watch_id: 3, canceled: true, compact_revision: 42, cancel_reason: 'mvcc: required revision has been compacted' }));
  assert.deepEqual({ ...cancelled, revision: 0 }, { revision: 0, watchId: 3, created: false, canceled: true, compactRevision: 42, cancelReason: 'mvcc: required revision has been compacted', fragment: false, events: [] });
});

test('truncated replies are errors, not silently short values', () => {
  const buf = write('etcdserverpb.RangeResponse', { header: { revision: 5 }, kvs: [{ key: Buffer.from('/a'), value: Buffer.from('x'.repeat(100)), mod_revision: 5 }] });
  assert.throws(() => decodeRange(buf.subarray(0, buf.length - 10)), /truncated/);
});

test('lease IDs are int64s beyond 2^53, kept exact both ways; put, delete and grant requests', () => {
  const id = 7587868470133442315n;
  assert.deepEqual(read('etcdserverpb.PutRequest', encode(putMsg('/registry/masterleases/10.0.0.1', '{}', id))), { key: b64('/registry/masterleases/10.0.0.1'), value: b64('{}'), lease: Number(id) });
  const raw = T('etcdserverpb.PutRequest').decode(encode(putMsg('k', 'v', id))) as unknown as { lease: { toString(): string } };
  assert.equal(raw.lease.toString(), id.toString());
  assert.deepEqual(read('etcdserverpb.DeleteRangeRequest', encode(deleteRangeMsg('/a', '/b'))), { key: b64('/a'), range_end: b64('/b') });
  assert.deepEqual(read('etcdserverpb.LeaseGrantRequest', encode(leaseGrantMsg(15))), { TTL: 15 });
  const grant = decodeLeaseGrant(write('etcdserverpb.LeaseGrantResponse', { header: { revision: 9 }, ID: id.toString(), TTL: 15 }));
  assert.deepEqual(grant, { revision: 9, id, ttl: 15, error: '' });
});
