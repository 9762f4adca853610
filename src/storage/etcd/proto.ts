// etcd's v3 API messages, from etcd's own protocol definitions (the rpc.proto, kv.proto and
// auth.proto the etcd3 package ships), loaded once by protobufjs. Field names are kept as the .proto
// spells them (create_revision, prev_kv), so requests and replies read like etcd's documentation.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

const protoDir = join(dirname(createRequire(import.meta.url).resolve('etcd3/package.json')), 'proto');

export const root = new protobuf.Root();
root.loadSync(join(protoDir, 'rpc.proto'), { keepCase: true });
root.resolveAll();

const type = (name: string) => root.lookupType(`etcdserverpb.${name}`);

export const pb = {
  RangeRequest: type('RangeRequest'),
  RangeResponse: type('RangeResponse'),
  TxnRequest: type('TxnRequest'),
  TxnResponse: type('TxnResponse'),
  PutRequest: type('PutRequest'),
  PutResponse: type('PutResponse'),
  DeleteRangeRequest: type('DeleteRangeRequest'),
  DeleteRangeResponse: type('DeleteRangeResponse'),
  CompactionRequest: type('CompactionRequest'),
  CompactionResponse: type('CompactionResponse'),
  LeaseGrantRequest: type('LeaseGrantRequest'),
  LeaseGrantResponse: type('LeaseGrantResponse'),
  WatchRequest: type('WatchRequest'),
  WatchResponse: type('WatchResponse'),
};

/** gRPC method paths, as etcd's services are named in rpc.proto. */
export const methods = {
  range: '/etcdserverpb.KV/Range',
  txn: '/etcdserverpb.KV/Txn',
  put: '/etcdserverpb.KV/Put',
  deleteRange: '/etcdserverpb.KV/DeleteRange',
  compact: '/etcdserverpb.KV/Compact',
  leaseGrant: '/etcdserverpb.Lease/LeaseGrant',
  watch: '/etcdserverpb.Watch/Watch',
} as const;

// The paths above are checked against the loaded services, so a renamed method fails at load.
for (const path of Object.values(methods)) {
  const [, svc, method] = path.split('/');
  const service = root.lookupService(svc);
  if (!service.methods[method]) throw new Error(`etcd's rpc.proto has no ${path}`);
}
