// Pod networking for the containerd runtime: a Linux bridge in the host's network namespace that
// carries the node's pod CIDR, and a CNI config that puts each pod on it with one address from
// that CIDR. The bridge holds the CIDR's first address, so the host reaches pods directly and pods
// reach the host (cluster DNS, the agent) there. isGateway is false and nothing masquerades: the
// bridge plugin then leaves the host's ip_forward alone, and pods have no route anywhere else.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_BRIDGE = 'ordinal0';
export const CNI_CONF_FILE = '00-ordinal.conflist';
export const CNI_NETWORK_NAME = 'ordinal';

/** The CIDR's network address, prefix length and first host address (the bridge's). */
export function parseCidr(cidr: string): { network: string; prefix: number; gateway: string } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr.trim());
  if (!m) throw new Error(`pod CIDR ${cidr} is not an IPv4 CIDR`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix < 8 || prefix > 30) throw new Error(`pod CIDR ${cidr} is not a usable IPv4 CIDR (prefix /8 to /30)`);
  const ip = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (ip & mask) >>> 0;
  const str = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  return { network: str(net), prefix, gateway: str(net + 1) };
}

/** The CNI network list: our bridge, host-local addresses from the pod CIDR, no gateway role, no masquerade. */
export function cniConflist(o: { bridge: string; podCIDR: string; ipamDataDir: string; serviceCIDR?: string; clusterCIDR?: string }): string {
  const { network, prefix, gateway } = parseCidr(o.podCIDR);
  const routes = [
    // ClusterIPs are local addresses of the node (its service proxy): pods reach them through the bridge address.
    ...(o.serviceCIDR ? [{ dst: o.serviceCIDR, gw: gateway }] : []),
    // Pods on other nodes are reached through this node, which routes each node's range to it (host-gw).
    ...(o.clusterCIDR ? [{ dst: o.clusterCIDR, gw: gateway }] : []),
  ];
  return (
    JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: CNI_NETWORK_NAME,
        plugins: [
          {
            type: 'bridge',
            bridge: o.bridge,
            isGateway: false,
            ipMasq: false,
            // Pods reach each other's addresses through the bridge, their own through hairpin.
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              // The bridge's own address is never handed out; with no routes pods only reach the subnet.
              ranges: [[{ subnet: `${network}/${prefix}`, gateway }]],
              ...(routes.length ? { routes } : {}),
              dataDir: o.ipamDataDir,
            },
          },
          { type: 'loopback' },
        ],
      },
      null,
      2,
    ) + '\n'
  );
}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.out}`);
  return r.out;
}

/** Creates the bridge (if missing) with the gateway address and brings it up; idempotent. */
export async function ensureBridge(bridge: string, podCIDR: string): Promise<string> {
  const { prefix, gateway } = parseCidr(podCIDR);
  if ((await run('ip', ['link', 'show', 'dev', bridge])).code !== 0) {
    await must('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
  }
  await must('ip', ['addr', 'replace', `${gateway}/${prefix}`, 'dev', bridge]);
  await must('ip', ['link', 'set', 'dev', bridge, 'up']);
  return gateway;
}

export async function deleteBridge(bridge: string): Promise<void> {
  await run('ip', ['link', 'delete', 'dev', bridge]);
}

/** Writes the conflist into containerd's CNI config dir when it differs; true when it changed. */
export function writeCniConfig(confDir: string, content: string): boolean {
  mkdirSync(confDir, { recursive: true });
  const file = join(confDir, CNI_CONF_FILE);
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false;
  writeFileSync(file, content);
  return true;
}
