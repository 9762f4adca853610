// The containerd runtime: pods as real containers through containerd's CRI v1 API on its unix
// socket, the way the kubelet drives its runtime. A pod gets a sandbox (pause container, network
// namespace on our CNI bridge, hostname, resolv.conf), its containers are created in it with the
// pod's command, env, mounts and limits, and their state is read back for the pod's status.
//
// Everything lives in containerd (labelled ordinal.dev/managed), so an agent that restarts adopts
// what runs; per-pod files (logs, emptyDir, /etc/hosts, configMap/secret volumes) live under
// <dataDir>/pods/<uid>. Images are never fetched from the internet: a missing image is an
// ErrImagePull that says how to import it, unless its registry is on loopback.
import { existsSync, mkdirSync, rmSync, writeFileSync, chmodSync, lstatSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, normalize } from 'node:path';
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { PROVISIONER } from '../../controllers/volume/plan.ts';
import { log } from '../../util/log.ts';
import type { ContainerSummary, ImagePullResult, ProbeKind, PullPolicy, Runtime, RuntimeContainerStatus, RuntimeHookResult, RuntimeProbeResult, RuntimeEvent, SandboxInfo, SandboxSummary } from './types.ts';
import { CriClient } from './cri/client.ts';
import { runNetworkProbe } from '../prober-net.ts';
import { serviceEnv, servicesForPod } from '../service-env.ts';
import { ServiceAccountTokens } from '../service-account-token.ts';
import { runHttpGetHook } from '../lifecycle.ts';
import { execExitError } from '../lifecycle-logic.ts';
import { GRPC, GrpcError } from './cri/grpc.ts';
import type { Mount, PodSandboxConfig } from './cri/messages.ts';
import { containerConfigFor, containerEnv, downwardApiFiles, etcHosts, keyedFiles, LABELS, sandboxConfigFor, type EnvSources, type VolumeFile } from './cri/pod-config.ts';
import { CNI_NETWORK_NAME, cniConflist, DEFAULT_BRIDGE, ensureBridge, parseCidr, writeCniConfig } from './cri/network.ts';
import { openPortForward, openRemoteCommand } from './cri/streaming.ts';
import { pidFromInfo, processGone, untilSettled } from './cri/exit-lag.ts';
import type { Duplex } from 'node:stream';
import type { ExecOptions, StreamOptions, StreamSession } from '../../streaming/types.ts';

export const DEFAULT_CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

export interface ContainerdRuntimeOptions {
  socket: string;
  /** Where per-pod files go (<dataDir>/pods) and the CNI address database (<dataDir>/cni). */
  dataDir: string;
  /** API access for PVC-backed volumes, configMap/secret volumes and env. */
  client?: Client;
  bridgeName?: string;
  /** containerd's CNI config directory; by default read from containerd's own config. */
  cniConfDir?: string;
  clusterDomain?: string;
  /** The nameserver pods get; by default the bridge's address, where cluster DNS should listen. */
  dnsServer?: string;
  /** The service CIDR: pods get a route to it through the bridge address, where the node holds ClusterIPs. */
  serviceCIDR?: string;
  /** The cluster's pod range: pods get a route to it through their gateway, to reach pods on other nodes. */
  clusterCIDR?: string;
  /** How often container states are polled for exits (containerd 1.6 has no event stream in CRI). */
  pollMs?: number;
}

/** An image problem the pod worker shows as ErrImagePull / ErrImageNeverPull. */
export class ImagePullError extends Error {
  readonly reason: 'ErrImagePull' | 'ErrImageNeverPull';
  constructor(reason: 'ErrImagePull' | 'ErrImageNeverPull', message: string) {
    super(message);
    this.reason = reason;
  }
}

const iso = (ns: number) => (ns > 0 ? new Date(Math.floor(ns / 1e9) * 1000).toISOString().replace('.000Z', 'Z') : undefined);
const notFound = (err: unknown) => err instanceof GrpcError && err.code === GRPC.NOT_FOUND;

/** Expands a short image name the way containerd's CRI does ("nginx" -> "docker.io/library/nginx:latest"). */
export function normalizeImage(ref: string): string {
  let name = ref;
  let suffix = '';
  const at = name.indexOf('@');
  if (at !== -1) {
    suffix = name.slice(at);
    name = name.slice(0, at);
  } else {
    const colon = name.lastIndexOf(':');
    if (colon > name.lastIndexOf('/')) {
      suffix = name.slice(colon);
      name = name.slice(0, colon);
    } else suffix = ':latest';
  }
  const first = name.split('/')[0]!;
  const hasDomain = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasDomain) name = `docker.io/${name.includes('/') ? name : `library/${name}`}`;
  return name + suffix;
}

