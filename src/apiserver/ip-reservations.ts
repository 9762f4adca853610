// ClusterIPs are claimed through the store, so that two API servers sharing one store never hand
// the same address to two Services: each address taken has a reservation key, created only if
// absent (a guarded write the store arbitrates), as upstream's IPAddress allocator keeps one
// networking.k8s.io/v1 IPAddress object per allocated address (etcd: /registry/ipaddresses/<ip>).
// A reservation names its Service. One whose Service never came (its creation failed, or its server
// died in between) or has gone is stale and may be taken over once it is old enough that no
// creation can still be in flight; deleting a Service releases its reservation at once.
import type { Obj } from '../api/resource.ts';
import { StoreError, type Store } from '../storage/types.ts';
import type { WatchCache } from '../storage/cache.ts';

export const IP_RESERVATIONS = { group: 'networking.k8s.io', resource: 'ipaddresses' };
const BUCKET = `/registry/${IP_RESERVATIONS.group}/${IP_RESERVATIONS.resource}/`;
/** A reservation younger than this may belong to a Service whose creation is still under way. */
export const STALE_AFTER_MS = 30_000;

export const reservationKey = (ip: string) => `${BUCKET}${ip}`;

/** The reservation as upstream's IPAddress object. */
export function reservationObject(ip: string, svc: { namespace: string; name: string }, now = new Date()): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IPAddress',
    metadata: {
      name: ip,
      creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      labels: { 'ipaddress.kubernetes.io/ip-family': 'IPv4', 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' },
    },
    spec: { parentRef: { group: '', resource: 'services', namespace: svc.namespace, name: svc.name } },
  };
}

export type ReservationVerdict = 'mine' | 'taken' | 'stale';

/**
 * What an existing reservation means for a Service that wants its address (pure): its own (the same
 * Service asked again), taken (its Service holds the address, or may still be being created), or
 * stale (to be taken over).
 */
export function judgeReservation(res: Obj, ip: string, svc: { namespace: string; name: string }, services: (ns: string, name: string) => Obj | undefined, nowMs: number): ReservationVerdict {
  const ref = res.spec?.parentRef ?? {};
  if (ref.namespace === svc.namespace && ref.name === svc.name) return 'mine';
  const owner = services(ref.namespace, ref.name);
  if (owner && (owner.spec?.clusterIPs ?? [owner.spec?.clusterIP]).includes(ip)) return 'taken';
  const created = Date.parse(res.metadata?.creationTimestamp ?? '');
  if (!(nowMs - created >= STALE_AFTER_MS)) return 'taken';
  return 'stale';
}

/** Claims ip for the Service; false when another Service holds it. */
export async function reserveIp(store: Store, cache: WatchCache, ip: string, svc: { namespace: string; name: string }): Promise<boolean> {
  const key = reservationKey(ip);
  const value = JSON.stringify(reservationObject(ip, svc));
  try {
    await store.create(key, value);
    return true;
  } catch (err) {
    if (!(err instanceof StoreError && err.code === 'exists')) throw err;
  }
  const existing = await store.get(key);
  if (!existing) return reserveIp(store, cache, ip, svc);
  const services = (ns: string, name: string) => cache.get(`/registry/core/services/${ns}/${name}`)?.obj;
  const verdict = judgeReservation(JSON.parse(existing.value), ip, svc, services, Date.now());
  if (verdict === 'mine') return true;
  if (verdict === 'taken') return false;
  try {
    await store.update(key, value, existing.modRev);
    return true;
  } catch (err) {
    if (err instanceof StoreError && (err.code === 'conflict' || err.code === 'notfound')) return false;
    throw err;
  }
}

/** Releases the addresses of a deleted Service, unless another Service took them over meanwhile. */
export async function releaseIps(store: Store, svc: Obj): Promise<void> {
  const ips: string[] = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []);
  for (const ip of ips) {
    if (ip === 'None' || !ip) continue;
    const key = reservationKey(ip);
    const existing = await store.get(key);
    if (!existing) continue;
    const ref = JSON.parse(existing.value).spec?.parentRef ?? {};
    if (ref.namespace !== svc.metadata.namespace || ref.name !== svc.metadata.name) continue;
    await store.delete(key, existing.modRev).catch((err) => {
      if (!(err instanceof StoreError && (err.code === 'conflict' || err.code === 'notfound'))) throw err;
    });
  }
}
