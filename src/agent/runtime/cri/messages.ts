// CRI v1 (package runtime.v1) messages as TypeScript types, with their protobuf encoders and
// decoders. Field numbers follow k8s.io/cri-api pkg/apis/runtime/v1/api.proto; only the fields the
// node agent uses are here (unknown fields in answers are skipped by the reader).
import { ProtoReader, ProtoWriter } from './protobuf.ts';

// ------------------------------------------------------------------------------ enums

/** NamespaceMode: POD is shared by the pod's containers, CONTAINER is private, NODE is the host's. */
export const NamespaceMode = { POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3 } as const;
export const MountPropagation = { PRIVATE: 0, HOST_TO_CONTAINER: 1, BIDIRECTIONAL: 2 } as const;
export const Protocol = { TCP: 0, UDP: 1, SCTP: 2 } as const;

export type SandboxState = 'ready' | 'notready';
export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';
const SANDBOX_STATES: SandboxState[] = ['ready', 'notready'];
const CONTAINER_STATES: ContainerState[] = ['created', 'running', 'exited', 'unknown'];

// ------------------------------------------------------------------------------ configs (requests)

export interface NamespaceOption {
  network?: number;
  pid?: number;
  ipc?: number;
  targetId?: string;
}

export interface DnsConfig {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

export interface PortMapping {
  protocol?: number;
  containerPort?: number;
  hostPort?: number;
  hostIp?: string;
}

export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  runAsUser?: number;
  runAsGroup?: number;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
}

export interface PodSandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt?: number };
  hostname?: string;
  logDirectory?: string;
  dnsConfig?: DnsConfig;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: { cgroupParent?: string; securityContext?: LinuxSandboxSecurityContext; sysctls?: Record<string, string> };
}

export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
}

export interface LinuxContainerSecurityContext {
  capabilities?: { add?: string[]; drop?: string[] };
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  runAsUser?: number;
  runAsGroup?: number;
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  noNewPrivs?: boolean;
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  propagation?: number;
}

