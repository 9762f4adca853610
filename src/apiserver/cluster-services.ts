// The Services every cluster has, kept as upstream keeps them once the API server listens:
// - `default/kubernetes` (first address of the service CIDR, port 443 → the secure port), with the
//   Endpoints and EndpointSlice upstream's endpoint reconciler writes for the advertise address;
// - `kube-system/kube-dns` (tenth address; dns/53 UDP, dns-tcp/53 TCP, metrics/9153 TCP), as
//   kubeadm's DNS addon makes it. Its answers come from each node's own cluster DNS, which listens
//   on this address (src/agent/service-proxy/), not from pods, so its Endpoints stay empty.
//
// Upstream forbids loopback endpoint addresses, so a server bound to loopback advertises the
// machine's own address (see advertiseAddressFor); nodes do not depend on it: each node's proxy
// sends the `kubernetes` Service to the API server the node itself talks to.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { isIPv4 } from 'node:net';
import type { Obj } from '../api/resource.ts';
import { findResource } from './request.ts';
import type { ResourceStore } from './resource-store.ts';
import { log } from '../util/log.ts';
import { ignoreAlreadyExists } from './bootstrap.ts';
import { deepEqual as jsonEqual } from '../api/validation/fields.ts';

export interface ClusterServicesOptions {
  /** The port the API server serves HTTPS on (the kubernetes Service's targetPort and endpoint port). */
  securePort: number;
  /** The address other machines reach the API server at; no Endpoints are written without one. */
  advertiseAddress?: string;
  /** The kubernetes Endpoints are kept by the lease reconciler (master-leases.ts) instead. */
  leaseReconciled?: boolean;
}

/** The kubernetes Service as upstream's API server creates it. */
export function kubernetesService(clusterIP: string, securePort: number): Obj {
  return {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      clusterIP,
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: securePort }],
      type: 'ClusterIP',
      sessionAffinity: 'None',
    },
  };
}

/** kubeadm's kube-dns Service (the CoreDNS addon's manifest). */
export function kubeDnsService(clusterIP: string): Obj {
  return {
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    spec: {
      selector: { 'k8s-app': 'kube-dns' },
      clusterIP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
      type: 'ClusterIP',
      sessionAffinity: 'None',
    },
  };
}

/** The Endpoints upstream's reconciler writes for the kubernetes Service (never mirrored into a second slice). */
export function kubernetesEndpoints(ip: string, port: number): Obj {
  return {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  };
}

export function kubernetesEndpointSlice(ip: string, port: number): Obj {
  return {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
}

/**
 * Which address to advertise: the one asked for; else the bind address unless it is loopback or
 * unspecified; else, as kube-apiserver, the address of the interface that holds the default route.
 */
export function advertiseAddressFor(bindHost: string, flag?: string): string | undefined {
  if (flag) return flag;
  if (isIPv4(bindHost) && !bindHost.startsWith('127.') && bindHost !== '0.0.0.0') return bindHost;
  return defaultRouteAddress();
}

function defaultRouteAddress(): string | undefined {
  let iface: string | undefined;
  try {
    // Columns: Iface Destination Gateway ...; the default route has destination 00000000.
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1] === '00000000') {
        iface = cols[0];
        break;
      }
    }
  } catch {
    return undefined;
  }
  return networkInterfaces()[iface ?? '']?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

/** Creates or corrects the cluster's own Services and the kubernetes Endpoints; safe at every start. */
export async function ensureClusterServices(rs: ResourceStore, opts: ClusterServicesOptions): Promise<void> {
  // Independent objects, written at once: the store commits them together.
  await Promise.all([ensureKubernetesService(rs, opts), ensureKubeDnsService(rs), ensureKubernetesEndpoints(rs, opts)]);
}

async function ensureKubernetesService(rs: ResourceStore, opts: ClusterServicesOptions): Promise<void> {
  const net = rs.serviceNetwork;
  const services = findResource('', 'services')!;
  const existing = rs.find(services, 'default', 'kubernetes');
  if (!existing) {
    // Several API servers sharing one store all ensure it: whoever comes second finds it made.
    await rs.create(services, 'default', kubernetesService(net.kubernetesIP, opts.securePort), { typed: true }).catch(ignoreAlreadyExists);
    return;
  }
  if (existing.spec?.clusterIP !== net.kubernetesIP) {
    // ClusterIPs never change; upstream too keeps the old Service and complains.
    log('warn', 'apiserver', 'the kubernetes Service has a ClusterIP outside the first address of the service CIDR; delete it to have it recreated', { clusterIP: existing.spec?.clusterIP, serviceCIDR: net.cidr });
  }
  const want = kubernetesService(net.kubernetesIP, opts.securePort).spec.ports;
  if (!jsonEqual(existing.spec?.ports, want)) {
    await rs.mutate(services, 'default', 'kubernetes', (svc) => void (svc.spec.ports = want));
  }
}

async function ensureKubeDnsService(rs: ResourceStore): Promise<void> {
  const net = rs.serviceNetwork;
  const services = findResource('', 'services')!;
  if (rs.find(services, 'kube-system', 'kube-dns')) return;
  try {
    await rs.create(services, 'kube-system', kubeDnsService(net.dnsIP), { typed: true }).catch(ignoreAlreadyExists);
  } catch (err) {
    log('warn', 'apiserver', 'cannot create the kube-dns Service', { clusterIP: net.dnsIP, error: (err as Error).message });
  }
}

async function ensureKubernetesEndpoints(rs: ResourceStore, opts: ClusterServicesOptions): Promise<void> {
  if (opts.leaseReconciled) return;
  if (!opts.advertiseAddress) {
    log('warn', 'apiserver', 'no advertise address (no --advertise-address and no default route): the kubernetes Service gets no endpoints');
    return;
  }
  await Promise.all([
    ensureObject(rs, findResource('', 'endpoints')!, kubernetesEndpoints(opts.advertiseAddress, opts.securePort), ['subsets']),
    ensureObject(rs, findResource('discovery.k8s.io', 'endpointslices')!, kubernetesEndpointSlice(opts.advertiseAddress, opts.securePort), ['addressType', 'endpoints', 'ports']),
  ]);
}

export async function ensureObject(rs: ResourceStore, r: NonNullable<ReturnType<typeof findResource>>, want: Obj, fields: string[]): Promise<void> {
  const have = rs.find(r, 'default', want.metadata.name);
  if (!have) {
    await rs.create(r, 'default', want, { typed: true }).catch(ignoreAlreadyExists);
    return;
  }
  const labelsOk = Object.entries(want.metadata.labels as Record<string, string>).every(([k, v]) => have.metadata.labels?.[k] === v);
  if (labelsOk && fields.every((f) => jsonEqual(have[f], want[f]))) return;
  await rs.mutate(r, 'default', want.metadata.name, (o) => {
    o.metadata.labels = { ...(o.metadata.labels ?? {}), ...want.metadata.labels };
    for (const f of fields) o[f] = want[f];
  });
}
