// `kubectl get` columns for the kinds outside the core group: apps, storage.k8s.io,
// coordination.k8s.io, policy and discovery.k8s.io.
import type { Obj, TableDef } from '../resource.ts';
import { ageColumn, ageOf, col, containerCells, containersColumn, doc, imagesColumn, intOrString, listWithMore, nameColumn, nameOf } from './helpers.ts';

// --- apps ------------------------------------------------------------------------------------

export const statefulSetTable: TableDef = {
  columns: [nameColumn(), col('Ready', 'Number of the pod with ready state'), ageColumn(), containersColumn(), imagesColumn()],
  cells(sts, now) {
    const [names, images] = containerCells(sts.spec?.template?.spec?.containers);
    return [nameOf(sts), `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 1}`, ageOf(sts, now), names, images];
  },
};

/** 'statefulset.apps/web' for the controlling owner, '<none>' without one. */
export function controllerName(obj: Obj): string {
  const ref = (obj.metadata?.ownerReferences ?? []).find((r: Obj) => r.controller === true);
  if (!ref) return '<none>';
  const apiVersion: string = ref.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const kind: string = ref.kind ?? '';
  if (!group && !kind) return ref.name ?? '';
  const groupKind = group ? `${kind}.${group}` : kind;
  return `${groupKind.toLowerCase()}/${ref.name ?? ''}`;
}

export const controllerRevisionTable: TableDef = {
  columns: [nameColumn(), col('Controller', 'Controller of the object'), col('Revision', doc('ControllerRevision.revision')), ageColumn()],
  cells: (cr, now) => [nameOf(cr), controllerName(cr), cr.revision ?? 0, ageOf(cr, now)],
};

// --- storage.k8s.io --------------------------------------------------------------------------

const defaultClassAnnotations = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

export const storageClassTable: TableDef = {
  columns: [
    nameColumn(),
    col('Provisioner', doc('StorageClass.provisioner')),
    col('ReclaimPolicy', doc('StorageClass.reclaimPolicy')),
    col('VolumeBindingMode', doc('StorageClass.volumeBindingMode')),
    col('AllowVolumeExpansion', doc('StorageClass.allowVolumeExpansion')),
    ageColumn(),
  ],
  cells(sc, now) {
    const ann = sc.metadata?.annotations ?? {};
    const isDefault = defaultClassAnnotations.some((a) => ann[a] === 'true');
    return [
      nameOf(sc) + (isDefault ? ' (default)' : ''),
      sc.provisioner ?? '',
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion ?? false,
      ageOf(sc, now),
    ];
  },
};

// --- coordination.k8s.io ---------------------------------------------------------------------

export const leaseTable: TableDef = {
  columns: [nameColumn(), col('Holder', doc('LeaseSpec.holderIdentity')), ageColumn()],
  cells: (lease, now) => [nameOf(lease), lease.spec?.holderIdentity ?? '', ageOf(lease, now)],
};

// --- policy ----------------------------------------------------------------------------------

export const podDisruptionBudgetTable: TableDef = {
  columns: [
    nameColumn(),
    col('Min Available', 'The minimum number of pods that must be available.'),
    col('Max Unavailable', 'The maximum number of pods that may be unavailable.'),
    col('Allowed Disruptions', 'Calculated number of pods that may be disrupted at this time.', { type: 'integer' }),
    ageColumn(),
  ],
  cells(pdb, now) {
    const min = pdb.spec?.minAvailable;
    const max = pdb.spec?.maxUnavailable;
    return [
      nameOf(pdb),
      min === undefined || min === null ? 'N/A' : intOrString(min),
      max === undefined || max === null ? 'N/A' : intOrString(max),
      pdb.status?.disruptionsAllowed ?? 0,
      ageOf(pdb, now),
    ];
  },
};

// --- discovery.k8s.io ------------------------------------------------------------------------

function slicePorts(ports: Obj[] | undefined): string {
  const list = ports ?? [];
  const items = list.map((p) => (p.port !== undefined && p.port !== null ? String(p.port) : p.name !== undefined && p.name !== null ? String(p.name) : '*'));
  return listWithMore(items, list.length, 3, '<unset>');
}

function sliceEndpoints(endpoints: Obj[] | undefined): string {
  const addresses = (endpoints ?? []).flatMap((e) => (e.addresses ?? []) as string[]);
  return listWithMore(addresses, addresses.length, 3, '<unset>');
}

export const endpointSliceTable: TableDef = {
  columns: [
    nameColumn(),
    col('AddressType', doc('EndpointSlice.addressType')),
    col('Ports', doc('EndpointSlice.ports')),
    col('Endpoints', doc('EndpointSlice.endpoints')),
    ageColumn(),
  ],
  cells: (es, now) => [nameOf(es), es.addressType ?? '', slicePorts(es.ports), sliceEndpoints(es.endpoints), ageOf(es, now)],
};
