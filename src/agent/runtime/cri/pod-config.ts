// Pure translation of a pod into CRI configs, as the kubelet's runtime manager does it: the
// sandbox (hostname, DNS, labels, namespaces), each container (command, env with $(VAR)
// expansion, mounts, resources, user), and the /etc/hosts file the pod's containers share.
import type { Obj } from '../../../api/resource.ts';
import { parseQuantity } from '../../../api/validation/quantity.ts';
import { resolvConfFor } from '../../../dns/resolv-conf.ts';
import { NamespaceMode, type ContainerConfig, type DnsConfig, type LinuxContainerResources, type Mount, type PodSandboxConfig } from './messages.ts';

/** Labels the kubelet puts on sandboxes and containers (crictl and CRI filters use them). */
export const LABELS = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUid: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
  /** Ours: only sandboxes and containers with it are the agent's (a shared containerd may run others). */
  managed: 'ordinal.dev/managed',
} as const;

export interface SandboxInputs {
  /** Host directory for the pod's container logs (`<ns>_<name>_<uid>`). */
  logDirectory: string;
  /** Cluster DNS address written into resolv.conf for ClusterFirst pods. */
  dnsServer?: string;
  clusterDomain?: string;
  attempt?: number;
}

/** The pod's hostname: spec.hostname or its name, cut to a DNS label's 63 characters as upstream does. */
export function podHostname(pod: Obj): string {
  const name: string = pod.spec?.hostname || pod.metadata.name;
  return name.length > 63 ? name.slice(0, 63).replace(/[-.]+$/, '') : name;
}

/** `<hostname>.<subdomain>.<ns>.svc.<domain>` when the pod has a subdomain. */
export function podFqdn(pod: Obj, clusterDomain = 'cluster.local'): string | undefined {
  const sub = pod.spec?.subdomain;
  return sub ? `${podHostname(pod)}.${sub}.${pod.metadata.namespace}.svc.${clusterDomain}` : undefined;
}

