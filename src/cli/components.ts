// The components `ordinal up` runs beside the API server. Each talks to the API only through the
// client, so any of them could run in another process against the same server.
import { DisruptionController } from '../controllers/disruption/controller.ts';
import type { Client } from '../client/client.ts';
import { GarbageCollector } from '../controllers/garbagecollector/controller.ts';
import { NamespaceController } from '../controllers/namespace/controller.ts';
import { VolumeController } from '../controllers/volume/controller.ts';
import { EndpointsController } from '../controllers/endpoints/controller.ts';
import { EndpointSliceController } from '../controllers/endpointslice/controller.ts';
import { StatefulSetController } from '../controllers/statefulset/controller.ts';
import { ServiceAccountsController } from '../controllers/serviceaccount/controller.ts';
import { RootCaCertPublisher } from '../controllers/serviceaccount/root-ca-publisher.ts';
import { caCertPath, caKeyPath } from '../apiserver/pki.ts';
import { CsrApprovingController, CsrSigningController } from '../controllers/certificates/controller.ts';
import { TokenCleaner } from '../controllers/bootstrap/tokencleaner.ts';
import { readFileSync } from 'node:fs';
import { Scheduler } from '../scheduler/scheduler.ts';
import { NodeIpamController, DEFAULT_CLUSTER_CIDR } from '../controllers/nodeipam/controller.ts';
import { NodeAgent } from '../agent/agent.ts';
import { SimRuntime } from '../agent/runtime/sim.ts';
import type { ContainerdRuntime } from '../agent/runtime/containerd.ts';
import { ClusterDns } from '../dns/server.ts';
import { DEFAULT_BRIDGE, parseCidr } from '../agent/runtime/cri/network.ts';
import type { ServiceProxy } from '../agent/service-proxy/proxy.ts';
import { DEFAULT_SERVICE_CIDR, parseServiceCidr, type ServiceNetwork } from '../apiserver/service-network.ts';
import { log } from '../util/log.ts';
import type { NodeStreamingRegistry } from '../streaming/types.ts';
import { NodeLifecycleController } from '../controllers/nodelifecycle/controller.ts';
import type { NodeLifecycleOptions } from '../controllers/nodelifecycle/options.ts';
import { TaintEvictionController } from '../controllers/tainteviction/controller.ts';
import { PodGarbageCollector } from '../controllers/podgc/controller.ts';
import { ClusterRoleAggregationController } from '../controllers/clusterroleaggregation/controller.ts';
import { WORKLOAD_CONTROLLERS } from '../controllers/workloads/components.ts';
import type { OnLost } from './elected-controllers.ts';
import { lazyModule } from '../util/lazy-module.ts';
import type { LeaderElectFlags } from './leader-elect-flags.ts';
import type { RequestUser } from '../api/resource.ts';
import { CONTROLLER_IDENTITIES, DNS_USER, KCM_USER, nodeUser, SCHEDULER_USER } from './identities.ts';
import { SharedInformerCredentials } from '../client/informer-credentials.ts';

// Leader election's modules load only with --leader-elect.
const electedControllers = lazyModule<typeof import('./elected-controllers.ts')>(import.meta.url, './elected-controllers.ts');

export interface Component {
  start(): Promise<void>;
  stop(): void;
}

