import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterCidr, nextFreeRange, usedRanges } from '../../src/controllers/nodeipam/allocate.ts';
import { renewalTime } from '../../src/agent/join/node-credentials.ts';

test('node IPAM hands out the lowest free /24 of the cluster CIDR', () => {
  const c = clusterCidr('10.244.0.0/16');
  assert.equal(nextFreeRange(c, usedRanges(c, [])), '10.244.0.0/24');
  assert.equal(nextFreeRange(c, usedRanges(c, ['10.244.0.0/24', '10.244.1.0/24', '10.244.3.0/24'])), '10.244.2.0/24');
  // Ranges outside the cluster CIDR or of another size take nothing from it.
  assert.equal(nextFreeRange(c, usedRanges(c, ['10.245.0.0/24', '10.244.0.0/23', 'garbage'])), '10.244.0.0/24');
});

test('node IPAM honours the mask size and reports a full range', () => {
  const c = clusterCidr('10.10.0.0/22', 24);
  const all = ['10.10.0.0/24', '10.10.1.0/24', '10.10.2.0/24', '10.10.3.0/24'];
  assert.equal(nextFreeRange(c, usedRanges(c, all.slice(0, 3))), '10.10.3.0/24');
  assert.equal(nextFreeRange(c, usedRanges(c, all)), undefined);
  const small = clusterCidr('192.168.0.0/24', 26);
  assert.equal(nextFreeRange(small, usedRanges(small, ['192.168.0.0/26'])), '192.168.0.64/26');
  // A host address is normalised to its network.
  assert.equal(nextFreeRange(clusterCidr('10.1.2.3/16'), new Set()), '10.1.0.0/24');
});

test('node IPAM refuses masks that do not fit', () => {
  assert.throws(() => clusterCidr('10.244.0.0/16', 8), /between the cluster CIDR's prefix/);
  assert.throws(() => clusterCidr('10.0.0.0/8', 28), /more than 65536/);
  assert.throws(() => clusterCidr('10.244.0.0'));
});

test('node certificates are renewed between 70 % and 90 % of their lifetime', () => {
  const c = { notBefore: 1_000, notAfter: 11_000 };
  assert.equal(renewalTime(c, 0), 8_000);
  assert.equal(renewalTime(c, 1), 10_000);
  assert.equal(renewalTime(c, 0.5), 9_000);
});

test('host-gateway routes: one per other node with a range and an InternalIP', async () => {
  const { desiredRoutes, routeChanges } = await import('../../src/agent/routes/plan.ts');
  const node = (name: string, ip: string | undefined, cidr: string | undefined) => ({
    metadata: { name },
    spec: cidr ? { podCIDR: cidr, podCIDRs: [cidr] } : {},
    status: { addresses: ip ? [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] : [] },
  });
  const nodes = [node('a', '10.0.0.1', '10.244.0.0/24'), node('b', '10.0.0.2', '10.244.1.0/24'), node('c', undefined, '10.244.2.0/24'), node('d', '10.0.0.4', undefined)];
  const want = desiredRoutes('a', nodes);
  assert.deepEqual(want, [{ cidr: '10.244.1.0/24', via: '10.0.0.2' }]);
  // A node that changed address is replaced, a node that left is removed, a present route stays.
  const installed = [
    { cidr: '10.244.1.0/24', via: '10.0.0.9' },
    { cidr: '10.244.7.0/24', via: '10.0.0.7' },
  ];
  assert.deepEqual(routeChanges(installed, want), { add: [{ cidr: '10.244.1.0/24', via: '10.0.0.2' }], remove: [{ cidr: '10.244.7.0/24', via: '10.0.0.7' }] });
  assert.deepEqual(routeChanges(want, want), { add: [], remove: [] });
});
