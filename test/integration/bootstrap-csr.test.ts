// Joining credentials end to end: `ordinal token create` prints a join command whose token
// authenticates as system:bootstrap:<id> and whose hash pins the CA the server presents; a node's
// CSR sent with that token is auto-approved and signed, and the certificate logs in as the node.
// Other signers wait for `kubectl certificate approve|deny`; bad requests get upstream's 422s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, api, waitUntil, tempDir, type Cluster } from './harness.ts';
import { createCsrPem } from '../../src/certificates/csr.ts';
import { caCertHash, matchesCaCertHash } from '../../src/certificates/ca-hash.ts';

const root = resolve(import.meta.dirname, '../..');
let c: Cluster;
let ca: string;
const scratch = tempDir('ordinal-csr-test-');
const emptyKubeconfig = join(scratch, 'empty-kubeconfig');

before(async () => {
  c = await startCluster();
  ca = readFileSync(join(c.dataDir, 'pki', 'ca.crt'), 'utf8');
  writeFileSync(emptyKubeconfig, 'apiVersion: v1\nkind: Config\n');
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

function ordinal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(root, 'src/cli/main.ts'), ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** kubectl with no kubeconfig credentials: only what the flags give. */
function kubectlAs(auth: string[], args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(
      'kubectl',
      ['--server', c.url, '--certificate-authority', join(c.dataDir, 'pki', 'ca.crt'), ...auth, ...args],
      { env: { ...process.env, KUBECONFIG: emptyKubeconfig, HOME: scratch }, timeout: 30_000 },
      (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A raw request with a bearer token (no client certificate). */
function withToken(token: string, method: string, path: string, body?: object): Promise<{ status: number; json: any }> {
  const u = new URL(path, c.url);
  const payload = body ? JSON.stringify(body) : undefined;
  return new Promise((res, rej) => {
    const req = https.request(
      { method, hostname: u.hostname, port: u.port, path: u.pathname, ca, headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...(payload ? { 'Content-Type': 'application/json' } : {}) } },
      (r) => {
        let text = '';
        r.on('data', (d) => (text += d));
        r.on('end', () => res({ status: r.statusCode!, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', rej);
    req.end(payload);
  });
}

async function createToken(extra: string[] = []): Promise<{ server: string; token: string; hash: string }> {
  const r = await ordinal(['token', 'create', '--data-dir', c.dataDir, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  const m = /^ordinal agent --server (https:\/\/\S+) --token ([a-z0-9]{6}\.[a-z0-9]{16}) --ca-cert-hash (sha256:[0-9a-f]{64})\n$/.exec(r.stdout);
  assert.ok(m, `unexpected output: ${r.stdout}`);
  return { server: m[1]!, token: m[2]!, hash: m[3]! };
}

const csrBody = (name: string, pem: string, spec: object = {}) => ({
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: { name },
  spec: { request: Buffer.from(pem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], ...spec },
});

test('token create prints a join command: the token authenticates and the hash pins the CA the server presents', async () => {
  const join = await createToken(['--description', 'for n1', '--groups', 'system:bootstrappers:workers']);
  assert.equal(join.server, c.url);
  assert.equal(join.hash, caCertHash(ca));
  // The server sends its CA after its own certificate, so a node can check the pin before trusting it.
  const u = new URL(c.url);
  const chain = await new Promise<tls.DetailedPeerCertificate>((res, rej) => {
    const s = tls.connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => {
      res(s.getPeerCertificate(true));
      s.end();
    });
    s.on('error', rej);
  });
  assert.ok(chain.issuerCertificate && chain.issuerCertificate !== chain, 'the CA is in the chain');
  const presentedCa = new X509Certificate(chain.issuerCertificate.raw).toString();
  assert.ok(matchesCaCertHash(presentedCa, join.hash));

  const who = JSON.parse((await kubectlAs(['--token', join.token], ['auth', 'whoami', '-o', 'json'])).stdout);
  const id = join.token.split('.')[0];
  assert.equal(who.status.userInfo.username, `system:bootstrap:${id}`);
  assert.deepEqual(who.status.userInfo.groups, ['system:bootstrappers', 'system:bootstrappers:workers', 'system:authenticated']);

  // TokenReview knows bootstrap tokens too.
  const review = await api(c, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: join.token } });
  assert.equal(review.json.status.authenticated, true);
  assert.equal(review.json.status.user.username, `system:bootstrap:${id}`);
  const explained = await kubectlOk(c, ['explain', 'csr.spec.signerName']);
  assert.match(explained, /GROUP:\s+certificates.k8s.io/);

  const list = await ordinal(['token', 'list', '--data-dir', c.dataDir]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION\s+EXTRA GROUPS\n/);
  assert.match(list.stdout, new RegExp(`${join.token.replace('.', '\\.')}\\s+23h\\s+\\S+Z\\s+authentication,signing\\s+for n1\\s+system:bootstrappers:workers`));
});

test('a wrong secret, an expired token and a deleted token get 401', async () => {
  const { token } = await createToken();
  const [id, secret] = token.split('.') as [string, string];
  const wrong = `${id}.${secret.slice(0, 15)}${secret.endsWith('a') ? 'b' : 'a'}`;
  const r = await withToken(wrong, 'GET', '/api/v1/namespaces');
  assert.equal(r.status, 401);
  assert.deepEqual([r.json.reason, r.json.message], ['Unauthorized', 'Unauthorized']);
  const k = await kubectlAs(['--token', wrong], ['auth', 'whoami']);
  assert.notEqual(k.code, 0);
  assert.match(k.stderr, /Unauthorized/);

  // An expired token's Secret (as if created long ago) is refused, then removed by the tokencleaner.
  const expiredId = 'exp123';
  const data = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([key, v]) => [key, Buffer.from(v).toString('base64')]));
  const created = await api(c, 'POST', '/api/v1/namespaces/kube-system/secrets', {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: `bootstrap-token-${expiredId}` }, type: 'bootstrap.kubernetes.io/token',
    data: data({ 'token-id': expiredId, 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', expiration: '2020-01-01T00:00:00Z' }),
  });
  assert.equal(created.status, 201, created.body);
  assert.equal((await withToken(`${expiredId}.0123456789abcdef`, 'GET', '/api/v1/namespaces')).status, 401);
  await waitUntil(async () => (await api(c, 'GET', `/api/v1/namespaces/kube-system/secrets/bootstrap-token-${expiredId}`)).status === 404, 10_000, () => 'the tokencleaner deletes the expired token');

  // Not marked for authentication: 401 as well.
  await api(c, 'POST', '/api/v1/namespaces/kube-system/secrets', {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bootstrap-token-nouse1' }, type: 'bootstrap.kubernetes.io/token',
    data: data({ 'token-id': 'nouse1', 'token-secret': '0123456789abcdef' }),
  });
  assert.equal((await withToken('nouse1.0123456789abcdef', 'GET', '/api/v1/namespaces')).status, 401);

  // A valid token may do what the default policy grants bootstrappers (read CSRs), nothing more.
  assert.equal((await withToken(token, 'GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests')).status, 200);
  assert.equal((await withToken(token, 'GET', '/api/v1/namespaces')).status, 403);
  const del = await ordinal(['token', 'delete', '--data-dir', c.dataDir, id]);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(del.stdout, `bootstrap token "${id}" deleted\n`);
  assert.equal((await withToken(token, 'GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests')).status, 401);
});

test("a node's CSR sent with the bootstrap token is auto-approved and signed; the certificate logs in as the node", async () => {
  const { token } = await createToken();
  const id = token.split('.')[0];
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = createCsrPem(privateKey, { commonName: 'system:node:n1', organizations: ['system:nodes'] });
  const r = await withToken(token, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', csrBody('node-csr-n1', pem, { username: 'someone-else', groups: ['system:masters'] }));
  assert.equal(r.status, 201, JSON.stringify(r.json));
  // The requester is who sent it, not what the body claims.
  assert.equal(r.json.spec.username, `system:bootstrap:${id}`);
  assert.deepEqual(r.json.spec.groups, ['system:bootstrappers', 'system:bootstrappers:ordinal:default-node-token', 'system:authenticated']);

  let csr: any;
  await waitUntil(async () => {
    csr = (await api(c, 'GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/node-csr-n1')).json;
    return !!csr.status?.certificate;
  }, 15_000, () => `csr issued: ${JSON.stringify(csr?.status)}`);
  const approved = csr.status.conditions.find((x: any) => x.type === 'Approved');
  assert.deepEqual([approved.status, approved.reason, approved.message], ['True', 'AutoApproved', 'Auto approving kubelet client certificate after SubjectAccessReview.']);
  assert.ok(approved.lastUpdateTime && approved.lastTransitionTime);

  const certPem = Buffer.from(csr.status.certificate, 'base64').toString();
  const cert = new X509Certificate(certPem);
  assert.ok(cert.verify(new X509Certificate(ca).publicKey));
  const days = (cert.validToDate.getTime() - cert.validFromDate.getTime()) / 86_400_000;
  assert.equal(Math.round(days), 365);
  const certFile = join(scratch, 'n1.crt');
  const keyFile = join(scratch, 'n1.key');
  writeFileSync(certFile, certPem);
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const who = await kubectlAs(['--client-certificate', certFile, '--client-key', keyFile], ['auth', 'whoami', '-o', 'json']);
  assert.equal(who.code, 0, who.stderr);
  const info = JSON.parse(who.stdout).status.userInfo;
  assert.equal(info.username, 'system:node:n1');
  assert.deepEqual(info.groups, ['system:nodes', 'system:authenticated']);

  const table = await kubectlOk(c, ['get', 'csr', 'node-csr-n1']);
  assert.match(table, /^NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION\n/);
  assert.match(table, new RegExp(`node-csr-n1\\s+\\S+\\s+kubernetes.io/kube-apiserver-client-kubelet\\s+system:bootstrap:${id}\\s+<none>\\s+Approved,Issued\\n`));
});

test('a request the kubelet-client signer must refuse gets Failed with upstream reason', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = createCsrPem(privateKey, { commonName: 'system:node:n2', organizations: ['system:nodes', 'extra'] });
  assert.equal((await api(c, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', csrBody('bad-org', pem))).status, 201);
  // Not auto-approved (not a valid kubelet client request): an admin approves it, and the signer refuses.
  await kubectlOk(c, ['certificate', 'approve', 'bad-org']);
  let csr: any;
  await waitUntil(async () => {
    csr = (await api(c, 'GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/bad-org')).json;
    return csr.status?.conditions?.some((x: any) => x.type === 'Failed');
  }, 15_000, () => JSON.stringify(csr?.status));
  const failed = csr.status.conditions.find((x: any) => x.type === 'Failed');
  assert.deepEqual([failed.reason, failed.message], ['SignerValidationFailure', 'subject organization is not system:nodes']);
  assert.equal(csr.status.certificate, undefined);
  assert.match(await kubectlOk(c, ['get', 'csr', 'bad-org', '--no-headers']), /Approved,Failed\n$/);
});

test('other signers wait for kubectl certificate approve; deny denies', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = createCsrPem(privateKey, { commonName: 'alice', organizations: ['devs'] });
  for (const name of ['alice', 'mallory']) {
    const r = await api(c, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', csrBody(name, pem, { signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 3600 }));
    assert.equal(r.status, 201, r.body);
  }
  await new Promise((r) => setTimeout(r, 1000));
  assert.match(await kubectlOk(c, ['get', 'csr', 'alice', '--no-headers']), /^alice\s+\S+\s+kubernetes.io\/kube-apiserver-client\s+ordinal-admin\s+60m\s+Pending\n$/);
  assert.equal(await kubectlOk(c, ['certificate', 'approve', 'alice']), 'certificatesigningrequest.certificates.k8s.io/alice approved\n');
  let csr: any;
  await waitUntil(async () => {
    csr = (await api(c, 'GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/alice')).json;
    return !!csr.status?.certificate;
  }, 15_000, () => JSON.stringify(csr?.status));
  const approved = csr.status.conditions.find((x: any) => x.type === 'Approved');
  assert.deepEqual([approved.reason, approved.message], ['KubectlApprove', 'This CSR was approved by kubectl certificate approve.']);
  const cert = new X509Certificate(Buffer.from(csr.status.certificate, 'base64'));
  // A short request is not backdated, and honoured.
  assert.equal(cert.validToDate.getTime() - cert.validFromDate.getTime(), 3600_000);
  assert.match(cert.subject, /CN=alice/);

  assert.equal(await kubectlOk(c, ['certificate', 'deny', 'mallory']), 'certificatesigningrequest.certificates.k8s.io/mallory denied\n');
  assert.match(await kubectlOk(c, ['get', 'csr', 'mallory', '--no-headers']), /Denied\n$/);
  // Approved and Denied exclude each other (kubectl refuses before asking; the API refuses too).
  const both = await kubectl(c, ['certificate', 'approve', 'mallory']);
  assert.notEqual(both.code, 0);
  assert.match(both.stderr, /certificate signing request "mallory" is already Denied/);
  const denied = (await api(c, 'GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/mallory')).json;
  denied.status.conditions.push({ type: 'Approved', status: 'True', reason: 'Sneaky' });
  const put2 = await api(c, 'PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/mallory/approval', denied);
  assert.equal(put2.status, 422);
  assert.match(put2.json.message, /status\.conditions\[1\]\.type: Invalid value: "Approved": Approved and Denied conditions are mutually exclusive/);
  // Through /status, Approved/Denied conditions cannot be added at all (they are kept as they were).
  const viaStatus = await api(c, 'PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/mallory/status', denied);
  assert.equal(viaStatus.status, 200);
  assert.deepEqual(viaStatus.json.status.conditions.map((x: any) => x.type), ['Denied']);
  const described = await kubectlOk(c, ['describe', 'csr', 'alice']);
  assert.match(described, /Requesting User:\s+ordinal-admin/);
  assert.match(described, /Signer:\s+kubernetes.io\/kube-apiserver-client/);
  assert.match(described, /Status:\s+Approved,Issued/);
  assert.match(described, /Common Name:\s+alice/);
  // The certificate is only set through status, never through the main resource.
  const put = await api(c, 'PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/mallory', { ...(await api(c, 'GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/mallory')).json, status: { certificate: csr.status.certificate } });
  assert.equal(put.status, 200);
  assert.equal(put.json.status.certificate, undefined);
});

test('invalid requests get 422 with upstream messages', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = createCsrPem(privateKey, { commonName: 'x' });
  const post = (name: string, spec: object) => api(c, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', csrBody(name, pem, spec));
  const causes = (r: { json: any }) => r.json.details.causes.map((x: any) => `${x.field}: ${x.message}`);

  let r = await post('short', { expirationSeconds: 100 });
  assert.equal(r.status, 422);
  assert.equal(r.json.message, 'CertificateSigningRequest.certificates.k8s.io "short" is invalid: spec.expirationSeconds: Invalid value: 100: may not specify a duration less than 600 seconds (10 minutes)');

  r = await post('signer', { signerName: 'foo', usages: ['client auth', 'flying'] });
  assert.equal(r.status, 422);
  assert.deepEqual(causes(r), [
    'spec.usages[1]: Unsupported value: "flying": supported values: "any", "cert sign", "client auth", "code signing", "content commitment", "crl sign", "data encipherment", "decipher only", "digital signature", "email protection", "encipher only", "ipsec end system", "ipsec tunnel", "ipsec user", "key agreement", "key encipherment", "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime", "server auth", "signing", "timestamping"',
    "spec.signerName: Invalid value: \"foo\": must be a fully qualified domain and path of the form 'example.com/signer-name'",
  ]);

  r = await api(c, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'nopem' }, spec: { request: Buffer.from('hello').toString('base64'), usages: [] } });
  assert.equal(r.status, 422);
  assert.deepEqual(causes(r), [
    'spec.request: Invalid value: []byte{0x68, 0x65, 0x6c, 0x6c, 0x6f}: PEM block type must be CERTIFICATE REQUEST',
    'spec.usages: Required value: usages must be provided',
    'spec.signerName: Required value: signerName must be provided',
  ]);

  const der = Buffer.from(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
  der[der.length - 3] ^= 1;
  r = await post('tampered', { request: Buffer.from(`-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`).toString('base64') });
  assert.equal(r.status, 422);
  assert.match(r.json.details.causes[0].message, /: x509: ECDSA verification failure$/);
  assert.equal(r.json.details.causes[0].field, 'spec.request');
});
