// `kubectl get` columns for the core/v1 kinds other than Pod.
import type { Obj, TableDef } from '../resource.ts';
import { age } from './age.ts';
import { accessModesString, ageColumn, ageOf, col, doc, formatLabels, joinHostPort, listWithMore, nameColumn, nameOf } from './helpers.ts';
import { canonicalQuantity } from './quantity.ts';

const count = (o: unknown): number => (o && typeof o === 'object' ? Object.keys(o).length : 0);
const storageOf = (list: Obj | undefined): string => canonicalQuantity(String(list?.storage ?? '0'));
const deleting = (obj: Obj): boolean => !!obj.metadata?.deletionTimestamp;
// The pre-GA storage class annotation still wins over the field, as upstream's helpers do.
const betaStorageClass = 'volume.beta.kubernetes.io/storage-class';

// --- Service ---------------------------------------------------------------------------------

function loadBalancerAddresses(svc: Obj): string[] {
  const seen = new Set<string>();
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    if (ing.ip) seen.add(ing.ip);
    else if (ing.hostname) seen.add(ing.hostname);
  }
  return [...seen].sort();
}

function serviceExternalIP(svc: Obj): string {
  const externalIPs: string[] = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      // The server renders tables in wide mode, so load-balancer addresses are never clipped.
      const all = [...loadBalancerAddresses(svc), ...externalIPs];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function servicePorts(svc: Obj): string {
  const ports: Obj[] = svc.spec?.ports ?? [];
  const text = ports
    .map((p) => (p.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`))
    .join(',');
  return text || '<none>';
}

export const serviceTable: TableDef = {
  columns: [
    nameColumn(),
    col('Type', doc('ServiceSpec.type')),
    col('Cluster-IP', doc('ServiceSpec.clusterIP')),
    col('External-IP', doc('ServiceSpec.externalIPs')),
    col('Port(s)', doc('ServiceSpec.ports')),
    ageColumn(),
    col('Selector', doc('ServiceSpec.selector'), { priority: 1 }),
  ],
  cells: (svc, now) => [
    nameOf(svc),
    svc.spec?.type ?? '',
    svc.spec?.clusterIPs?.[0] || svc.spec?.clusterIP || '<none>',
    serviceExternalIP(svc),
    servicePorts(svc),
    ageOf(svc, now),
    formatLabels(svc.spec?.selector),
  ],
};

// --- Endpoints -------------------------------------------------------------------------------

/** Ready addresses as ip:port (or bare ip for port-less subsets), three at most. */
export function formatEndpoints(ep: Obj): string {
  const subsets: Obj[] = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const items: string[] = [];
  let total = 0;
  for (const ss of subsets) {
    const addresses: Obj[] = ss.addresses ?? [];
    const ports: Obj[] = ss.ports ?? [];
    if (ports.length === 0) {
      // Headless services may have no ports at all.
      total += addresses.length;
      for (const a of addresses) if (items.length < 3) items.push(a.ip ?? '');
      continue;
    }
    for (const p of ports) {
      total += addresses.length;
      for (const a of addresses) if (items.length < 3) items.push(joinHostPort(a.ip ?? '', p.port ?? 0));
    }
  }
  return listWithMore(items, total, 3, '');
}

export const endpointsTable: TableDef = {
  columns: [nameColumn(), col('Endpoints', doc('Endpoints.subsets')), ageColumn()],
  cells: (ep, now) => [nameOf(ep), formatEndpoints(ep), ageOf(ep, now)],
};

// --- PersistentVolumeClaim / PersistentVolume -------------------------------------------------

function claimClass(pvc: Obj): string {
  const ann = pvc.metadata?.annotations ?? {};
  if (betaStorageClass in ann) return ann[betaStorageClass];
  return pvc.spec?.storageClassName ?? '';
}

export const persistentVolumeClaimTable: TableDef = {
  columns: [
    nameColumn(),
    col('Status', doc('PersistentVolumeClaimStatus.phase')),
    col('Volume', doc('PersistentVolumeClaimSpec.volumeName')),
    col('Capacity', doc('PersistentVolumeClaimStatus.capacity')),
    col('Access Modes', doc('PersistentVolumeClaimStatus.accessModes')),
    col('StorageClass', 'StorageClass of the pvc'),
    col('VolumeAttributesClass', 'VolumeAttributesClass of the pvc'),
    ageColumn(),
    col('VolumeMode', doc('PersistentVolumeClaimSpec.volumeMode'), { priority: 1 }),
  ],
  cells(pvc, now) {
    const volumeName: string = pvc.spec?.volumeName ?? '';
    // Capacity and modes are only meaningful once the claim is bound to a volume.
    const bound = volumeName !== '';
    return [
      nameOf(pvc),
      deleting(pvc) ? 'Terminating' : (pvc.status?.phase ?? ''),
      volumeName,
      bound ? storageOf(pvc.status?.capacity) : '',
      bound ? accessModesString(pvc.status?.accessModes) : '',
      claimClass(pvc),
      pvc.spec?.volumeAttributesClassName ?? '<unset>',
      ageOf(pvc, now),
      pvc.spec?.volumeMode ?? '<unset>',
    ];
  },
};

function volumeClass(pv: Obj): string {
  const ann = pv.metadata?.annotations ?? {};
  if (betaStorageClass in ann) return ann[betaStorageClass];
  return pv.spec?.storageClassName ?? '';
}

export const persistentVolumeTable: TableDef = {
  columns: [
    nameColumn(),
    col('Capacity', doc('PersistentVolumeSpec.capacity')),
    col('Access Modes', doc('PersistentVolumeSpec.accessModes')),
    col('Reclaim Policy', doc('PersistentVolumeSpec.persistentVolumeReclaimPolicy')),
    col('Status', doc('PersistentVolumeStatus.phase')),
    col('Claim', doc('PersistentVolumeSpec.claimRef')),
    col('StorageClass', 'StorageClass of the pv'),
    col('VolumeAttributesClass', 'VolumeAttributesClass of the pv'),
    col('Reason', doc('PersistentVolumeStatus.reason')),
    ageColumn(),
    col('VolumeMode', doc('PersistentVolumeSpec.volumeMode'), { priority: 1 }),
  ],
  cells(pv, now) {
    const ref = pv.spec?.claimRef;
    return [
      nameOf(pv),
      storageOf(pv.spec?.capacity),
      accessModesString(pv.spec?.accessModes),
      pv.spec?.persistentVolumeReclaimPolicy ?? '',
      deleting(pv) ? 'Terminating' : (pv.status?.phase ?? ''),
      ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : '',
      volumeClass(pv),
      pv.spec?.volumeAttributesClassName ?? '<unset>',
      pv.status?.reason ?? '',
      ageOf(pv, now),
      pv.spec?.volumeMode ?? '<unset>',
    ];
  },
};

// --- Node ------------------------------------------------------------------------------------

const roleLabelPrefix = 'node-role.kubernetes.io/';
const legacyRoleLabel = 'kubernetes.io/role';

export function nodeRoles(node: Obj): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries<string>(node.metadata?.labels ?? {})) {
    if (k.startsWith(roleLabelPrefix)) {
      const role = k.slice(roleLabelPrefix.length);
      if (role) roles.add(role);
    } else if (k === legacyRoleLabel && v !== '') {
      roles.add(v);
    }
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

export function nodeStatus(node: Obj): string {
  const parts: string[] = [];
  // Only the Ready condition is summarised; a missing one reads as Unknown.
  const ready = [...(node.status?.conditions ?? [])].reverse().find((c: Obj) => c.type === 'Ready');
  if (ready) parts.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  else parts.push('Unknown');
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeAddress(node: Obj, type: string): string {
  return (node.status?.addresses ?? []).find((a: Obj) => a.type === type)?.address ?? '<none>';
}

export const nodeTable: TableDef = {
  columns: [
    nameColumn(),
    col('Status', 'The status of the node'),
    col('Roles', 'The roles of the node'),
    ageColumn(),
    col('Version', doc('NodeSystemInfo.kubeletVersion')),
    col('Internal-IP', doc('NodeStatus.addresses'), { priority: 1 }),
    col('External-IP', doc('NodeStatus.addresses'), { priority: 1 }),
    col('OS-Image', doc('NodeSystemInfo.osImage'), { priority: 1 }),
    col('Kernel-Version', doc('NodeSystemInfo.kernelVersion'), { priority: 1 }),
    col('Container-Runtime', doc('NodeSystemInfo.containerRuntimeVersion'), { priority: 1 }),
  ],
  cells(node, now) {
    const info = node.status?.nodeInfo ?? {};
    return [
      nameOf(node),
      nodeStatus(node),
      nodeRoles(node),
      ageOf(node, now),
      info.kubeletVersion ?? '',
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      info.osImage || '<unknown>',
      info.kernelVersion || '<unknown>',
      info.containerRuntimeVersion || '<unknown>',
    ];
  },
};

// --- Namespace, ConfigMap, Secret, ServiceAccount ---------------------------------------------

export const namespaceTable: TableDef = {
  columns: [nameColumn(), col('Status', 'The status of the namespace'), ageColumn()],
  cells: (ns, now) => [nameOf(ns), ns.status?.phase ?? '', ageOf(ns, now)],
};

export const configMapTable: TableDef = {
  columns: [nameColumn(), col('Data', doc('ConfigMap.data')), ageColumn()],
  cells: (cm, now) => [nameOf(cm), count(cm.data) + count(cm.binaryData), ageOf(cm, now)],
};

export const secretTable: TableDef = {
  columns: [nameColumn(), col('Type', doc('Secret.type')), col('Data', doc('Secret.data')), ageColumn()],
  // stringData is folded into data on write, but count it too in case a caller renders an unstored object.
  cells: (s, now) => [nameOf(s), s.type ?? '', count({ ...(s.data ?? {}), ...(s.stringData ?? {}) }), ageOf(s, now)],
};

export const serviceAccountTable: TableDef = {
  columns: [nameColumn(), col('Secrets', doc('ServiceAccount.secrets')), ageColumn()],
  cells: (sa, now) => [nameOf(sa), (sa.secrets ?? []).length, ageOf(sa, now)],
};

// --- Event -----------------------------------------------------------------------------------

function eventSource(ev: Obj): string {
  const component = ev.source?.component || ev.reportingComponent || '';
  const instance = ev.source?.host || ev.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

export const eventTable: TableDef = {
  columns: [
    col('Last Seen', doc('Event.lastTimestamp')),
    col('Type', doc('Event.type')),
    col('Reason', doc('Event.reason')),
    col('Object', doc('Event.involvedObject')),
    col('Subobject', doc('ObjectReference.fieldPath'), { priority: 1 }),
    col('Source', doc('Event.source'), { priority: 1 }),
    col('Message', doc('Event.message')),
    col('First Seen', doc('Event.firstTimestamp'), { priority: 1 }),
    col('Count', doc('Event.count'), { priority: 1 }),
    col('Name', doc('ObjectMeta.name'), { priority: 1, format: 'name' }),
  ],
  cells(ev, now) {
    // Events written through events.k8s.io carry eventTime/series instead of the legacy timestamps.
    const first = ev.firstTimestamp ? age(ev.firstTimestamp, now) : age(ev.eventTime ?? undefined, now);
    let last = ev.lastTimestamp ? age(ev.lastTimestamp, now) : first;
    let n: number = ev.count ?? 0;
    if (ev.series) {
      last = age(ev.series.lastObservedTime ?? undefined, now);
      n = ev.series.count ?? 0;
    } else if (n === 0) {
      n = 1;
    }
    const io = ev.involvedObject ?? {};
    const kind = String(io.kind ?? '').toLowerCase();
    const target = io.name ? `${kind}/${io.name}` : kind;
    return [last, ev.type ?? '', ev.reason ?? '', target, io.fieldPath ?? '', eventSource(ev), String(ev.message ?? '').trim(), first, n, nameOf(ev)];
  },
};
