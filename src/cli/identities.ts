// Who each in-process component acts as, as kube-controller-manager with
// --use-service-account-credentials, kube-scheduler, CoreDNS and the kubelet do: every
// controller as the kube-system service account its system:controller:* role is bound to, the
// scheduler as system:kube-scheduler, the cluster DNS as kube-system/coredns and each node agent as
// its node. Each is then authorized like any client, so a missing rule shows up as a 403 here
// exactly as it would upstream.
import type { RequestUser } from '../api/resource.ts';
import { nodeUser } from '../apiserver/authorization/node/identity.ts';

export function serviceAccountUser(namespace: string, name: string): RequestUser {
  return { user: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
}

const controller = (name: string) => serviceAccountUser('kube-system', name);

/** kube-controller-manager's own identity, which its shared informers list and watch with. */
export const KCM_USER: RequestUser = { user: 'system:kube-controller-manager', groups: ['system:authenticated'] };
export const SCHEDULER_USER: RequestUser = { user: 'system:kube-scheduler', groups: ['system:authenticated'] };
export const DNS_USER = serviceAccountUser('kube-system', 'coredns');
export { nodeUser };

/**
 * The service account each of Ordinal's controllers (by --controllers name) uses: upstream's name
 * for the same controller. nodeipam and taint eviction run as node-controller, as both did inside
 * upstream's node controller; Ordinal's volume controller binds and provisions, as
 * persistent-volume-binder does.
 */
export const CONTROLLER_IDENTITIES: Record<string, RequestUser> = {
  statefulset: controller('statefulset-controller'),
  garbagecollector: controller('generic-garbage-collector'),
  namespace: controller('namespace-controller'),
  volume: controller('persistent-volume-binder'),
  endpoints: controller('endpoint-controller'),
  endpointslice: controller('endpointslice-controller'),
  scheduler: SCHEDULER_USER,
  serviceaccount: controller('service-account-controller'),
  disruption: controller('disruption-controller'),
  nodelifecycle: controller('node-controller'),
  'taint-eviction-controller': controller('node-controller'),
  podgc: controller('pod-garbage-collector'),
  nodeipam: controller('node-controller'),
  'root-ca-cert-publisher': controller('root-ca-cert-publisher'),
  csrapproving: controller('certificate-controller'),
  csrsigning: controller('certificate-controller'),
  tokencleaner: controller('token-cleaner'),
  'clusterrole-aggregation': controller('clusterrole-aggregation-controller'),
};