/** DNS settings by dnsPolicy; undefined means the runtime's default (the host's resolv.conf). */
export function dnsConfigFor(pod: Obj, dnsServer: string | undefined, clusterDomain = 'cluster.local'): DnsConfig | undefined {
  const policy: string = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const extra: Obj = pod.spec?.dnsConfig ?? {};
  const options = (list: Obj[] | undefined) => (list ?? []).map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`));
  if (policy === 'None') return { servers: extra.nameservers ?? [], searches: extra.searches ?? [], options: options(extra.options) };
  // Host networking is not supported by this runtime, so ClusterFirstWithHostNet is ClusterFirst here.
  if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && dnsServer) {
    // One place decides what a ClusterFirst resolv.conf holds; read its lines back into CRI's fields.
    const text = resolvConfFor(pod.metadata.namespace, { nameserver: dnsServer, domain: clusterDomain, dnsConfig: pod.spec?.dnsConfig });
    const out: Required<DnsConfig> = { servers: [], searches: [], options: [] };
    for (const line of text.split('\n')) {
      const [key, ...rest] = line.trim().split(/\s+/);
      if (key === 'nameserver') out.servers.push(...rest);
      else if (key === 'search') out.searches.push(...rest);
      else if (key === 'options') out.options.push(...rest);
    }
    return out;
  }
  return undefined;
}

export function sandboxConfigFor(pod: Obj, inputs: SandboxInputs): PodSandboxConfig {
  const md = pod.metadata;
  const sc: Obj = pod.spec?.securityContext ?? {};
  return {
    metadata: { name: md.name, uid: md.uid, namespace: md.namespace, attempt: inputs.attempt ?? 0 },
    hostname: podHostname(pod),
    logDirectory: inputs.logDirectory,
    dnsConfig: dnsConfigFor(pod, inputs.dnsServer, inputs.clusterDomain),
    labels: { ...(md.labels ?? {}), [LABELS.podName]: md.name, [LABELS.podNamespace]: md.namespace, [LABELS.podUid]: md.uid, [LABELS.managed]: 'true' },
    annotations: { ...(md.annotations ?? {}) },
    linux: {
      securityContext: {
        // v1 pods share network and IPC in the pod; each container has its own PID namespace unless shareProcessNamespace.
        namespaceOptions: { network: NamespaceMode.POD, pid: pod.spec?.shareProcessNamespace ? NamespaceMode.POD : NamespaceMode.CONTAINER, ipc: NamespaceMode.POD },
        runAsUser: sc.runAsUser,
        runAsGroup: sc.runAsUser !== undefined ? sc.runAsGroup : undefined,
        supplementalGroups: [...(sc.supplementalGroups ?? []), ...(sc.fsGroup !== undefined ? [sc.fsGroup] : [])],
      },
      sysctls: Object.fromEntries((sc.sysctls ?? []).map((s: Obj) => [s.name, String(s.value)])),
    },
  };
}

/** A pod's /etc/hosts as the kubelet writes it: loopback lines, then the pod's IP with its FQDN and hostname. */
export function etcHosts(pod: Obj, podIP: string, clusterDomain = 'cluster.local'): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  const fqdn = podFqdn(pod, clusterDomain);
  if (podIP) lines.push(fqdn ? `${podIP}\t${fqdn}\t${podHostname(pod)}` : `${podIP}\t${podHostname(pod)}`);
  for (const h of pod.spec?.hostAliases ?? []) if (h.ip && h.hostnames?.length) lines.push(`${h.ip}\t${h.hostnames.join('\t')}`);
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------------------ env

/** Looks up ConfigMap and Secret keys for env (Secret values already decoded). */
export interface EnvSources {
  configMap(namespace: string, name: string): Record<string, string> | undefined;
  secret(namespace: string, name: string): Record<string, string> | undefined;
  /** The kubelet's Service variables (src/agent/service-env.ts): the pod's own env overrides them, and may refer to them. */
  serviceEnv?: Record<string, string>;
}

export interface PodRuntimeInfo {
  podIP?: string;
  hostIP?: string;
  nodeName?: string;
}

/** Expands $(VAR) from `vars`; $$ escapes a $, and a reference to an unknown variable stays as written. */
export function expandVars(s: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '$' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const end = s.indexOf(')', i + 2);
      if (end === -1) {
        out += s.slice(i);
        break;
      }
      const name = s.slice(i + 2, end);
      out += vars.has(name) ? vars.get(name) : `$(${name})`;
      i = end;
    } else out += c;
  }
  return out;
}

/** Reads a downward API field path (env fieldRef). */
export function fieldPathValue(pod: Obj, path: string, info: PodRuntimeInfo): string {
  const md = pod.metadata;
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) return md[keyed[1]!]?.[keyed[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return md.name;
    case 'metadata.namespace':
      return md.namespace;
    case 'metadata.uid':
      return md.uid;
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? info.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return info.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return info.hostIP ?? '';
    default:
      throw new Error(`unsupported fieldRef fieldPath "${path}"`);
  }
}

/** A container's environment in order: envFrom first, then env (later entries win), each expanded against those before it. */
export function containerEnv(pod: Obj, container: Obj, info: PodRuntimeInfo, sources: EnvSources): Array<{ key: string; value: string }> {
  const ns: string = pod.metadata.namespace;
  const vars = new Map<string, string>(Object.entries(sources.serviceEnv ?? {}));
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const data = from.configMapRef ? sources.configMap(ns, ref.name) : sources.secret(ns, ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new Error(`${from.configMapRef ? 'configmap' : 'secret'} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(data)) vars.set(`${from.prefix ?? ''}${k}`, v);
  }
  for (const e of container.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) {
      vars.set(e.name, expandVars(e.value ?? '', vars));
      continue;
    }
    if (vf.fieldRef) vars.set(e.name, fieldPathValue(pod, vf.fieldRef.fieldPath, info));
    else if (vf.configMapKeyRef || vf.secretKeyRef) {
      const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
      const kind = vf.configMapKeyRef ? 'configmap' : 'secret';
      const data = vf.configMapKeyRef ? sources.configMap(ns, ref.name) : sources.secret(ns, ref.name);
      const value = data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new Error(data ? `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}` : `${kind} "${ref.name}" not found`);
      }
      vars.set(e.name, value);
    } else if (vf.resourceFieldRef) {
      vars.set(e.name, resourceFieldValue(container, vf.resourceFieldRef));
    }
  }
  return [...vars].map(([key, value]) => ({ key, value }));
}

/** A file of a rendered volume (configMap, secret, downwardAPI, projected), relative to the volume's root. */
export interface VolumeFile {
  path: string;
  data: string;
  mode?: number;
}

