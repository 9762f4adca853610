// `ordinal agent`: a node that joins a running cluster from this machine (or another process), as a
// kubelet joins with `kubeadm join`: pin the server's CA by its hash, authenticate once with a
// bootstrap token, obtain the node's own client certificate through a CertificateSigningRequest,
// then register the node and run the pods bound to it. Later starts reuse the saved certificate
// (no token needed), and the certificate is renewed before it expires.
import { millisecondsFlag, parseFlags } from './parse-flags.ts';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { HttpClient } from '../client/http-client.ts';
import { NodeAgent } from '../agent/agent.ts';
import { serveNode } from '../agent/kubelet-server/serve-node.ts';
import { SimRuntime } from '../agent/runtime/sim.ts';
import { ContainerdRuntime, DEFAULT_CONTAINERD_SOCKET } from '../agent/runtime/containerd.ts';
import { chooseRuntime } from './runtime-choice.ts';
import { ownContainerdUnavailable } from '../agent/containerd-supervisor/supervisor.ts';
import { prepareContainerd, type NodeContainerd } from '../agent/containerd-supervisor/node-runtime.ts';
import type { Runtime } from '../agent/runtime/types.ts';
import { discoverServerCa, CaPinError } from '../agent/join/discover-ca.ts';
import { loadNodeCredentials, loadSavedCa, nodeUser, renewalTime, requestNodeCertificate, saveCa, saveNodeCredentials, type NodeCredentials } from '../agent/join/node-credentials.ts';
import { caCertHash, matchesCaCertHash } from '../certificates/ca-hash.ts';
import { ApiError } from '../apiserver/errors.ts';
import { log } from '../util/log.ts';
import { DEFAULT_BRIDGE } from '../agent/runtime/cri/network.ts';
import { ClusterDns } from '../dns/server.ts';
import { ServiceProxy } from '../agent/service-proxy/proxy.ts';
import { dummyInterfaceFor } from '../agent/service-proxy/host-network.ts';
import { backendOfUrl } from '../agent/service-proxy/plan.ts';
import { DEFAULT_SERVICE_CIDR, type ServiceNetwork } from '../apiserver/service-network.ts';
import { clusterCidrFlag, serviceNetworkFlag } from './network-flags.ts';
import { onTermination } from './termination.ts';
import { parseGoDuration } from '../util/duration.ts';
import { HostGatewayRoutes } from '../agent/routes/host-gateway.ts';

const USAGE = `Usage: ordinal agent --server URL --token TOKEN --ca-cert-hash sha256:HEX [options]

Joins this machine to a cluster as a node (print the command on the server with: ordinal token create).

Options:
  --server URL[,URL...]  the API server(s) to join (https://HOST:PORT)
  --token TOKEN          a bootstrap token (<id>.<secret>), needed for the first join only
  --ca-cert-hash HASH    sha256:<hex> of the cluster CA's public key; the agent refuses a server whose
                         CA does not match. Without it the CA is taken on trust (unsafe)
  --node-name NAME       the node's name (default: this machine's hostname)
  --node-ip ADDR         the node's InternalIP (default: this machine's address on the route to the server)
  --runtime KIND         containerd or sim (default: containerd, run by the agent itself, when it is
                         installed and the agent runs as root; else sim)
  --containerd-socket PATH
                         use this running containerd (e.g. ${DEFAULT_CONTAINERD_SOCKET}) instead of the agent's own
  --bridge NAME          the Linux bridge for this node's pods (default ${DEFAULT_BRIDGE})
  --data-dir DIR         where the node keeps its credentials and state (default ~/.ordinal-agent)
  --kubelet-port PORT    the node's own HTTPS API, for exec, logs and the node proxy (default 10250)
  --sim-start-delay MS   how long a simulated pod shows ContainerCreating (default 500)
  --sim-stop-delay MS    how long a simulated container takes to stop, at most its grace period (default 200)
  --labels K=V,...       extra node labels
  --cluster-cidr CIDR    the cluster's pod range (default 10.244.0.0/16): addresses in it that belong
                         to no node are dropped here rather than sent out by the default route
  --service-cluster-ip-range CIDR
                         the cluster's service range, as the server's flag (default ${DEFAULT_SERVICE_CIDR}):
                         the node makes its ClusterIPs work for its pods
  --node-status-update-frequency DURATION
                         how often the node posts its status, as the kubelet's flag (default 10s)
  --node-lease-duration-seconds N
                         the node's Lease duration, renewed every quarter of it, as the kubelet's
                         nodeLeaseDurationSeconds (default 40)
  -h, --help             show this help
`;