export interface ContainerConfig {
  metadata: { name: string; attempt?: number };
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: Array<{ key: string; value: string }>;
  mounts?: Mount[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Relative to the sandbox's log directory. */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: { resources?: LinuxContainerResources; securityContext?: LinuxContainerSecurityContext };
}

// Int64Value wrappers: their presence is the point (uid 0 is a real value), so they are always written.
const int64Value = (w: ProtoWriter, field: number, v: number | undefined) => {
  if (v !== undefined) w.message(field, (m) => m.int(1, v), true);
};

function writeNamespaceOption(w: ProtoWriter, o: NamespaceOption): void {
  w.int(1, o.network).int(2, o.pid).int(3, o.ipc).string(4, o.targetId);
}

export function writePodSandboxConfig(w: ProtoWriter, c: PodSandboxConfig): void {
  w.message(1, (m) => m.string(1, c.metadata.name).string(2, c.metadata.uid).string(3, c.metadata.namespace).int(4, c.metadata.attempt), true);
  w.string(2, c.hostname);
  w.string(3, c.logDirectory);
  if (c.dnsConfig) w.message(4, (d) => d.strings(1, c.dnsConfig!.servers).strings(2, c.dnsConfig!.searches).strings(3, c.dnsConfig!.options));
  w.messages(5, c.portMappings, (p, m) => p.int(1, m.protocol).int(2, m.containerPort).int(3, m.hostPort).string(4, m.hostIp));
  w.map(6, c.labels);
  w.map(7, c.annotations);
  const linux = c.linux;
  if (linux) {
    w.message(8, (l) => {
      l.string(1, linux.cgroupParent);
      const sc = linux.securityContext;
      if (sc) {
        l.message(2, (s) => {
          if (sc.namespaceOptions) s.message(1, (n) => writeNamespaceOption(n, sc.namespaceOptions!), true);
          int64Value(s, 3, sc.runAsUser);
          s.bool(4, sc.readonlyRootfs);
          for (const g of sc.supplementalGroups ?? []) s.int(5, g);
          s.bool(6, sc.privileged);
          int64Value(s, 8, sc.runAsGroup);
        }, true);
      }
      l.map(3, linux.sysctls);
    }, true);
  }
}

function writeResources(w: ProtoWriter, r: LinuxContainerResources): void {
  w.int(1, r.cpuPeriod).int(2, r.cpuQuota).int(3, r.cpuShares).int(4, r.memoryLimitInBytes).int(5, r.oomScoreAdj).string(6, r.cpusetCpus).string(7, r.cpusetMems);
}

export function writeContainerConfig(w: ProtoWriter, c: ContainerConfig): void {
  w.message(1, (m) => m.string(1, c.metadata.name).int(2, c.metadata.attempt), true);
  w.message(2, (i) => i.string(1, c.image), true);
  w.strings(3, c.command);
  w.strings(4, c.args);
  w.string(5, c.workingDir);
  w.messages(6, c.envs, (e, kv) => e.string(1, kv.key).string(2, kv.value));
  w.messages(7, c.mounts, (m, x) => m.string(1, x.containerPath).string(2, x.hostPath).bool(3, x.readonly).int(5, x.propagation));
  w.map(9, c.labels);
  w.map(10, c.annotations);
  w.string(11, c.logPath);
  w.bool(12, c.stdin).bool(13, c.stdinOnce).bool(14, c.tty);
  const linux = c.linux;
  if (linux) {
    w.message(15, (l) => {
      if (linux.resources) l.message(1, (r) => writeResources(r, linux.resources!), true);
      const sc = linux.securityContext;
      if (sc) {
        l.message(2, (s) => {
          if (sc.capabilities) s.message(1, (cap) => cap.strings(1, sc.capabilities!.add).strings(2, sc.capabilities!.drop));
          s.bool(2, sc.privileged);
          if (sc.namespaceOptions) s.message(3, (n) => writeNamespaceOption(n, sc.namespaceOptions!), true);
          int64Value(s, 5, sc.runAsUser);
          s.string(6, sc.runAsUsername);
          s.bool(7, sc.readonlyRootfs);
          for (const g of sc.supplementalGroups ?? []) s.int(8, g);
          s.bool(11, sc.noNewPrivs);
          int64Value(s, 12, sc.runAsGroup);
        }, true);
      }
    }, true);
  }
}

// ------------------------------------------------------------------------------ answers

export interface VersionInfo {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export const readVersion = (r: ProtoReader): VersionInfo => ({ version: r.string(1), runtimeName: r.string(2), runtimeVersion: r.string(3), runtimeApiVersion: r.string(4) });

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface RuntimeStatus {
  conditions: RuntimeCondition[];
  /** Verbose only: JSON documents by key (containerd puts its CRI config under "config"). */
  info: Record<string, string>;
}

export const readRuntimeStatus = (r: ProtoReader): RuntimeStatus => ({
  conditions: r
    .message(1)
    .messages(1)
    .map((c) => ({ type: c.string(1), status: c.bool(2), reason: c.string(3), message: c.string(4) })),
  info: r.map(2),
});

export interface SandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

const readSandboxMetadata = (r: ProtoReader): SandboxMetadata => ({ name: r.string(1), uid: r.string(2), namespace: r.string(3), attempt: r.int(4) });

export interface PodSandbox {
  id: string;
  metadata: SandboxMetadata;
  state: SandboxState;
  createdAt: number; // ns
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export const readPodSandbox = (r: ProtoReader): PodSandbox => ({
  id: r.string(1),
  metadata: readSandboxMetadata(r.message(2)),
  state: SANDBOX_STATES[r.int(3)] ?? 'notready',
  createdAt: r.int(4),
  labels: r.map(5),
  annotations: r.map(6),
});

export interface PodSandboxStatus extends PodSandbox {
  ip: string;
  additionalIps: string[];
}

export const readPodSandboxStatus = (r: ProtoReader): PodSandboxStatus => {
  const net = r.message(5);
  return {
    id: r.string(1),
    metadata: readSandboxMetadata(r.message(2)),
    state: SANDBOX_STATES[r.int(3)] ?? 'notready',
    createdAt: r.int(4),
    ip: net.string(1),
    additionalIps: net.messages(2).map((x) => x.string(1)),
    labels: r.map(7),
    annotations: r.map(8),
  };
};

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number };
  image: string;
  imageRef: string;
  state: ContainerState;
  createdAt: number; // ns
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export const readContainer = (r: ProtoReader): Container => {
  const md = r.message(3);
  return {
    id: r.string(1),
    podSandboxId: r.string(2),
    metadata: { name: md.string(1), attempt: md.int(2) },
    image: r.message(4).string(1),
    imageRef: r.string(5),
    state: CONTAINER_STATES[r.int(6)] ?? 'unknown',
    createdAt: r.int(7),
    labels: r.map(8),
    annotations: r.map(9),
  };
};

export interface ContainerStatus {
  id: string;
  metadata: { name: string; attempt: number };
  state: ContainerState;
  createdAt: number; // ns; 0 when unset
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  image: string;
  imageRef: string;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  logPath: string;
}

export const readContainerStatus = (r: ProtoReader): ContainerStatus => {
  const md = r.message(2);
  return {
    id: r.string(1),
    metadata: { name: md.string(1), attempt: md.int(2) },
    state: CONTAINER_STATES[r.int(3)] ?? 'unknown',
    createdAt: r.int(4),
    startedAt: r.int(5),
    finishedAt: r.int(6),
    // int32 on the wire, sign-extended to 64 bits like any negative varint
    exitCode: r.int(7),
    image: r.message(8).string(1),
    imageRef: r.string(9),
    reason: r.string(10),
    message: r.string(11),
    labels: r.map(12),
    annotations: r.map(13),
    logPath: r.string(15),
  };
};

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
}

export const readImage = (r: ProtoReader): Image => ({ id: r.string(1), repoTags: r.strings(2), repoDigests: r.strings(3), size: r.int(4) });

export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

// ------------------------------------------------------------------------------ streaming (exec, attach, port-forward)

/** ExecRequest: the answer is a URL on the runtime's streaming server, valid for one connection. */
export interface ExecRequest {
  containerId: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export function writeExecRequest(w: ProtoWriter, r: ExecRequest): void {
  w.string(1, r.containerId).strings(2, r.cmd).bool(3, r.tty).bool(4, r.stdin).bool(5, r.stdout).bool(6, r.stderr);
}

export interface AttachRequest {
  containerId: string;
  stdin: boolean;
  tty: boolean;
  stdout: boolean;
  stderr: boolean;
}

export function writeAttachRequest(w: ProtoWriter, r: AttachRequest): void {
  w.string(1, r.containerId).bool(2, r.stdin).bool(3, r.tty).bool(4, r.stdout).bool(5, r.stderr);
}

export interface PortForwardRequest {
  podSandboxId: string;
  ports: number[];
}

export function writePortForwardRequest(w: ProtoWriter, r: PortForwardRequest): void {
  w.string(1, r.podSandboxId);
  for (const p of r.ports) w.int(2, p);
}
