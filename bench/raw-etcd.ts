// The etcd store's floor and ceiling on this disk, as raw-sqlite.ts measures SQLite's: guarded
// creates (the store's transaction shape) of 900-byte values one at a time, then with 32 in flight
// (etcd batches concurrent proposals into one raft entry and one fsync), through the driver's own
// client against the bench's etcd, under a prefix of its own that the bench then deletes.
import { EtcdClient } from '../src/storage/etcd/client.ts';
import { Result, Target } from '../src/storage/etcd/messages.ts';
import { prefixEnd } from '../src/storage/etcd/store.ts';

export async function rawEtcd(url: string, n: number): Promise<{ serial: number; concurrent: number }> {
  const client = new EtcdClient({ servers: [url] });
  const prefix = `/ordinal-bench-raw/${Date.now()}/`;
  const value = 'x'.repeat(900);
  const create = (key: string) => client.txn({ compare: [{ key, target: Target.Create, result: Result.Equal, value: 0 }], success: [{ put: { key, value } }] });
  try {
    let t = performance.now();
    for (let i = 0; i < n; i++) await create(`${prefix}a${i}`);
    const serial = n / ((performance.now() - t) / 1000);
    let next = 0;
    t = performance.now();
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < n * 5) await create(`${prefix}b${next++}`);
    }));
    const concurrent = (n * 5) / ((performance.now() - t) / 1000);
    await client.deleteRange(prefix, prefixEnd(prefix));
    return { serial, concurrent };
  } finally {
    client.close();
  }
}
