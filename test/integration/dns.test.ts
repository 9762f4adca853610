// Cluster DNS against a live cluster: an in-process API server with the controllers, scheduler
// and simulated nodes that `ordinal up` runs, the tutorial's web StatefulSet created with the real
// kubectl, and the names asked over UDP and TCP with dns-packet and, where installed, `dig`.
// Every query goes to 127.0.0.1 only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { execFile, execFileSync } from 'node:child_process';
import dnsPacket from 'dns-packet';
import type { Obj } from '../../src/api/resource.ts';
import { startTestApi, type TestApi } from '../support/inprocess.ts';
import { fixture, kubectl, kubectlOk, waitUntil, type Cluster } from './harness.ts';
import { startComponents, type Component } from '../../src/cli/components.ts';
import { ClusterDns } from '../../src/dns/server.ts';
import { InProcessClient } from '../../src/client/client.ts';
import { nodeUser } from '../../src/apiserver/authorization/node/identity.ts';

let t: TestApi;
let c: Cluster;
let dns: ClusterDns;
let components: Component[] = [];

const DIG = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v dig'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

before(async () => {
  t = await startTestApi();
  c = { kubeconfig: t.kubeconfig } as Cluster;
  components = await startComponents(t.client, { dataDir: t.dataDir, nodes: 2, simStartDelayMs: 100, controllers: ['*'] });
  dns = new ClusterDns(t.client, { port: 0, host: '127.0.0.1' });
  await dns.start();
});

after(async () => {
  dns?.stop();
  for (const comp of components) comp.stop();
  await t?.close();
});

interface Reply {
  rcode: string;
  aa: boolean;
  tc: boolean;
  answers: any[];
  authorities: any[];
  additionals: any[];
}

const asReply = (p: any): Reply => ({ rcode: p.rcode, aa: p.flag_aa, tc: p.flag_tc, answers: p.answers, authorities: p.authorities, additionals: p.additionals });
let nextId = 1;
const encodeQuery = (name: string, type: string) =>
  dnsPacket.encode({ type: 'query', id: nextId++ & 0xffff, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as any, class: 'IN' }] });

function udpQuery(name: string, type = 'A', port = dns.port): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer for ${type} ${name}`));
    }, 2000);
    s.on('message', (msg) => {
      clearTimeout(timer);
      s.close();
      resolve(asReply(dnsPacket.decode(msg)));
    });
    s.send(encodeQuery(name, type), port, '127.0.0.1');
  });
}

function tcpQuery(name: string, type = 'A'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(dns.port, '127.0.0.1');
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no TCP answer for ${type} ${name}`));
    }, 2000);
    let buf = Buffer.alloc(0);
    sock.on('connect', () => sock.write(dnsPacket.streamEncode({ type: 'query', id: nextId++ & 0xffff, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as any, class: 'IN' }] })));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.end();
        resolve(asReply(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)))));
      }
    });
    sock.on('error', reject);
  });
}

