// The service proxy component against an in-process API server, in this machine's network
// namespace (root only): it adopts its interface after a crash (stale addresses go), holds only
// ClusterIPs of its own service CIDR, forwards TCP and UDP to the endpoints, refuses a Service
// without endpoints, follows deletions, and leaves no interface or route behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { startTestApi } from '../support/inprocess.ts';
import { waitUntil } from './harness.ts';
import { ServiceProxy } from '../../src/agent/service-proxy/proxy.ts';
import { advertiseAddressFor } from '../../src/apiserver/cluster-services.ts';
import { parseServiceCidr } from '../../src/apiserver/service-network.ts';

const hostAddress = advertiseAddressFor('127.0.0.1');
const skip = process.getuid?.() !== 0 ? 'needs root (it changes interfaces and routes)' : !hostAddress ? 'no non-loopback address on this machine' : undefined;

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
const tryIp = (...args: string[]) => {
  try {
    return ip(...args);
  } catch {
    return undefined;
  }
};

function tcpRead(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

function udpAsk(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no UDP answer'));
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send('?', port, host);
  });
}

test('service proxy: addresses, TCP and UDP forwarding, refusal, cleanup', { skip, timeout: 60_000 }, async () => {
  const n = 1 + (process.pid % 250);
  const cidr = `10.113.${n}.0/24`;
  const iface = `spt${n}-svc`;
  const t = await startTestApi();
  t.api.resources.serviceNetwork = parseServiceCidr(cidr);
  const tcpServer = net.createServer((s) => s.end('hello from tcp'));
  const udpServer = dgram.createSocket('udp4');
  let proxy: ServiceProxy | undefined;
  try {
    await new Promise<void>((r) => tcpServer.listen(0, hostAddress, r));
    await new Promise<void>((r) => udpServer.bind(0, hostAddress, r));
    udpServer.on('message', (_m, from) => udpServer.send('hello from udp', from.port, from.address));
    const tcpPort = (tcpServer.address() as net.AddressInfo).port;
    const udpPort = udpServer.address().port;

    // What a killed node leaves: the interface with an address no Service has any more.
    tryIp('link', 'del', iface);
    ip('link', 'add', iface, 'type', 'bridge');
    ip('addr', 'add', `10.113.${n}.77/32`, 'dev', iface);

    const services = t.client.resource('', 'services');
    const slices = t.client.resource('discovery.k8s.io', 'endpointslices');
    const echo = await t.client.create(services, 'default', {
      metadata: { name: 'echo' },
      spec: { ports: [{ name: 't', port: 7000, protocol: 'TCP' }, { name: 'u', port: 7001, protocol: 'UDP' }] },
    });
    const empty = await t.client.create(services, 'default', { metadata: { name: 'empty' }, spec: { ports: [{ port: 7002 }] } });
    await t.client.create(slices, 'default', {
      metadata: { name: 'echo-1', labels: { 'kubernetes.io/service-name': 'echo' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [hostAddress], conditions: { ready: true } }],
      ports: [{ name: 't', port: tcpPort, protocol: 'TCP' }, { name: 'u', port: udpPort, protocol: 'UDP' }],
    });
    const echoIP: string = echo.spec.clusterIP;
    const emptyIP: string = empty.spec.clusterIP;
    assert.match(echoIP, new RegExp(`^10\\.113\\.${n}\\.`));

    proxy = new ServiceProxy(t.client, { serviceCIDR: cidr, dummyInterface: iface, apiServers: [{ host: '127.0.0.1', port: t.api.port }] });
    await proxy.start();
    const held = ip('-o', '-4', 'addr', 'show', 'dev', iface);
    assert.match(held, new RegExp(`inet ${echoIP}/32`));
    assert.match(held, new RegExp(`inet ${emptyIP}/32`));
    assert.doesNotMatch(held, new RegExp(`10\\.113\\.${n}\\.77/`), 'the stale address is gone');
    // The kubernetes Service was made in the default range before ours was set: not ours to hold.
    assert.doesNotMatch(held, /10\.96\.0\.1\//);
    assert.match(ip('route', 'show', 'type', 'blackhole'), new RegExp(`blackhole ${cidr.replace(/\./g, '\\.')}`));

    assert.equal(await tcpRead(echoIP, 7000), 'hello from tcp');
    assert.equal(await udpAsk(echoIP, 7001), 'hello from udp');
    await assert.rejects(tcpRead(emptyIP, 7002), /ECONNREFUSED/, 'no endpoints: refused at once');

    // Endpoints gone: refused; Service gone: its address goes too.
    await t.client.delete(slices, 'default', 'echo-1');
    await waitUntil(async () => (await tcpRead(echoIP, 7000).then(() => 'open', (e) => String(e))).includes('ECONNREFUSED'), 5000, () => 'listener closed');
    await t.client.delete(services, 'default', 'echo');
    await waitUntil(() => !ip('-o', '-4', 'addr', 'show', 'dev', iface).includes(`${echoIP}/32`), 5000, () => 'address removed');

    await proxy.close();
    proxy = undefined;
    assert.equal(tryIp('link', 'show', 'dev', iface), undefined, 'the interface is gone');
    assert.equal(ip('route', 'show', cidr).trim(), '', 'the blackhole route is gone');
  } finally {
    await proxy?.close().catch(() => {});
    tryIp('link', 'del', iface);
    tryIp('route', 'del', 'blackhole', cidr);
    tcpServer.close();
    udpServer.close();
    await t.close();
  }
});

test('service proxy: the kubernetes Service spreads over every API server and still answers when the first is down', { skip, timeout: 60_000 }, async () => {
  const n = 1 + (process.pid % 250);
  const cidr = `10.114.${n}.0/24`;
  const iface = `spk${n}-svc`;
  const t = await startTestApi();
  t.api.resources.serviceNetwork = parseServiceCidr(cidr);
  // Two "API servers" that say who they are; the first is killed halfway.
  const listen = (name: string) =>
    new Promise<net.Server>((r) => {
      const s = net.createServer((c) => c.end(name));
      s.listen(0, hostAddress, () => r(s));
    });
  const first = await listen('server-1');
  const second = await listen('server-2');
  const backend = (s: net.Server) => ({ host: hostAddress!, port: (s.address() as net.AddressInfo).port });
  let proxy: ServiceProxy | undefined;
  try {
    tryIp('link', 'del', iface);
    // The kubernetes Service again, in this test's range (the server made it in the default one).
    const services = t.client.resource('', 'services');
    await t.client.delete(services, 'default', 'kubernetes');
    const svc = await t.client.create(services, 'default', { metadata: { name: 'kubernetes' }, spec: { ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] } });
    const clusterIP: string = svc.spec.clusterIP;
    assert.match(clusterIP, new RegExp(`^10\\.114\\.${n}\\.`));

    proxy = new ServiceProxy(t.client, { serviceCIDR: cidr, dummyInterface: iface, apiServers: [backend(first), backend(second)] });
    await proxy.start();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await tcpRead(clusterIP, 443));
    assert.deepEqual(answers.sort(), ['server-1', 'server-1', 'server-2', 'server-2'], 'spread over both');

    await new Promise((r) => first.close(r));
    const started = Date.now();
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push(await tcpRead(clusterIP, 443));
    assert.deepEqual(after, Array(6).fill('server-2'), 'every connection reaches the live server');
    assert.ok(Date.now() - started < 3_000, `${Date.now() - started} ms for 6 connections`);
  } finally {
    await proxy?.close().catch(() => {});
    tryIp('link', 'del', iface);
    tryIp('route', 'del', 'blackhole', cidr);
    first.close();
    second.close();
    await t.close();
  }
});