/** Whether an image's registry is on this machine's loopback (the only registries we ever pull from). */
export function loopbackRegistry(ref: string): boolean {
  const host = normalizeImage(ref).split('/')[0]!.replace(/:\d+$/, '');
  return host === 'localhost' || /^127\./.test(host) || host === '[::1]';
}

export class ContainerdRuntime implements Runtime {
  readonly name = 'containerd';
  readonly version: string;
  readonly socket: string;
  private readonly cri: CriClient;
  private readonly opts: ContainerdRuntimeOptions;
  private readonly bridge: string;
  private gateway: string | undefined;
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Last seen state per container id (for exit events), and the pod each belongs to. */
  private readonly seen = new Map<string, { state: string; podUid: string }>();
  /** Main process PID per container id (null: unknown, or not one this process can judge). */
  private readonly mainPids = new Map<string, number | null>();
  /**
   * A sandbox's IP and attempt, which never change in its life: createContainer needs both, and
   * asking containerd again (PodSandboxStatus) would cost a round-trip per container on the start path.
   */
  private readonly sandboxFacts = new Map<string, { ip: string; attempt: number }>();
  /** Bound tokens for projected serviceAccountToken sources, kept fresh in the pods' volumes. */
  private readonly serviceAccountTokens = new ServiceAccountTokens(() => this.opts.client);
  /** The labels and annotations each pod's downward-API files were last written from, by pod uid. */
  private readonly downwardRendered = new Map<string, string>();
  /** Pods with configMap, secret or projected volumes (latest object seen), re-read every VOLUME_RESYNC_MS. */
  private readonly syncedVolumes = new Map<string, Obj>();
  /** What each rendered volume directory holds now, so an unchanged volume is not written again. */
  private readonly rendered = new Map<string, string>();
  private volumeTimer: NodeJS.Timeout | undefined;

  private constructor(cri: CriClient, version: string, opts: ContainerdRuntimeOptions) {
    this.cri = cri;
    this.version = version;
    this.socket = opts.socket;
    this.opts = opts;
    this.bridge = opts.bridgeName ?? DEFAULT_BRIDGE;
  }

  /** Connects and checks that the socket serves CRI v1; the error says what is wrong. */
  static async connect(opts: ContainerdRuntimeOptions): Promise<ContainerdRuntime> {
    if (!existsSync(opts.socket)) throw new Error(`containerd socket ${opts.socket} does not exist: start containerd, or pass --containerd-socket PATH`);
    const cri = new CriClient(opts.socket);
    try {
      const v = await cri.version();
      if (v.runtimeApiVersion !== 'v1') throw new Error(`${opts.socket} serves CRI ${v.runtimeApiVersion || '(none)'}, not v1`);
      return new ContainerdRuntime(cri, v.runtimeVersion.replace(/~.*$/, ''), opts);
    } catch (err) {
      cri.close();
      const why = err instanceof GrpcError && err.code === GRPC.UNIMPLEMENTED ? 'its CRI plugin is disabled' : (err as Error).message;
      throw new Error(`cannot use containerd at ${opts.socket}: ${why}`);
    }
  }

  /** The bridge's address: the node's address on the pod network (cluster DNS should listen there). */
  get gatewayIP(): string | undefined {
    return this.gateway;
  }

  get client(): CriClient {
    return this.cri;
  }

  // ---------------------------------------------------------------------------- network

