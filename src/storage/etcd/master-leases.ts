// kube-apiserver's master leases in etcd: each API server keeps /registry/masterleases/<ip> alive
// with a short etcd lease (TTL), so the live servers are exactly the keys present. The value is the
// v1 Endpoints object upstream stores there (named by the address, one subset with it).
import type { Etcd3 } from 'etcd3';
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
  private readonly client: Etcd3;
  private readonly base: string;

  /** `prefix` is --etcd-prefix (default /registry). */
  constructor(client: Etcd3, prefix: string) {
    this.client = client;
    this.base = `${prefix.replace(/\/+$/, '')}/masterleases/`;
  }

  async update(ip: string, ttlSeconds: number): Promise<void> {
    // A new etcd lease per refresh, as upstream's storage does for TTL writes: the key moves to the
    // new lease, and the previous one expires empty.
    const grant = await this.client.leaseClient.leaseGrant({ TTL: ttlSeconds });
    const value = { kind: 'Endpoints', apiVersion: 'v1', metadata: { name: ip, creationTimestamp: null }, subsets: [{ addresses: [{ ip }] }] };
    await this.client.kv.put({ key: Buffer.from(this.base + ip), value: Buffer.from(JSON.stringify(value)), lease: grant.ID });
  }

  async list(): Promise<string[]> {
    const res = await this.client.kv.range({ key: Buffer.from(this.base), range_end: prefixEnd(this.base), keys_only: true });
    return res.kvs.map((kv) => kv.key.toString().slice(this.base.length)).filter(Boolean);
  }

  async remove(ip: string): Promise<void> {
    await this.client.kv.deleteRange({ key: Buffer.from(this.base + ip) });
  }
}
