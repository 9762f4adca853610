// The node's side of ClusterIPs, in its own network namespace: a dummy interface (or, where the
// kernel has no dummy driver, an empty bridge) that holds every
// ClusterIP as a local /32 address (as kube-proxy's IPVS mode does with kube-ipvs0), so a pod's
// packet to a ClusterIP, sent to its gateway, is delivered to this host and its proxy without any
// NAT or forwarding; and a blackhole route for the whole service CIDR, so a packet to an address
// no Service holds is dropped here instead of leaving by the default route.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';

function run(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('ip', args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

async function must(args: string[]): Promise<string> {
  const r = await run(args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.out}`);
  return r.out;
}

/** The dummy interface of a node whose pods are on `bridge` (interface names have at most 15 characters). */
export function dummyInterfaceFor(bridge: string): string {
  if (bridge.length <= 11) return `${bridge}-svc`;
  return `svc-${createHash('sha256').update(bridge).digest('hex').slice(0, 11)}`;
}

/** IPv4 addresses in `ip -j addr show` output. */
export function parseAddresses(json: string): string[] {
  const out: string[] = [];
  for (const link of JSON.parse(json || '[]') as { addr_info?: { family: string; local: string }[] }[]) {
    for (const a of link.addr_info ?? []) if (a.family === 'inet') out.push(a.local);
  }
  return out;
}

export class HostNetwork {
  readonly dummy: string;
  readonly serviceCIDR: string;

  constructor(dummy: string, serviceCIDR: string) {
    this.dummy = dummy;
    this.serviceCIDR = serviceCIDR;
  }

  /** Creates the dummy interface (up, no ARP) and the blackhole route; safe to repeat. */
  async ensure(): Promise<void> {
    if ((await run(['link', 'show', 'dev', this.dummy])).code !== 0) {
      let r = await run(['link', 'add', this.dummy, 'type', 'dummy']);
      // Kernels built without the dummy driver (some VMs) say "Unknown device type": a bridge with
      // no ports does the same job, holding addresses and sending nothing anywhere.
      if (r.code !== 0 && /Unknown device type/i.test(r.out)) r = await run(['link', 'add', this.dummy, 'type', 'bridge']);
      // Another start may have made it meanwhile.
      if (r.code !== 0 && (await run(['link', 'show', 'dev', this.dummy])).code !== 0) throw new Error(`cannot create ${this.dummy}: ${r.out}`);
    }
    await must(['link', 'set', 'dev', this.dummy, 'arp', 'off', 'up']);
    await must(['route', 'replace', 'blackhole', this.serviceCIDR]);
  }

  async addresses(): Promise<string[]> {
    return parseAddresses(await must(['-j', 'addr', 'show', 'dev', this.dummy]));
  }

  async addAddress(ip: string): Promise<void> {
    await must(['addr', 'replace', `${ip}/32`, 'dev', this.dummy]);
  }

  async removeAddress(ip: string): Promise<void> {
    const r = await run(['addr', 'del', `${ip}/32`, 'dev', this.dummy]);
    // Already gone is what we wanted.
    if (r.code !== 0 && !/Cannot assign requested address/i.test(r.out)) throw new Error(`ip addr del ${ip}/32 dev ${this.dummy} failed: ${r.out}`);
  }

  /**
   * Removes the interface (and with it every address) and the blackhole route. Both commands start
   * at once, before the first await: a process that exits right after calling this still runs them.
   */
  async teardown(): Promise<void> {
    await Promise.all([run(['link', 'delete', 'dev', this.dummy]), run(['route', 'del', 'blackhole', this.serviceCIDR])]);
  }
}
