import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ensurePki, renderKubeconfig, splitHosts, writeKubeconfig, type Pki } from '../../src/apiserver/pki.ts';
import { createAuthenticator, type UserInfo } from '../../src/apiserver/authn.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-pki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const mode = (path: string) => statSync(path).mode & 0o777;

test('splitHosts adds the defaults and separates IPs from names', () => {
  const { dns, ips } = splitHosts(['Node1.Example.', '10.1.2.3', '[fd00::1]', ' ', 'localhost']);
  assert.ok(dns.includes('kubernetes.default.svc.cluster.local'));
  assert.ok(dns.includes('node1.example'));
  assert.equal(dns.filter((d) => d === 'localhost').length, 1);
  assert.deepEqual(ips, ['127.0.0.1', '::1', '10.1.2.3', 'fd00::1']);
});

test('ensurePki generates a CA, server and admin certificates, then reuses them', async (t) => {
  const dir = tempDir(t);
  const hosts = ['10.20.30.40', 'api.example.test', '2001:db8::7', '::ffff:192.0.2.1'];

  let start = performance.now();
  const pki = await ensurePki(dir, { hosts });
  const cold = performance.now() - start;

  const ca = new X509Certificate(pki.caCertPem);
  assert.equal(ca.subject, 'CN=ordinal-ca');
  assert.ok(ca.ca, 'CA has basicConstraints CA:TRUE');
  assert.ok(ca.verify(ca.publicKey), 'CA is self-signed');
  const caYears = (ca.validToDate.getTime() - ca.validFromDate.getTime()) / (365 * 86400e3);
  assert.ok(caYears > 9.9 && caYears < 10.1, `CA valid ${caYears} years`);

  const server = new X509Certificate(pki.serverCertPem);
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey));
  assert.ok(!server.ca);
  assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  for (const name of ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local', 'api.example.test']) {
    assert.equal(server.checkHost(name, { subject: 'never' }), name, `SAN ${name}`);
  }
  for (const ip of ['127.0.0.1', '::1', '10.20.30.40', '2001:db8::7', '::ffff:192.0.2.1']) {
    assert.ok(server.checkIP(ip), `SAN ${ip}`);
  }
  assert.equal(server.checkHost('other.example', { subject: 'never' }), undefined);
  assert.ok(server.checkPrivateKey(createPrivateKey(pki.serverKeyPem)));

  const admin = new X509Certificate(pki.adminCertPem);
  assert.ok(admin.checkIssued(ca) && admin.verify(ca.publicKey));
  assert.equal(admin.subject, 'O=system:masters\nCN=ordinal-admin');
  assert.deepEqual(admin.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.ok(admin.checkPrivateKey(createPrivateKey(pki.adminKeyPem)));

  assert.match(pki.adminToken, /^[0-9a-f]{64}$/);
  for (const pem of [pki.serverKeyPem, pki.adminKeyPem]) assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);

  const pkiDir = join(dir, 'pki');
  for (const f of ['ca.key', 'server.key', 'admin.key', 'admin.token']) assert.equal(mode(join(pkiDir, f)), 0o600, f);
  assert.match(readFileSync(join(pkiDir, 'ca.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);

  start = performance.now();
  const again = await ensurePki(dir, { hosts });
  const warm = performance.now() - start;
  assert.deepEqual(again, pki, 'second start reuses everything');
  t.diagnostic(`ensurePki cold ${cold.toFixed(1)} ms, warm ${warm.toFixed(1)} ms`);
  assert.ok(warm < cold, `warm ${warm} ms should beat cold ${cold} ms`);

  // Fewer hosts than the certificate has: nothing to do.
  assert.deepEqual(await ensurePki(dir, { hosts: ['api.example.test'] }), pki);

  // A new host: only the server certificate is reissued, by the same CA.
  const grown = await ensurePki(dir, { hosts: [...hosts, '192.168.9.9'] });
  assert.notEqual(grown.serverCertPem, pki.serverCertPem);
  assert.notEqual(grown.serverKeyPem, pki.serverKeyPem);
  assert.deepEqual({ ...grown, serverCertPem: '', serverKeyPem: '' }, { ...pki, serverCertPem: '', serverKeyPem: '' });
  const grownCert = new X509Certificate(grown.serverCertPem);
  assert.ok(grownCert.checkIP('192.168.9.9'));
  assert.ok(grownCert.checkIssued(ca) && grownCert.verify(ca.publicKey));
  assert.notEqual(grownCert.serialNumber, server.serialNumber);
});

test('ensurePki replaces what is missing or does not belong together', async (t) => {
  const dir = tempDir(t);
  const pki = await ensurePki(dir, { hosts: [] });
  const pkiDir = join(dir, 'pki');

  unlinkSync(join(pkiDir, 'admin.token'));
  const newToken = await ensurePki(dir, { hosts: [] });
  assert.notEqual(newToken.adminToken, pki.adminToken);
  assert.equal(newToken.adminCertPem, pki.adminCertPem);

  // A certificate whose key was swapped for another is not trusted.
  writeFileSync(join(pkiDir, 'admin.key'), pki.serverKeyPem);
  const fixedAdmin = await ensurePki(dir, { hosts: [] });
  assert.notEqual(fixedAdmin.adminCertPem, pki.adminCertPem);
  assert.equal(fixedAdmin.caCertPem, pki.caCertPem);
  assert.equal(fixedAdmin.serverCertPem, pki.serverCertPem);

  // Losing the CA key means a new CA, and so new leaves.
  unlinkSync(join(pkiDir, 'ca.key'));
  const fresh = await ensurePki(dir, { hosts: [] });
  assert.notEqual(fresh.caCertPem, pki.caCertPem);
  const ca = new X509Certificate(fresh.caCertPem);
  for (const pem of [fresh.serverCertPem, fresh.adminCertPem]) assert.ok(new X509Certificate(pem).verify(ca.publicKey));
  assert.equal(fresh.adminToken, newToken.adminToken, 'the token does not depend on the CA');
});

test('writeKubeconfig writes a v1 kubeconfig readable only by its owner', async (t) => {
  const dir = tempDir(t);
  const pki = await ensurePki(dir, { hosts: [] });
  const path = join(dir, 'nested', 'kubeconfig');
  writeKubeconfig(path, { server: 'https://127.0.0.1:6443', pki });
  assert.equal(mode(path), 0o600);
  const cfg = parseYaml(readFileSync(path, 'utf8'));
  assert.equal(cfg.apiVersion, 'v1');
  assert.equal(cfg.kind, 'Config');
  assert.equal(cfg['current-context'], 'ordinal');
  assert.deepEqual(cfg.contexts, [{ name: 'ordinal', context: { cluster: 'ordinal', user: 'ordinal-admin' } }]);
  assert.equal(cfg.clusters[0].cluster.server, 'https://127.0.0.1:6443');
  const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  assert.equal(unb64(cfg.clusters[0].cluster['certificate-authority-data']), pki.caCertPem);
  assert.equal(unb64(cfg.users[0].user['client-certificate-data']), pki.adminCertPem);
  assert.equal(unb64(cfg.users[0].user['client-key-data']), pki.adminKeyPem);

  const named = parseYaml(renderKubeconfig({ server: 'https://[::1]:1', pki, clusterName: 'c: "x"', user: 'u' }));
  assert.equal(named.clusters[0].name, 'c: "x"');
  assert.equal(named.contexts[0].context.user, 'u');
  assert.equal(named.clusters[0].cluster.server, 'https://[::1]:1');
});

// ---------------------------------------------------------------------------------------------
// A real TLS server, authenticated as the API server will be.

interface Served {
  pki: Pki;
  port: number;
}

async function startServer(t: { after(fn: () => Promise<void> | void): void }, pki: Pki): Promise<Served> {
  const authenticate = createAuthenticator(pki);
  const server = https.createServer(
    { cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caCertPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const who = authenticate(req);
      if (!who) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.split('?')[0] === '/version') res.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.0' }));
      else res.end(JSON.stringify(who));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { pki, port: (server.address() as AddressInfo).port };
}

function whoAmI(s: Served, opts: { cert?: string; key?: string; token?: string }): Promise<{ status: number; body: UserInfo | null }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: s.port,
        path: '/whoami',
        ca: s.pki.caCertPem, // the client verifies the server certificate, IP SAN included
        cert: opts.cert,
        key: opts.key,
        agent: false,
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: res.statusCode === 200 ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const ADMIN = { user: 'ordinal-admin', groups: ['system:masters'] };

test('authenticator over real TLS: client certificates and bearer tokens', async (t) => {
  const pki = await ensurePki(tempDir(t), { hosts: [] });
  const other = await ensurePki(tempDir(t), { hosts: [] }); // a different CA
  const s = await startServer(t, pki);

  assert.deepEqual(await whoAmI(s, { cert: pki.adminCertPem, key: pki.adminKeyPem }), { status: 200, body: ADMIN });
  assert.deepEqual(await whoAmI(s, {}), { status: 401, body: null });
  assert.deepEqual(await whoAmI(s, { token: pki.adminToken }), { status: 200, body: ADMIN });
  assert.equal((await whoAmI(s, { token: pki.adminToken.slice(0, -1) + 'x' })).status, 401);
  assert.equal((await whoAmI(s, { token: pki.adminToken + '0' })).status, 401);
  assert.equal((await whoAmI(s, { token: other.adminToken })).status, 401);
  assert.deepEqual(await whoAmI(s, { cert: other.adminCertPem, key: other.adminKeyPem }), { status: 401, body: null });
  // A serving certificate of our CA is not a client certificate.
  assert.equal((await whoAmI(s, { cert: pki.serverCertPem, key: pki.serverKeyPem })).status, 401);
  // An untrusted certificate does not spoil a good token (each method is tried in turn).
  assert.deepEqual(await whoAmI(s, { cert: other.adminCertPem, key: other.adminKeyPem, token: pki.adminToken }), {
    status: 200,
    body: ADMIN,
  });
});

function kubectlAvailable(): boolean {
  return spawnSync('kubectl', ['version', '--client', '-o', 'json'], { stdio: 'ignore' }).status === 0;
}

test('kubectl (Go crypto/tls) accepts the certificates, keys and kubeconfig', { skip: !kubectlAvailable() && 'kubectl not on PATH' }, async (t) => {
  const dir = tempDir(t);
  const pki = await ensurePki(dir, { hosts: [] });
  const s = await startServer(t, pki);
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: `https://127.0.0.1:${s.port}`, pki });

  // Async: the server answering kubectl lives in this process.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, NO_PROXY: '*' };
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { env, timeout: 20_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });

  const ok = await run(['version', '-o', 'json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).serverVersion.gitVersion, 'v1.32.0');

  // The same server reached by the name `localhost` also verifies (DNS SAN).
  writeKubeconfig(kubeconfig, { server: `https://localhost:${s.port}`, pki });
  const byName = await run(['version', '-o', 'json']);
  assert.equal(byName.code, 0, byName.stderr);

  // And a kubeconfig carrying another cluster's credentials is refused.
  const other = await ensurePki(tempDir(t), { hosts: [] });
  writeKubeconfig(kubeconfig, { server: `https://127.0.0.1:${s.port}`, pki: { ...other, caCertPem: pki.caCertPem } });
  const refused = await run(['version', '-o', 'json']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Unauthorized|provide credentials/i);
});
