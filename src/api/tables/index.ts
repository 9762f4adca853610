// `kubectl get` columns per kind, following upstream's server-side printers. The server always
// renders every column (wide ones included); kubectl hides priority-1 columns unless `-o wide`.
// Kinds without their own columns get upstream's default table (NAME and creation time).
import type { TableDef } from '../resource.ts';
import { defaultTable } from './default.ts';
import { podTable } from './pod.ts';
import {
  configMapTable,
  endpointsTable,
  eventTable,
  namespaceTable,
  nodeTable,
  persistentVolumeClaimTable,
  persistentVolumeTable,
  secretTable,
  serviceAccountTable,
  serviceTable,
} from './core.ts';
import { certificateSigningRequestTable } from './certificates.ts';
import { bindingTable, roleTable } from './rbac.ts';
import { controllerRevisionTable, endpointSliceTable, leaseTable, podDisruptionBudgetTable, statefulSetTable, storageClassTable } from './groups.ts';

import { cronJobTable, daemonSetTable, deploymentTable, jobTable, replicaSetTable } from './workloads.ts';
import { horizontalPodAutoscalerTable, ingressClassTable, ingressTable, networkPolicyTable } from './networking.ts';

export { age, humanDuration } from './age.ts';
export { summarizePod } from './pod.ts';
export { canonicalQuantity } from './quantity.ts';

const tables: Record<string, TableDef> = {
  Pod: podTable,
  Service: serviceTable,
  Endpoints: endpointsTable,
  PersistentVolumeClaim: persistentVolumeClaimTable,
  PersistentVolume: persistentVolumeTable,
  Node: nodeTable,
  Namespace: namespaceTable,
  ConfigMap: configMapTable,
  Secret: secretTable,
  Event: eventTable,
  ServiceAccount: serviceAccountTable,
  StatefulSet: statefulSetTable,
  ControllerRevision: controllerRevisionTable,
  StorageClass: storageClassTable,
  Lease: leaseTable,
  PodDisruptionBudget: podDisruptionBudgetTable,
  EndpointSlice: endpointSliceTable,
  CertificateSigningRequest: certificateSigningRequestTable,
  Role: roleTable,
  ClusterRole: roleTable,
  RoleBinding: bindingTable,
  ClusterRoleBinding: bindingTable,
  Deployment: deploymentTable,
  ReplicaSet: replicaSetTable,
  DaemonSet: daemonSetTable,
  Job: jobTable,
  CronJob: cronJobTable,
  NetworkPolicy: networkPolicyTable,
  Ingress: ingressTable,
  IngressClass: ingressClassTable,
  HorizontalPodAutoscaler: horizontalPodAutoscalerTable,
};

export function tableFor(kind: string): TableDef {
  return tables[kind] ?? defaultTable;
}
