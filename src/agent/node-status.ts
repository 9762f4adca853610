// The Node a node agent registers and the status it reports, as pure functions of what the agent
// knows about its machine; conditions keep their lastTransitionTime while they do not change.
import { createHash } from 'node:crypto';
import type { Obj } from '../api/resource.ts';

export const KUBELET_VERSION = 'v1.32.0';

export interface NodeDescription {
  name: string;
  internalIP: string;
  podCIDR?: string;
  /** Annotations the node sets on itself (e.g. where its local-path volumes live). */
  annotations?: Record<string, string>;
  labels: Record<string, string>;
  taints?: Obj[];
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  /** e.g. sim://1.0 or containerd://1.7.24 */
  containerRuntimeVersion: string;
  osImage: string;
  kernelVersion: string;
  architecture: string;
  kubeletPort: number;
}

/** Go's GOARCH names for Node's architecture field and the kubernetes.io/arch label. */
export function goArch(nodeArch: string): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

export function defaultLabels(name: string, arch: string): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
  };
}

/** Stable per-node identifiers, derived from the name so a restarted agent reports the same machine. */
function machineId(name: string, salt: string): string {
  return createHash('sha256').update(`${salt}:${name}`).digest('hex').slice(0, 32);
}

const uuid = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;

function condition(type: string, status: string, reason: string, message: string, now: string, old: Obj[]): Obj {
  const prev = old.find((c) => c.type === type);
  return {
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
    reason,
    message,
  };
}

export function nodeStatus(d: NodeDescription, now: string, old: Obj | undefined, bootID: string): Obj {
  const oldConditions: Obj[] = old?.conditions ?? [];
  return {
    capacity: { ...d.capacity },
    allocatable: { ...d.allocatable },
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', now, oldConditions),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', now, oldConditions),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', now, oldConditions),
      condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', now, oldConditions),
    ],
    addresses: [
      { type: 'InternalIP', address: d.internalIP },
      { type: 'Hostname', address: d.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: d.kubeletPort } },
    nodeInfo: {
      machineID: machineId(d.name, 'machine'),
      systemUUID: uuid(machineId(d.name, 'system')),
      bootID,
      kernelVersion: d.kernelVersion,
      osImage: d.osImage,
      containerRuntimeVersion: d.containerRuntimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: d.architecture,
    },
    ...(old?.images ? { images: old.images } : {}),
  };
}

export function nodeObject(d: NodeDescription, now: string, bootID: string): Obj {
  const spec: Obj = {};
  if (d.podCIDR) {
    spec.podCIDR = d.podCIDR;
    spec.podCIDRs = [d.podCIDR];
  }
  if (d.taints?.length) spec.taints = d.taints;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: d.name,
      labels: { ...d.labels },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', ...(d.annotations ?? {}) },
    },
    spec,
    status: nodeStatus(d, now, undefined, bootID),
  };
}

/** RFC 3339 with microseconds, as metav1.MicroTime serializes (Lease renewTime). */
export function microTime(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The Lease a node agent renews in kube-node-lease to say it is alive. */
export function nodeLease(nodeName: string, nodeUid: string | undefined, durationSeconds: number, renewMs: number): Obj {
  const metadata: Obj = { name: nodeName, namespace: 'kube-node-lease' };
  if (nodeUid) metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }];
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata,
    spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime(renewMs) },
  };
}
