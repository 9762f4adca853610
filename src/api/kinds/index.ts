// Registry strategies per kind. Kinds without special rules use the generic strategy.
import type { Strategy } from '../resource.ts';
import { namespaceStrategy, nodeStrategy } from './cluster.ts';
import { configMapStrategy, secretStrategy, serviceAccountStrategy } from './config.ts';
import { genericStrategy } from './generic.ts';
import { certificateSigningRequestStrategy } from './certificates.ts';
import { clusterRoleBindingStrategy, clusterRoleStrategy, roleBindingStrategy, roleStrategy } from './rbac.ts';
import {
  controllerRevisionStrategy,
  endpointSliceStrategy,
  endpointsStrategy,
  eventStrategy,
  leaseStrategy,
  podDisruptionBudgetStrategy,
} from './misc.ts';
import { podStrategy } from './pod.ts';
import { crdStrategy } from '../../apiextensions/crd-strategy.ts';
import { serviceStrategy } from './service.ts';
import { statefulSetStrategy } from './statefulset.ts';
import { daemonSetStrategy, deploymentStrategy, replicaSetStrategy } from './workloads/apps.ts';
import { cronJobStrategy, jobStrategy } from './workloads/batch.ts';
import { horizontalPodAutoscalerStrategy } from './autoscaling.ts';
import { ingressClassStrategy, ingressStrategy, networkPolicyStrategy } from './networking.ts';
import { persistentVolumeClaimStrategy, persistentVolumeStrategy, storageClassStrategy } from './storage.ts';

export const strategies: Record<string, Strategy> = {
  Namespace: namespaceStrategy,
  Pod: podStrategy,
  Service: serviceStrategy,
  Endpoints: endpointsStrategy,
  PersistentVolumeClaim: persistentVolumeClaimStrategy,
  PersistentVolume: persistentVolumeStrategy,
  Node: nodeStrategy,
  ConfigMap: configMapStrategy,
  Secret: secretStrategy,
  Event: eventStrategy,
  ServiceAccount: serviceAccountStrategy,
  StatefulSet: statefulSetStrategy,
  ControllerRevision: controllerRevisionStrategy,
  StorageClass: storageClassStrategy,
  Lease: leaseStrategy,
  PodDisruptionBudget: podDisruptionBudgetStrategy,
  EndpointSlice: endpointSliceStrategy,
  CertificateSigningRequest: certificateSigningRequestStrategy,
  CustomResourceDefinition: crdStrategy,
  Role: roleStrategy,
  ClusterRole: clusterRoleStrategy,
  RoleBinding: roleBindingStrategy,
  ClusterRoleBinding: clusterRoleBindingStrategy,
  Deployment: deploymentStrategy,
  ReplicaSet: replicaSetStrategy,
  DaemonSet: daemonSetStrategy,
  Job: jobStrategy,
  CronJob: cronJobStrategy,
  NetworkPolicy: networkPolicyStrategy,
  Ingress: ingressStrategy,
  IngressClass: ingressClassStrategy,
  HorizontalPodAutoscaler: horizontalPodAutoscalerStrategy,
};

export function strategyFor(kind: string): Strategy {
  return strategies[kind] ?? genericStrategy;
}
