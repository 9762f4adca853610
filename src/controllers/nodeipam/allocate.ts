// The pure part of node IPAM: which /24 (or other mask) of the cluster CIDR a node gets, as
// kube-controller-manager's range allocator decides it: the lowest free range, where a range is
// taken by any node that already has it in spec.podCIDRs (also ones an agent set itself).
import { parseCidr } from '../../agent/runtime/cri/network.ts';

export interface ClusterCidr {
  /** First address of the cluster CIDR as a 32-bit number. */
  base: number;
  prefix: number;
  /** Mask size of each node's range. */
  nodeMask: number;
}

/** Parses `--cluster-cidr` and `--node-cidr-mask-size` (upstream's defaults: no default CIDR, mask 24). */
export function clusterCidr(cidr: string, nodeMask = 24): ClusterCidr {
  const [ip, bitsText] = cidr.split('/');
  const prefix = Number(bitsText);
  parseCidr(cidr); // throws with a clear message on a malformed value
  if (!Number.isInteger(nodeMask) || nodeMask < prefix || nodeMask > 30) {
    throw new Error(`--node-cidr-mask-size ${nodeMask} must be between the cluster CIDR's prefix (${prefix}) and 30`);
  }
  if (nodeMask - prefix > 16) throw new Error(`--node-cidr-mask-size ${nodeMask}: more than 65536 node ranges in ${cidr}; use a larger mask`);
  const base = toNumber(ip!) & maskBits(prefix);
  return { base, prefix, nodeMask };
}

/** The ranges in use, as numbers of their first address; ranges outside the cluster CIDR are ignored. */
export function usedRanges(c: ClusterCidr, nodeCidrs: Iterable<string>): Set<number> {
  const used = new Set<number>();
  for (const cidr of nodeCidrs) {
    const [ip, bits] = cidr.split('/');
    if (!ip || Number(bits) !== c.nodeMask) continue;
    const n = toNumber(ip);
    if (Number.isNaN(n) || (n & maskBits(c.prefix)) >>> 0 !== c.base >>> 0) continue;
    used.add(n >>> 0);
  }
  return used;
}

/** The lowest free node range, or undefined when the cluster CIDR is full. */
export function nextFreeRange(c: ClusterCidr, used: Set<number>): string | undefined {
  const count = 2 ** (c.nodeMask - c.prefix);
  const step = 2 ** (32 - c.nodeMask);
  for (let i = 0; i < count; i++) {
    const n = (c.base + i * step) >>> 0;
    if (!used.has(n)) return `${toIp(n)}/${c.nodeMask}`;
  }
  return undefined;
}

function maskBits(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}

function toNumber(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return NaN;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
