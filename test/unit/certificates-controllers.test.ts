import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsrPem, parseCsrDetails } from '../../src/certificates/csr.ts';
import { approval } from '../../src/controllers/certificates/approve.ts';
import { bootstrapPolicy } from '../../src/apiserver/authorization/bootstrap-policy.ts';
import { AuthorizerChain } from '../../src/apiserver/authorization/chain.ts';
import { memorySource, RbacAuthorizer } from '../../src/apiserver/authorization/rbac.ts';
import { reviewStatus } from '../../src/apiserver/authorization/review-api.ts';
import { certificateDuration, issueCertificate, signerRefusal, validity, wantsSigning, DEFAULT_SIGNING_DURATION_MS } from '../../src/controllers/certificates/sign.ts';
import { ensurePki, loadIssuer, caKeyPath } from '../../src/apiserver/pki.ts';
import { certificateSigningRequestStrategy as s } from '../../src/api/kinds/certificates.ts';
import { csrCondition } from '../../src/api/tables/certificates.ts';
import { formatFieldError } from '../../src/api/field-errors.ts';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kubelet = parseCsrDetails(createCsrPem(privateKey, { commonName: 'system:node:n1', organizations: ['system:nodes'] }));
const csr = (spec: object, status: object = {}) => ({ metadata: { name: 'c' }, spec: { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], ...spec }, status });

// The approver asks the authorizer, as upstream's SubjectAccessReviews do; here the default policy decides.
const policy = bootstrapPolicy();
const authz = new AuthorizerChain([new RbacAuthorizer(memorySource([...policy.clusterRoles, ...policy.clusterRoleBindings, ...policy.roles, ...policy.roleBindings]))]);
const allowed = (spec: Record<string, any>) => reviewStatus(authz, spec).allowed === true;

test('csrapproving approves valid kubelet client requests from bootstrappers and from the node itself, after a SubjectAccessReview', async () => {
  assert.equal((await approval(csr({ username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] }), kubelet, allowed))?.message, 'Auto approving kubelet client certificate after SubjectAccessReview.');
  assert.deepEqual(await approval(csr({ username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] }), kubelet, allowed), { type: 'Approved', status: 'True', reason: 'AutoApproved', message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' });
  // Another node may not renew n1's credentials; nobody else is approved; other signers and bad requests are left alone.
  assert.equal(await approval(csr({ username: 'system:node:n2', groups: ['system:nodes'] }), kubelet, allowed), undefined);
  assert.equal(await approval(csr({ username: 'bob', groups: ['devs'] }), kubelet, allowed), undefined);
  assert.equal(await approval(csr({ username: 'x', groups: ['system:bootstrappers'], signerName: 'kubernetes.io/kube-apiserver-client' }), kubelet, allowed), undefined);
  assert.equal(await approval(csr({ username: 'x', groups: ['system:bootstrappers'] , usages: ['client auth'] }), kubelet, allowed), undefined);
  assert.equal(await approval(csr({ username: 'x', groups: ['system:bootstrappers'] }, { conditions: [{ type: 'Denied', status: 'True' }] }), kubelet, allowed), undefined);
  const withSan = parseCsrDetails(createCsrPem(privateKey, { commonName: 'system:node:n1', organizations: ['system:nodes'] }, { dnsNames: ['n1'] }));
  assert.equal(await approval(csr({ username: 'x', groups: ['system:bootstrappers'] }), withSan, allowed), undefined);
  // The reviews asked: selfnodeclient first for a renewal, then nodeclient.
  const asked: string[] = [];
  await approval(csr({ username: 'system:node:n1', groups: ['devs'] }), kubelet, (spec) => (asked.push(spec.resourceAttributes.subresource), false));
  assert.deepEqual(asked, ['selfnodeclient', 'nodeclient']);
  // A member of system:masters passes every review.
  assert.ok(await approval(csr({ username: 'root', groups: ['system:masters'] }), kubelet, allowed));
});

