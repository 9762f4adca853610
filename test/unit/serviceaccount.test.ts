// Service accounts: token claims, signing and checks, TokenRequest validation, the ServiceAccount
// admission decisions, the controllers' plans and the node agent's refresh rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { Obj } from '../../src/api/resource.ts';
import {
  API_AUDIENCES, checkTokenClaims, decodeJwt, gvkString, keyIdOf, SERVICE_ACCOUNT_ISSUER, signJwt, tokenClaims, TokenAuthority, validateTokenRequest,
  type TokenObjectLookup,
} from '../../src/apiserver/serviceaccount-token.ts';
import {
  API_TOKEN_MOUNT_PATH, apiAccessVolumeSource, copyImagePullSecrets, mountableSecretsViolation, mountApiAccessVolume, shouldAutomount,
} from '../../src/apiserver/serviceaccount-admission.ts';
import { rootCaAction, serviceAccountsToCreate, DESCRIPTION_ANNOTATION } from '../../src/controllers/serviceaccount/plan.ts';
import { refreshAtMs, ServiceAccountTokens, tokenRequestFor } from '../../src/agent/service-account-token.ts';
import { enabledControllers } from '../../src/cli/components.ts';
import type { Client } from '../../src/client/client.ts';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const NOW = 1_700_000_000;

const meta = (name: string, uid: string, extra: Obj = {}) => ({ metadata: { name, uid, ...extra } });
function lookup(objs: { sa?: Obj; pod?: Obj; secret?: Obj; node?: Obj } = {}): TokenObjectLookup {
  return {
    serviceAccount: (_ns, name) => (objs.sa?.metadata.name === name ? objs.sa : undefined),
    pod: (_ns, name) => (objs.pod?.metadata.name === name ? objs.pod : undefined),
    secret: (_ns, name) => (objs.secret?.metadata.name === name ? objs.secret : undefined),
    node: (name) => (objs.node?.metadata.name === name ? objs.node : undefined),
  };
}

const baseClaims = (over: Partial<Parameters<typeof tokenClaims>[0]> = {}) =>
  tokenClaims({ namespace: 'ns', serviceAccount: { name: 'default', uid: 'sa-1' }, audiences: [...API_AUDIENCES], expirationSeconds: 3600, nowSeconds: NOW, jti: 'j-1', ...over });

test('claims: upstream names, order and bound objects', () => {
  const c = baseClaims({ pod: { name: 'p', uid: 'pod-1' }, node: { name: 'n1', uid: 'node-1' }, warnAfterSeconds: 3607, expirationSeconds: 31536000 });
  assert.deepEqual(Object.keys(c), ['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub']);
  assert.equal(c.iss, 'https://kubernetes.default.svc.cluster.local');
  assert.equal(c.sub, 'system:serviceaccount:ns:default');
  assert.deepEqual(c.aud, ['https://kubernetes.default.svc.cluster.local']);
  assert.equal(c.exp, NOW + 31536000);
  assert.equal(c.iat, NOW);
  assert.equal(c.nbf, NOW);
  assert.deepEqual(c['kubernetes.io'], {
    namespace: 'ns', node: { name: 'n1', uid: 'node-1' }, pod: { name: 'p', uid: 'pod-1' }, serviceaccount: { name: 'default', uid: 'sa-1' }, warnafter: NOW + 3607,
  });
  assert.deepEqual(Object.keys(c['kubernetes.io']), ['namespace', 'node', 'pod', 'serviceaccount', 'warnafter']);
  // A node that could not be found is named without a uid; a secret binding has no node.
  assert.deepEqual(baseClaims({ pod: { name: 'p', uid: 'u' }, node: { name: 'gone' } })['kubernetes.io'].node, { name: 'gone' });
  const s = baseClaims({ secret: { name: 's', uid: 'sec-1' } })['kubernetes.io'];
  assert.deepEqual(s, { namespace: 'ns', secret: { name: 's', uid: 'sec-1' }, serviceaccount: { name: 'default', uid: 'sa-1' } });
});

