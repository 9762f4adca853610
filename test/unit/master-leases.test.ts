// The lease endpoint reconciler's decisions: which API server addresses the kubernetes Endpoints list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressesToPublish, kubernetesEndpointsFor, kubernetesEndpointSliceFor, MASTER_LEASE_TTL_SECONDS, ENDPOINT_INTERVAL_MS } from '../../src/apiserver/master-leases.ts';

test('addresses to publish: every live lease, sorted, with our own; nothing when storage shows none', () => {
  const cases: [string[], string | undefined, string[] | undefined][] = [
    [['10.0.0.2', '10.0.0.1'], '10.0.0.1', ['10.0.0.1', '10.0.0.2']],
    // Our lease was just written: a list that lacks it is behind, ours is added.
    [['10.0.0.2'], '10.0.0.1', ['10.0.0.1', '10.0.0.2']],
    // Leaving (RemoveEndpoints): only the others.
    [['10.0.0.2'], undefined, ['10.0.0.2']],
    // Upstream refuses to erase all endpoints of the kubernetes Service.
    [[], '10.0.0.1', undefined],
    [[], undefined, undefined],
    [['10.0.0.1', '10.0.0.1'], '10.0.0.1', ['10.0.0.1']],
  ];
  for (const [leases, own, want] of cases) assert.deepEqual(addressesToPublish(leases, own), want, `${leases} ${own}`);
});

test('the Endpoints and EndpointSlice list the servers in one subset, with the secure port', () => {
  const ep = kubernetesEndpointsFor(['10.0.0.2', '10.0.0.1'], 6443);
  assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
  assert.equal(ep.metadata.labels['endpointslice.kubernetes.io/skip-mirror'], 'true');
  const slice = kubernetesEndpointSliceFor(['10.0.0.2', '10.0.0.1'], 6443);
  assert.deepEqual(slice.endpoints.map((e: any) => e.addresses[0]), ['10.0.0.1', '10.0.0.2']);
  assert.equal(MASTER_LEASE_TTL_SECONDS, 15);
  assert.equal(ENDPOINT_INTERVAL_MS, 10_000);
});
