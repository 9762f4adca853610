// The wire side of cluster DNS without sockets: response headers, EDNS, malformed queries,
// truncation; plus the pod resolv.conf and the metrics text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import type { Packet } from 'dns-packet';
import type { Obj } from '../../src/api/resource.ts';
import { ClusterIndex } from '../../src/dns/cluster-index.ts';
import { encodePacket, encodeWithin, formatError, respond, udpLimit, EDNS_UDP_SIZE } from '../../src/dns/message.ts';
import { resolvConfFor, searchDomains } from '../../src/dns/resolv-conf.ts';
import { DnsMetrics } from '../../src/dns/metrics.ts';
import { defaultDnsPort } from '../../src/dns/server.ts';

// A headless service with many ready endpoints, to overflow a 512-byte UDP answer.
const many = Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.244.1.${i + 1}`], hostname: `big-${i}`, conditions: { ready: true } }));
const view = ClusterIndex.from({
  namespaces: ['default'],
  services: [
    { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.5.5', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } } as Obj,
    { metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'web', port: 80, protocol: 'TCP' }] } } as Obj,
  ],
  slices: [{ metadata: { name: 'big-a', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } }, addressType: 'IPv4', endpoints: many, ports: [{ name: 'web', port: 80, protocol: 'TCP' }] }],
});

/** A query as a client would send it, decoded as the server sees it. */
function query(name: string, type: any, o: { edns?: number; flags?: number; questions?: number } = {}) {
  const p: Packet = {
    type: 'query',
    id: 4242,
    flags: o.flags ?? dnsPacket.RECURSION_DESIRED,
    questions: Array.from({ length: o.questions ?? 1 }, () => ({ name, type, class: 'IN' as const })),
    additionals: o.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: o.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  };
  return dnsPacket.decode(dnsPacket.encode(p));
}

const roundTrip = (q: ReturnType<typeof query>, limit = 65535) => dnsPacket.decode(encodeWithin(respond(view, q)!.packet, limit)) as any;

test('a positive answer: same id and question, QR and AA set, RD echoed, RA clear', () => {
  const r = roundTrip(query('web.default.svc.cluster.local', 'A'));
  assert.equal(r.id, 4242);
  assert.equal(r.type, 'response');
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.flag_aa, true);
  assert.equal(r.flag_rd, true);
  assert.equal(r.flag_ra, false);
  assert.deepEqual(r.questions, [{ name: 'web.default.svc.cluster.local', type: 'A', class: 'IN' }]);
  assert.deepEqual(r.answers.map((a: any) => [a.name, a.type, a.ttl, a.data]), [['web.default.svc.cluster.local', 'A', 5, '10.96.5.5']]);
});

test('NXDOMAIN is authoritative and carries the SOA; REFUSED is neither', () => {
  const nx = roundTrip(query('nope.default.svc.cluster.local', 'A'));
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.flag_aa, true);
  assert.equal(nx.authorities[0].type, 'SOA');
  const refused = roundTrip(query('example.com', 'A'));
  assert.equal(refused.rcode, 'REFUSED');
  assert.equal(refused.flag_aa, false);
  assert.equal(refused.answers.length + refused.authorities.length, 0);
});

test('two questions are a format error; other opcodes are not implemented; responses get no reply', () => {
  assert.equal(respond(view, query('web.default.svc.cluster.local', 'A', { questions: 2 }))!.rcode, 'FORMERR');
  assert.equal(respond(view, query('web.default.svc.cluster.local', 'A', { questions: 0 }))!.rcode, 'FORMERR');
  const notify = query('cluster.local', 'SOA', { flags: 4 << 11 });
  assert.equal((notify as any).opcode, 'NOTIFY');
  assert.equal(respond(view, notify)!.rcode, 'NOTIMP');
  const asResponse = dnsPacket.decode(dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'x.cluster.local', type: 'A' }] }));
  assert.equal(respond(view, asResponse), null);
});

test('EDNS: the response carries an OPT record offering our size; the client size limits UDP', () => {
  const q = query('web.default.svc.cluster.local', 'A', { edns: 4096 });
  const r = roundTrip(q);
  const opt = r.additionals.find((a: any) => a.type === 'OPT');
  assert.equal(opt.udpPayloadSize, EDNS_UDP_SIZE);
  assert.equal(udpLimit(q), EDNS_UDP_SIZE);
  assert.equal(udpLimit(query('x', 'A', { edns: 700 })), 700);
  assert.equal(udpLimit(query('x', 'A', { edns: 100 })), 512);
  assert.equal(udpLimit(query('x', 'A')), 512);
  assert.equal(roundTrip(query('web.default.svc.cluster.local', 'A')).additionals.length, 0);
});

test('a UDP answer too big for the client drops additionals, then truncates with TC', () => {
  const srv = query('_web._tcp.big.default.svc.cluster.local', 'SRV');
  const full = roundTrip(srv);
  assert.equal(full.answers.length, 60);
  assert.equal(full.additionals.length, 60);
  const cut = roundTrip(srv, udpLimit(srv));
  assert.equal(cut.flag_tc, true);
  assert.equal(cut.answers.length, 0);
  assert.equal(cut.questions.length, 1);
  // 60 A records fit in 1232 bytes but not in 512.
  const a = query('big.default.svc.cluster.local', 'A', { edns: 1232 });
  assert.equal(roundTrip(a, udpLimit(a)).answers.length, 60);
  const plain = query('big.default.svc.cluster.local', 'A');
  assert.equal(roundTrip(plain, udpLimit(plain)).flag_tc, true);
  // Without additionals, a smaller SRV answer still fits.
  const lean = dnsPacket.decode(encodeWithin(respond(view, srv)!.packet, 4000)) as any;
  assert.equal(lean.flag_tc, false);
});

test('owner names equal to the question point back at it, and decode to the same message', () => {
  for (const [name, type] of [['big.default.svc.cluster.local', 'A'], ['_web._tcp.big.default.svc.cluster.local', 'SRV'], ['Nope.default.svc.cluster.local', 'A'], ['cluster.local', 'NS']]) {
    const packet = respond(view, query(name, type, { edns: 1232 }))!.packet;
    const compressed = encodePacket(packet);
    const plain = dnsPacket.encode(packet);
    assert.deepEqual(dnsPacket.decode(compressed), dnsPacket.decode(plain), `${type} ${name}`);
    if (packet.answers!.length) assert.ok(compressed.length < plain.length);
  }
  // 60 addresses: 16 bytes each instead of 45.
  const a = respond(view, query('big.default.svc.cluster.local', 'A'))!.packet;
  assert.equal(encodePacket(a).length, 12 + 35 + 60 * 16);
});

test('undecodable bytes get FORMERR when the id is readable, nothing otherwise', () => {
  const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
  const r = dnsPacket.decode(formatError(garbage)!) as any;
  assert.equal(r.id, 0x1234);
  assert.equal(r.rcode, 'FORMERR');
  assert.equal(r.flag_rd, true);
  assert.equal(formatError(Buffer.from([1, 2, 3])), null);
  const resp = Buffer.from(garbage);
  resp[2] |= 0x80;
  assert.equal(formatError(resp), null);
});

test('resolv.conf for a pod: cluster DNS, the namespace search path, ndots:5', () => {
  assert.equal(resolvConfFor('default'), 'nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
  assert.deepEqual(searchDomains('team-a', 'k8s.internal'), ['team-a.svc.k8s.internal', 'svc.k8s.internal', 'k8s.internal']);
  const custom = resolvConfFor('prod', {
    nameserver: '127.0.0.1',
    dnsConfig: { nameservers: ['127.0.0.1', '10.0.0.2'], searches: ['corp.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
  });
  assert.equal(custom, 'nameserver 127.0.0.1\nnameserver 10.0.0.2\nsearch prod.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:2 edns0\n');
});

test('metrics: requests by transport and type, responses by type and rcode', () => {
  const m = new DnsMetrics();
  m.request('udp', 'A');
  m.request('udp', 'A');
  m.request('tcp', 'SRV');
  m.response('A', 'NOERROR');
  m.response('A', 'NXDOMAIN');
  m.request('udp', 'UNKNOWN_"65');
  m.malformedRequest();
  const text = m.render();
  assert.match(text, /^ordinal_dns_requests_total\{proto="udp",type="A"\} 2$/m);
  assert.match(text, /^ordinal_dns_requests_total\{proto="tcp",type="SRV"\} 1$/m);
  assert.match(text, /^ordinal_dns_requests_total\{proto="udp",type="other"\} 1$/m);
  assert.match(text, /^ordinal_dns_responses_total\{type="A",rcode="NXDOMAIN"\} 1$/m);
  assert.match(text, /^ordinal_dns_malformed_requests_total 1$/m);
  assert.match(text, /^# TYPE ordinal_dns_responses_total counter$/m);
});

test('default port: 53 for root, an unprivileged one otherwise', () => {
  assert.equal(defaultDnsPort(), process.getuid?.() === 0 ? 53 : 10053);
});
