// The `ordinal` command: `up` starts the whole cluster, `server` the API server alone.
import { millisecondsFlag, parseFlags } from './parse-flags.ts';
import { AUDIT_FLAGS, auditOptions } from './audit-flags.ts';
import { homedir, hostname as osHostname, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { chooseRuntime } from './runtime-choice.ts';
import type { NodeContainerd } from '../agent/containerd-supervisor/node-runtime.ts';
import { SqliteStore } from '../storage/sqlite.ts';
import type { Store } from '../storage/types.ts';
import type { MasterLeaseStore } from '../storage/etcd/master-leases.ts';
import { ensurePki, writeKubeconfig } from '../apiserver/pki.ts';
import { startApiServer } from '../apiserver/server.ts';
import { log } from '../util/log.ts';
import { defaultDnsPort } from '../dns/server.ts';
import { InProcessClient } from '../client/client.ts';
import { parseCidr, DEFAULT_BRIDGE } from '../agent/runtime/cri/network.ts';
import { CONTAINERD_POD_CIDR, CONTROLLER_NAMES, enabledControllers, startComponents, type Component } from './components.ts';
import { NodeStreamingRegistry } from '../streaming/types.ts';
import { DEFAULT_EVENT_TTL_MS, EventExpirer } from '../apiserver/event-ttl.ts';
import { parseGoDuration } from '../util/duration.ts';
import { onTermination } from './termination.ts';
import { DEFAULT_SERVICE_CIDR, type ServiceNetwork } from '../apiserver/service-network.ts';
import { clusterCidrFlag, serviceNetworkFlag } from './network-flags.ts';
import { isIPv4 } from 'node:net';
import { advertiseAddressFor } from '../apiserver/cluster-services.ts';
import { ETCD_FLAGS, ETCD_USAGE, parseEtcdFlags, type EtcdFlags } from './etcd-flags.ts';
import { NODE_LIFECYCLE_FLAGS, NODE_LIFECYCLE_USAGE, parseNodeLifecycleFlags, type NodeLifecycleFlags } from './node-lifecycle-flags.ts';
import { LEADER_ELECT_FLAGS, LEADER_ELECT_USAGE, parseLeaderElectFlags, takeLeaderElectFlag, type LeaderElectFlags } from './leader-elect-flags.ts';
import { markStartup, startupPhases } from '../util/startup-phases.ts';
import { startIdleCompaction } from '../util/idle-compaction.ts';

markStartup('modules');

// The containerd modules (runtime, supervisor, images) load only for a node on containerd, and for
// this text, which names the default socket: a start on the simulated runtime needs none of them.
const usage = async () => {
  const { DEFAULT_CONTAINERD_SOCKET } = await import('../agent/runtime/containerd.ts');
  return `Usage: ordinal <command> [options]

Commands:
  up        start a single-machine cluster (API server and the components available so far)
  server    start the API server alone
  agent     join this machine to a cluster as a node (ordinal agent --help)
  controllers --kubeconfig FILE | --server URL,... --data-dir DIR
            run the controllers and the scheduler against API server(s), leader-elected
            (ordinal controllers --help)
  images import FILE...
            load image archives (OCI or docker save) into the node's containerd
  token     create, list or delete bootstrap tokens for joining nodes (ordinal token --help)
  migrate --from-data-dir DIR --to-etcd URL,...
            move a stopped cluster's state from SQLite to etcd (ordinal migrate --help)
  check-identities --kubeconfig FILE
            prove that no pod identity runs twice at once (ordinal check-identities --help)

Options:
  --data-dir DIR   where the cluster keeps its state (default ~/.ordinal)
  --port PORT      HTTPS port of the API server (default 6443; 0 picks a free one)
  --host ADDR      address to listen on (default 127.0.0.1; 0.0.0.0 for nodes on other machines)
  --tls-san NAMES  extra names and addresses (comma-separated) for the server certificate; with an
                   unspecified --host (0.0.0.0) every address of this machine is included
  --cluster-cidr CIDR
                   the pods' address range, one /24 per node (default 10.244.0.0/16)
  --node-ip ADDR   the containerd node's address on the machines' network (up only; default, when
                   --host is not loopback: the advertise address): with it the node routes pod
                   traffic to and from nodes that join
  --store KIND     storage driver: sqlite (default; the state lives in the data dir) or etcd
                   (--etcd-servers; several 'ordinal server' may share one etcd and one PKI)
${ETCD_USAGE}  --runtime KIND   how pods run (up only): containerd (real containers through containerd's CRI
                   API; needs root) or sim (simulated, like kwok). Default: containerd when it
                   is installed and this is root (Ordinal then runs its own, under DIR/containerd),
                   else sim
  --containerd-socket PATH
                   use the containerd already running there (e.g. ${DEFAULT_CONTAINERD_SOCKET})
                   instead of starting one
  --pod-cidr CIDR  the containerd node's pod addresses (default ${CONTAINERD_POD_CIDR})
  --bridge NAME    the Linux bridge that carries them (default ${DEFAULT_BRIDGE})
  --nodes N        number of simulated nodes (default 1; containerd runs one real node; 0 runs no
                   node: a control plane for nodes that join with ordinal agent)
  --sim-start-delay MS
                   how long a simulated pod shows ContainerCreating before it runs (default 500)
  --sim-stop-delay MS
                   how long a simulated container takes to stop when asked, at most its grace
                   period (default 200; below about 20, kubectl 1.32 can wait forever deleting a
                   StatefulSet's pod, see the README)
  --dns-port PORT  cluster DNS (cluster.local) on 127.0.0.1 (up only; default 53 as root, else 10053;
                   0 picks a free port)
  --no-dns         run no cluster DNS
  --no-idle-compaction
                   keep the heap as V8 leaves it after a burst of writes (by default, once the
                   cluster is quiet, a collection of up to a second returns the free pages: at
                   10,000 pods, RSS about 545 -> 435 MiB)
  --service-cluster-ip-range CIDR
                   where ClusterIPs come from, as kube-apiserver's flag (default ${DEFAULT_SERVICE_CIDR});
                   the kubernetes Service gets its first address and kube-dns its tenth
  --advertise-address ADDR
                   the kubernetes Service's endpoint address, as kube-apiserver's flag (default: --host
                   unless loopback, else the address of the interface with the default route)
  --endpoint-reconciler-type lease|none
                   as kube-apiserver's flag: with --store etcd, lease (the default) lists every live
                   API server in the kubernetes Endpoints (each keeps a 15 s master lease in etcd under
                   /registry/masterleases/); none leaves the Endpoints alone. The SQLite store has one
                   server and writes its address
  --event-ttl DURATION
                   how long an event is kept after its last update, as kube-apiserver's flag
                   (default 1h; Go duration syntax: 30m, 90s, 1h30m)
  --cluster-signing-duration DURATION
                   the longest certificate the csrsigning controller issues, as
                   kube-controller-manager's flag (default 8760h)
  --controllers LIST
                   controllers to run (up only), as kube-controller-manager's flag: '*' for all
                   (default), a name to enable one, '-name' to disable one. Known: ${CONTROLLER_NAMES.join(', ')}
${NODE_LIFECYCLE_USAGE}${LEADER_ELECT_USAGE(false)}  -h, --help       show this help
`;
};

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'agent') return (await import('./agent.ts')).runAgent(argv.slice(1));
  if (argv[0] === 'controllers') return (await import('./controllers.ts')).runControllers(argv.slice(1));
  if (argv[0] === 'migrate') process.exit(await (await import('./migrate.ts')).runMigrate(argv.slice(1)));
  if (argv[0] === 'check-identities') process.exit(await (await import('./check-identities.ts')).checkIdentitiesCommand(argv.slice(1)));
  // `kubeconfig --user NAME`: a client-certificate kubeconfig for a person (src/cli/kubeconfig-user.ts).
  if (argv[0] === 'kubeconfig') process.exit(await (await import('./kubeconfig-user.ts')).kubeconfigCommand(argv.slice(1)));
  // `token` has options of its own and talks to a running cluster: it takes over before the server's options are parsed.
  if (argv[0] === 'token') {
    const { tokenCommand } = await import('./token.ts');
    process.exit(await tokenCommand(argv.slice(1)));
  }
  let leaderElect: boolean | undefined;
  try {
    ({ rest: argv, value: leaderElect } = takeLeaderElectFlag(argv));
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      store: { type: 'string' },
      runtime: { type: 'string' },
      'containerd-socket': { type: 'string' },
      'pod-cidr': { type: 'string' },
      bridge: { type: 'string' },
      nodes: { type: 'string' },
      'sim-start-delay': { type: 'string' },
      'sim-stop-delay': { type: 'string' },
      controllers: { type: 'string' },
      'dns-port': { type: 'string' },
      'no-dns': { type: 'boolean' },
      'no-idle-compaction': { type: 'boolean' },
      'event-ttl': { type: 'string' },
      'tls-san': { type: 'string' },
      'cluster-cidr': { type: 'string' },
      'node-ip': { type: 'string' },
      'service-cluster-ip-range': { type: 'string' },
      'advertise-address': { type: 'string' },
      'cluster-signing-duration': { type: 'string' },
      'endpoint-reconciler-type': { type: 'string' },
      ...NODE_LIFECYCLE_FLAGS,
      ...ETCD_FLAGS,
      ...LEADER_ELECT_FLAGS,
      ...AUDIT_FLAGS,
      help: { type: 'boolean', short: 'h' },
    },
  }, fail);
  const command = positionals[0];
  if (command === 'images') {
    const { imagesCommand, IMAGES_USAGE } = await import('./images.ts');
    if (values.help) process.stdout.write(IMAGES_USAGE), process.exit(0);
    const dataDir = resolve(values['data-dir'] ?? join(homedir(), '.ordinal'));
    const socket = values['containerd-socket'] !== undefined ? resolve(values['containerd-socket']) : undefined;
    const code = await imagesCommand(positionals.slice(1), { dataDir, socket, out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
    process.exit(code);
  }
  if (values.help || !command || !['up', 'server'].includes(command)) {
    process.stdout.write(await usage());
    process.exit(values.help ? 0 : 2);
  }
  const dataDir = resolve(values['data-dir'] ?? join(homedir(), '.ordinal'));
  const port = Number(values.port ?? 6443);
  const host = values.host ?? '127.0.0.1';
  const storeKind = values.store ?? 'sqlite';
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid --port ${values.port}`);
  const givenSocket = values['containerd-socket'] !== undefined ? resolve(values['containerd-socket']) : undefined;
  const nodes = Number(values.nodes ?? 1);
  if (!Number.isInteger(nodes) || nodes < 0 || nodes > 1000) fail(`invalid --nodes ${values.nodes}: a whole number from 0 to 1000`);
  // --nodes 0: a control plane only, whose pods run on nodes that join it (ordinal agent).
  const choice =
    nodes === 0
      ? { runtime: 'sim' as const, why: 'no node of its own (--nodes 0): pods run on the nodes that join (ordinal agent)' }
      : nodes > 1 && values.runtime === undefined && givenSocket === undefined
        ? // Several nodes on one machine can only be simulated ones: that is what --nodes asks for.
          { runtime: 'sim' as const, why: `--nodes ${nodes}: simulated nodes (one machine runs one real node)` }
        : chooseRuntime({ flag: values.runtime, socket: givenSocket, socketExists: givenSocket !== undefined && existsSync(givenSocket), ownUnavailable: command === 'up' && values.runtime !== 'sim' ? (await import('../agent/containerd-supervisor/supervisor.ts')).ownContainerdUnavailable() : undefined });
  if ('error' in choice) fail(choice.error);
  const { runtime, why: runtimeWhy } = choice;
  if (runtime === 'containerd' && values.nodes !== undefined && nodes !== 1) fail(`--nodes ${values.nodes}: the containerd runtime runs exactly one node (this machine); --nodes 0 runs none`);
  const podCIDR = values['pod-cidr'];
  if (podCIDR !== undefined) {
    try {
      parseCidr(podCIDR);
    } catch (err) {
      fail(`invalid --pod-cidr: ${(err as Error).message}`);
    }
  }
  if (values.bridge !== undefined && !/^[a-zA-Z0-9_.-]{1,15}$/.test(values.bridge)) fail(`invalid --bridge ${values.bridge}: a Linux interface name of 1 to 15 letters, digits, '-', '_' or '.'`);
  const controllerList = (values.controllers ?? '*').split(',').map((x) => x.trim()).filter(Boolean);
  try {
    enabledControllers(controllerList);
  } catch (err) {
    fail(`invalid --controllers: ${(err as Error).message}`);
  }
  const dnsPort = values['no-dns'] ? undefined : Number(values['dns-port'] ?? defaultDnsPort());
  if (dnsPort !== undefined && (!Number.isInteger(dnsPort) || dnsPort < 0 || dnsPort > 65535)) fail(`invalid --dns-port ${values['dns-port']}`);
  const simStartDelayMs = millisecondsFlag(values['sim-start-delay'], 500) ?? fail(`invalid --sim-start-delay ${values['sim-start-delay']}: milliseconds, 0 or more`);
  const simStopDelayMs = millisecondsFlag(values['sim-stop-delay'], 200) ?? fail(`invalid --sim-stop-delay ${values['sim-stop-delay']}: milliseconds, 0 or more`);
  let eventTtlMs = DEFAULT_EVENT_TTL_MS;
  if (values['event-ttl'] !== undefined) {
    try {
      eventTtlMs = parseGoDuration(values['event-ttl']);
    } catch (err) {
      fail(`invalid --event-ttl: ${(err as Error).message}`);
    }
    if (!(eventTtlMs > 0)) fail(`invalid --event-ttl ${values['event-ttl']}: must be longer than 0`);
  }
  let clusterCIDR: string;
  let serviceNetwork: ServiceNetwork;
  try {
    clusterCIDR = clusterCidrFlag(values['cluster-cidr']);
    serviceNetwork = serviceNetworkFlag(values['service-cluster-ip-range']);
  } catch (err) {
    fail((err as Error).message);
  }
  const advertiseAddress = values['advertise-address'];
  if (advertiseAddress !== undefined && (!isIPv4(advertiseAddress) || advertiseAddress.startsWith('127.') || advertiseAddress === '0.0.0.0')) {
    fail(`invalid --advertise-address ${advertiseAddress}: an IPv4 address that is not loopback or unspecified`);
  }
  let clusterSigningDurationMs: number | undefined;
  if (values['cluster-signing-duration'] !== undefined) {
    try {
      clusterSigningDurationMs = parseGoDuration(values['cluster-signing-duration']);
    } catch (err) {
      fail(`invalid --cluster-signing-duration: ${(err as Error).message}`);
    }
    if (!(clusterSigningDurationMs > 0)) fail(`invalid --cluster-signing-duration ${values['cluster-signing-duration']}: must be longer than 0`);
  }
  let nodeFlags: NodeLifecycleFlags;
  try {
    nodeFlags = parseNodeLifecycleFlags(values);
  } catch (err) {
    fail((err as Error).message);
  }
  // The containerd node joins the machines' pod network when the server listens beyond loopback.
  if (values['node-ip'] !== undefined && (!isIPv4(values['node-ip']) || values['node-ip'].startsWith('127.'))) fail(`invalid --node-ip ${values['node-ip']}: an IPv4 address of this machine that other nodes reach`);
  const nodeIP = values['node-ip'] ?? (runtime === 'containerd' && !host.startsWith('127.') && host !== 'localhost' ? advertiseAddressFor(host, advertiseAddress) : undefined);
  // Off by default for `up`, so that a single-machine cluster starts its controllers at once.
  let leaderElection: LeaderElectFlags;
  try {
    leaderElection = parseLeaderElectFlags(values, leaderElect ?? false);
  } catch (err) {
    fail((err as Error).message);
  }
  let etcdFlags: EtcdFlags | undefined;
  try {
    etcdFlags = parseEtcdFlags(storeKind, values);
  } catch (err) {
    fail((err as Error).message);
  }
  if (storeKind !== 'sqlite' && storeKind !== 'etcd') fail(`unknown --store ${storeKind}: supported stores are: sqlite, etcd`);
  const reconcilerType = values['endpoint-reconciler-type'] ?? 'lease';
  if (reconcilerType !== 'lease' && reconcilerType !== 'none') fail(`invalid --endpoint-reconciler-type ${reconcilerType}: supported types are lease and none (master-count is not supported)`);
  let audit;
  try {
    audit = auditOptions(values);
  } catch (err) {
    fail((err as Error).message);
  }
  // The server certificate names the kubernetes Service's ClusterIP too, as upstream's does, so
  // in-cluster clients that connect by address verify it. Not awaited here: a first start
  // generates the service account's RSA key on the thread pool meanwhile the store opens and the
  // API server loads its cache and writes the default objects (startApiServer awaits it).
  const pkiReady = ensurePki(dataDir, { hosts: [...certificateHosts(host, values['tls-san']), serviceNetwork.kubernetesIP] });
  pkiReady.catch(() => {}); // awaited below; this only keeps a failure from counting as unhandled meanwhile
  markStartup('pki');
  let store: Store;
  if (storeKind === 'sqlite') store = new SqliteStore(join(dataDir, 'state.db'));
  else if (storeKind === 'etcd' && etcdFlags) {
    const { openEtcdStore } = await import('../storage/etcd/store.ts');
    const { storedResources } = await import('../apiserver/stored-resources.ts');
    store = await openEtcdStore(etcdFlags, storedResources(), {
      // A cache that can no longer follow etcd would serve stale state: stop, as a crashed server would.
      onStreamLost: (err) => {
        log('error', 'ordinal', 'lost the etcd watch; exiting', { error: err.message });
        process.exit(1);
      },
      onCompactionError: (err) => log('warn', 'ordinal', 'etcd compaction failed', { error: err.message }),
    }).catch((err) => fail((err as Error).message));
  } else fail(`unknown --store ${storeKind}: supported stores are: sqlite, etcd`);
  markStartup('store');
  let masterLeases: MasterLeaseStore | undefined;
  if (store.driver === 'etcd' && etcdFlags) {
    const { EtcdMasterLeases } = await import('../storage/etcd/master-leases.ts');
    const { EtcdStore } = await import('../storage/etcd/store.ts');
    if (reconcilerType === 'lease' && store instanceof EtcdStore) masterLeases = new EtcdMasterLeases(store.client, etcdFlags.prefix);
  }

  // Node agents register their pods' streams here; the API server serves exec, logs and port-forward from it.
  const streaming = new NodeStreamingRegistry();
  const api = await startApiServer({ store, pki: pkiReady, port, host, nodeStreaming: streaming, serviceNetwork, advertiseAddress, admission: nodeFlags.admission, ...(audit ? { audit } : {}), masterLeases, endpointReconcilerNone: reconcilerType === 'none', startupMark: markStartup });
  const controllers: Component[] = [];
  const eventExpirer = new EventExpirer(new InProcessClient(api.resources), eventTtlMs);
  await eventExpirer.start();
  controllers.push(eventExpirer);
  let nodeContainerd: NodeContainerd | undefined;
  if (command === 'up') {
    log('info', 'ordinal', `pods run on the ${runtime} runtime: ${runtimeWhy}`, { runtime, nodes: runtime === 'containerd' ? 1 : nodes });
    try {
      if (runtime === 'containerd') nodeContainerd = await (await import('../agent/containerd-supervisor/node-runtime.ts')).prepareContainerd({ dataDir, bridge: values.bridge ?? DEFAULT_BRIDGE, socket: givenSocket });
      controllers.push(
        ...(await startComponents(new InProcessClient(api.resources), {
          dataDir,
          nodes,
          simStartDelayMs,
          simStopDelayMs,
          controllers: controllerList,
          dnsPort,
          dnsPortIsDefault: values['dns-port'] === undefined,
          runtime,
          containerdSocket: nodeContainerd?.socket,
          podCIDR,
          bridge: values.bridge,
          clusterCIDR,
          nodeIP,
          streaming,
          serviceNetwork,
          // The in-process node reaches the server where it listens (any-address binds are reached on loopback).
          apiServer: { host: host === '0.0.0.0' ? '127.0.0.1' : host, port: api.port },
          clusterSigningDurationMs,
          nodeLifecycle: nodeFlags.nodeLifecycle,
          terminatedPodGcThreshold: nodeFlags.terminatedPodGcThreshold,
          leaderElection: { ...leaderElection, onLost: 'campaign' },
          // Each component acts as its own identity (kube-controller-manager's --use-service-account-credentials).
        }, (user) => new InProcessClient(api.resources, { user }))),
      );
    } catch (err) {
      await nodeContainerd?.stop();
      await api.close();
      await store.close();
      fail((err as Error).message);
    }
  }
  markStartup('components');
  const kubeconfig = join(dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: api.url, pki: await pkiReady });
  markStartup('kubeconfig');
  // Measured from process start, module loading included: what a user waits for.
  const ms = Math.round(performance.now());
  const cpu = process.cpuUsage();
  log('info', 'ordinal', 'API server ready', { url: api.url, dataDir, store: storeKind, startupMs: ms, startupCpuMs: Math.round((cpu.user + cpu.system) / 1000), phasesMs: startupPhases() });
  process.stdout.write(`Ordinal ${command === 'up' ? 'cluster' : 'API server'} is ready at ${api.url} (${ms} ms)\n`);
  process.stdout.write(`export KUBECONFIG=${kubeconfig}\n`);
  const stopCompaction = values['no-idle-compaction'] ? () => {} : startIdleCompaction(() => store.currentRevision());

  onTermination(async (signal) => {
    log('info', 'ordinal', 'shutting down', { signal });
    stopCompaction();
    for (const c of controllers) c.stop();
    // The node leaves its pods running (as a kubelet does); only its containerd stops.
    await nodeContainerd?.stop();
    await api.close();
    await store.close();
  });
}

/**
 * The names the server certificate must carry: the listen address, --tls-san, and for an
 * unspecified address (0.0.0.0, ::) every address of this machine, which is what nodes on other
 * machines will dial.
 */
function certificateHosts(host: string, sans: string | undefined): string[] {
  const hosts = [host, ...(sans ?? '').split(',').map((x) => x.trim()).filter(Boolean)];
  if (host === '0.0.0.0' || host === '::') {
    for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (!a.internal && !a.address.startsWith('fe80:')) hosts.push(a.address);
    hosts.push(osHostname());
  }
  return hosts.filter((h) => h !== '0.0.0.0' && h !== '::');
}

function fail(msg: string): never {
  process.stderr.write(`ordinal: ${msg}\n`);
  process.exit(2);
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`ordinal: ${err?.stack ?? err}\n`);
  process.exit(1);
});
