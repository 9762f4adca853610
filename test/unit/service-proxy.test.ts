// The service proxy's decisions (plan, balancing) and the service CIDR, without touching the network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { addressChanges, backendOfUrl, backendsFor, clusterIPsOf, DEFAULT_AFFINITY_SECONDS, planProxy } from '../../src/agent/service-proxy/plan.ts';
import { Balancer, FAILED_BACKOFF_MS } from '../../src/agent/service-proxy/balancer.ts';
import { dummyInterfaceFor, parseAddresses } from '../../src/agent/service-proxy/host-network.ts';
import { inServiceNetwork, parseServiceCidr, pickServiceIp } from '../../src/apiserver/service-network.ts';
import { advertiseAddressFor, kubeDnsService, kubernetesEndpoints, kubernetesEndpointSlice, kubernetesService } from '../../src/apiserver/cluster-services.ts';
import { cniConflist } from '../../src/agent/runtime/cri/network.ts';
import { serviceEnv, servicesForPod } from '../../src/agent/service-env.ts';
import { containerEnv } from '../../src/agent/runtime/cri/pod-config.ts';

const svc = (name: string, spec: Obj, ns = 'default'): Obj => ({ metadata: { name, namespace: ns }, spec: { type: 'ClusterIP', ...spec } });
const slice = (svcName: string, ports: Obj[], endpoints: Obj[], o: { ns?: string; addressType?: string; name?: string } = {}): Obj => ({
  metadata: { name: o.name ?? `${svcName}-abc`, namespace: o.ns ?? 'default', labels: { 'kubernetes.io/service-name': svcName } },
  addressType: o.addressType ?? 'IPv4',
  ports,
  endpoints,
});
const ep = (ip: string, conditions: Obj = { ready: true }) => ({ addresses: [ip], conditions });

test('service CIDR: upstream default, first and tenth addresses, limits', () => {
  const n = parseServiceCidr('10.96.0.0/12');
  assert.equal(n.cidr, '10.96.0.0/12');
  assert.equal(n.kubernetesIP, '10.96.0.1');
  assert.equal(n.dnsIP, '10.96.0.10');
  assert.ok(inServiceNetwork(n, '10.111.255.254'));
  assert.ok(!inServiceNetwork(n, '10.112.0.1'));
  // A host address is reduced to its network, as net.ParseCIDR does.
  assert.equal(parseServiceCidr('10.112.3.77/24').cidr, '10.112.3.0/24');
  assert.equal(parseServiceCidr('10.112.3.0/24').dnsIP, '10.112.3.10');
  assert.throws(() => parseServiceCidr('10.0.0.0/8'), /too large; for 32-bit addresses, the mask must be >= 12/);
  assert.throws(() => parseServiceCidr('10.0.0.0/30'), /too small/);
  assert.throws(() => parseServiceCidr('10.0.0/16'), /not a valid IPv4 CIDR/);
  assert.throws(() => parseServiceCidr('300.0.0.0/16'), /not a valid IPv4 CIDR/);
});

test('service CIDR: allocation skips network, broadcast, the two reserved and used addresses', () => {
  const n = parseServiceCidr('10.112.0.0/28');
  const used = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const ip = pickServiceIp(n, used, () => 0)!;
    assert.ok(ip, `allocation ${i}`);
    used.add(ip);
  }
  assert.equal(pickServiceIp(n, used), undefined, 'a /28 has 16 - 2 - 2 = 12 allocatable addresses');
  for (const ip of ['10.112.0.0', '10.112.0.15', '10.112.0.1', '10.112.0.10']) assert.ok(!used.has(ip), ip);
});

