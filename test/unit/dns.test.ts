// Cluster DNS answers from a fixed snapshot of namespaces, services, endpoint slices and pods:
// one table row per question, in the style of CoreDNS's kubernetes plugin tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import type { Obj } from '../../src/api/resource.ts';
import { ClusterIndex, endpointGroupFromSlice, podRecord } from '../../src/dns/cluster-index.ts';
import { answerQuestion, DEFAULT_ANSWER_CONFIG, dashed, endpointName, reverseToIP, undashed, type AnswerConfig } from '../../src/dns/answer.ts';

const svc = (name: string, spec: Obj, ns = 'default'): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec });
const ep = (ip: string, o: { hostname?: string; ready?: boolean; pod?: string } = {}): Obj => ({
  addresses: [ip],
  conditions: o.ready === undefined ? {} : { ready: o.ready },
  ...(o.hostname ? { hostname: o.hostname } : {}),
  ...(o.pod ? { targetRef: { kind: 'Pod', name: o.pod, namespace: 'default' } } : {}),
});
const slice = (name: string, service: string, endpoints: Obj[], ports?: Obj[], ns = 'default'): Obj => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints,
  ...(ports ? { ports } : {}),
});
const pod = (name: string, ip: string, ns = 'default', phase = 'Running'): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, status: { phase, podIP: ip, podIPs: [{ ip }] } });

const snapshot = () =>
  ClusterIndex.from({
    namespaces: ['default', 'kube-system', 'empty-ns'],
    services: [
      svc('nginx', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'web', port: 80, protocol: 'TCP' }], selector: { app: 'nginx' } }),
      svc('web', {
        clusterIP: '10.96.5.5',
        clusterIPs: ['10.96.5.5'],
        ports: [
          { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      }),
      svc('plain', { clusterIP: '10.96.7.7', ports: [{ port: 8080, protocol: 'TCP' }] }),
      svc('bare', { clusterIP: 'None', selector: { app: 'bare' } }),
      svc('nobody', { clusterIP: 'None', ports: [{ name: 'web', port: 80 }], selector: { app: 'none' } }),
      svc('ext', { type: 'ExternalName', externalName: 'db.example.com', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }),
      svc('alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local.' }),
      svc('kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }, 'kube-system'),
    ],
    slices: [
      slice('nginx-a', 'nginx', [ep('10.244.1.5', { hostname: 'web-0', ready: true, pod: 'web-0' }), ep('10.244.2.6', { hostname: 'web-1', ready: false, pod: 'web-1' })], [{ name: 'web', port: 80, protocol: 'TCP' }]),
      // A second slice of the same service; the ready condition unknown counts as ready.
      slice('nginx-b', 'nginx', [ep('10.244.1.7', { hostname: 'web-2', pod: 'web-2' })], [{ name: 'web', port: 80, protocol: 'TCP' }]),
      slice('web-a', 'web', [ep('10.244.1.9', { ready: true, pod: 'app-1' })], [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }]),
      slice('bare-a', 'bare', [ep('10.244.3.3', { ready: true, pod: 'bare-1' })]),
      slice('nobody-a', 'nobody', [], [{ name: 'web', port: 80, protocol: 'TCP' }]),
    ],
    pods: [
      pod('web-0', '10.244.1.5'),
      pod('web-1', '10.244.2.6'),
      pod('web-2', '10.244.1.7'),
      pod('app-1', '10.244.1.9'),
      pod('bare-1', '10.244.3.3'),
      pod('loner', '10.244.3.4', 'kube-system'),
      pod('done', '10.244.3.8', 'default', 'Succeeded'),
    ],
  });

