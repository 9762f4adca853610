// A node's service proxy: makes every ClusterIP:port work for the pods of its node (and the node
// itself), in the node's own network namespace, with no NAT and no forwarding. The node holds the
// ClusterIPs on a dummy interface (host-network.ts) and proxies in this process to the Services'
// ready endpoints (forwarders.ts), following Services and EndpointSlices through informers.
//
// Levels, not edges: every change recomputes the whole plan (plan.ts) and moves addresses and
// listeners to it; a restart adopts the dummy interface and drops addresses no Service holds.
// `stop()` removes the interface, its addresses and the blackhole route.
import type { Client } from '../../client/client.ts';
import { Informer } from '../../client/informer.ts';
import { log } from '../../util/log.ts';
import { openForwarder, type Forwarder } from './forwarders.ts';
import { HostNetwork } from './host-network.ts';
import { inServiceNetwork, parseServiceCidr, type ServiceNetwork } from '../../apiserver/service-network.ts';
import { addressChanges, planProxy, type Backend, type ProxyPlan } from './plan.ts';

export interface ServiceProxyOptions {
  /** The service CIDR (kube-apiserver's --service-cluster-ip-range), blackholed on the node. */
  serviceCIDR: string;
  /** The dummy interface that holds the ClusterIPs (see dummyInterfaceFor). */
  dummyInterface: string;
  /** Held always and served by the node itself (cluster DNS at the kube-dns ClusterIP). */
  localAddresses?: string[];
  /**
   * Where this node reaches the API servers (the addresses its own client uses, every --server):
   * the `kubernetes` Service goes there rather than to its endpoints, which may name an address
   * this node cannot reach (a server bound to loopback advertises the machine's address).
   * Connections are spread over them and go to the next one when one does not answer.
   */
  apiServers?: Backend[];
  /**
   * Connections to pods in `clusterCIDR` leave from `address` (the node's bridge address), so that
   * pods on other nodes, which have routes only to the pod range, can answer.
   */
  podSource?: { address: string; clusterCIDR: string };
  /** Coalesces bursts of changes (default 20 ms). */
  debounceMs?: number;
}

export class ServiceProxy {
  private readonly opts: ServiceProxyOptions;
  private readonly sourceFor = (host: string): string | undefined => {
    const src = this.opts.podSource;
    return src && ipInCidr(host, src.clusterCIDR) ? src.address : undefined;
  };
  private readonly net: HostNetwork;
  private readonly serviceNetwork: ServiceNetwork;
  private readonly services: Informer;
  private readonly slices: Informer;
  private readonly forwarders = new Map<string, Forwarder>();
  private held = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Listeners that could not open, by key, so each failure is logged once. */
  private readonly failed = new Map<string, string>();

  constructor(client: Client, opts: ServiceProxyOptions) {
    this.opts = opts;
    this.serviceNetwork = parseServiceCidr(opts.serviceCIDR);
    this.net = new HostNetwork(opts.dummyInterface, this.serviceNetwork.cidr);
    this.services = new Informer(client, client.resource('', 'services'));
    this.slices = new Informer(client, client.resource('discovery.k8s.io', 'endpointslices'));
    for (const inf of [this.services, this.slices]) {
      inf.on({ add: () => this.schedule(), update: () => this.schedule(), delete: () => this.schedule() });
    }
  }

  /** Holds the addresses and opens the listeners of the first plan before returning. */
  async start(): Promise<void> {
    await this.net.ensure();
    this.held = new Set(await this.net.addresses());
    await Promise.all([this.services.start(), this.slices.start()]);
    await Promise.all([this.services.waitForSync(), this.slices.waitForSync()]);
    await this.sync();
    log('info', 'service-proxy', 'serving ClusterIPs', { interface: this.opts.dummyInterface, serviceCIDR: this.opts.serviceCIDR, addresses: this.held.size, listeners: this.forwarders.size });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.services.stop();
    this.slices.stop();
    for (const f of this.forwarders.values()) f.close();
    this.forwarders.clear();
    void this.net.teardown().catch((err) => log('warn', 'service-proxy', 'cleanup failed', { error: String(err) }));
  }

  /** Stops and waits for the interface and route to be gone (tests, orderly shutdown). */
  async close(): Promise<void> {
    this.stop();
    await this.running?.catch(() => {});
    await this.net.teardown();
  }

  /** The current plan, for diagnostics and tests. */
  plan(): ProxyPlan {
    const fixedBackends = this.opts.apiServers?.length ? { 'default/kubernetes': this.opts.apiServers } : undefined;
    return planProxy(this.services.list(), this.slices.list(), { localAddresses: this.opts.localAddresses, fixedBackends, holdable: (ip) => inServiceNetwork(this.serviceNetwork, ip) });
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sync();
    }, this.opts.debounceMs ?? 20);
  }

  /** One pass at a time; changes during a pass cause one more. */
  private sync(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.apply(this.plan());
        } catch (err) {
          log('warn', 'service-proxy', 'sync failed; retrying', { error: String(err) });
          this.again = false;
          setTimeout(() => this.schedule(), 1000).unref();
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async apply(plan: ProxyPlan): Promise<void> {
    if (this.stopped) return;
    const { add, remove } = addressChanges(this.held, plan.addresses);
    // Addresses first, so listeners can bind them; listeners closed before their address goes.
    for (const ip of add) {
      await this.net.addAddress(ip);
      this.held.add(ip);
    }
    const wanted = new Map(plan.listeners.map((l) => [l.key, l]));
    for (const [key, f] of this.forwarders) {
      if (wanted.has(key)) continue;
      f.close();
      this.forwarders.delete(key);
    }
    for (const l of plan.listeners) {
      if (this.stopped) return;
      const f = this.forwarders.get(l.key);
      if (f) {
        f.update(l);
        continue;
      }
      try {
        this.forwarders.set(l.key, await openForwarder(l, this.sourceFor));
        this.failed.delete(l.key);
      } catch (err) {
        const why = String((err as Error).message ?? err);
        if (this.failed.get(l.key) !== why) log('warn', 'service-proxy', 'cannot listen on a ClusterIP', { listener: l.key, service: l.service, error: why });
        this.failed.set(l.key, why);
      }
    }
    for (const key of this.failed.keys()) if (!wanted.has(key)) this.failed.delete(key);
    // An address still in use by a departing process frees up soon: try again.
    if (this.failed.size) setTimeout(() => this.schedule(), 5000).unref();
    for (const ip of remove) {
      await this.net.removeAddress(ip);
      this.held.delete(ip);
    }
  }
}

function ipInCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (s: string) => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(n(base!) / size) * size;
  const v = n(ip);
  return v >= start && v < start + size;
}
