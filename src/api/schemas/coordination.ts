// coordination.k8s.io/v1: Lease, used for leader election and node heartbeats.
import { defineComponents } from '../schema.ts';
import { MICRO_TIME, str, int32, refTo, obj, kindWithList, gvk } from './helpers.ts';

const L = 'io.k8s.api.coordination.v1.';

defineComponents({
  ...kindWithList(L + 'Lease', 'A Lease is a lightweight lock: one holder renews it periodically, and others may take it over once it expires. Used for leader election and node heartbeats.',
    gvk('coordination.k8s.io', 'v1', 'Lease'), {
      spec: refTo(L + 'LeaseSpec', 'Who holds the lease and until when.', { default: {} }),
    }, 'Leases'),
  [L + 'LeaseSpec']: obj('The state of a lease.', {
    acquireTime: refTo(MICRO_TIME, 'When the current holder acquired the lease.'),
    holderIdentity: str('Identity of the current holder.'),
    leaseDurationSeconds: int32('How long others must wait after renewTime before they may take the lease.'),
    leaseTransitions: int32('How many times the lease has changed holder.'),
    preferredHolder: str('Identity a coordinated election wants to hand the lease to.'),
    renewTime: refTo(MICRO_TIME, 'When the holder last renewed the lease.'),
    strategy: str('The strategy for picking a leader in coordinated leader election.'),
  }),
});
