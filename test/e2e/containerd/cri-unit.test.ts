// The containerd runtime's pure parts, no root or containerd needed: protobuf wire bytes of the CRI
// messages, the pod -> CRI config translation, image names and the CNI config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoReader, ProtoWriter } from '../../../src/agent/runtime/cri/protobuf.ts';
import { readContainerStatus, writeContainerConfig, writePodSandboxConfig } from '../../../src/agent/runtime/cri/messages.ts';
import { containerConfigFor, containerEnv, dnsConfigFor, etcHosts, expandVars, linuxResources, podHostname, sandboxConfigFor } from '../../../src/agent/runtime/cri/pod-config.ts';
import { cniConflist, parseCidr } from '../../../src/agent/runtime/cri/network.ts';
import { loopbackRegistry, normalizeImage } from '../../../src/agent/runtime/containerd.ts';

const hex = (b: Buffer) => b.toString('hex');

test('protobuf: varints, negative int64, strings, maps and nested messages', () => {
  const w = new ProtoWriter().int(1, 300).int(2, -1).string(3, 'hi').bool(4, true).int(5, 0).string(6, '').map(7, { a: 'b' });
  // 300 = ac 02; -1 is ten bytes of two's complement; zero/empty scalars are left out (proto3)
  assert.equal(hex(w.finish()), '08ac02' + '10ffffffffffffffffff01' + '1a026869' + '2001' + '3a060a01611201' + '62');
  const r = new ProtoReader(new ProtoWriter().int(1, 300).int(2, -1).string(3, 'hi').map(7, { a: 'b', c: 'd' }).finish());
  assert.equal(r.int(1), 300);
  assert.equal(r.int(2), -1);
  assert.equal(r.string(3), 'hi');
  assert.deepEqual(r.map(7), { a: 'b', c: 'd' });
  assert.equal(r.string(9), '');
  assert.equal(r.message(9).int(1), 0);
});

test('CRI ContainerConfig: metadata, image, command and the Int64Value run_as_user (0 is kept)', () => {
  const w = new ProtoWriter();
  writeContainerConfig(w, { metadata: { name: 'a', attempt: 1 }, image: 'x', command: ['sh'], linux: { securityContext: { runAsUser: 0 } } });
  // 1:{1:"a",2:1} 2:{1:"x"} 3:"sh" 15:{2:{5:{}}}
  assert.equal(hex(w.finish()), '0a050a01611001' + '12030a0178' + '1a027368' + '7a04' + '1202' + '2a00');
});

test('CRI PodSandboxConfig and ContainerStatus fields land where api.proto puts them', () => {
  const w = new ProtoWriter();
  writePodSandboxConfig(w, { metadata: { name: 'web-0', uid: 'u', namespace: 'default' }, hostname: 'web-0', logDirectory: '/l', dnsConfig: { servers: ['10.0.0.1'] } });
  const r = new ProtoReader(w.finish());
  assert.equal(r.message(1).string(1), 'web-0');
  assert.equal(r.message(1).string(2), 'u');
  assert.equal(r.message(1).string(3), 'default');
  assert.equal(r.string(2), 'web-0');
  assert.equal(r.string(3), '/l');
  assert.deepEqual(r.message(4).strings(1), ['10.0.0.1']);
  const status = new ProtoWriter()
    .string(1, 'cid')
    .message(2, (m) => m.string(1, 'nginx').int(2, 3))
    .int(3, 2)
    .int(6, 2_000_000_000)
    .int(7, 137)
    .string(10, 'Error')
    .finish();
  const s = readContainerStatus(new ProtoReader(status));
  assert.deepEqual([s.id, s.metadata.name, s.metadata.attempt, s.state, s.finishedAt, s.exitCode, s.reason], ['cid', 'nginx', 3, 'exited', 2_000_000_000, 137, 'Error']);
});

const pod = (spec: object = {}, md: object = {}) => ({
  metadata: { name: 'web-0', namespace: 'default', uid: 'uid-1', labels: { app: 'nginx' }, ...md },
  spec: { hostname: 'web-0', subdomain: 'nginx', containers: [{ name: 'nginx', image: 'nginx' }], ...spec },
});

