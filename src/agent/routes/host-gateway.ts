// Keeps this node's routes to the other nodes' pod ranges (src/agent/routes/plan.ts decides which),
// installed with their own route protocol number so the agent only ever touches routes it made.
// A blackhole route for the whole cluster CIDR sits under them: a pod address that belongs to no
// node is dropped here instead of leaving by the default route.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Client } from '../../client/client.ts';
import { Informer } from '../../client/informer.ts';
import { log } from '../../util/log.ts';
import { desiredRoutes, routeChanges, type PodRoute } from './plan.ts';

/** The `proto` of the routes Ordinal installs (any number not reserved by iproute2). */
export const ORDINAL_ROUTE_PROTO = '214';

export class HostGatewayRoutes {
  private readonly nodes: Informer;
  private readonly nodeName: string;
  private readonly clusterCIDR: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(client: Client, opts: { nodeName: string; clusterCIDR?: string }) {
    this.nodeName = opts.nodeName;
    this.clusterCIDR = opts.clusterCIDR;
    this.nodes = new Informer(client, client.resource('', 'nodes'));
    const kick = () => this.kick();
    this.nodes.on({ add: kick, update: kick, delete: kick });
  }

  async start(): Promise<void> {
    if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '1') {
      // Enabling it is the machine owner's decision (it makes this host a router), never the agent's.
      log('warn', 'routes', 'IPv4 forwarding is off on this machine: pods on other nodes cannot reach pods here until it is on (sysctl net.ipv4.ip_forward=1)', { node: this.nodeName });
    }
    if (this.clusterCIDR) await ip(['route', 'replace', 'blackhole', this.clusterCIDR, 'proto', ORDINAL_ROUTE_PROTO]);
    await this.nodes.start();
    await this.sync();
    // Routes removed behind our back (an operator, a network restart) come back.
    this.timer = setInterval(() => this.kick(), 30_000);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.nodes.stop();
    // Routes stay: pods that keep running after the agent stops still reach their peers.
  }

  private kick(): void {
    if (this.stopped || !this.nodes.hasSynced()) return;
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = this.sync()
      .catch((err) => log('warn', 'routes', 'route sync failed', { error: String(err) }))
      .finally(() => {
        this.syncing = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async sync(): Promise<void> {
    const installed = await installedRoutes();
    const { add, remove } = routeChanges(installed, desiredRoutes(this.nodeName, this.nodes.list()));
    for (const r of remove) {
      await ip(['route', 'del', r.cidr, 'via', r.via, 'proto', ORDINAL_ROUTE_PROTO]).catch(() => {});
      log('info', 'routes', 'pod route removed', { cidr: r.cidr, via: r.via });
    }
    for (const r of add) {
      await ip(['route', 'replace', r.cidr, 'via', r.via, 'proto', ORDINAL_ROUTE_PROTO]).then(
        () => log('info', 'routes', 'pod route added', { cidr: r.cidr, via: r.via }),
        // A node address outside every local network cannot be a gateway: host-gw needs one L2 network.
        (err) => log('warn', 'routes', 'cannot route to a node: nodes must share one L2 network', { cidr: r.cidr, via: r.via, error: String(err) }),
      );
    }
  }
}

async function installedRoutes(): Promise<PodRoute[]> {
  const out = await ip(['-j', 'route', 'show', 'proto', ORDINAL_ROUTE_PROTO]);
  const routes: { dst: string; gateway?: string; type?: string }[] = out.trim() ? JSON.parse(out) : [];
  return routes.filter((r) => r.gateway && r.type !== 'blackhole').map((r) => ({ cidr: r.dst, via: r.gateway! }));
}

function ip(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('ip', args, { timeout: 10_000 }, (err, stdout, stderr) => (err ? reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout))),
  );
}
