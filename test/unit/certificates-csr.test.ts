import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsrPem, parseCsrPem, parseCsrDetails } from '../../src/certificates/csr.ts';
import { caCertHash, matchesCaCertHash } from '../../src/certificates/ca-hash.ts';
import { ensurePki } from '../../src/apiserver/pki.ts';

function openssl(args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  return { code: r.status ?? 1, out: r.stdout + r.stderr };
}

for (const kind of ['ec', 'rsa'] as const) {
  test(`createCsrPem (${kind}) makes a request OpenSSL verifies, and parseCsrPem reads it back`, () => {
    const { privateKey, publicKey } = kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = createCsrPem(privateKey, { commonName: 'system:node:n1', organizations: ['system:nodes'] }, { dnsNames: ['n1.example'], ipAddresses: ['10.0.0.7', 'fd00::1'] });
    const r = openssl(['req', '-noout', '-text', '-verify'], pem);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /verify OK|Certificate request self-signature verify OK/);
    assert.match(r.out, /O\s*=\s*system:nodes, CN\s*=\s*system:node:n1/);
    assert.match(r.out, /DNS:n1\.example, IP Address:10\.0\.0\.7, IP Address:FD00:0:0:0:0:0:0:1/);
    const parsed = parseCsrPem(pem);
    assert.equal(parsed.commonName, 'system:node:n1');
    assert.deepEqual(parsed.organizations, ['system:nodes']);
    assert.deepEqual(parsed.dnsNames, ['n1.example']);
    assert.deepEqual(parsed.ipAddresses, ['10.0.0.7', 'fd00::1']);
    assert.ok(parsed.publicKey.equals(publicKey));
  });
}

test('parseCsrPem reads what OpenSSL makes, and without SANs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-csr-'));
  try {
    const key = join(dir, 'k.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    writeFileSync(key, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const r = spawnSync('openssl', ['req', '-new', '-key', key, '-subj', '/O=a/O=b/CN=alice', '-addext', 'subjectAltName=DNS:x.y,email:a@b.c,URI:spiffe://x/y'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const d = parseCsrDetails(r.stdout);
    assert.equal(d.commonName, 'alice');
    assert.deepEqual(d.organizations, ['a', 'b']);
    assert.deepEqual(d.dnsNames, ['x.y']);
    assert.deepEqual(d.emailAddresses, ['a@b.c']);
    assert.deepEqual(d.uris, ['spiffe://x/y']);
    const bare = parseCsrPem(createCsrPem(privateKey, { commonName: 'bob' }));
    assert.deepEqual([bare.commonName, bare.organizations, bare.dnsNames, bare.ipAddresses], ['bob', [], [], []]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseCsrPem refuses a request whose signature does not verify, and what is not a CSR', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = createCsrPem(privateKey, { commonName: 'x' });
  const der = Buffer.from(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
  der[der.length - 5] ^= 0x01; // inside the signature
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  assert.throws(() => parseCsrPem(tampered), /x509: ECDSA verification failure/);
  assert.throws(() => parseCsrPem('hello'), /PEM block type must be CERTIFICATE REQUEST/);
  assert.throws(() => parseCsrPem('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), /malformed/);
  const { privateKey: rsa } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const rder = Buffer.from(createCsrPem(rsa, { commonName: 'r' }).split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
  rder[rder.length - 1] ^= 0x01;
  assert.throws(() => parseCsrPem(`-----BEGIN CERTIFICATE REQUEST-----\n${rder.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`), /crypto\/rsa: verification error/);
});

test('caCertHash is the SHA-256 of the CA SubjectPublicKeyInfo, as kubeadm computes it with openssl', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-cahash-'));
  try {
    const pki = await ensurePki(dir, { hosts: [] });
    // kubeadm's documented recipe: openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256
    const pub = openssl(['x509', '-pubkey', '-noout'], pki.caCertPem).out;
    const der = createPublicKey(pub).export({ type: 'spki', format: 'der' });
    const dgst = spawnSync('openssl', ['dgst', '-sha256', '-hex'], { input: der, encoding: 'utf8' }).stdout.trim().split(' ').pop()!;
    const hash = caCertHash(pki.caCertPem);
    assert.equal(hash, `sha256:${dgst}`);
    assert.ok(matchesCaCertHash(pki.caCertPem, hash));
    assert.ok(matchesCaCertHash(pki.caCertPem, hash.toUpperCase().replace('SHA256', 'sha256')));
    assert.ok(!matchesCaCertHash(pki.caCertPem, `sha256:${'0'.repeat(64)}`));
    assert.ok(!matchesCaCertHash(pki.caCertPem, dgst));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