test('sandbox config: hostname, ClusterFirst DNS, labels, namespaces', () => {
  const c = sandboxConfigFor(pod(), { logDirectory: '/logs/x', dnsServer: '10.244.1.1' });
  assert.equal(c.hostname, 'web-0');
  assert.deepEqual(c.dnsConfig, { servers: ['10.244.1.1'], searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] });
  assert.equal(c.labels!['io.kubernetes.pod.uid'], 'uid-1');
  assert.equal(c.labels!.app, 'nginx');
  assert.deepEqual(c.linux!.securityContext!.namespaceOptions, { network: 0, pid: 1, ipc: 0 });
  assert.equal(dnsConfigFor(pod({ dnsPolicy: 'Default' }), '10.244.1.1'), undefined);
  assert.deepEqual(dnsConfigFor(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], options: [{ name: 'ndots', value: '2' }] } }), 'x'), {
    servers: ['1.2.3.4'],
    searches: [],
    options: ['ndots:2'],
  });
  assert.equal(podHostname(pod({ hostname: undefined }, { name: 'a'.repeat(70) })), 'a'.repeat(63));
  assert.match(etcHosts(pod(), '10.244.1.7'), /\n10\.244\.1\.7\tweb-0\.nginx\.default\.svc\.cluster\.local\tweb-0\n$/);
});

test('env: plain values, $(VAR) expansion, downward API, configMap and secret keys', () => {
  const p = pod();
  const container = {
    name: 'c',
    env: [
      { name: 'A', value: 'x' },
      { name: 'B', value: '$(A)-$(NOPE)-$$(A)' },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'CM', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } },
      { name: 'S', valueFrom: { secretKeyRef: { name: 'sec', key: 'pw' } } },
      { name: 'OPT', valueFrom: { secretKeyRef: { name: 'missing', key: 'pw', optional: true } } },
    ],
  };
  const sources = { configMap: (_: string, n: string) => (n === 'cfg' ? { k: 'v' } : undefined), secret: (_: string, n: string) => (n === 'sec' ? { pw: 'p' } : undefined) };
  const env = containerEnv(p, container, { podIP: '10.244.1.9' }, sources);
  assert.deepEqual(Object.fromEntries(env.map((e) => [e.key, e.value])), { A: 'x', B: 'x-$(NOPE)-$(A)', POD: 'web-0', IP: '10.244.1.9', CM: 'v', S: 'p' });
  assert.throws(() => containerEnv(p, { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'none', key: 'k' } } }] }, {}, sources), /configmap "none" not found/);
  assert.equal(expandVars('echo $(A) $', new Map([['A', '1']])), 'echo 1 $');
  const cc = containerConfigFor(p, { name: 'c', command: ['echo', '$(A)'], workingDir: '/w' }, { attempt: 2, image: 'img', env, mounts: [] });
  assert.deepEqual(cc.command, ['echo', 'x']);
  assert.equal(cc.logPath, 'c/2.log');
  assert.equal(cc.workingDir, '/w');
});

test('resources: CPU limit as CFS quota, request as shares, memory limit in bytes', () => {
  assert.deepEqual(linuxResources({ resources: { limits: { cpu: '500m', memory: '64Mi' } } }), { cpuShares: 512, cpuPeriod: 100000, cpuQuota: 50000, memoryLimitInBytes: 64 << 20 });
  assert.deepEqual(linuxResources({ resources: { requests: { cpu: '2' } } }), { cpuShares: 2048 });
  assert.deepEqual(linuxResources({}), { cpuShares: 2 });
});

test('images: short names normalised as CRI does; only loopback registries are pulled from', () => {
  assert.equal(normalizeImage('nginx'), 'docker.io/library/nginx:latest');
  assert.equal(normalizeImage('kubia-stored:v2'), 'docker.io/library/kubia-stored:v2');
  assert.equal(normalizeImage('registry.k8s.io/nginx-slim:0.8'), 'registry.k8s.io/nginx-slim:0.8');
  assert.equal(normalizeImage('localhost:5000/x'), 'localhost:5000/x:latest');
  assert.equal(loopbackRegistry('localhost:5000/x'), true);
  assert.equal(loopbackRegistry('127.0.0.1:1/none:1'), true);
  assert.equal(loopbackRegistry('registry.k8s.io/pause:3.10'), false);
});

test('pod network: bridge address and CNI config without gateway role or masquerade', () => {
  assert.deepEqual(parseCidr('10.244.1.0/24'), { network: '10.244.1.0', prefix: 24, gateway: '10.244.1.1' });
  assert.throws(() => parseCidr('fd00::/64'), /not an IPv4 CIDR/);
  const conf = JSON.parse(cniConflist({ bridge: 'ordinal0', podCIDR: '10.244.1.0/24', ipamDataDir: '/d' }));
  const bridge = conf.plugins[0];
  assert.equal(bridge.isGateway, false);
  assert.equal(bridge.ipMasq, false);
  assert.deepEqual(bridge.ipam.ranges, [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]]);
  assert.equal(bridge.ipam.routes, undefined);
});