export interface ClusterOptions {
  dataDir: string;
  /** How many simulated nodes to run (node-1 … node-N). */
  nodes: number;
  /** How long a simulated pod shows ContainerCreating before it runs. */
  simStartDelayMs: number;
  /** How long a simulated container takes to stop when asked (at most its grace period); the runtime's default if absent. */
  simStopDelayMs?: number;
  /** Which controllers run, as kube-controller-manager's --controllers: '*' all, 'name' on, '-name' off. */
  controllers: string[];
  /** Cluster DNS on 127.0.0.1: a port (0 picks a free one), or undefined for no DNS. */
  dnsPort?: number;
  /** When the DNS port was not chosen by the user, a busy port only disables DNS with a warning. */
  dnsPortIsDefault?: boolean;
  /** How pods run: simulated (default) or as real containers through containerd's CRI socket. */
  runtime?: 'sim' | 'containerd';
  containerdSocket?: string;
  /** The containerd node's pod CIDR and the bridge that carries it (defaults CONTAINERD_POD_CIDR, ordinal0). */
  podCIDR?: string;
  bridge?: string;
  /** The cluster's pod addresses, split into one range per node by the nodeipam controller (default 10.244.0.0/16). */
  clusterCIDR?: string;
  /**
   * The containerd node's address on the network its machines share (`--node-ip`): set, the node
   * publishes it as its InternalIP and routes pod traffic to and from nodes that joined.
   */
  nodeIP?: string;
  /** Where node agents offer exec/attach/port-forward/logs for their pods to the API server. */
  streaming?: NodeStreamingRegistry;
  /** The service CIDR: the containerd node serves its ClusterIPs, and cluster DNS at its kube-dns address. */
  serviceNetwork?: ServiceNetwork;
  /** Where the node reaches the API server (its `kubernetes` Service goes there). */
  apiServer?: { host: string; port: number };
  /** kube-controller-manager's --cluster-signing-duration: the longest certificate csrsigning issues (default 8760h). */
  clusterSigningDurationMs?: number;
  /** kube-controller-manager's node lifecycle flags (--node-monitor-grace-period, ...); defaults as upstream. */
  nodeLifecycle?: Partial<NodeLifecycleOptions>;
  /** --terminated-pod-gc-threshold (default 12500). */
  terminatedPodGcThreshold?: number;
  /** --leader-elect and its flags: controllers run only while this process holds their Lease. */
  leaderElection?: LeaderElectFlags & { onLost: OnLost };
  /** Set by startComponents when components have their own identities: what the addon manager does (the default StorageClass). */
  addonClient?: Client;
}

/** Names of the simulated nodes; each gets its own pod CIDR (10.244.<i>.0/24), as a cluster's node IPAM would. */
export function simNodeNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `node-${i + 1}`);
}

const CONTROLLERS: Record<string, (client: Client, opts: ClusterOptions) => Component> = {
  statefulset: (client) => new StatefulSetController(client, {}),
  garbagecollector: (client) => new GarbageCollector(client),
  namespace: (client) => new NamespaceController(client),
  volume: (client, opts) => new VolumeController(client, { dataDir: opts.dataDir, ...(opts.addonClient ? { addonClient: opts.addonClient } : {}) }),
  endpoints: (client) => new EndpointsController(client, {}),
  endpointslice: (client) => new EndpointSliceController(client, {}),
  scheduler: (client) => new Scheduler(client),
  serviceaccount: (client) => new ServiceAccountsController(client),
  disruption: (client) => new DisruptionController(client),
  nodelifecycle: (client, opts) => new NodeLifecycleController(client, opts.nodeLifecycle),
  'taint-eviction-controller': (client) => new TaintEvictionController(client),
  podgc: (client, opts) => new PodGarbageCollector(client, opts.terminatedPodGcThreshold === undefined ? {} : { terminatedPodThreshold: opts.terminatedPodGcThreshold }),
  nodeipam: (client, opts) => new NodeIpamController(client, { clusterCIDR: opts.clusterCIDR }),
  // As kube-controller-manager's --root-ca-file: the CA the API server's certificate chains to.
  'root-ca-cert-publisher': (client, opts) => new RootCaCertPublisher(client, readFileSync(caCertPath(opts.dataDir), 'utf8')),
  csrapproving: (client) => new CsrApprovingController(client),
  // As kube-controller-manager's --cluster-signing-cert-file/--cluster-signing-key-file: the cluster CA.
  csrsigning: (client, opts) =>
    new CsrSigningController(client, {
      caCertPem: readFileSync(caCertPath(opts.dataDir), 'utf8'),
      caKeyPem: readFileSync(caKeyPath(opts.dataDir), 'utf8'),
      durationMs: opts.clusterSigningDurationMs,
    }),
  // Off by default upstream, on in kubeadm clusters: Ordinal's nodes join with bootstrap tokens too.
  tokencleaner: (client) => new TokenCleaner(client),
  'clusterrole-aggregation': (client) => new ClusterRoleAggregationController(client),
  ...WORKLOAD_CONTROLLERS,
};

