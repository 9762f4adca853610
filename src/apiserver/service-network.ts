// The service CIDR (kube-apiserver's --service-cluster-ip-range): where ClusterIPs come from.
// The `kubernetes` Service takes its first address, as upstream's API server does, and cluster DNS
// its tenth, as kubeadm places kube-dns. Every node holds these addresses for its pods
// (src/agent/service-proxy/), so the range must be one that no real network on the machine uses.

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

export interface ServiceNetwork {
  /** Canonical text, network address first (e.g. 10.96.0.0/12). */
  cidr: string;
  prefix: number;
  /** First address and number of addresses, as unsigned 32-bit integers. */
  base: number;
  size: number;
  /** The `default/kubernetes` Service's ClusterIP (first address after the network address). */
  kubernetesIP: string;
  /** The `kube-system/kube-dns` Service's ClusterIP (the tenth address). */
  dnsIP: string;
}

export function ipToNumber(ip: string): number {
  const p = ip.split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return NaN;
  return ((Number(p[0]) << 24) >>> 0) + (Number(p[1]) << 16) + (Number(p[2]) << 8) + Number(p[3]);
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses and checks a service CIDR; the error reads as kube-apiserver's for the same flag. */
export function parseServiceCidr(text: string): ServiceNetwork {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text.trim());
  const addr = m ? ipToNumber(m[1]!) : NaN;
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || Number.isNaN(addr) || prefix > 32) throw new Error(`--service-cluster-ip-range ${JSON.stringify(text)} is not a valid IPv4 CIDR`);
  // Upstream refuses ranges of more than 2^20 addresses (the allocator's bitmap size).
  if (32 - prefix > 20) throw new Error(`specified --service-cluster-ip-range is too large; for 32-bit addresses, the mask must be >= 12`);
  // The DNS address is the tenth: smaller ranges cannot hold it and at least one other Service.
  if (prefix > 28) throw new Error(`specified --service-cluster-ip-range ${text} is too small: the mask must be <= 28 to hold the kubernetes and kube-dns addresses`);
  const size = 2 ** (32 - prefix);
  const base = addr - (addr % size);
  return { cidr: `${numberToIp(base)}/${prefix}`, prefix, base, size, kubernetesIP: numberToIp(base + 1), dnsIP: numberToIp(base + 10) };
}

export function inServiceNetwork(net: ServiceNetwork, ip: string): boolean {
  const n = ipToNumber(ip);
  return n >= net.base && n < net.base + net.size;
}

/**
 * A free ClusterIP, from a random starting point so that a freed address is not handed out again
 * at once. The network and broadcast addresses are never used, nor the two well-known addresses
 * (their Services are made by the cluster itself and must find them free).
 */
export function pickServiceIp(net: ServiceNetwork, used: Set<string>, random = Math.random): string | undefined {
  const reserved = new Set([net.kubernetesIP, net.dnsIP]);
  const usable = net.size - 2;
  const start = Math.floor(random() * usable);
  for (let i = 0; i < usable; i++) {
    const ip = numberToIp(net.base + 1 + ((start + i) % usable));
    if (!used.has(ip) && !reserved.has(ip)) return ip;
  }
  return undefined;
}