  async updateRuntimeConfig(config: { podCIDR?: string }): Promise<void> {
    if (!config.podCIDR) return;
    parseCidr(config.podCIDR);
    this.gateway = await ensureBridge(this.bridge, config.podCIDR);
    const confDir = this.opts.cniConfDir ?? (await this.cniConfDir());
    const ipam = join(this.opts.dataDir, 'cni', 'ipam');
    mkdirSync(ipam, { recursive: true });
    if (writeCniConfig(confDir, cniConflist({ bridge: this.bridge, podCIDR: config.podCIDR, ipamDataDir: ipam, serviceCIDR: this.opts.serviceCIDR, clusterCIDR: this.opts.clusterCIDR }))) {
      log('info', 'containerd', 'pod network configured', { bridge: this.bridge, podCIDR: config.podCIDR, gateway: this.gateway, cniConfDir: confDir });
    }
    await this.cri.updateRuntimeConfig(config.podCIDR).catch(() => {});
    // containerd notices the new CNI config through inotify; wait until it reports the network ready.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const st = await this.cri.status(true);
      const net = st.conditions.find((c) => c.type === 'NetworkReady');
      const loaded = loadedNetworks(st.info.cniconfig).includes(CNI_NETWORK_NAME);
      if (net?.status && loaded) return;
      if (Date.now() > deadline) throw new Error(`containerd did not load the pod network config from ${confDir}: ${net?.reason ?? ''} ${net?.message ?? ''}`.trim());
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async cniConfDir(): Promise<string> {
    const info = (await this.cri.status(true)).info;
    try {
      const dir = JSON.parse(info.config ?? '{}')?.cni?.confDir;
      if (typeof dir === 'string' && dir) return dir;
    } catch {
      // fall through to the default
    }
    return '/etc/cni/net.d';
  }

  // ---------------------------------------------------------------------------- sandboxes

  private podDir(uid: string): string {
    return join(this.opts.dataDir, 'pods', uid);
  }

  /** Where CRI writes a pod's container logs (the kubelet's /var/log/pods/<ns>_<name>_<uid> layout). */
  private podLogDir(md: { namespace: string; name: string; uid: string }): string {
    return join(this.opts.dataDir, 'logs', `${md.namespace}_${md.name}_${md.uid}`);
  }

  private sandboxConfig(pod: Obj, attempt = 0): PodSandboxConfig {
    const md = pod.metadata;
    return sandboxConfigFor(pod, {
      logDirectory: this.podLogDir(md),
      dnsServer: this.opts.dnsServer ?? this.gateway,
      clusterDomain: this.opts.clusterDomain,
      attempt,
    });
  }

  async runPodSandbox(pod: Obj): Promise<SandboxInfo> {
    if (!this.gateway) throw new Error('no pod CIDR configured: the runtime cannot give pods addresses');
    const uid: string = pod.metadata.uid;
    // A new attempt per sandbox of the same pod: containerd keeps names unique per (pod, attempt).
    const earlier = await this.cri.listPodSandbox({ labels: { [LABELS.podUid]: uid } });
    const attempt = earlier.reduce((m, s) => Math.max(m, s.metadata.attempt + 1), 0);
    const config = this.sandboxConfig(pod, attempt);
    mkdirSync(config.logDirectory!, { recursive: true });
    mkdirSync(this.podDir(uid), { recursive: true });
    const id = await this.cri.runPodSandbox(config);
    const st = await this.cri.podSandboxStatus(id);
    this.sandboxFacts.set(id, { ip: st.ip, attempt });
    writeFileSync(join(this.podDir(uid), 'etc-hosts'), etcHosts(pod, st.ip, this.opts.clusterDomain));
    return { sandboxId: id, ip: st.ip };
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    await this.cri.stopPodSandbox(sandboxId).catch((err) => {
      if (!notFound(err)) throw err;
    });
  }

  /**
   * Downward-API files follow the pod's labels and annotations, as the kubelet keeps them: the
   * volumes holding any are written again (atomically, see renderVolume) when those change.
   */
  podUpdated(pod: Obj): void {
    const uid: string = pod.metadata.uid;
    if (this.syncedVolumes.has(uid)) this.syncedVolumes.set(uid, pod);
    const seen = this.downwardRendered.get(uid);
    if (seen === undefined) return;
    const now = downwardSignature(pod);
    if (now === seen) return;
    this.downwardRendered.set(uid, now);
    void (async () => {
      for (const v of pod.spec?.volumes ?? []) {
        if (!hasDownwardFiles(v) || !existsSync(this.podDir(uid))) continue;
        await this.volumePath(pod, v);
      }
    })().catch((err) => log('warn', 'agent', 'downward API volume refresh failed', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, error: String(err) }));
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    this.sandboxFacts.delete(sandboxId);
    let uid: string | undefined;
    try {
      uid = (await this.cri.podSandboxStatus(sandboxId)).labels[LABELS.podUid];
      await this.cri.removePodSandbox(sandboxId);
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    // The pod is finished on this node: its emptyDirs and rendered volumes go with it (its logs stay
    // until the pod is gone from the API, see removePodLogs).
    if (uid && !(await this.cri.listPodSandbox({ labels: { [LABELS.podUid]: uid } })).length) {
      rmSync(this.podDir(uid), { recursive: true, force: true });
      this.downwardRendered.delete(uid);
      this.syncedVolumes.delete(uid);
      const dir = this.podDir(uid) + '/';
      for (const root of this.rendered.keys()) if (root.startsWith(dir)) this.rendered.delete(root);
    }
  }

  removePodLogs(pod: { namespace: string; name: string; uid: string }): void {
    rmSync(this.podLogDir(pod), { recursive: true, force: true });
  }

  async listPodSandboxes(filter: { podUid?: string } = {}): Promise<SandboxSummary[]> {
    const labels: Record<string, string> = { [LABELS.managed]: 'true' };
    if (filter.podUid) labels[LABELS.podUid] = filter.podUid;
    const items = await this.cri.listPodSandbox({ labels });
    const out: SandboxSummary[] = [];
    for (const s of items) {
      const ip = s.state === 'ready' ? await this.cri.podSandboxStatus(s.id).then((x) => x.ip, () => '') : '';
      out.push({ sandboxId: s.id, ip, podUid: s.metadata.uid, namespace: s.metadata.namespace, name: s.metadata.name, state: s.state });
    }
    return out;
  }

  // ---------------------------------------------------------------------------- images

  async pullImage(image: string, policy: PullPolicy, onPulling?: () => void): Promise<ImagePullResult> {
    const ref = normalizeImage(image);
    const present = await this.cri.imageStatus(ref);
    const how = `import it into containerd's k8s.io namespace, e.g. \`ctr -a ${this.socket} -n k8s.io images import image.tar\``;
    if (policy === 'Never') {
      if (present) return { imageRef: present.repoDigests[0] ?? present.id };
      throw new ImagePullError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
    }
    if (present && policy === 'IfNotPresent') return { imageRef: present.repoDigests[0] ?? present.id };
    // From here on the kubelet pulls (and says so first), whether or not the registry can be reached.
    onPulling?.();
    if (!loopbackRegistry(ref)) {
      const what = present ? `imagePullPolicy Always needs registry ${ref.split('/')[0]}` : `image "${image}" is not on this node and pulling from ${ref.split('/')[0]}`;
      throw new ImagePullError(
        'ErrImagePull',
        `${what} is disabled: this cluster never reaches registries outside this machine; ${how}${present ? ', and use imagePullPolicy IfNotPresent' : ''}, or serve it from a registry on localhost`,
      );
    }
    const started = performance.now();
    let id: string;
    try {
      id = await this.cri.pullImage(ref);
    } catch (err) {
      throw new ImagePullError('ErrImagePull', `failed to pull image "${image}": ${(err as GrpcError).details ?? (err as Error).message}`);
    }
    const durationMs = performance.now() - started;
    const pulled = await this.cri.imageStatus(ref).catch(() => undefined);
    return { imageRef: pulled?.repoDigests[0] ?? id, pulled: { durationMs, sizeBytes: pulled?.size ?? 0 } };
  }

  // ---------------------------------------------------------------------------- containers

  async createContainer(sandboxId: string, pod: Obj, container: Obj, attempt: number): Promise<string> {
    // Known for sandboxes made here; one adopted after an agent restart is asked about once.
    let sandbox = this.sandboxFacts.get(sandboxId);
    if (!sandbox) {
      const st = await this.cri.podSandboxStatus(sandboxId);
      sandbox = { ip: st.ip, attempt: st.metadata.attempt };
      this.sandboxFacts.set(sandboxId, sandbox);
    }
    const config = this.sandboxConfig(pod, sandbox.attempt);
    const sources = await this.envSources(pod, container);
    const env = containerEnv(pod, container, { podIP: sandbox.ip, hostIP: this.gateway, nodeName: pod.spec?.nodeName }, sources);
    const mounts = await this.mounts(pod, container);
    const image = normalizeImage(container.image ?? '');
    mkdirSync(join(config.logDirectory!, container.name), { recursive: true });
    const cc = containerConfigFor(pod, container, { attempt, image, env, mounts });
    return this.cri.createContainer(sandboxId, cc, config);
  }

  async startContainer(id: string): Promise<void> {
    await this.cri.startContainer(id);
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.cri.stopContainer(id, graceSeconds);
    } catch (err) {
      if (!notFound(err)) throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.cri.removeContainer(id);
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    this.seen.delete(id);
    this.mainPids.delete(id);
  }

  async containerStatus(id: string): Promise<RuntimeContainerStatus> {
    let s = await this.cri.containerStatus(id);
    if (s.state === 'running' && (await this.mainProcessGone(id))) {
      s = await untilSettled(() => this.cri.containerStatus(id), s);
      // Never confirmed: the PID was not ours to judge (another PID namespace); stop asking.
      if (s.state === 'running') this.mainPids.set(id, null);
    }
    const out: RuntimeContainerStatus = { id: s.id, state: s.state, createdAt: iso(s.createdAt) ?? new Date().toISOString(), imageRef: s.imageRef || undefined, logPath: s.logPath || undefined };
    if (s.startedAt) out.startedAt = iso(s.startedAt);
    if (s.state === 'exited') {
      out.exitCode = s.exitCode;
      out.finishedAt = iso(s.finishedAt);
      out.reason = s.reason || (s.exitCode === 0 ? 'Completed' : 'Error');
      if (s.message) out.message = s.message;
    }
    return out;
  }

  /** Whether a container containerd still calls running has in fact lost its main process (see exit-lag.ts). */
  private async mainProcessGone(id: string): Promise<boolean> {
    let pid = this.mainPids.get(id);
    if (pid === undefined) {
      pid = pidFromInfo(await this.cri.containerInfo(id).catch(() => ({}))) ?? null;
      this.mainPids.set(id, pid);
    }
    return pid !== null && processGone(pid);
  }

  async listContainers(filter: { sandboxId?: string } = {}): Promise<ContainerSummary[]> {
    const items = await this.cri.listContainers({ podSandboxId: filter.sandboxId, labels: { [LABELS.managed]: 'true' } });
    return items.map((c) => ({ id: c.id, sandboxId: c.podSandboxId, name: c.metadata.name, attempt: c.metadata.attempt, state: c.state }));
  }

  // ---------------------------------------------------------------------------- exec, attach, port-forward

  async exec(containerId: string, opts: ExecOptions): Promise<StreamSession> {
    // The streaming server refuses a TTY with a separate stderr: a terminal has one output.
    const io = { stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr && !opts.tty, tty: opts.tty };
    const url = await this.cri.exec({ containerId, cmd: opts.command, ...io });
    return openRemoteCommand(url, io);
  }

  async attach(containerId: string, opts: StreamOptions): Promise<StreamSession> {
    const io = { stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr && !opts.tty, tty: opts.tty };
    const url = await this.cri.attach({ containerId, ...io });
    return openRemoteCommand(url, io);
  }

  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    const url = await this.cri.portForward({ podSandboxId: sandboxId, ports: [port] });
    return openPortForward(url, port);
  }