export const CONTROLLER_NAMES = Object.keys(CONTROLLERS);

/** A new instance of one controller (each leadership term starts fresh ones). */
export function newController(name: string, client: Client, opts: ClusterOptions): Component {
  return CONTROLLERS[name]!(client, opts);
}

/**
 * The enabled controllers, started at once or, with opts.leaderElection enabled, under their
 * Leases (the elections themselves through `client`). `clientOf` gives each controller the client
 * of its own identity; by default they share `client`.
 */
export function controllerComponents(client: Client, names: string[], opts: ClusterOptions, clientOf: (name: string) => Client = () => client): Component[] {
  const le = opts.leaderElection;
  if (!le?.enabled) return names.map((name) => newController(name, clientOf(name), opts));
  return electedControllers().electedControllers(client, names, (name, fence) => newController(name, fence(clientOf(name)), opts), le, le.onLost);
}

/** Resolves a --controllers list; throws on a name it does not know. */
export function enabledControllers(spec: string[]): string[] {
  for (const item of spec) {
    const name = item.replace(/^-/, '');
    if (name !== '*' && !CONTROLLERS[name]) throw new Error(`unknown controller "${name}": known controllers are ${CONTROLLER_NAMES.join(', ')}`);
  }
  const all = spec.includes('*');
  return CONTROLLER_NAMES.filter((n) => !spec.includes(`-${n}`) && (all || spec.includes(n)));
}

/** The pod CIDR of the first node: the containerd node's, whose bridge holds its first address. */
export const CONTAINERD_POD_CIDR = '10.244.1.0/24';

/**
 * Starts the components. With `clientFor`, each gets a client acting as its own identity
 * (identities.ts); without, all share `client`.
 */
