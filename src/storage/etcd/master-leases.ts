// kube-apiserver's master leases in etcd: each API server keeps /registry/masterleases/<ip> alive
// with a short etcd lease (TTL), so the live servers are exactly the keys present. The value is the
// v1 Endpoints object upstream stores there (named by the address, one subset with it).
import type { EtcdClient } from './client.ts';
import { prefixEnd } from './store.ts';

/** What the lease endpoint reconciler needs from its storage (src/apiserver/master-leases.ts). */
export interface MasterLeaseStore {
  /** Writes (or refreshes) this server's key, to expire ttlSeconds from now unless refreshed. */
  update(ip: string, ttlSeconds: number): Promise<void>;
  /** The addresses of the servers whose keys have not expired. */
  list(): Promise<string[]>;
  remove(ip: string): Promise<void>;
}

export class EtcdMasterLeases implements MasterLeaseStore {
  private readonly client: EtcdClient;
  private readonly base: string;

  /** `prefix` is --etcd-prefix (default /registry). */
  constructor(client: EtcdClient, prefix: string) {
    this.client = client;
    this.base = `${prefix.replace(/\/+$/, '')}/masterleases/`;
  }

  async update(ip: string, ttlSeconds: number): Promise<void> {
    // A new etcd lease per refresh, as upstream's storage does for TTL writes: the key moves to the
    // new lease, and the previous one expires empty.
    const lease = await this.client.leaseGrant(ttlSeconds);
    const value = { kind: 'Endpoints', apiVersion: 'v1', metadata: { name: ip, creationTimestamp: null }, subsets: [{ addresses: [{ ip }] }] };
    await this.client.put(this.base + ip, JSON.stringify(value), lease);
  }

  async list(): Promise<string[]> {
    const res = await this.client.range({ key: this.base, rangeEnd: prefixEnd(this.base), keysOnly: true });
    return res.kvs.map((kv) => kv.key.slice(this.base.length)).filter(Boolean);
  }

  async remove(ip: string): Promise<void> {
    await this.client.deleteRange(this.base + ip);
  }
}