function dig(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(DIG!, ['@127.0.0.1', '-p', String(dns.port), '+time=2', '+tries=1', ...args], { timeout: 10_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
}

const addrs = (r: Reply) => r.answers.filter((a) => a.type === 'A').map((a) => a.data).sort();
const podJson = async (name: string): Promise<Obj | undefined> => {
  const r = await kubectl(c, ['get', 'pod', name, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
};
const isReady = (p: Obj | undefined) => !!p && !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && p.status.conditions?.some((x: Obj) => x.type === 'Ready' && x.status === 'True');
const waitReady = async (name: string): Promise<Obj> => {
  let p: Obj | undefined;
  await waitUntil(async () => isReady((p = await podJson(name))), 20_000, () => `pod ${name} Ready: ${JSON.stringify(p?.status)}`);
  return p!;
};
/** Asks until the answer matches: DNS follows the API through watches, a moment behind. */
async function eventually(name: string, type: string, pred: (r: Reply) => boolean, ms = 10_000): Promise<Reply> {
  let last: Reply | undefined;
  await waitUntil(async () => pred((last = await udpQuery(name, type))), ms, () => `${type} ${name}: ${JSON.stringify(last)}`);
  return last!;
}

const WEB0 = 'web-0.nginx.default.svc.cluster.local';
const WEB1 = 'web-1.nginx.default.svc.cluster.local';
const NGINX = 'nginx.default.svc.cluster.local';
let web0: Obj;
let web1: Obj;

test('the web StatefulSet comes up and its pods get names', async () => {
  await kubectlOk(c, ['create', '-f', fixture('web.yaml')]);
  web0 = await waitReady('web-0');
  web1 = await waitReady('web-1');
  assert.notEqual(web0.status.podIP, web1.status.podIP);
  const r = await eventually(WEB0, 'A', (x) => x.rcode === 'NOERROR');
  assert.deepEqual(addrs(r), [web0.status.podIP]);
  assert.equal(r.aa, true);
  assert.equal(r.answers[0].ttl, 5);
  assert.deepEqual(addrs(await tcpQuery(WEB0)), [web0.status.podIP], 'over TCP too');
  assert.deepEqual(addrs(await eventually(WEB1, 'A', (x) => x.rcode === 'NOERROR')), [web1.status.podIP]);
  assert.deepEqual(addrs(await eventually(NGINX, 'A', (x) => x.answers.length === 2)), [web0.status.podIP, web1.status.podIP].sort());
  // Case does not matter.
  assert.deepEqual(addrs(await udpQuery('WEB-0.Nginx.Default.svc.CLUSTER.local')), [web0.status.podIP]);
});

test('SRV records for the named port point at each pod, with addresses alongside', async () => {
  for (const ask of [udpQuery, tcpQuery]) {
    const r = await ask('_web._tcp.nginx.default.svc.cluster.local', 'SRV');
    assert.equal(r.rcode, 'NOERROR');
    assert.deepEqual(r.answers.map((a) => `${a.data.port} ${a.data.target}`).sort(), [`80 ${WEB0}`, `80 ${WEB1}`]);
    assert.deepEqual(r.additionals.map((a) => `${a.name} ${a.data}`).sort(), [`${WEB0} ${web0.status.podIP}`, `${WEB1} ${web1.status.podIP}`].sort());
  }
  assert.equal((await udpQuery(NGINX, 'SRV')).answers.length, 2);
});

test('PTR and pod A records', async () => {
  const ip: string = web0.status.podIP;
  const ptr = await udpQuery(`${ip.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR');
  assert.deepEqual(ptr.answers.map((a) => a.data), [WEB0]);
  const podName = `${ip.replaceAll('.', '-')}.default.pod.cluster.local`;
  assert.deepEqual(addrs(await udpQuery(podName)), [ip]);
});

test('a node agent\'s DNS, with the node\'s own credentials, serves without listing pods (pods insecure, as kubeadm\'s Corefile)', async () => {
  const asNode = new InProcessClient(t.api.resources, { user: nodeUser('node-1') });
  // The node may not list every pod of the cluster; the DNS must not need to.
  await assert.rejects(asNode.list(asNode.resource('', 'pods')), (err: any) => err.code === 403 && /cannot list resource "pods"/.test(err.message));
  const nodeDns = new ClusterDns(asNode, { port: 0, host: '127.0.0.1', pods: 'insecure' });
  await nodeDns.start();
  try {
    assert.equal(nodeDns.view.synced, true, 'every informer it runs is allowed and synced');
    const ip: string = web0.status.podIP;
    const ask = (name: string, type = 'A') => udpQuery(name, type, nodeDns.port);
    assert.deepEqual(addrs(await ask(WEB0)), [ip]);
    // Pod names answer from the name alone; a namespace that does not exist still does not.
    assert.deepEqual(addrs(await ask(`${ip.replaceAll('.', '-')}.default.pod.cluster.local`)), [ip]);
    assert.deepEqual(addrs(await ask('10-9-9-9.default.pod.cluster.local')), ['10.9.9.9']);
    assert.equal((await ask('10-9-9-9.no-such-ns.pod.cluster.local')).rcode, 'NXDOMAIN');
  } finally {
    nodeDns.stop();
  }
});

test('missing names are NXDOMAIN with an SOA; other types NODATA; outside names REFUSED', async () => {
  for (const ask of [udpQuery, tcpQuery]) {
    const nx = await ask('web-7.nginx.default.svc.cluster.local');
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.equal(nx.authorities[0].type, 'SOA');
  }
  const nodata = await udpQuery(WEB0, 'AAAA');
  assert.equal(nodata.rcode, 'NOERROR');
  assert.equal(nodata.answers.length, 0);
  assert.equal(nodata.authorities[0].type, 'SOA');
  const refused = await udpQuery('kubernetes.io', 'A');
  assert.equal(refused.rcode, 'REFUSED');
  assert.equal(refused.answers.length, 0);
  // The kubernetes service the API server makes has its ClusterIP.
  assert.deepEqual(addrs(await eventually('kubernetes.default.svc.cluster.local', 'A', (x) => x.rcode === 'NOERROR')), ['10.96.0.1']);
});

test('dig on loopback sees the same names', { skip: DIG ? false : 'dig is not installed (Debian package dnsutils)' }, async () => {
  assert.equal((await dig(['+short', WEB0])).trim(), web0.status.podIP);
  assert.equal((await dig(['+tcp', '+short', WEB0])).trim(), web0.status.podIP);
  const srv = (await dig(['+short', 'SRV', '_web._tcp.nginx.default.svc.cluster.local'])).trim().split('\n').sort();
  assert.deepEqual(srv, [`0 50 80 ${WEB0}.`, `0 50 80 ${WEB1}.`]);
  const nx = await dig(['web-7.nginx.default.svc.cluster.local']);
  assert.match(nx, /status: NXDOMAIN/);
  assert.match(nx, /flags: qr aa rd;/);
  assert.match(nx, /AUTHORITY SECTION:\ncluster\.local\.\s+5\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\./);
  assert.match(await dig(['-x', web0.status.podIP]), new RegExp(`PTR\\s+${WEB0.replaceAll('.', '\\.')}\\.`));
  assert.match(await dig(['example.com']), /status: REFUSED/);
});

test('a deleted pod comes back with a new address and DNS follows', async () => {
  const oldIP: string = web0.status.podIP;
  const oldUid: string = web0.metadata.uid;
  await kubectlOk(c, ['delete', 'pod', 'web-0', '--wait=false']);
  let p: Obj | undefined;
  await waitUntil(async () => (p = await podJson('web-0'))?.metadata.uid !== oldUid && isReady(p), 20_000, () => `web-0 recreated and Ready: ${JSON.stringify(p?.status)}`);
  web0 = p!;
  assert.notEqual(web0.status.podIP, oldIP);
  await eventually(WEB0, 'A', (r) => addrs(r).join() === web0.status.podIP);
  assert.deepEqual(addrs(await tcpQuery(WEB0)), [web0.status.podIP]);
  if (DIG) assert.equal((await dig(['+short', WEB0])).trim(), web0.status.podIP);
  // The old address no longer names anything.
  assert.equal((await udpQuery(`${oldIP.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR')).rcode, 'NXDOMAIN');
  assert.equal((await udpQuery(`${oldIP.replaceAll('.', '-')}.default.pod.cluster.local`)).rcode, 'NXDOMAIN');
});

test('a NotReady pod leaves the headless records, unless the service publishes not-ready addresses', async () => {
  await kubectlOk(c, ['annotate', 'pod', 'web-1', 'sim.ordinal.dev/ready=false']);
  await eventually(NGINX, 'A', (r) => addrs(r).join() === web0.status.podIP);
  assert.equal((await udpQuery(WEB1)).rcode, 'NXDOMAIN');
  const srv = await udpQuery('_web._tcp.nginx.default.svc.cluster.local', 'SRV');
  assert.deepEqual(srv.answers.map((a) => a.data.target), [WEB0]);
  // The pod itself still has its pod record.
  assert.equal((await udpQuery(`${web1.status.podIP.replaceAll('.', '-')}.default.pod.cluster.local`)).rcode, 'NOERROR');

  await kubectlOk(c, ['patch', 'service', 'nginx', '-p', '{"spec":{"publishNotReadyAddresses":true}}']);
  await eventually(NGINX, 'A', (r) => r.answers.length === 2);
  assert.deepEqual(addrs(await udpQuery(WEB1)), [web1.status.podIP]);

  await kubectlOk(c, ['patch', 'service', 'nginx', '-p', '{"spec":{"publishNotReadyAddresses":false}}']);
  await eventually(WEB1, 'A', (r) => r.rcode === 'NXDOMAIN');
  await kubectlOk(c, ['annotate', 'pod', 'web-1', 'sim.ordinal.dev/ready-']);
  await eventually(WEB1, 'A', (r) => addrs(r).join() === web1.status.podIP);
});

test('a second listen address on the same port, e.g. the pod network gateway', async () => {
  await dns.listenOn('127.0.0.2');
  const reply = await new Promise<Reply>((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => (s.close(), reject(new Error('no answer on 127.0.0.2'))), 2000);
    s.on('message', (msg) => (clearTimeout(timer), s.close(), resolve(asReply(dnsPacket.decode(msg)))));
    s.send(encodeQuery(WEB0, 'A'), dns.port, '127.0.0.2');
  });
  assert.deepEqual(addrs(reply), [web0.status.podIP]);
});

test('a port already in use is a clear start error', async () => {
  const other = new ClusterDns(t.client, { port: dns.port, host: '127.0.0.1' });
  await assert.rejects(other.start(), /cluster DNS cannot listen on 127\.0\.0\.1:\d+: the address is in use; choose another port with --dns-port/);
});

test('metrics count queries by type and rcode', () => {
  const text = dns.metrics();
  assert.match(text, /^ordinal_dns_requests_total\{proto="udp",type="A"\} \d+$/m);
  assert.match(text, /^ordinal_dns_requests_total\{proto="tcp",type="SRV"\} \d+$/m);
  assert.match(text, /^ordinal_dns_responses_total\{type="A",rcode="NXDOMAIN"\} \d+$/m);
  assert.match(text, /^ordinal_dns_responses_total\{type="SRV",rcode="NOERROR"\} \d+$/m);
});
