// The etcd driver over TLS with client certificates (--etcd-cafile, --etcd-certfile,
// --etcd-keyfile), as kube-apiserver talks to a kubeadm etcd: a private CA made here with openssl,
// etcd serving https with --client-cert-auth on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdMissing, startEtcd, type Etcd } from '../support/etcd.ts';
import { EtcdStore } from '../../src/storage/etcd/store.ts';
import { KeyLayout } from '../../src/storage/etcd/keys.ts';
import { EtcdMasterLeases } from '../../src/storage/etcd/master-leases.ts';
import { storedResources } from '../../src/apiserver/stored-resources.ts';
import type { StoreEvent } from '../../src/storage/types.ts';

const skip = etcdMissing() ?? (existsSync('/usr/bin/openssl') ? undefined : '/usr/bin/openssl is missing');
const dir = mkdtempSync(join(tmpdir(), 'ordinal-etcd-tls-'));
const f = (name: string) => join(dir, name);
let etcd: Etcd;

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makePki() {
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=etcd-ca']);
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ]) {
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    execFileSync('sh', ['-c', `printf '%b' "${ext}" > ${name}.ext`], { cwd: dir });
    ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`]);
  }
}

before(async () => {
  if (skip) return;
  makePki();
  etcd = await startEtcd({ tls: { certFile: f('server.crt'), keyFile: f('server.key'), caFile: f('ca.crt') } });
});
after(async () => {
  await etcd?.remove();
  rmSync(dir, { recursive: true, force: true });
});

const layout = () => new KeyLayout(storedResources());

test('with the CA and a client certificate the store reads, writes, watches and keeps master leases over TLS', { skip }, async () => {
  assert.match(etcd.url, /^https:/);
  const s = new EtcdStore({ servers: [etcd.url], caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key'), layout: layout() });
  try {
    await s.open();
    const got: StoreEvent[] = [];
    const stop = s.watch(s.currentRevision(), (events) => got.push(...events));
    const key = '/registry/core/configmaps/tls/a';
    const kv = await s.create(key, '{"metadata":{"name":"a"}}');
    assert.deepEqual(await s.get(key), { key, value: '{"metadata":{"name":"a"}}', createRev: kv.modRev, modRev: kv.modRev });
    const deadline = Date.now() + 10_000;
    while (!got.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    stop();
    assert.deepEqual(got.map((e) => [e.type, e.key, e.rev]), [['put', key, kv.modRev]]);
    assert.match(await etcd.ctl(['get', '/registry/configmaps/tls/a', '--print-value-only']), /"name":"a"/);

    const leases = new EtcdMasterLeases(s.client, '/registry');
    await leases.update('10.0.0.7', 15);
    assert.deepEqual(await leases.list(), ['10.0.0.7']);
    // The key hangs on an etcd lease of the asked TTL, as upstream's master leases do.
    // (Read as text: lease IDs are int64s that JSON.parse would round.)
    const json = await etcd.ctl(['get', '/registry/masterleases/10.0.0.7', '-w', 'json']);
    const leaseId = BigInt(/"lease":(\d+)/.exec(json)![1]);
    assert.ok(leaseId > 0n);
    const ttl = await etcd.ctl(['lease', 'timetolive', leaseId.toString(16)]);
    assert.match(ttl, /granted with TTL\(15s\)/);
    await leases.remove('10.0.0.7');
    assert.deepEqual(await leases.list(), []);
  } finally {
    await s.close();
  }
});

test('without a client certificate etcd refuses the connection, and opening the store says so', { skip }, async () => {
  const s = new EtcdStore({ servers: [etcd.url], caFile: f('ca.crt'), layout: layout() });
  try {
    await assert.rejects(s.open(), /certificate/i);
  } finally {
    await s.close();
  }
});

test('a CA that did not sign the server\'s certificate is refused', { skip }, async () => {
  const other = mkdtempSync(join(tmpdir(), 'ordinal-etcd-tls-other-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=other-ca'], { cwd: other, stdio: 'pipe' });
    const s = new EtcdStore({ servers: [etcd.url], caFile: join(other, 'ca.crt'), certFile: f('client.crt'), keyFile: f('client.key'), layout: layout() });
    try {
      await assert.rejects(s.open(), /certificate/i);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});