  // ---------------------------------------------------------------------------- volumes and env

  /** ConfigMaps and Secrets the container's env refers to, fetched once per container creation. */
  private async envSources(pod: Obj, container: Obj): Promise<EnvSources> {
    const ns: string = pod.metadata.namespace;
    const cms = new Map<string, Record<string, string> | undefined>();
    const secrets = new Map<string, Record<string, string> | undefined>();
    const client = this.opts.client;
    const wanted = { cm: new Set<string>(), secret: new Set<string>() };
    for (const f of container.envFrom ?? []) {
      if (f.configMapRef) wanted.cm.add(f.configMapRef.name);
      if (f.secretRef) wanted.secret.add(f.secretRef.name);
    }
    for (const e of container.env ?? []) {
      if (e.valueFrom?.configMapKeyRef) wanted.cm.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef) wanted.secret.add(e.valueFrom.secretKeyRef.name);
    }
    for (const name of wanted.cm) cms.set(name, client ? await fetchData(client, 'configmaps', ns, name) : undefined);
    for (const name of wanted.secret) secrets.set(name, client ? await fetchData(client, 'secrets', ns, name) : undefined);
    // Service variables: the pod's namespace (unless enableServiceLinks is false) and default/kubernetes.
    const wantLinks = pod.spec?.enableServiceLinks !== false;
    const services = client
      ? [
          ...(wantLinks ? (await client.list(client.resource('', 'services'), { namespace: ns }).catch(() => ({ items: [] as Obj[] }))).items : []),
          ...(ns !== 'default' || !wantLinks ? [await client.get(client.resource('', 'services'), 'default', 'kubernetes').catch(() => undefined)].filter((x): x is Obj => !!x) : []),
        ]
      : [];
    const svcEnv = serviceEnv(servicesForPod(services, ns, wantLinks));
    return { configMap: (_ns, name) => cms.get(name), secret: (_ns, name) => secrets.get(name), serviceEnv: svcEnv };
  }

  /** Host directories for the container's volumeMounts, plus the pod's /etc/hosts. */
  private async mounts(pod: Obj, container: Obj): Promise<Mount[]> {
    const uid: string = pod.metadata.uid;
    const volumes = new Map<string, Obj>((pod.spec?.volumes ?? []).map((v: Obj) => [v.name, v]));
    const out: Mount[] = [];
    const resolved = new Map<string, { path: string; readonly: boolean }>();
    for (const vm of container.volumeMounts ?? []) {
      const v = volumes.get(vm.name);
      if (!v) throw new Error(`volume "${vm.name}" is mounted by container ${container.name} but not defined in the pod`);
      let base = resolved.get(v.name);
      if (!base) {
        base = await this.volumePath(pod, v);
        resolved.set(v.name, base);
      }
      let hostPath = base.path;
      if (vm.subPath) {
        const sub = normalize(vm.subPath);
        if (sub.startsWith('..') || sub.startsWith('/')) throw new Error(`subPath "${vm.subPath}" must be a relative path inside the volume`);
        hostPath = join(base.path, sub);
        if (!existsSync(hostPath)) mkdirSync(hostPath, { recursive: true, mode: 0o777 });
      }
      out.push({ containerPath: vm.mountPath, hostPath, readonly: !!vm.readOnly || base.readonly });
    }
    const hosts = join(this.podDir(uid), 'etc-hosts');
    if (existsSync(hosts) && !out.some((m) => m.containerPath === '/etc/hosts')) out.push({ containerPath: '/etc/hosts', hostPath: hosts });
    return out;
  }

  private async volumePath(pod: Obj, v: Obj): Promise<{ path: string; readonly: boolean }> {
    const ns: string = pod.metadata.namespace;
    const client = this.opts.client;
    const dir = (kind: string) => join(this.podDir(pod.metadata.uid), 'volumes', kind, v.name);
    if (v.emptyDir) {
      const path = dir('empty-dir');
      mkdirSync(path, { recursive: true });
      chmodSync(path, 0o777); // like the kubelet's: writable by any user the container runs as
      return { path, readonly: false };
    }
    if (v.hostPath) {
      const path: string = v.hostPath.path;
      if (v.hostPath.type === 'DirectoryOrCreate' && !existsSync(path)) mkdirSync(path, { recursive: true, mode: 0o755 });
      if (!existsSync(path)) throw new Error(`hostPath ${path} of volume "${v.name}" does not exist`);
      return { path, readonly: false };
    }
    if (v.persistentVolumeClaim) {
      if (!client) throw new Error(`volume "${v.name}": no API access to look up claim ${v.persistentVolumeClaim.claimName}`);
      const claim = await client.get(client.resource('', 'persistentvolumeclaims'), ns, v.persistentVolumeClaim.claimName).catch(() => undefined);
      if (!claim) throw new Error(`persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" not found`);
      const pvName: string | undefined = claim.spec?.volumeName;
      if (!pvName || claim.status?.phase !== 'Bound') throw new Error(`persistentvolumeclaim "${claim.metadata.name}" is not bound yet`);
      const pv = await client.get(client.resource('', 'persistentvolumes'), undefined, pvName);
      const path: string | undefined = pv.spec?.local?.path ?? pv.spec?.hostPath?.path;
      if (!path) throw new Error(`persistentvolume ${pvName} has no local or hostPath directory this node can mount`);
      if (!existsSync(path)) {
        // A local-path volume provisioned for this node on its own disk is made here, on first use
        // (the provisioner runs with the API server, maybe on another machine).
        if (!isLocalPathVolumeFor(pv, pod.spec?.nodeName)) throw new Error(`the directory ${path} of persistentvolume ${pvName} does not exist on this node`);
        mkdirSync(path, { recursive: true, mode: 0o777 });
        chmodSync(path, 0o777); // containers may run as any user, as with upstream's local-path provisioner
      }
      return { path, readonly: !!v.persistentVolumeClaim.readOnly };
    }
    if (v.configMap || v.secret) {
      if (!client) throw new Error(`volume "${v.name}": no API access to read its data`);
      const src = v.configMap ?? v.secret;
      const name: string = v.configMap ? src.name : src.secretName;
      const data = await fetchData(client, v.configMap ? 'configmaps' : 'secrets', ns, name);
      if (!data && !src.optional) throw new Error(`${v.configMap ? 'configmap' : 'secret'} "${name}" not found`);
      return { path: this.render(dir(v.configMap ? 'configmap' : 'secret'), keyedFiles(data, src.items), src.defaultMode), readonly: true };
    }
    if (hasDownwardFiles(v)) this.downwardRendered.set(pod.metadata.uid, downwardSignature(pod));
    if (v.configMap || v.secret || v.projected) this.trackVolumes(pod);
    if (v.downwardAPI) {
      const files = downwardApiFiles(pod, v.downwardAPI.items ?? [], { hostIP: this.gateway, nodeName: pod.spec?.nodeName });
      return { path: this.render(dir('downward-api'), files, v.downwardAPI.defaultMode), readonly: true };
    }
    if (v.projected) {
      const files: VolumeFile[] = [];
      for (const source of v.projected.sources ?? []) {
        if (source.configMap || source.secret) {
          if (!client) throw new Error(`volume "${v.name}": no API access to read its data`);
          const src = source.configMap ?? source.secret;
          const data = await fetchData(client, source.configMap ? 'configmaps' : 'secrets', ns, src.name);
          if (!data && !src.optional) throw new Error(`${source.configMap ? 'configmap' : 'secret'} "${src.name}" not found`);
          files.push(...keyedFiles(data, src.items));
        } else if (source.downwardAPI) {
          files.push(...downwardApiFiles(pod, source.downwardAPI.items ?? [], { hostIP: this.gateway, nodeName: pod.spec?.nodeName }));
        } else if (source.serviceAccountToken) {
          files.push(await this.serviceAccountTokens.file(pod, source.serviceAccountToken, dir('projected'), v.projected.defaultMode));
        } else {
          throw new Error(`volume "${v.name}": projected source ${Object.keys(source).join(', ')} is not supported by this node agent`);
        }
      }
      return { path: this.render(dir('projected'), files, v.projected.defaultMode), readonly: true };
    }
    throw new Error(`volume "${v.name}": this volume type is not supported by the containerd runtime yet`);
  }

  // ---------------------------------------------------------------------------- probes

  /** Renders a volume unless the directory already holds exactly these files. */
  private render(root: string, files: VolumeFile[], defaultMode: number | undefined): string {
    const signature = JSON.stringify([defaultMode, files]);
    if (this.rendered.get(root) === signature && existsSync(join(root, '..data'))) return root;
    renderVolume(root, files, defaultMode);
    this.rendered.set(root, signature);
    return root;
  }

  /**
   * ConfigMap and Secret contents reach running containers as the kubelet's periodic sync brings
   * them: every VOLUME_RESYNC_MS the volumes are computed again and rewritten where they changed.
   */
  private trackVolumes(pod: Obj): void {
    this.syncedVolumes.set(pod.metadata.uid, pod);
    if (this.volumeTimer) return;
    this.volumeTimer = setInterval(() => void this.resyncVolumes(), VOLUME_RESYNC_MS);
    this.volumeTimer.unref();
  }

  private resyncing = false;

  private async resyncVolumes(): Promise<void> {
    if (this.resyncing) return;
    this.resyncing = true;
    try {
      for (const [uid, pod] of this.syncedVolumes) {
        if (!existsSync(this.podDir(uid))) continue;
        for (const v of pod.spec?.volumes ?? []) {
          if (!(v.configMap || v.secret || v.projected)) continue;
          // A volume whose source is missing keeps what it had, as the kubelet's does.
          await this.volumePath(pod, v).catch((err) => log('debug', 'agent', 'volume resync skipped', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, volume: v.name, error: String(err) }));
        }
      }
    } finally {
      this.resyncing = false;
    }
  }

  async probe(pod: Obj, container: Obj, containerId: string, _kind: ProbeKind, probe: Obj | undefined): Promise<RuntimeProbeResult> {
    if (!probe) return { ok: true };
    if (probe.exec) return this.execProbe(containerId, probe.exec.command ?? [], Math.max(1, probe.timeoutSeconds ?? 1));
    const viaNetwork = await runNetworkProbe(pod, container, probe);
    if (viaNetwork) return viaNetwork;
    if (probe.grpc) return { ok: false, error: true, output: 'grpc probes are not supported by this node agent' };
    return { ok: false, error: true, output: `missing probe handler for ${pod.metadata?.namespace}/${pod.metadata?.name}:${container.name}` };
  }

  /**
   * An exec probe through CRI ExecSync: exit 0 is success; the combined output (first 10 KiB) is
   * what events show. containerd kills the command when the timeout passes and answers with an
   * error, which counts as a failure, as upstream's exec prober does.
   */
  private async execProbe(containerId: string, command: string[], timeoutSeconds: number): Promise<RuntimeProbeResult> {
    try {
      const r = await this.cri.execSync(containerId, command, timeoutSeconds);
      const output = Buffer.concat([r.stdout, r.stderr]).subarray(0, 10 * 1024).toString('utf8');
      return r.exitCode === 0 ? { ok: true, output } : { ok: false, output };
    } catch (err) {
      const text = err instanceof GrpcError ? err.details : (err as Error).message;
      if ((err instanceof GrpcError && err.code === GRPC.DEADLINE_EXCEEDED) || /timeout .*exceeded|deadline exceeded/i.test(text)) {
        return { ok: false, output: `command ${JSON.stringify(command.join(' '))} timed out` };
      }
      return { ok: false, error: true, output: text };
    }
  }

  // ---------------------------------------------------------------------------- lifecycle hooks

  /**
   * A hook's exec handler through CRI ExecSync with no timeout (the kubelet passes none), or its
   * httpGet handler from the node. A non-zero exit is a failure worded as the kubelet's CRI client
   * words it; the combined output goes with it.
   */
  async runHook(pod: Obj, container: Obj, containerId: string, _kind: 'postStart' | 'preStop', handler: Obj, signal: AbortSignal): Promise<RuntimeHookResult> {
    if (handler.httpGet) return runHttpGetHook(pod, container, handler.httpGet, signal);
    const command: string[] = handler.exec?.command ?? [];
    try {
      // A day bounds the call itself; a hook that long is cut off by its container's stop anyway.
      const r = await this.cri.execSync(containerId, command, 0, HOOK_CALL_LIMIT_MS);
      const output = Buffer.concat([r.stdout, r.stderr]).toString('utf8');
      if (r.exitCode === 0) return { ok: true, output };
      return { ok: false, error: execExitError(command, r.exitCode, r.stderr.toString('utf8')), output };
    } catch (err) {
      const text = err instanceof GrpcError ? `rpc error: code = ${grpcCodeName(err.code)} desc = ${err.details}` : (err as Error).message;
      return { ok: false, error: text };
    }
  }

  // ---------------------------------------------------------------------------- events

  subscribe(listener: (e: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => void this.poll(), this.opts.pollMs ?? 1000);
      this.pollTimer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      }
    };
  }

  /** Compares container states with the last poll and tells the agent which pods changed. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const items = await this.cri.listContainers({ labels: { [LABELS.managed]: 'true' } });
      const now = new Set<string>();
      for (const c of items) {
        now.add(c.id);
        const podUid = c.labels[LABELS.podUid] ?? '';
        const before = this.seen.get(c.id);
        this.seen.set(c.id, { state: c.state, podUid });
        // A container may start and exit between two polls: its first sighting as exited is news too.
        if (before ? before.state !== c.state : c.state === 'exited') this.emit({ podUid, containerId: c.id });
      }
      for (const [id, s] of this.seen) {
        if (now.has(id)) continue;
        this.seen.delete(id);
        this.emit({ podUid: s.podUid, containerId: id });
      }
    } catch (err) {
      log('warn', 'containerd', 'polling container states failed', { error: String(err) });
    } finally {
      this.polling = false;
    }
  }

  private emit(e: RuntimeEvent): void {
    for (const l of this.listeners) l(e);
  }

  close(): void {
    clearInterval(this.pollTimer);
    clearInterval(this.volumeTimer);
    this.pollTimer = undefined;
    this.cri.close();
  }
}

/** Names of the CNI networks containerd has loaded, from its verbose status ("cniconfig"). */
function loadedNetworks(cniconfig: string | undefined): string[] {
  try {
    return (JSON.parse(cniconfig ?? '{}').Networks ?? []).map((n: Obj) => n?.Config?.Name);
  } catch {
    return [];
  }
}