/** Labels or annotations as the downward API writes them: sorted `key="value"` lines (values quoted as Go quotes them). */
function keyValueLines(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map![k])}`)
    .join('\n');
}

/** The files of a downwardAPI volume (or projected source): one per item, from a pod field or a container's resources. */
export function downwardApiFiles(pod: Obj, items: Obj[], info: PodRuntimeInfo): VolumeFile[] {
  return items.map((item) => {
    let data: string;
    if (item.fieldRef) {
      const path: string = item.fieldRef.fieldPath;
      if (path === 'metadata.labels') data = keyValueLines(pod.metadata.labels);
      else if (path === 'metadata.annotations') data = keyValueLines(pod.metadata.annotations);
      else data = fieldPathValue(pod, path, info);
    } else if (item.resourceFieldRef) {
      const name: string | undefined = item.resourceFieldRef.containerName;
      const container = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c: Obj) => c.name === name);
      if (!container) throw new Error(`downward API volume item "${item.path}": container "${name ?? ''}" not found in the pod`);
      data = resourceFieldValue(container, item.resourceFieldRef);
    } else {
      throw new Error(`downward API volume item "${item.path}" names neither a fieldRef nor a resourceFieldRef`);
    }
    return { path: item.path, data, mode: item.mode };
  });
}

/** The files of a configMap or secret (volume or projected source): its items, or every key. */
export function keyedFiles(data: Record<string, string> | undefined, items: Obj[] | undefined): VolumeFile[] {
  const list: Obj[] = items ?? Object.keys(data ?? {}).map((k) => ({ key: k, path: k }));
  const out: VolumeFile[] = [];
  for (const item of list) {
    const value = data?.[item.key];
    if (value !== undefined) out.push({ path: item.path, data: value, mode: item.mode });
  }
  return out;
}

function resourceFieldValue(container: Obj, ref: Obj): string {
  const [kind, name] = String(ref.resource).split('.') as [string, string];
  const raw = container.resources?.[kind]?.[name];
  const q = parseQuantity(raw ?? '0');
  if (!q) return '0';
  const divisor = parseQuantity(ref.divisor ?? '1') ?? { num: 1n, den: 1n };
  // Rounded up, as upstream's downward API does.
  const n = q.num * divisor.den;
  const d = q.den * divisor.num;
  return String((n + d - 1n) / d);
}

// ------------------------------------------------------------------------------ resources

const CPU_PERIOD_US = 100_000;

/** Limits and requests as cgroup settings (CFS quota from the CPU limit, shares from the request, memory limit). */
export function linuxResources(container: Obj): LinuxContainerResources {
  const limits: Obj = container.resources?.limits ?? {};
  const requests: Obj = container.resources?.requests ?? {};
  const milli = (v: unknown) => {
    const q = parseQuantity(v);
    return q ? Number((q.num * 1000n + q.den - 1n) / q.den) : undefined;
  };
  const bytes = (v: unknown) => {
    const q = parseQuantity(v);
    return q ? Number(q.num / q.den) : undefined;
  };
  const out: LinuxContainerResources = {};
  // A request defaults to the limit when only the limit is given.
  const cpuRequest = milli(requests.cpu ?? limits.cpu);
  out.cpuShares = cpuRequest === undefined ? 2 : Math.max(2, Math.floor((cpuRequest * 1024) / 1000));
  const cpuLimit = milli(limits.cpu);
  if (cpuLimit) {
    out.cpuPeriod = CPU_PERIOD_US;
    out.cpuQuota = Math.max(1000, Math.floor((cpuLimit * CPU_PERIOD_US) / 1000));
  }
  const mem = bytes(limits.memory);
  if (mem) out.memoryLimitInBytes = mem;
  return out;
}

// ------------------------------------------------------------------------------ container

export interface ContainerInputs {
  attempt: number;
  image: string;
  env: Array<{ key: string; value: string }>;
  mounts: Mount[];
}

export function containerConfigFor(pod: Obj, container: Obj, inputs: ContainerInputs): ContainerConfig {
  const vars = new Map(inputs.env.map((e) => [e.key, e.value] as const));
  const podSc: Obj = pod.spec?.securityContext ?? {};
  const sc: Obj = container.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? podSc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? podSc.runAsGroup;
  return {
    metadata: { name: container.name, attempt: inputs.attempt },
    image: inputs.image,
    command: (container.command ?? []).map((s: string) => expandVars(s, vars)),
    args: (container.args ?? []).map((s: string) => expandVars(s, vars)),
    workingDir: container.workingDir,
    envs: inputs.env,
    mounts: inputs.mounts,
    labels: {
      [LABELS.podName]: pod.metadata.name,
      [LABELS.podNamespace]: pod.metadata.namespace,
      [LABELS.podUid]: pod.metadata.uid,
      [LABELS.containerName]: container.name,
      [LABELS.managed]: 'true',
    },
    annotations: { 'io.kubernetes.container.restartCount': String(inputs.attempt), 'io.kubernetes.container.terminationMessagePath': container.terminationMessagePath ?? '/dev/termination-log' },
    logPath: `${container.name}/${inputs.attempt}.log`,
    stdin: !!container.stdin,
    stdinOnce: !!container.stdinOnce,
    tty: !!container.tty,
    linux: {
      resources: linuxResources(container),
      securityContext: {
        privileged: !!sc.privileged,
        namespaceOptions: { network: NamespaceMode.POD, pid: pod.spec?.shareProcessNamespace ? NamespaceMode.POD : NamespaceMode.CONTAINER, ipc: NamespaceMode.POD },
        runAsUser,
        // CRI refuses a group without a user; the image's user keeps its own group then.
        runAsGroup: runAsUser !== undefined ? runAsGroup : undefined,
        readonlyRootfs: !!sc.readOnlyRootFilesystem,
        supplementalGroups: [...(podSc.supplementalGroups ?? []), ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : [])],
        noNewPrivs: sc.allowPrivilegeEscalation === false,
        capabilities: sc.capabilities ? { add: sc.capabilities.add, drop: sc.capabilities.drop } : undefined,
      },
    },
  };
}
