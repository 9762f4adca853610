// kube-apiserver's lease endpoint reconciler (--endpoint-reconciler-type lease, the default): with
// several API servers on one etcd, the `kubernetes` Endpoints (and its EndpointSlice) list every
// live server. Each server refreshes its master lease every EndpointInterval (10 s) with a 15 s TTL
// and rewrites the Endpoints from the leases it finds; a server that dies drops out once its lease
// expires, and one that stops cleanly removes itself at once.
import type { Obj } from '../api/resource.ts';
import { findResource } from './request.ts';
import type { ResourceStore } from './resource-store.ts';
import type { MasterLeaseStore } from '../storage/etcd/master-leases.ts';
import { ensureObject } from './cluster-services.ts';
import { log } from '../util/log.ts';

/** Upstream's DefaultEndpointReconcilerTTL and EndpointInterval. */
export const MASTER_LEASE_TTL_SECONDS = 15;
export const ENDPOINT_INTERVAL_MS = 10_000;

/** The Endpoints for these servers: one subset, addresses sorted as upstream sorts them. */
export function kubernetesEndpointsFor(ips: string[], port: number): Obj {
  return {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: sortIps(ips).map((ip) => ({ ip })), ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  };
}

export function kubernetesEndpointSliceFor(ips: string[], port: number): Obj {
  return {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: sortIps(ips).map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
}

function sortIps(ips: string[]): string[] {
  return [...new Set(ips)].sort();
}

/**
 * Which addresses to publish, or undefined to leave the Endpoints alone: no lease at all right after
 * refreshing one's own means storage is not telling the truth (upstream skips the update then).
 */
export function addressesToPublish(leases: string[], own: string | undefined): string[] | undefined {
  if (leases.length === 0) return undefined;
  return own === undefined || leases.includes(own) ? sortIps(leases) : sortIps([...leases, own]);
}

export interface LeaseReconcilerOptions {
  ip: string;
  port: number;
  intervalMs?: number;
  ttlSeconds?: number;
}

export class MasterLeaseReconciler {
  private readonly rs: ResourceStore;
  private readonly leases: MasterLeaseStore;
  private readonly opts: Required<LeaseReconcilerOptions>;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(rs: ResourceStore, leases: MasterLeaseStore, opts: LeaseReconcilerOptions) {
    this.rs = rs;
    this.leases = leases;
    this.opts = { intervalMs: ENDPOINT_INTERVAL_MS, ttlSeconds: MASTER_LEASE_TTL_SECONDS, ...opts };
  }

  /** Refreshes the lease and the Endpoints now, then every interval. */
  async start(): Promise<void> {
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.opts.intervalMs);
  }

  /** Stops refreshing, removes this server's lease and publishes the others (upstream's RemoveEndpoints). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    try {
      await this.leases.remove(this.opts.ip);
      await this.publish(undefined);
    } catch (err) {
      log('warn', 'apiserver', 'could not remove this server from the kubernetes Endpoints', { error: (err as Error).message });
    }
  }

  private reconcile(): Promise<void> {
    this.running = this.running.then(async () => {
      if (this.stopped) return;
      try {
        await this.leases.update(this.opts.ip, this.opts.ttlSeconds);
        await this.publish(this.opts.ip);
      } catch (err) {
        log('warn', 'apiserver', 'unable to reconcile the kubernetes Endpoints', { error: (err as Error).message });
      }
    });
    return this.running;
  }

  private async publish(own: string | undefined): Promise<void> {
    const ips = addressesToPublish(await this.leases.list(), own);
    if (!ips) {
      if (own !== undefined) log('warn', 'apiserver', 'no master leases found right after refreshing ours: not updating the kubernetes Endpoints');
      return;
    }
    await ensureObject(this.rs, findResource('', 'endpoints')!, kubernetesEndpointsFor(ips, this.opts.port), ['subsets']);
    await ensureObject(this.rs, findResource('discovery.k8s.io', 'endpointslices')!, kubernetesEndpointSliceFor(ips, this.opts.port), ['addressType', 'endpoints', 'ports']);
  }
}