test('JWT: RS256 with the key id upstream derives, verified only with our key', () => {
  const kid = keyIdOf(publicKey);
  assert.match(kid, /^[A-Za-z0-9_-]{43}$/);
  const token = signJwt(baseClaims(), privateKey, kid);
  const [h] = token.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), { alg: 'RS256', kid });
  assert.equal(decodeJwt(token, publicKey)?.verified, true);
  assert.equal(decodeJwt(token, other.publicKey)?.verified, false);
  const [a, b] = token.split('.');
  assert.equal(decodeJwt(`${a}.${b}.`, publicKey)?.verified, false);
  // "alg: none" is never accepted whatever the signature.
  const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${b}.`;
  assert.equal(decodeJwt(none, publicKey)?.verified, false);
  assert.equal(decodeJwt('not-a-jwt', publicKey), null);
  assert.equal(decodeJwt('a.b.c', publicKey), null);
});

test('authentication: the account, bound objects and time bounds decide', () => {
  const sa = meta('default', 'sa-1');
  const pod = meta('p', 'pod-1');
  const ok = checkTokenClaims(baseClaims(), lookup({ sa }), NOW);
  assert.deepEqual(ok, {
    ok: true,
    user: { user: 'system:serviceaccount:ns:default', uid: 'sa-1', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns'], extra: { 'authentication.kubernetes.io/credential-id': ['JTI=j-1'] } },
  });
  const bound = checkTokenClaims(baseClaims({ pod: { name: 'p', uid: 'pod-1' }, node: { name: 'n1', uid: 'node-1' } }), lookup({ sa, pod }), NOW);
  assert.ok(bound.ok);
  assert.deepEqual(bound.user.extra, {
    'authentication.kubernetes.io/pod-name': ['p'],
    'authentication.kubernetes.io/pod-uid': ['pod-1'],
    'authentication.kubernetes.io/node-name': ['n1'],
    'authentication.kubernetes.io/node-uid': ['node-1'],
    'authentication.kubernetes.io/credential-id': ['JTI=j-1'],
  });
  const fails: [string, Obj, TokenObjectLookup, number][] = [
    ['expired', baseClaims(), lookup({ sa }), NOW + 3600 + 61],
    ['not yet valid', baseClaims(), lookup({ sa }), NOW - 120],
    ['other audience', baseClaims({ audiences: ['vault'] }), lookup({ sa }), NOW],
    ['account gone', baseClaims(), lookup({}), NOW],
    ['account recreated', baseClaims(), lookup({ sa: meta('default', 'sa-2') }), NOW],
    ['account deleted long ago', baseClaims(), lookup({ sa: meta('default', 'sa-1', { deletionTimestamp: new Date((NOW - 120) * 1000).toISOString() }) }), NOW],
    ['pod gone', baseClaims({ pod: { name: 'p', uid: 'pod-1' } }), lookup({ sa }), NOW],
    ['pod recreated', baseClaims({ pod: { name: 'p', uid: 'pod-1' } }), lookup({ sa, pod: meta('p', 'pod-2') }), NOW],
    ['secret gone', baseClaims({ secret: { name: 's', uid: 's-1' } }), lookup({ sa }), NOW],
    ['node gone', baseClaims({ node: { name: 'n', uid: 'n-1' } }), lookup({ sa }), NOW],
  ];
  for (const [what, claims, l, now] of fails) assert.equal(checkTokenClaims(claims, l, now).ok, false, what);
  // Within the minute of leeway an expired token still passes, as go-jose allows.
  assert.equal(checkTokenClaims(baseClaims(), lookup({ sa }), NOW + 3600 + 30).ok, true);
  assert.equal(checkTokenClaims(baseClaims({ audiences: ['vault'] }), lookup({ sa }), NOW, ['vault']).ok, true);
});

test('authority: tokens of other issuers or keys are not ours', () => {
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const authority = new TokenAuthority(pem);
  const sa = meta('default', 'sa-1');
  assert.deepEqual(authority.authenticate(authority.sign(baseClaims()), lookup({ sa }), NOW)?.ok, true);
  const foreign = signJwt(baseClaims(), other.privateKey, 'x');
  assert.deepEqual(authority.authenticate(foreign, lookup({ sa }), NOW), { ok: false, error: 'invalid signature' });
  assert.equal(authority.authenticate(signJwt({ ...baseClaims(), iss: 'https://elsewhere' }, privateKey, 'x'), lookup({ sa }), NOW), null);
  assert.equal(authority.authenticate('0123456789abcdef', lookup({ sa }), NOW), null);
  assert.equal(SERVICE_ACCOUNT_ISSUER, API_AUDIENCES[0]);
});

test('TokenRequest validation and bound-object type names', () => {
  assert.deepEqual(validateTokenRequest({ expirationSeconds: 600 }), []);
  assert.deepEqual(validateTokenRequest({ expirationSeconds: 2 ** 32 }), []);
  assert.deepEqual(validateTokenRequest({ expirationSeconds: 599 }), [
    { type: 'FieldValueInvalid', field: 'spec.expirationSeconds', badValue: 599, detail: 'may not specify a duration less than 10 minutes' },
  ]);
  assert.equal(validateTokenRequest({ expirationSeconds: 2 ** 32 + 1 })[0]!.detail, 'may not specify a duration larger than 2^32 seconds');
  assert.equal(gvkString('v1', 'ConfigMap'), '/v1, Kind=ConfigMap');
  assert.equal(gvkString('apps/v1', 'Deployment'), 'apps/v1, Kind=Deployment');
});

test('admission: the kube-api-access volume in every container without one at the path', () => {
  const spec: Obj = {
    initContainers: [{ name: 'init' }],
    containers: [{ name: 'a', volumeMounts: [{ name: 'x', mountPath: '/x' }] }, { name: 'b', volumeMounts: [{ name: 'mine', mountPath: API_TOKEN_MOUNT_PATH }] }],
    volumes: [{ name: 'x', emptyDir: {} }, { name: 'mine', emptyDir: {} }],
  };
  mountApiAccessVolume(spec, () => 'abcde');
  const mount = { name: 'kube-api-access-abcde', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
  assert.deepEqual(spec.initContainers[0].volumeMounts, [mount]);
  assert.deepEqual(spec.containers[0].volumeMounts, [{ name: 'x', mountPath: '/x' }, mount]);
  assert.deepEqual(spec.containers[1].volumeMounts, [{ name: 'mine', mountPath: API_TOKEN_MOUNT_PATH }]);
  assert.deepEqual(spec.volumes.at(-1), { name: 'kube-api-access-abcde', projected: apiAccessVolumeSource() });
  assert.deepEqual(apiAccessVolumeSource(), {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  });
  // No container needing it: no volume. An existing kube-api-access volume is reused.
  const covered: Obj = { containers: [{ name: 'b', volumeMounts: [{ name: 'm', mountPath: API_TOKEN_MOUNT_PATH }] }], volumes: [{ name: 'm', emptyDir: {} }] };
  mountApiAccessVolume(covered, () => 'zzzzz');
  assert.equal(covered.volumes.length, 1);
  const again: Obj = { containers: [{ name: 'c' }], volumes: [{ name: 'kube-api-access-old12', emptyDir: {} }] };
  mountApiAccessVolume(again, () => 'zzzzz');
  assert.equal(again.volumes.length, 1);
  assert.equal(again.containers[0].volumeMounts[0].name, 'kube-api-access-old12');
});

test('admission: automount choice, pull secrets and mountable secrets', () => {
  assert.equal(shouldAutomount({}, {}), true);
  assert.equal(shouldAutomount({ automountServiceAccountToken: false }, {}), false);
  assert.equal(shouldAutomount({ automountServiceAccountToken: false }, { automountServiceAccountToken: true }), true);
  assert.equal(shouldAutomount({}, { automountServiceAccountToken: false }), false);
  const spec: Obj = {};
  copyImagePullSecrets({ imagePullSecrets: [{ name: 'reg' }] }, spec);
  assert.deepEqual(spec.imagePullSecrets, [{ name: 'reg' }]);
  const own: Obj = { imagePullSecrets: [{ name: 'mine' }] };
  copyImagePullSecrets({ imagePullSecrets: [{ name: 'reg' }] }, own);
  assert.deepEqual(own.imagePullSecrets, [{ name: 'mine' }]);
  const enforcing = { metadata: { name: 'sa', annotations: { 'kubernetes.io/enforce-mountable-secrets': 'true' } }, secrets: [{ name: 'ok' }] };
  assert.equal(mountableSecretsViolation(enforcing, { volumes: [{ name: 'v', secret: { secretName: 'ok' } }] }), undefined);
  assert.equal(
    mountableSecretsViolation(enforcing, { volumes: [{ name: 'v', secret: { secretName: 'no' } }] }),
    'volume with secret.secretName="no" is not allowed because service account sa does not reference that secret',
  );
  assert.match(mountableSecretsViolation(enforcing, { containers: [{ name: 'c', env: [{ name: 'E', valueFrom: { secretKeyRef: { name: 'no', key: 'k' } } }] }] })!, /^container c with envVar E/);
  assert.equal(mountableSecretsViolation({ metadata: { name: 'sa' } }, { volumes: [{ name: 'v', secret: { secretName: 'no' } }] }), undefined);
});

test('controllers: default account in active namespaces, root CA ConfigMap kept exact', () => {
  const ns = (extra: Obj = {}) => ({ metadata: { name: 'n' }, status: { phase: 'Active' }, ...extra });
  assert.deepEqual(serviceAccountsToCreate(ns(), () => false), [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'n' } }]);
  assert.deepEqual(serviceAccountsToCreate(ns(), () => true), []);
  assert.deepEqual(serviceAccountsToCreate(ns({ status: { phase: 'Terminating' } }), () => false), []);
  assert.deepEqual(serviceAccountsToCreate(undefined, () => false), []);

  const created = rootCaAction('n', undefined, 'PEM');
  assert.equal(created.action, 'create');
  assert.deepEqual(created.action === 'create' && created.configMap.data, { 'ca.crt': 'PEM' });
  const good = { metadata: { name: 'kube-root-ca.crt', namespace: 'n', annotations: { [DESCRIPTION_ANNOTATION]: 'x' }, labels: { a: 'b' } }, data: { 'ca.crt': 'PEM' } };
  assert.deepEqual(rootCaAction('n', good, 'PEM'), { action: 'none' });
  const changed = rootCaAction('n', { ...good, data: { 'ca.crt': 'other', extra: '1' } }, 'PEM');
  assert.equal(changed.action, 'update');
  if (changed.action === 'update') {
    assert.deepEqual(changed.configMap.data, { 'ca.crt': 'PEM' });
    assert.deepEqual(changed.configMap.metadata.labels, { a: 'b' });
  }
  assert.equal(rootCaAction('n', { ...good, metadata: { ...good.metadata, annotations: {} } }, 'PEM').action, 'update');
});

test('agent: token requests bound to the pod, refreshed at 80% or after a day', () => {
  const pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u' }, spec: { serviceAccountName: 'default' } };
  assert.deepEqual(tokenRequestFor(pod, { path: 'token', expirationSeconds: 3607 }), {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u' } },
  });
  assert.deepEqual(tokenRequestFor(pod, { path: 't', audience: 'vault' }).spec.audiences, ['vault']);
  const issued = (lifetime: number) => ({ token: 't', expiresAtMs: 10_000_000_000 + lifetime * 1000, expirationSeconds: lifetime });
  assert.equal(refreshAtMs(issued(3600)), 10_000_000_000 + 2880_000);
  assert.equal(refreshAtMs(issued(7 * 86400)), 10_000_000_000 + 86400_000);
  assert.equal(refreshAtMs(issued(3600), 1), 10_000_000_000 + 2880_000 - 10_000);
});

test('agent: a token file is rewritten in place when due, and left once its volume is gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sa-token-'));
  let n = 0;
  const asked: Obj[] = [];
  // Two-second tokens: due at once (80% less the jitter is already past).
  const client = {
    createToken: async (ns: string, name: string, req: Obj) => {
      asked.push({ ns, name, req });
      n++;
      return { spec: { ...req.spec }, status: { token: `token-${n}`, expirationTimestamp: new Date(Date.now() + 2000).toISOString() } };
    },
  } as unknown as Client;
  const tokens = new ServiceAccountTokens(() => client);
  try {
    const pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { serviceAccountName: 'robot' } };
    const f = await tokens.file(pod, { path: 'token', expirationSeconds: 2 }, dir, 0o640);
    assert.deepEqual(f, { path: 'token', data: 'token-1' });
    assert.deepEqual(asked[0], { ns: 'ns', name: 'robot', req: tokenRequestFor(pod, { path: 'token', expirationSeconds: 2 }) });
    writeFileSync(join(dir, 'token'), f.data);
    const deadline = Date.now() + 5000;
    while (readFileSync(join(dir, 'token'), 'utf8') === 'token-1' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(readFileSync(join(dir, 'token'), 'utf8'), /^token-[2-9]$/);
    assert.equal(statSync(join(dir, 'token')).mode & 0o777, 0o640);
    rmSync(dir, { recursive: true, force: true });
    const before = n;
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(n <= before + 1, 'no more requests once the volume is gone');
  } finally {
    tokens.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('controllers are registered under upstream names and can be turned off', () => {
  assert.ok(enabledControllers(['*']).includes('serviceaccount'));
  assert.ok(enabledControllers(['*']).includes('root-ca-cert-publisher'));
  assert.ok(!enabledControllers(['*', '-serviceaccount']).includes('serviceaccount'));
});

test('pki: the signing key is made once, kept in the data dir, and replaced when unusable', async () => {
  const { ensurePki } = await import('../../src/apiserver/pki.ts');
  const dir = mkdtempSync(join(tmpdir(), 'sa-pki-'));
  try {
    const first = await ensurePki(dir, { hosts: [] });
    assert.match(first.serviceAccountKeyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(statSync(join(dir, 'pki', 'sa.key')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, 'pki', 'sa.pub'), 'utf8'), first.serviceAccountPublicKeyPem);
    const again = await ensurePki(dir, { hosts: [] });
    assert.equal(again.serviceAccountKeyPem, first.serviceAccountKeyPem, 'tokens issued before a restart stay valid');
    writeFileSync(join(dir, 'pki', 'sa.key'), 'garbage');
    const fresh = await ensurePki(dir, { hosts: [] });
    assert.notEqual(fresh.serviceAccountKeyPem, first.serviceAccountKeyPem);
    new TokenAuthority(fresh.serviceAccountKeyPem);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
