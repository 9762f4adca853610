// The cluster's address ranges as both `ordinal up|server` and `ordinal agent` take them; each
// throws a message naming the flag.
import { DEFAULT_CLUSTER_CIDR } from '../controllers/nodeipam/controller.ts';
import { clusterCidr } from '../controllers/nodeipam/allocate.ts';
import { DEFAULT_SERVICE_CIDR, parseServiceCidr, type ServiceNetwork } from '../apiserver/service-network.ts';

/** --cluster-cidr (default 10.244.0.0/16), checked. */
export function clusterCidrFlag(value: string | undefined): string {
  const cidr = value ?? DEFAULT_CLUSTER_CIDR;
  try {
    clusterCidr(cidr);
  } catch (err) {
    throw new Error(`invalid --cluster-cidr: ${(err as Error).message}`);
  }
  return cidr;
}

/** --service-cluster-ip-range (default 10.96.0.0/12). */
export function serviceNetworkFlag(value: string | undefined): ServiceNetwork {
  return parseServiceCidr(value ?? DEFAULT_SERVICE_CIDR);
}