/** Records as short strings, sorted: order within an answer carries no meaning. */
function show(rrs: Answer[]): string[] {
  return rrs
    .map((r: any) => {
      switch (r.type) {
        case 'SRV':
          return `SRV ${r.data.priority} ${r.data.weight} ${r.data.port} ${r.data.target}`;
        case 'SOA':
          return `SOA ${r.name}`;
        case 'TXT':
          return `TXT ${r.data.join(' ')}`;
        default:
          return `${r.type} ${r.data}`;
      }
    })
    .sort();
}

interface Row {
  name: string;
  type: Answer['type'] | 'AXFR' | 'ANY';
  rcode: string;
  answers?: string[];
  additionals?: string[];
  soa?: string;
  cfg?: Partial<AnswerConfig>;
}

const D = 'default.svc.cluster.local';
const rows: Row[] = [
  // ClusterIP services.
  { name: `web.${D}`, type: 'A', rcode: 'NOERROR', answers: ['A 10.96.5.5'] },
  { name: `WEB.Default.SVC.Cluster.Local.`, type: 'A', rcode: 'NOERROR', answers: ['A 10.96.5.5'] },
  { name: `web.${D}`, type: 'AAAA', rcode: 'NOERROR', answers: [], soa: 'cluster.local' },
  { name: `web.${D}`, type: 'TXT', rcode: 'NOERROR', answers: [], soa: 'cluster.local' },
  { name: `web.${D}`, type: 'SRV', rcode: 'NOERROR', answers: [`SRV 0 50 53 web.${D}`, `SRV 0 50 80 web.${D}`], additionals: ['A 10.96.5.5'] },
  { name: `_http._tcp.web.${D}`, type: 'SRV', rcode: 'NOERROR', answers: [`SRV 0 100 80 web.${D}`], additionals: ['A 10.96.5.5'] },
  { name: `_dns._udp.web.${D}`, type: 'SRV', rcode: 'NOERROR', answers: [`SRV 0 100 53 web.${D}`] },
  { name: `_http._udp.web.${D}`, type: 'SRV', rcode: 'NXDOMAIN', answers: [], soa: 'cluster.local' },
  { name: `_nope._tcp.web.${D}`, type: 'SRV', rcode: 'NXDOMAIN' },
  { name: `_http._tcp.web.${D}`, type: 'A', rcode: 'NOERROR', answers: ['A 10.96.5.5'] },
  { name: `plain.${D}`, type: 'A', rcode: 'NOERROR', answers: ['A 10.96.7.7'] },
  { name: `plain.${D}`, type: 'SRV', rcode: 'NOERROR', answers: [`SRV 0 100 8080 plain.${D}`] },
  { name: `kube-dns.kube-system.svc.cluster.local`, type: 'A', rcode: 'NOERROR', answers: ['A 10.96.0.10'] },
  // An endpoint of a ClusterIP service by its dashed address (it has no hostname).
  { name: `10-244-1-9.web.${D}`, type: 'A', rcode: 'NOERROR', answers: ['A 10.244.1.9'] },
  { name: `app-1.web.${D}`, type: 'A', rcode: 'NXDOMAIN' },
  { name: `app-1.web.${D}`, type: 'A', rcode: 'NOERROR', answers: ['A 10.244.1.9'], cfg: { endpointPodNames: true } },
  // Headless service: ready endpoints only (web-1 is not ready), across slices.
  { name: `nginx.${D}`, type: 'A', rcode: 'NOERROR', answers: ['A 10.244.1.5', 'A 10.244.1.7'] },
  { name: `web-0.nginx.${D}`, type: 'A', rcode: 'NOERROR', answers: ['A 10.244.1.5'] },
  { name: `Web-0.NGINX.${D}`, type: 'A', rcode: 'NOERROR', answers: ['A 10.244.1.5'] },
  { name: `web-2.nginx.${D}`, type: 'A', rcode: 'NOERROR', answers: ['A 10.244.1.7'] },
  { name: `web-1.nginx.${D}`, type: 'A', rcode: 'NXDOMAIN', answers: [], soa: 'cluster.local' },
  { name: `web-9.nginx.${D}`, type: 'A', rcode: 'NXDOMAIN' },
  { name: `web-0.nginx.${D}`, type: 'AAAA', rcode: 'NOERROR', answers: [], soa: 'cluster.local' },
  {
    name: `_web._tcp.nginx.${D}`,
    type: 'SRV',
    rcode: 'NOERROR',
    answers: [`SRV 0 50 80 web-0.nginx.${D}`, `SRV 0 50 80 web-2.nginx.${D}`],
    additionals: ['A 10.244.1.5', 'A 10.244.1.7'],
  },
  { name: `nginx.${D}`, type: 'SRV', rcode: 'NOERROR', answers: [`SRV 0 50 80 web-0.nginx.${D}`, `SRV 0 50 80 web-2.nginx.${D}`] },
  { name: `_web._tcp.web-0.nginx.${D}`, type: 'SRV', rcode: 'NXDOMAIN' },
  { name: `_web._udp.nginx.${D}`, type: 'SRV', rcode: 'NXDOMAIN' },
  // Headless without ports: addresses, but no SRV records.
  { name: `bare.${D}`, type: 'A', rcode: 'NOERROR', answers: ['A 10.244.3.3'] },
  { name: `bare.${D}`, type: 'SRV', rcode: 'NOERROR', answers: [], soa: 'cluster.local' },
  { name: `10-244-3-3.bare.${D}`, type: 'A', rcode: 'NOERROR', answers: ['A 10.244.3.3'] },
  // Headless with no ready endpoints does not exist, as in CoreDNS.
  { name: `nobody.${D}`, type: 'A', rcode: 'NXDOMAIN' },
  // ExternalName: a CNAME for any type; in-zone targets are followed once.
  { name: `ext.${D}`, type: 'A', rcode: 'NOERROR', answers: ['CNAME db.example.com'] },
  { name: `ext.${D}`, type: 'CNAME', rcode: 'NOERROR', answers: ['CNAME db.example.com'] },
  { name: `ext.${D}`, type: 'AAAA', rcode: 'NOERROR', answers: ['CNAME db.example.com'] },
  { name: `_pg._tcp.ext.${D}`, type: 'SRV', rcode: 'NOERROR', answers: ['SRV 0 100 5432 db.example.com'] },
  { name: `x.ext.${D}`, type: 'A', rcode: 'NXDOMAIN' },
  { name: `alias.${D}`, type: 'A', rcode: 'NOERROR', answers: [`A 10.96.5.5`, `CNAME web.${D}`] },
  // Missing names.
  { name: `missing.${D}`, type: 'A', rcode: 'NXDOMAIN', answers: [], soa: 'cluster.local' },
  { name: `web.nons.svc.cluster.local`, type: 'A', rcode: 'NXDOMAIN' },
  { name: `a.b.c.web.${D}`, type: 'A', rcode: 'NXDOMAIN' },
  { name: `web.default.cluster.local`, type: 'A', rcode: 'NXDOMAIN' },
  { name: `web.cluster.local`, type: 'A', rcode: 'NXDOMAIN' },
  // Empty non-terminals: existing namespaces and the svc/pod branches are there, with no data.
  { name: D, type: 'A', rcode: 'NOERROR', answers: [], soa: 'cluster.local' },
  { name: 'empty-ns.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: [] },
  { name: 'nons.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN' },
  { name: 'svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: [] },
  { name: 'pod.cluster.local', type: 'A', rcode: 'NOERROR', answers: [] },
  { name: 'default.pod.cluster.local', type: 'A', rcode: 'NOERROR', answers: [] },
  // Pods (verified: the address must be a pod's, in that namespace, not finished).
  { name: '10-244-1-5.default.pod.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['A 10.244.1.5'] },
  { name: '10-244-3-4.kube-system.pod.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['A 10.244.3.4'] },
  { name: '10-244-3-4.default.pod.cluster.local', type: 'A', rcode: 'NXDOMAIN' },
  { name: '10-244-3-8.default.pod.cluster.local', type: 'A', rcode: 'NXDOMAIN' },
  { name: '10-244-1-5.default.pod.cluster.local', type: 'AAAA', rcode: 'NOERROR', answers: [] },
  { name: 'web-0.default.pod.cluster.local', type: 'A', rcode: 'NXDOMAIN' },
  { name: '10-244-3-4.default.pod.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['A 10.244.3.4'], cfg: { pods: 'insecure' } },
  { name: '10-244-1-5.default.pod.cluster.local', type: 'A', rcode: 'NXDOMAIN', cfg: { pods: 'disabled' } },
  { name: '1-2-3-999.default.pod.cluster.local', type: 'A', rcode: 'NXDOMAIN', cfg: { pods: 'insecure' } },
  // Reverse: ClusterIP → service; endpoint → its name under the service; else the pod's name.
  { name: '5.5.96.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: [`PTR web.${D}`] },
  { name: '5.1.244.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: [`PTR web-0.nginx.${D}`] },
  { name: '9.1.244.10.IN-ADDR.ARPA.', type: 'PTR', rcode: 'NOERROR', answers: [`PTR 10-244-1-9.web.${D}`] },
  { name: '4.3.244.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['PTR 10-244-3-4.kube-system.pod.cluster.local'] },
  // web-1 is not ready: not an endpoint name, but still a pod.
  { name: '6.2.244.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['PTR 10-244-2-6.default.pod.cluster.local'] },
  { name: '1.1.1.10.in-addr.arpa', type: 'PTR', rcode: 'NXDOMAIN', soa: 'in-addr.arpa' },
  { name: '5.5.96.10.in-addr.arpa', type: 'A', rcode: 'NOERROR', answers: [], soa: 'in-addr.arpa' },
  { name: '10.in-addr.arpa', type: 'PTR', rcode: 'NXDOMAIN' },
  // Zone apex and the server's own names.
  { name: 'cluster.local', type: 'SOA', rcode: 'NOERROR', answers: ['SOA cluster.local'] },
  { name: 'cluster.local', type: 'NS', rcode: 'NOERROR', answers: ['NS ns.dns.cluster.local'], additionals: ['A 10.96.0.10'] },
  { name: 'cluster.local', type: 'A', rcode: 'NOERROR', answers: [], soa: 'cluster.local' },
  { name: 'ns.dns.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['A 10.96.0.10'] },
  { name: 'dns-version.cluster.local', type: 'TXT', rcode: 'NOERROR', answers: ['TXT 1.1.0'] },
  { name: 'in-addr.arpa', type: 'SOA', rcode: 'NOERROR', answers: ['SOA in-addr.arpa'] },
  { name: 'cluster.local', type: 'AXFR', rcode: 'REFUSED' },
  // Outside our zones: refused, never forwarded.
  { name: 'example.com', type: 'A', rcode: 'REFUSED', answers: [] },
  { name: 'web.default.svc.cluster.local.example.com', type: 'A', rcode: 'REFUSED' },
  { name: 'notcluster.local', type: 'A', rcode: 'REFUSED' },
  { name: 'web', type: 'A', rcode: 'REFUSED' },
  // Another cluster domain.
  { name: 'web.default.svc.k8s.internal', type: 'A', rcode: 'NOERROR', answers: ['A 10.96.5.5'], cfg: { domain: 'k8s.internal' } },
  { name: `web.${D}`, type: 'A', rcode: 'REFUSED', cfg: { domain: 'k8s.internal' } },
];

const view = snapshot();
for (const row of rows) {
  test(`${row.type} ${row.name}${row.cfg ? ` ${JSON.stringify(row.cfg)}` : ''} → ${row.rcode}`, () => {
    const cfg = { ...DEFAULT_ANSWER_CONFIG, ...row.cfg };
    const r = answerQuestion(view, { name: row.name, type: row.type as any }, cfg);
    assert.equal(r.rcode, row.rcode);
    if (row.answers) assert.deepEqual(show(r.answers), [...row.answers].sort());
    if (row.additionals) assert.deepEqual(show(r.additionals).filter((a) => a.startsWith('A ')), [...row.additionals].sort());
    if (row.soa) assert.deepEqual(show(r.authorities), [`SOA ${row.soa}`]);
    if (r.rcode === 'NXDOMAIN') assert.equal(r.authorities[0]?.type, 'SOA', 'NXDOMAIN carries the SOA');
    assert.equal(r.authoritative, r.rcode !== 'REFUSED');
  });
}

test('answers keep the asker’s spelling of the name and use the configured TTL', () => {
  const r = answerQuestion(view, { name: 'Web-0.Nginx.default.svc.cluster.local.', type: 'A' }, { ...DEFAULT_ANSWER_CONFIG, ttl: 7 });
  assert.equal(r.answers[0].name, 'Web-0.Nginx.default.svc.cluster.local');
  assert.equal((r.answers[0] as any).ttl, 7);
});

test('the SOA of a negative answer has the TTL as its minimum, hostmaster and ns.dns names', () => {
  const r = answerQuestion(view, { name: `missing.${D}`, type: 'A' });
  const soa = r.authorities[0] as any;
  assert.equal(soa.ttl, 5);
  assert.equal(soa.data.minimum, 5);
  assert.equal(soa.data.mname, 'ns.dns.cluster.local');
  assert.equal(soa.data.rname, 'hostmaster.cluster.local');
  assert.equal(soa.data.serial, view.serial);
});

test('SRV targets in the additional section are named for their targets', () => {
  const r = answerQuestion(view, { name: `_web._tcp.nginx.${D}`, type: 'SRV' });
  assert.deepEqual(
    r.additionals.map((a: any) => `${a.name} ${a.data}`).sort(),
    [`web-0.nginx.${D} 10.244.1.5`, `web-2.nginx.${D} 10.244.1.7`],
  );
});

test('before the informers have synced a missing name is SERVFAIL, not a cacheable NXDOMAIN', () => {
  const ix = new ClusterIndex();
  assert.equal(answerQuestion(ix, { name: `web.${D}`, type: 'A' }).rcode, 'SERVFAIL');
  ix.synced = true;
  assert.equal(answerQuestion(ix, { name: `web.${D}`, type: 'A' }).rcode, 'NXDOMAIN');
});

test('the index follows changes: updates, deletions, address moves', () => {
  const ix = snapshot();
  const q = (name: string, type: Answer['type'] = 'A') => show(answerQuestion(ix, { name, type }).answers);
  // web-1 turns ready.
  ix.setSlice(slice('nginx-a', 'nginx', [ep('10.244.1.5', { hostname: 'web-0', ready: true }), ep('10.244.2.6', { hostname: 'web-1', ready: true })], [{ name: 'web', port: 80, protocol: 'TCP' }]));
  assert.deepEqual(q(`nginx.${D}`), ['A 10.244.1.5', 'A 10.244.1.7', 'A 10.244.2.6']);
  assert.deepEqual(q('6.2.244.10.in-addr.arpa', 'PTR'), [`PTR web-1.nginx.${D}`]);
  // web-0 is replaced by a pod with a new address.
  ix.setSlice(slice('nginx-a', 'nginx', [ep('10.244.2.20', { hostname: 'web-0', ready: true }), ep('10.244.2.6', { hostname: 'web-1', ready: true })], [{ name: 'web', port: 80, protocol: 'TCP' }]));
  ix.deletePod(pod('web-0', '10.244.1.5'));
  ix.setPod(pod('web-0', '10.244.2.20'));
  assert.deepEqual(q(`web-0.nginx.${D}`), ['A 10.244.2.20']);
  assert.deepEqual(q('5.1.244.10.in-addr.arpa', 'PTR'), []);
  assert.deepEqual(q('10-244-1-5.default.pod.cluster.local'), []);
  assert.deepEqual(q('10-244-2-20.default.pod.cluster.local'), ['A 10.244.2.20']);
  // The second slice goes away; the service's ClusterIP changes.
  ix.deleteSlice(slice('nginx-b', 'nginx', []));
  assert.deepEqual(q(`nginx.${D}`), ['A 10.244.2.20', 'A 10.244.2.6']);
  ix.setService(svc('web', { clusterIP: '10.96.6.6', ports: [{ name: 'http', port: 80 }] }));
  assert.deepEqual(q(`web.${D}`), ['A 10.96.6.6']);
  assert.deepEqual(q('5.5.96.10.in-addr.arpa', 'PTR'), []);
  ix.deleteService(svc('web', {}));
  assert.equal(answerQuestion(ix, { name: `web.${D}`, type: 'A' }).rcode, 'NXDOMAIN');
  // A namespace going away takes its names with it.
  ix.setNamespace('kube-system', false);
  assert.equal(answerQuestion(ix, { name: 'kube-dns.kube-system.svc.cluster.local', type: 'A' }).rcode, 'NXDOMAIN');
});

test('the serial changes with every change', () => {
  const ix = snapshot();
  const before = ix.serial;
  ix.setPod(pod('new', '10.244.9.9'));
  assert.ok(ix.serial > before);
});

test('slice reduction: ready-unknown counts, not-ready and non-IPv4 are dropped, no ports gives a sentinel', () => {
  const g = endpointGroupFromSlice(slice('s', 'svc', [ep('10.0.0.1'), ep('10.0.0.2', { ready: false }), ep('fd00::1', { ready: true })]))!;
  assert.deepEqual(g.addresses.map((a) => a.ip), ['10.0.0.1']);
  assert.deepEqual(g.ports, [{ name: '', port: -1, protocol: '' }]);
  assert.equal(endpointGroupFromSlice({ ...slice('s', 'svc', []), addressType: 'IPv6' }), undefined);
  assert.equal(endpointGroupFromSlice({ metadata: { name: 's', namespace: 'default' }, endpoints: [] }), undefined);
});

test('pod records: only pods with their own IPv4 address that have not finished', () => {
  assert.equal(podRecord({ ...pod('h', '192.0.2.1'), spec: { hostNetwork: true } }), undefined);
  assert.deepEqual(podRecord(pod('a', '10.1.1.1'))?.ips, ['10.1.1.1']);
  assert.equal(podRecord(pod('a', '10.1.1.1', 'default', 'Failed')), undefined);
  assert.equal(podRecord({ metadata: { name: 'p', namespace: 'default' }, status: { phase: 'Pending' } }), undefined);
});

test('name helpers', () => {
  assert.equal(dashed('10.244.1.5'), '10-244-1-5');
  assert.equal(undashed('10-244-1-5'), '10.244.1.5');
  assert.equal(undashed('10-244-1'), undefined);
  assert.equal(undashed('web-0'), undefined);
  assert.equal(undashed('10-244-1-256'), undefined);
  assert.equal(reverseToIP('5.1.244.10.in-addr.arpa.'), '10.244.1.5');
  assert.equal(reverseToIP('1.244.10.in-addr.arpa'), undefined);
  assert.equal(reverseToIP('x.1.244.10.in-addr.arpa'), undefined);
  assert.equal(endpointName({ ip: '10.0.0.1', hostname: 'web-0', targetName: 'web-0' }, false), 'web-0');
  assert.equal(endpointName({ ip: '10.0.0.1', targetName: 'app-1' }, false), '10-0-0-1');
  assert.equal(endpointName({ ip: '10.0.0.1', targetName: 'app-1' }, true), 'app-1');
});