test('clusterIPsOf: headless, ExternalName and IPv6 hold nothing', () => {
  assert.deepEqual(clusterIPsOf(svc('a', { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'] })), ['10.96.0.20']);
  assert.deepEqual(clusterIPsOf(svc('a', { clusterIP: 'None', clusterIPs: ['None'] })), []);
  assert.deepEqual(clusterIPsOf(svc('a', { type: 'ExternalName', externalName: 'x.example' })), []);
  assert.deepEqual(clusterIPsOf(svc('a', { clusterIP: 'fd00::1', clusterIPs: ['fd00::1'] })), []);
});

test('backendsFor: ready endpoints by port name and protocol; terminating-serving only when none is ready', () => {
  const port = { name: 'web', port: 80, protocol: 'TCP' };
  const slices = [
    slice('s', [{ name: 'web', port: 8080, protocol: 'TCP' }], [ep('10.244.1.2'), ep('10.244.1.3', { ready: false }), ep('10.244.1.4', {}), ep('10.244.1.5', { ready: false, serving: true, terminating: true })]),
    slice('s', [{ name: 'other', port: 9090, protocol: 'TCP' }], [ep('10.244.1.9')], { name: 's-x' }),
    slice('s', [{ name: 'web', port: 8080, protocol: 'UDP' }], [ep('10.244.1.8')], { name: 's-u' }),
    slice('s', [{ name: 'web', port: 8080, protocol: 'TCP' }], [ep('fd00::2')], { name: 's-6', addressType: 'IPv6' }),
  ];
  assert.deepEqual(backendsFor(port, slices), [
    { host: '10.244.1.2', port: 8080 },
    { host: '10.244.1.4', port: 8080 },
  ]);
  // Nothing ready: connections drain to endpoints that still serve while terminating.
  const draining = [slice('s', [{ name: 'web', port: 8080, protocol: 'TCP' }], [ep('10.244.1.3', { ready: false }), ep('10.244.1.5', { ready: false, serving: true, terminating: true })])];
  assert.deepEqual(backendsFor(port, draining), [{ host: '10.244.1.5', port: 8080 }]);
  // An unnamed Service port matches an unnamed slice port.
  assert.deepEqual(backendsFor({ port: 53, protocol: 'UDP' }, [slice('d', [{ port: 5353, protocol: 'UDP' }], [ep('10.244.1.7')])]), [{ host: '10.244.1.7', port: 5353 }]);
});

test('planProxy: addresses, listeners with backends only, affinity, local and fixed backends', () => {
  const services = [
    svc('web', { clusterIP: '10.96.5.5', clusterIPs: ['10.96.5.5'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { name: 's', port: 9, protocol: 'SCTP' }] }),
    svc('sticky', { clusterIP: '10.96.6.6', ports: [{ port: 80, protocol: 'TCP' }], sessionAffinity: 'ClientIP' }),
    svc('empty', { clusterIP: '10.96.7.7', ports: [{ port: 80 }] }),
    svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
    svc('kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] }),
    svc('kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }, 'kube-system'),
  ];
  const slices = [
    slice('web', [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }], [ep('10.244.1.2'), ep('10.244.1.3')]),
    slice('sticky', [{ port: 80, protocol: 'TCP' }], [ep('10.244.1.4')]),
    // Same name in another namespace: not web's.
    slice('web', [{ name: 'http', port: 8080, protocol: 'TCP' }], [ep('10.244.9.9')], { ns: 'other' }),
    slice('kubernetes', [{ name: 'https', port: 6443, protocol: 'TCP' }], [ep('192.0.2.2')]),
    slice('kube-dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], [ep('10.244.1.50')], { ns: 'kube-system' }),
  ];
  const plan = planProxy(services, slices, { localAddresses: ['10.96.0.10'], fixedBackends: { 'default/kubernetes': [{ host: '127.0.0.1', port: 6443 }] } });
  assert.deepEqual(plan.addresses, ['10.96.0.1', '10.96.0.10', '10.96.5.5', '10.96.6.6', '10.96.7.7']);
  assert.deepEqual(
    plan.listeners.map((l) => [l.key, l.backends.map((b) => `${b.host}:${b.port}`), l.affinitySeconds]),
    [
      ['10.96.0.1:443/TCP', ['127.0.0.1:6443'], undefined],
      ['10.96.5.5:53/UDP', ['10.244.1.2:5353', '10.244.1.3:5353'], undefined],
      ['10.96.5.5:80/TCP', ['10.244.1.2:8080', '10.244.1.3:8080'], undefined],
      ['10.96.6.6:80/TCP', ['10.244.1.4:80'], DEFAULT_AFFINITY_SECONDS],
    ],
  );
  // Without a local DNS the kube-dns address is an ordinary Service.
  const noLocal = planProxy(services, slices);
  assert.ok(noLocal.listeners.some((l) => l.key === '10.96.0.10:53/UDP'));
  assert.deepEqual(noLocal.listeners.find((l) => l.key === '10.96.0.1:443/TCP')?.backends, [{ host: '192.0.2.2', port: 6443 }]);
  // Addresses outside the service CIDR are never taken over.
  const inRange = planProxy(services, slices, { holdable: (ip) => ip.startsWith('10.96.5.') });
  assert.deepEqual(inRange.addresses, ['10.96.5.5']);
  assert.ok(inRange.listeners.every((l) => l.ip === '10.96.5.5'));
  // The configured affinity timeout wins.
  const custom = planProxy([svc('sticky', { clusterIP: '10.96.6.6', ports: [{ port: 80 }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })], slices);
  assert.equal(custom.listeners[0]!.affinitySeconds, 60);
});

test('addressChanges', () => {
  assert.deepEqual(addressChanges(['a', 'b'], ['b', 'c']), { add: ['c'], remove: ['a'] });
});

test('Balancer: round robin, retry order, and ClientIP affinity with timeout and backend removal', () => {
  const a = { host: '10.0.0.1', port: 80 };
  const b = { host: '10.0.0.2', port: 80 };
  const c = { host: '10.0.0.3', port: 80 };
  const rr = new Balancer([a, b, c]);
  assert.deepEqual(rr.pick('1.1.1.1', 0), [a, b, c]);
  assert.deepEqual(rr.pick('1.1.1.1', 0), [b, c, a]);
  assert.deepEqual(rr.pick('1.1.1.1', 0)[0], c);
  assert.deepEqual(rr.pick('1.1.1.1', 0)[0], a);
  assert.deepEqual(new Balancer([]).pick('x', 0), []);

  const sticky = new Balancer([a, b, c], 10);
  const first = sticky.pick('p1', 0)[0];
  assert.deepEqual(sticky.pick('p1', 5_000)[0], first, 'within the timeout');
  assert.notDeepEqual(sticky.pick('p2', 5_000)[0], first, 'another client takes the next backend');
  assert.deepEqual(sticky.pick('p1', 14_000)[0], first, 'each visit renews the timeout');
  assert.notDeepEqual(sticky.pick('p1', 30_000)[0], first, 'after the timeout the client is balanced again');
  // The backend a client stuck to goes away: the client moves on.
  const s2 = new Balancer([a, b], 100);
  assert.deepEqual(s2.pick('p', 0)[0], a);
  s2.update([b, c], 100);
  const moved = s2.pick('p', 1)[0];
  assert.ok(moved === b || moved === c, 'the client moves to a remaining backend');
  assert.equal(s2.pick('p', 2)[0], moved, 'and sticks there');
  // A failed first choice: the client sticks to the backend that answered.
  const s3 = new Balancer([a, b], 100);
  s3.pick('q', 0);
  s3.settled('q', b, 0);
  assert.deepEqual(s3.pick('q', 1)[0], b);
});

test('the kubernetes Service goes to every API server the agent was given, spread and past a dead one', () => {
  const servers = ['https://127.0.0.2:6443', 'https://10.0.0.7', 'https://[fd00::1]:8443/'].map(backendOfUrl);
  assert.deepEqual(servers, [{ host: '127.0.0.2', port: 6443 }, { host: '10.0.0.7', port: 443 }, { host: 'fd00::1', port: 8443 }]);
  const svc = { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } };
  // Its endpoints (the servers' advertised addresses) are not where this node reaches them.
  const slice = { metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } }, addressType: 'IPv4', endpoints: [{ addresses: ['192.0.2.1'] }, { addresses: ['192.0.2.2'] }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] };
  const two = [{ host: '127.0.0.2', port: 6443 }, { host: '127.0.0.3', port: 6443 }];
  const plan = planProxy([svc], [slice], { fixedBackends: { 'default/kubernetes': two } });
  assert.deepEqual(plan.listeners.map((l) => [l.key, l.backends]), [['10.96.0.1:443/TCP', two]]);

  const [a, b] = two as [typeof two[0], typeof two[0]];
  const lb = new Balancer(two);
  assert.deepEqual([lb.pick('p', 0)[0], lb.pick('p', 0)[0]], [a, b], 'spread over both');
  // a is down: the next connections try b first, a only as a last resort, until the backoff ends.
  lb.failed(a, 1_000);
  assert.deepEqual(lb.pick('p', 1_001), [b, a]);
  assert.deepEqual(lb.pick('p', 1_002), [b, a]);
  assert.deepEqual(lb.pick('p', 1_000 + FAILED_BACKOFF_MS), [a, b], 'tried first again after the backoff');
  // A connection that succeeded clears the mark at once.
  lb.failed(b, 20_000);
  assert.deepEqual(lb.pick('p', 20_001)[0], a);
  lb.settled('p', b, 20_002);
  assert.deepEqual([lb.pick('p', 20_003), lb.pick('p', 20_004)], [[a, b], [b, a]], 'plain rotation again');
  // Every backend failing: all are still tried, in rotation.
  lb.failed(a, 30_000);
  lb.failed(b, 30_000);
  assert.equal(lb.pick('p', 30_001).length, 2);
});

test('host network helpers: dummy names fit 15 characters, addresses from ip -j', () => {
  assert.equal(dummyInterfaceFor('ordinal0'), 'ordinal0-svc');
  assert.ok(dummyInterfaceFor('averyverylongbr').length <= 15);
  assert.notEqual(dummyInterfaceFor('averyverylongb1'), dummyInterfaceFor('averyverylongb2'));
  const json = JSON.stringify([{ ifname: 'x', addr_info: [{ family: 'inet', local: '10.96.0.1', prefixlen: 32 }, { family: 'inet6', local: 'fe80::1' }] }]);
  assert.deepEqual(parseAddresses(json), ['10.96.0.1']);
});

test('cluster Services and the kubernetes endpoints as upstream writes them', () => {
  const k = kubernetesService('10.96.0.1', 6443);
  assert.deepEqual(k.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
  assert.deepEqual(k.metadata.labels, { component: 'apiserver', provider: 'kubernetes' });
  const d = kubeDnsService('10.96.0.10');
  assert.deepEqual(
    d.spec.ports.map((p: Obj) => `${p.name}/${p.port}/${p.protocol}`),
    ['dns/53/UDP', 'dns-tcp/53/TCP', 'metrics/9153/TCP'],
  );
  assert.deepEqual(d.spec.selector, { 'k8s-app': 'kube-dns' });
  assert.equal(d.metadata.labels['kubernetes.io/name'], 'CoreDNS');
  assert.deepEqual(kubernetesEndpoints('192.0.2.2', 6443).subsets, [{ addresses: [{ ip: '192.0.2.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
  const s = kubernetesEndpointSlice('192.0.2.2', 6443);
  assert.equal(s.metadata.labels['kubernetes.io/service-name'], 'kubernetes');
  assert.deepEqual(s.endpoints, [{ addresses: ['192.0.2.2'], conditions: { ready: true } }]);
  // Loopback is never advertised.
  assert.equal(advertiseAddressFor('10.1.2.3'), '10.1.2.3');
  assert.equal(advertiseAddressFor('127.0.0.1', '10.9.9.9'), '10.9.9.9');
  const auto = advertiseAddressFor('127.0.0.1');
  assert.ok(auto === undefined || !auto.startsWith('127.'), String(auto));
});

test('CNI config routes the service CIDR through the bridge address', () => {
  const conf = JSON.parse(cniConflist({ bridge: 'b0', podCIDR: '10.244.1.0/24', ipamDataDir: '/x', serviceCIDR: '10.96.0.0/12' }));
  assert.deepEqual(conf.plugins[0].ipam.routes, [{ dst: '10.96.0.0/12', gw: '10.244.1.1' }]);
  assert.equal(conf.plugins[0].isGateway, false);
  const plain = JSON.parse(cniConflist({ bridge: 'b0', podCIDR: '10.244.1.0/24', ipamDataDir: '/x' }));
  assert.equal(plain.plugins[0].ipam.routes, undefined);
});

test('service env: the kubelet\'s variables for the pod\'s namespace and the master Service', () => {
  const k = { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } };
  const web = { metadata: { name: 'nginx-cip', namespace: 'team' }, spec: { clusterIP: '10.96.3.4', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'names', port: 53, protocol: 'UDP' }] } };
  const headless = { metadata: { name: 'nginx', namespace: 'team' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } };
  const elsewhere = { metadata: { name: 'other', namespace: 'x' }, spec: { clusterIP: '10.96.3.5', ports: [{ port: 80 }] } };
  const picked = servicesForPod([k, web, headless, elsewhere], 'team');
  assert.deepEqual(picked.map((s) => s.metadata.name).sort(), ['kubernetes', 'nginx-cip']);
  assert.deepEqual(servicesForPod([k, web], 'team', false).map((s) => s.metadata.name), ['kubernetes'], 'enableServiceLinks: false keeps the master Service');
  const env = serviceEnv(picked);
  assert.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1');
  assert.equal(env.KUBERNETES_SERVICE_PORT, '443');
  assert.equal(env.KUBERNETES_SERVICE_PORT_HTTPS, '443');
  assert.equal(env.KUBERNETES_PORT, 'tcp://10.96.0.1:443');
  assert.equal(env.KUBERNETES_PORT_443_TCP_ADDR, '10.96.0.1');
  assert.equal(env.NGINX_CIP_SERVICE_PORT_NAMES, '53');
  assert.equal(env.NGINX_CIP_PORT, 'tcp://10.96.3.4:80');
  assert.equal(env.NGINX_CIP_PORT_53_UDP, 'udp://10.96.3.4:53');
  assert.equal(env.NGINX_CIP_PORT_53_UDP_PROTO, 'udp');
  assert.equal(env.NGINX_SERVICE_HOST, undefined, 'headless Services get none');
  // The pod's own env wins over, and may refer to, the Service variables.
  const out = containerEnv({ metadata: { namespace: 'team', name: 'p' }, spec: {} }, { env: [{ name: 'KUBERNETES_SERVICE_PORT', value: '8443' }, { name: 'API', value: '$(KUBERNETES_SERVICE_HOST)' }] }, {}, {
    configMap: () => undefined,
    secret: () => undefined,
    serviceEnv: env,
  });
  const m = new Map(out.map((e) => [e.key, e.value]));
  assert.equal(m.get('KUBERNETES_SERVICE_PORT'), '8443');
  assert.equal(m.get('API'), '10.96.0.1');
  assert.equal(m.get('NGINX_CIP_SERVICE_HOST'), '10.96.3.4');
});