async function fetchData(client: Client, plural: 'configmaps' | 'secrets', ns: string, name: string): Promise<Record<string, string> | undefined> {
  const obj = await client.get(client.resource('', plural), ns, name).catch(() => undefined);
  if (!obj) return undefined;
  if (plural === 'configmaps') {
    const bin = Object.fromEntries(Object.entries((obj.binaryData ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('latin1')]));
    return { ...bin, ...(obj.data ?? {}) };
  }
  return Object.fromEntries(Object.entries((obj.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/**
 * Writes a rendered volume's files under `root` as the kubelet's atomic writer lays them out: the
 * files live in a fresh `..<timestamp>` directory, `..data` points at it, and each top-level name
 * is a symlink through `..data`. Rendering again swaps `..data` in one rename, so containers that
 * have `root` bind-mounted see every file change at once (the directory itself stays the same).
 * Paths outside `root` are skipped. Returns root.
 */
function renderVolume(root: string, files: VolumeFile[], defaultMode: number | undefined): string {
  mkdirSync(root, { recursive: true });
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `..${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}.${randomBytes(5).readUInt32BE(0)}`;
  const data = join(root, stamp);
  mkdirSync(data);
  const top = new Set<string>();
  for (const f of files) {
    const rel = normalize(f.path);
    const file = join(data, rel);
    if (!file.startsWith(data + '/') || rel.startsWith('..')) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, f.data, { mode: f.mode ?? defaultMode ?? 0o644 });
    top.add(rel.split('/')[0]);
  }
  const link = join(root, '..data_tmp');
  rmSync(link, { force: true });
  symlinkSync(stamp, link);
  renameSync(link, join(root, '..data'));
  for (const name of top) {
    const path = join(root, name);
    if (isSymlink(path)) continue;
    rmSync(path, { recursive: true, force: true });
    symlinkSync(join('..data', name), path);
  }
  // What the previous rendering had and this one has not, and the previous data directories.
  for (const entry of readdirSync(root)) {
    if (entry === '..data' || entry === stamp) continue;
    if (entry.startsWith('..') || !top.has(entry)) rmSync(join(root, entry), { recursive: true, force: true });
  }
  return root;
}

/** How often configMap, secret and projected volumes of running pods are read again. */
const VOLUME_RESYNC_MS = 5000;

const downwardSignature = (pod: Obj): string => JSON.stringify([pod.metadata.labels ?? {}, pod.metadata.annotations ?? {}]);

const hasDownwardFiles = (v: Obj): boolean => !!v.downwardAPI || !!v.projected?.sources?.some((s: Obj) => s.downwardAPI);

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** How long one lifecycle hook's ExecSync call may last at most (the hook itself has no timeout). */
const HOOK_CALL_LIMIT_MS = 86_400_000;

/** A gRPC status code as Go's codes.Code prints it, for error texts shaped like the kubelet's. */
function grpcCodeName(code: number): string {
  const names = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];
  return names[code] ?? `Code(${code})`;
}

/** Whether `pv` is a local-path volume of Ordinal's provisioner pinned to node `nodeName`. */
function isLocalPathVolumeFor(pv: Obj, nodeName: string | undefined): boolean {
  if (!nodeName || pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] !== PROVISIONER) return false;
  const terms: Obj[] = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  return terms.some((t) => (t.matchExpressions ?? []).some((e: Obj) => e.key === 'kubernetes.io/hostname' && e.operator === 'In' && (e.values ?? []).includes(nodeName)));
}