export async function startComponents(client: Client, opts: ClusterOptions, clientFor?: (user: RequestUser) => Client): Promise<Component[]> {
  const as = (user: RequestUser | undefined) => (clientFor && user ? clientFor(user) : client);
  // Controllers' informers list and watch as kube-controller-manager itself; the rest as each controller.
  const managerClient = as(KCM_USER);
  const asController = (name: string) => {
    const user = CONTROLLER_IDENTITIES[name];
    if (!clientFor || !user) return client;
    return user === SCHEDULER_USER ? clientFor(user) : new SharedInformerCredentials(managerClient, clientFor(user));
  };
  if (clientFor) opts = { ...opts, addonClient: client };
  let containerd: ContainerdRuntime | undefined;
  let proxy: ServiceProxy | undefined;
  const serviceNetwork = opts.serviceNetwork ?? parseServiceCidr(DEFAULT_SERVICE_CIDR);
  const agents: Component[] = [];
  if (opts.runtime === 'containerd') {
    // One real node: this machine. Its address on the pod network is the bridge's. Its pods resolve
    // names at the kube-dns ClusterIP (the kubelet's --cluster-dns), which this node serves itself.
    const podCIDR = opts.podCIDR ?? CONTAINERD_POD_CIDR;
    // With a node address on the machines' network, the node takes part in the pod network of
    // joined nodes (host-gw routes both ways); without one it is a single machine's only node.
    const clusterCIDR = opts.nodeIP ? (opts.clusterCIDR ?? DEFAULT_CLUSTER_CIDR) : undefined;
    const gateway = parseCidr(podCIDR).gateway;
    const nodeName = simNodeNames(1)[0]!;
    // The node's runtime, agent, service proxy and routes all act as the node.
    const nodeClient = as(nodeUser(nodeName));
    // The real node's modules load only here: a start on the simulated runtime needs none of them.
    const [{ ContainerdRuntime }, { ServiceProxy }, { dummyInterfaceFor }, { HostGatewayRoutes }] = await Promise.all([
      import('../agent/runtime/containerd.ts'),
      import('../agent/service-proxy/proxy.ts'),
      import('../agent/service-proxy/host-network.ts'),
      import('../agent/routes/host-gateway.ts'),
    ]);
    containerd = await ContainerdRuntime.connect({
      socket: opts.containerdSocket!,
      dataDir: opts.dataDir,
      client: nodeClient,
      bridgeName: opts.bridge,
      dnsServer: serviceNetwork.dnsIP,
      serviceCIDR: serviceNetwork.cidr,
      clusterCIDR,
    });
    agents.push(new NodeAgent(nodeClient, { nodeName, runtime: containerd, podCIDR, internalIP: opts.nodeIP ?? gateway, dataDir: opts.dataDir }));
    proxy = new ServiceProxy(nodeClient, {
      serviceCIDR: serviceNetwork.cidr,
      dummyInterface: dummyInterfaceFor(opts.bridge ?? DEFAULT_BRIDGE),
      localAddresses: opts.dnsPort !== undefined ? [serviceNetwork.dnsIP] : [],
      apiServers: opts.apiServer ? [opts.apiServer] : undefined,
      ...(clusterCIDR ? { podSource: { address: gateway, clusterCIDR } } : {}),
    });
    agents.push(proxy);
    if (clusterCIDR) agents.push(new HostGatewayRoutes(nodeClient, { nodeName, clusterCIDR }));
  } else {
    agents.push(
      ...simNodeNames(opts.nodes).map(
        (nodeName, i) =>
          new NodeAgent(as(nodeUser(nodeName)), {
            nodeName,
            runtime: new SimRuntime({ startDelayMs: opts.simStartDelayMs, stopDelayMs: opts.simStopDelayMs }),
            podCIDR: `10.244.${i + 1}.0/24`,
            internalIP: `192.0.2.${i + 1}`,
          }),
      ),
    );
  }
  const components: Component[] = [...controllerComponents(client, enabledControllers(opts.controllers), opts, asController), ...agents];
  await Promise.all(components.map((c) => c.start()));
  // The API server reaches each node's exec/attach/port-forward/logs by node name.
  for (const agent of agents) {
    if (!(agent instanceof NodeAgent) || !opts.streaming) continue;
    const unregister = opts.streaming.register(agent.nodeName, agent.streaming, () => agent.runningPods());
    components.push({ start: async () => {}, stop: unregister });
  }
  if (opts.dnsPort !== undefined) {
    const dns = new ClusterDns(as(DNS_USER), { port: opts.dnsPort });
    try {
      await dns.start();
      components.push(dns);
    } catch (err) {
      if (!opts.dnsPortIsDefault) throw err;
      log('warn', 'ordinal', 'cluster DNS not started; choose a free port with --dns-port', { error: (err as Error).message });
    }
    const gateway = containerd?.gatewayIP;
    if (gateway && components.includes(dns)) {
      // Pods reach the host only on the bridge, and resolv.conf cannot name a port: there it is 53,
      // whatever port the host's loopback listener uses.
      try {
        await dns.listenOn(gateway, 53);
      } catch (err) {
        log('warn', 'ordinal', 'pods cannot reach cluster DNS: port 53 on the bridge address is not available', { address: gateway, error: (err as Error).message });
      }
    }
    if (proxy && components.includes(dns)) {
      // The node answers at the kube-dns ClusterIP itself (as a node-local DNS cache does), so its
      // pods get answers from their own node; the proxy holds the address for it.
      try {
        await dns.listenOn(serviceNetwork.dnsIP, 53);
        const { serveDnsMetrics } = await import('../dns/metrics-http.ts');
        const closeMetrics = await serveDnsMetrics(dns, serviceNetwork.dnsIP);
        components.push({ start: async () => {}, stop: closeMetrics });
      } catch (err) {
        log('warn', 'ordinal', 'pods cannot reach cluster DNS at the kube-dns ClusterIP', { address: serviceNetwork.dnsIP, error: (err as Error).message });
      }
    }
  }
  return components;
}
