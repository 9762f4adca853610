// Pod IP allocation from a node's pod CIDR (IPv4), as a host-local IPAM plugin does: the network
// address, the gateway (.1) and the broadcast address are never handed out, and an address is
// only reused after it was released.

export class Ipam {
  private readonly base: number;
  private readonly size: number;
  private readonly used = new Set<number>();
  private next = 2;

  constructor(cidr: string) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
    if (!m) throw new Error(`unsupported pod CIDR ${JSON.stringify(cidr)}: an IPv4 CIDR such as 10.244.1.0/24 is expected`);
    const bits = Number(m[5]);
    if (bits < 8 || bits > 30) throw new Error(`pod CIDR ${cidr}: prefix length must be between 8 and 30`);
    const addr = ((Number(m[1]) << 24) >>> 0) + (Number(m[2]) << 16) + (Number(m[3]) << 8) + Number(m[4]);
    this.size = 2 ** (32 - bits);
    this.base = addr - (addr % this.size);
  }

  /** The next free address, cycling through the range so a released address is not reused at once. */
  allocate(): string {
    const usable = this.size - 3;
    if (this.used.size >= usable) throw new Error('no pod IP addresses left in the pod CIDR');
    for (;;) {
      const offset = this.next;
      this.next = this.next + 1 >= this.size - 1 ? 2 : this.next + 1;
      if (!this.used.has(offset)) {
        this.used.add(offset);
        return toText(this.base + offset);
      }
    }
  }

  /** Marks an address in use (a pod restored after a restart keeps its IP); false if taken or outside the range. */
  reserve(ip: string): boolean {
    const offset = toNumber(ip) - this.base;
    if (!(offset >= 2 && offset < this.size - 1) || this.used.has(offset)) return false;
    this.used.add(offset);
    return true;
  }

  release(ip: string): void {
    this.used.delete(toNumber(ip) - this.base);
  }

  inUse(): number {
    return this.used.size;
  }
}

function toNumber(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return NaN;
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

function toText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