test('signer checks and refusals, as upstream words them', () => {
  const other = parseCsrDetails(createCsrPem(privateKey, { commonName: 'alice' }));
  const serving = parseCsrDetails(createCsrPem(privateKey, { commonName: 'system:node:n1', organizations: ['system:nodes'] }, { ipAddresses: ['10.0.0.1'] }));
  assert.equal(signerRefusal('kubernetes.io/kube-apiserver-client-kubelet', kubelet, ['digital signature', 'client auth']), undefined);
  assert.equal(signerRefusal('kubernetes.io/kube-apiserver-client-kubelet', other, ['client auth']), 'subject organization is not system:nodes');
  assert.equal(signerRefusal('kubernetes.io/kube-apiserver-client-kubelet', kubelet, ['client auth']), 'usages did not match [client auth digital signature key encipherment]');
  assert.equal(signerRefusal('kubernetes.io/kubelet-serving', serving, ['digital signature', 'server auth']), undefined);
  assert.equal(signerRefusal('kubernetes.io/kubelet-serving', kubelet, ['digital signature', 'server auth']), 'DNS or IP subjectAltName is required');
  assert.equal(signerRefusal('kubernetes.io/kube-apiserver-client', other, ['client auth', 'server auth']), 'invalid usage for client certificate: server auth');
  assert.equal(signerRefusal('kubernetes.io/kube-apiserver-client', other, ['digital signature']), 'missing required usage for client certificate: client auth');
  assert.equal(wantsSigning(csr({}, { conditions: [{ type: 'Approved', status: 'True' }] })), true);
  assert.equal(wantsSigning(csr({}, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Failed', status: 'True' }] })), false);
  assert.equal(wantsSigning(csr({ signerName: 'example.com/x' }, { conditions: [{ type: 'Approved', status: 'True' }] })), false);
  assert.equal(wantsSigning(csr({})), false);
});

test('durations and validity windows', () => {
  assert.equal(certificateDuration(undefined, DEFAULT_SIGNING_DURATION_MS), 8760 * 3600_000);
  assert.equal(certificateDuration(10 * 365 * 86400, DEFAULT_SIGNING_DURATION_MS), DEFAULT_SIGNING_DURATION_MS);
  assert.equal(certificateDuration(3600, DEFAULT_SIGNING_DURATION_MS), 3600_000);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.deepEqual(validity(now, 86400_000, Infinity), { notBefore: new Date(now - 300_000), notAfter: new Date(now - 300_000 + 86400_000) });
  assert.deepEqual(validity(now, 3600_000, Infinity), { notBefore: new Date(now), notAfter: new Date(now + 3600_000) });
  assert.equal(validity(now, 86400_000, now + 1000).notAfter.getTime(), now + 1000);
});

test('issued certificates verify with OpenSSL against the CA, with the requested names and usages', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-sign-'));
  try {
    const pki = await ensurePki(dir, { hosts: [] });
    const ca = loadIssuer(pki.caCertPem, readFileSync(caKeyPath(dir), 'utf8'));
    const req = parseCsrDetails(createCsrPem(privateKey, { commonName: 'system:node:n1', organizations: ['system:nodes'] }, { dnsNames: ['n1.local'], ipAddresses: ['10.0.0.1'] }));
    const pem = issueCertificate(ca, req, ['digital signature', 'key encipherment', 'server auth'], validity(Date.now(), 86400_000, Infinity));
    writeFileSync(join(dir, 'leaf.crt'), pem);
    const v = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'pki', 'ca.crt'), '-purpose', 'sslserver', join(dir, 'leaf.crt')], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const text = spawnSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'leaf.crt')], { encoding: 'utf8' }).stdout;
    assert.match(text, /Subject: O\s*=\s*system:nodes, CN\s*=\s*system:node:n1/);
    assert.match(text, /Digital Signature, Key Encipherment/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /CA:FALSE/);
    assert.match(text, /DNS:n1\.local, IP Address:10\.0\.0\.1/);
    assert.ok(new X509Certificate(pem).publicKey.equals(req.publicKey));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CSR strategy: requester stamped on create, conditions and certificate guarded by subresource', () => {
  const request = Buffer.from(createCsrPem(privateKey, { commonName: 'x' })).toString('base64');
  const created: any = { metadata: { name: 'c' }, spec: { request, signerName: 'example.com/s', usages: ['client auth'], username: 'fake', groups: ['system:masters'] }, status: { certificate: 'eA==', conditions: [{ type: 'Approved', status: 'True' }] } };
  s.prepareForCreate(created, { user: { user: 'bob', uid: 'u1', groups: ['devs', 'system:authenticated'], extra: { k: ['v'] } } });
  assert.deepEqual(created.spec, { request, signerName: 'example.com/s', usages: ['client auth'], username: 'bob', uid: 'u1', groups: ['devs', 'system:authenticated'], extra: { k: ['v'] } });
  assert.deepEqual(created.status, {});
  assert.deepEqual(s.validate(created), []);

  const msgs = (errs: any[]) => errs.map(formatFieldError);
  const withConditions = (conditions: object[], certificate?: string) => ({ ...structuredClone(created), status: { conditions, ...(certificate ? { certificate } : {}) } });
  // Approval: Approved and Denied exclude each other; Approved/Denied/Failed are True only.
  assert.deepEqual(msgs(s.subresources!.approval!.validateUpdate(withConditions([{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }]), created)), [
    'status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive',
  ]);
  assert.deepEqual(msgs(s.subresources!.approval!.validateUpdate(withConditions([{ type: 'Approved', status: 'False' }]), created)), ['status.conditions[0].status: Unsupported value: "False": supported values: "True"']);
  // The main resource may not add approval conditions nor a certificate.
  assert.deepEqual(msgs(s.validateUpdate(withConditions([{ type: 'Approved', status: 'True' }], 'eA=='), created)), [
    'status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block',
    'status.conditions: Forbidden: updates may not add a condition of type "Approved"',
    'status.certificate: Forbidden: updates may not set certificate content',
  ]);
  // Conditions once there may not be removed.
  const approved = withConditions([{ type: 'Approved', status: 'True' }]);
  assert.deepEqual(msgs(s.subresources!.approval!.validateUpdate(withConditions([]), approved)), ['status.conditions: Forbidden: updates may not remove a condition of type "Approved"']);
  // Status writes keep Approved/Denied as they were and stamp times.
  const next = withConditions([{ type: 'Failed', status: 'True' }]);
  s.subresources!.status!.prepareForUpdate(next, approved);
  assert.deepEqual(next.status.conditions.map((c: any) => c.type), ['Failed', 'Approved']);
  assert.ok(next.status.conditions[0].lastUpdateTime && next.status.conditions[0].lastTransitionTime);
  assert.equal(csrCondition(next), 'Approved,Failed');
  assert.equal(csrCondition({ status: { conditions: [{ type: 'Denied' }, { type: 'Approved' }], certificate: 'x' } }), 'Denied,Issued');
  assert.equal(csrCondition({}), 'Pending');
});