export async function runAgent(argv: string[]): Promise<void> {
  const { values } = parseFlags({
    args: argv,
    allowPositionals: false,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      'ca-cert-hash': { type: 'string' },
      'node-name': { type: 'string' },
      'node-ip': { type: 'string' },
      runtime: { type: 'string' },
      'containerd-socket': { type: 'string' },
      bridge: { type: 'string' },
      'data-dir': { type: 'string' },
      'kubelet-port': { type: 'string' },
      'sim-start-delay': { type: 'string' },
      'sim-stop-delay': { type: 'string' },
      labels: { type: 'string' },
      'cluster-cidr': { type: 'string' },
      'service-cluster-ip-range': { type: 'string' },
      'node-status-update-frequency': { type: 'string' },
      'node-lease-duration-seconds': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }, fail);
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (!values.server) fail('--server is required (see ordinal agent --help)');
  const servers = values.server.split(',').map((s) => s.trim()).filter(Boolean);
  const dataDir = resolve(values['data-dir'] ?? join(homedir(), '.ordinal-agent'));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const nodeName = (values['node-name'] ?? hostname()).toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName) || nodeName.length > 253) fail(`invalid node name "${nodeName}": a lowercase RFC 1123 subdomain (use --node-name)`);
  const hash = values['ca-cert-hash'];
  if (hash !== undefined && !/^sha256:[0-9a-fA-F]{64}$/.test(hash)) fail(`invalid --ca-cert-hash ${hash}: expected sha256:<64 hex digits>`);
  const token = values.token;
  if (token !== undefined && !/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(token)) fail('invalid --token: expected the form [a-z0-9]{6}.[a-z0-9]{16}');
  if (values['node-ip'] !== undefined && !isIP(values['node-ip'])) fail(`invalid --node-ip ${values['node-ip']}`);
  const kubeletPort = Number(values['kubelet-port'] ?? 10250);
  if (!Number.isInteger(kubeletPort) || kubeletPort < 0 || kubeletPort > 65535) fail(`invalid --kubelet-port ${values['kubelet-port']}`);
  const simStartDelayMs = millisecondsFlag(values['sim-start-delay'], 500) ?? fail(`invalid --sim-start-delay ${values['sim-start-delay']}`);
  const simStopDelayMs = millisecondsFlag(values['sim-stop-delay'], 200) ?? fail(`invalid --sim-stop-delay ${values['sim-stop-delay']}`);
  let statusEveryMs = 10_000;
  try {
    if (values['node-status-update-frequency'] !== undefined) statusEveryMs = parseGoDuration(values['node-status-update-frequency']);
  } catch (err) {
    fail(`invalid --node-status-update-frequency: ${(err as Error).message}`);
  }
  if (!(statusEveryMs >= 100)) fail(`invalid --node-status-update-frequency ${values['node-status-update-frequency']}: at least 100ms`);
  const leaseSeconds = Number(values['node-lease-duration-seconds'] ?? 40);
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1) fail(`invalid --node-lease-duration-seconds ${values['node-lease-duration-seconds']}: a whole number of seconds, at least 1`);
  const labels: Record<string, string> = {};
  for (const kv of (values.labels ?? '').split(',').filter(Boolean)) {
    const [k, v = ''] = kv.split('=');
    labels[k!.trim()] = v.trim();
  }

  let clusterCIDR: string;
  let serviceNetwork: ServiceNetwork;
  try {
    clusterCIDR = clusterCidrFlag(values['cluster-cidr']);
    serviceNetwork = serviceNetworkFlag(values['service-cluster-ip-range']);
  } catch (err) {
    fail((err as Error).message);
  }

  // 1. The cluster CA: discovered from the server and pinned by --ca-cert-hash on the first join;
  // later the saved CA is the pin, so a node never follows its server name to another cluster.
  let caCertPem = loadSavedCa(dataDir);
  if (caCertPem && hash && !matchesCaCertHash(caCertPem, hash)) fail(`the CA saved in ${join(dataDir, 'pki')} does not match --ca-cert-hash; remove that directory to join another cluster`);
  const pin = hash ?? (caCertPem ? caCertHash(caCertPem) : undefined);
  let localAddress: string | undefined;
  try {
    const found = await discoverCaFromAny(servers, pin);
    localAddress = found.localAddress;
    if (!pin) log('warn', 'agent', "joining without --ca-cert-hash: the server's CA is trusted as presented (unsafe on an untrusted network)", { server: found.server });
    caCertPem ??= found.caCertPem;
  } catch (err) {
    if (err instanceof CaPinError || !caCertPem) fail((err as Error).message);
    log('warn', 'agent', 'server not reachable yet; starting with the saved credentials', { error: (err as Error).message });
  }
  saveCa(dataDir, caCertPem!);

  // 2. The node's own certificate: saved, or requested now with the bootstrap token.
  let creds = loadNodeCredentials(dataDir, caCertPem!, nodeName);
  if (!creds) {
    if (!token) fail(`no valid node credentials in ${dataDir}: pass --token (print a join command on the server with: ordinal token create)`);
    const bootstrapClient = new HttpClient({ servers, caCertPem: caCertPem!, credentials: { token }, userAgent: `ordinal-agent/${nodeName} (bootstrap)` });
    try {
      creds = await requestNodeCertificate(bootstrapClient, nodeName);
    } catch (err) {
      if (err instanceof ApiError && err.code === 401) fail('the server refused the bootstrap token (401 Unauthorized): it is wrong, expired or deleted; create a new one with: ordinal token create');
      if (err instanceof ApiError) fail(`joining failed: ${err.message}`);
      fail(`joining failed: ${(err as Error).message}`);
    } finally {
      bootstrapClient.close();
    }
    saveNodeCredentials(dataDir, creds, servers, caCertPem!, nodeName);
    log('info', 'agent', 'node credentials issued', { node: nodeName, user: nodeUser(nodeName), expires: new Date(creds.notAfter).toISOString() });
  }
  const client = new HttpClient({ servers, caCertPem: caCertPem!, credentials: { certPem: creds.certPem, keyPem: creds.keyPem }, userAgent: `ordinal-agent/${nodeName}` });

  // 3. The runtime (its own containerd when it can, as `ordinal up`) and the node.
  const givenSocket = values['containerd-socket'] !== undefined ? resolve(values['containerd-socket']) : undefined;
  const runtimeChoice = chooseRuntime({ flag: values.runtime, socket: givenSocket, socketExists: givenSocket !== undefined && existsSync(givenSocket), ownUnavailable: ownContainerdUnavailable() });
  if ('error' in runtimeChoice) fail(runtimeChoice.error);
  let runtime: Runtime;
  let containerd: ContainerdRuntime | undefined;
  let nodeContainerd: NodeContainerd | undefined;
  if (runtimeChoice.runtime === 'containerd') {
    nodeContainerd = await prepareContainerd({ dataDir, bridge: values.bridge ?? DEFAULT_BRIDGE, socket: givenSocket });
    containerd = await ContainerdRuntime.connect({ socket: nodeContainerd.socket, dataDir, client, bridgeName: values.bridge, dnsServer: serviceNetwork.dnsIP, serviceCIDR: serviceNetwork.cidr, clusterCIDR });
    runtime = containerd;
  } else {
    runtime = new SimRuntime({ startDelayMs: simStartDelayMs, stopDelayMs: simStopDelayMs });
  }
  log('info', 'agent', `pods run on the ${runtimeChoice.runtime} runtime: ${runtimeChoice.why}`, { node: nodeName });
  const stops: (() => void | Promise<void>)[] = [() => nodeContainerd?.stop()];
  // The address this machine reached the server from; kept, so a restart while the server is away
  // registers the same InternalIP (the other nodes route this node's pods to it).
  const routeAddress = localAddress?.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
  const ipFile = join(dataDir, 'node-ip');
  if (routeAddress) writeFileSync(ipFile, routeAddress + '\n');
  const internalIP = values['node-ip'] ?? routeAddress ?? (existsSync(ipFile) ? readFileSync(ipFile, 'utf8').trim() : undefined);
  const agent = new NodeAgent(client, {
    nodeName,
    runtime,
    internalIP,
    kubeletPort,
    labels,
    dataDir,
    localPathDir: containerd ? join(dataDir, 'volumes') : undefined,
    leaseDurationSeconds: leaseSeconds,
    // As the kubelet: the Lease renewed every quarter of its duration.
    leaseRenewMs: (leaseSeconds * 1000) / 4,
    nodeStatusReportMs: statusEveryMs,
  });
  // The node's own HTTPS API (exec, logs, port-forward, /pods), before the Node registers, so its
  // status names the port from the start. Only the API server's kubelet client is let in.
  const kubelet = await serveNode(agent, { host: internalIP ?? '0.0.0.0', port: kubeletPort, caCertPem: caCertPem! });
  stops.push(() => kubelet.close());
  await agent.start();
  stops.push(() => agent.stop());

  // Pods on other nodes are reached through those nodes (host-gw), with real pod networks only.
  if (containerd) {
    const routes = new HostGatewayRoutes(client, { nodeName, clusterCIDR });
    await routes.start();
    stops.push(() => routes.stop());
  }

  if (containerd?.gatewayIP) {
    // ClusterIPs work for this node's pods (the `kubernetes` Service leads to the servers this agent
    // uses, spread over them, and past one that is down).
    const proxy = new ServiceProxy(client, {
      serviceCIDR: serviceNetwork.cidr,
      dummyInterface: dummyInterfaceFor(values.bridge ?? DEFAULT_BRIDGE),
      localAddresses: [serviceNetwork.dnsIP],
      podSource: { address: containerd.gatewayIP, clusterCIDR },
      apiServers: servers.map(backendOfUrl),
    });
    await proxy.start();
    stops.push(() => proxy.close());
    // Each node answers cluster DNS for its own pods: at the kube-dns ClusterIP (their resolv.conf)
    // and at their gateway. As the node, it may not list every pod: pod names are answered as
    // kubeadm's Corefile does (pods insecure), with no pod watch.
    const dns = new ClusterDns(client, { port: 0, pods: 'insecure' });
    await dns.start();
    stops.push(() => dns.stop());
    for (const address of [serviceNetwork.dnsIP, containerd.gatewayIP]) {
      await dns.listenOn(address, 53).catch((err) => log('warn', 'agent', 'pods cannot reach cluster DNS', { address, error: (err as Error).message }));
    }
  }

  // 4. Certificate renewal, before the current one expires.
  let rotation: NodeJS.Timeout | undefined;
  const scheduleRenewal = (c: NodeCredentials, delayOverride?: number) => {
    const delay = delayOverride ?? Math.max(1000, renewalTime(c) - Date.now());
    rotation = setTimeout(() => void renew(c), Math.min(delay, 2 ** 31 - 1));
  };
  const renew = async (current: NodeCredentials) => {
    try {
      const next = await requestNodeCertificate(client, nodeName);
      saveNodeCredentials(dataDir, next, servers, caCertPem!, nodeName);
      client.setCredentials({ certPem: next.certPem, keyPem: next.keyPem });
      log('info', 'agent', 'node certificate renewed', { node: nodeName, expires: new Date(next.notAfter).toISOString() });
      scheduleRenewal(next);
    } catch (err) {
      log('warn', 'agent', 'node certificate renewal failed; retrying', { node: nodeName, error: (err as Error).message });
      scheduleRenewal(current, 30_000);
    }
  };
  scheduleRenewal(creds);
  stops.push(() => clearTimeout(rotation));

  const ms = Math.round(performance.now());
  process.stdout.write(`Ordinal node ${nodeName} joined ${servers[0]} (${ms} ms)\n`);
  log('info', 'agent', 'node agent running', { node: nodeName, internalIP, podCIDR: agent.podCIDR, startupMs: ms });

  onTermination(async (signal) => {
    // A stopping node leaves its running pods alone, as a kubelet does.
    log('info', 'agent', 'shutting down; pods keep running', { node: nodeName, signal });
    for (const s of stops.reverse()) await s();
    client.close();
  });
}

function fail(msg: string): never {
  process.stderr.write(`ordinal agent: ${msg}\n`);
  process.exit(2);
}

/**
 * The CA from the first of the servers that answers: with several API servers a node joins through
 * any live one. A CA that does not match the pin is final, whichever server presents it.
 */
async function discoverCaFromAny(servers: string[], pin: string | undefined): Promise<Awaited<ReturnType<typeof discoverServerCa>> & { server: string }> {
  let lastErr: unknown;
  for (const server of servers) {
    try {
      return { ...(await discoverServerCa(server, pin)), server };
    } catch (err) {
      if (err instanceof CaPinError) throw err;
      lastErr = err;
    }
  }
  throw lastErr;
}

