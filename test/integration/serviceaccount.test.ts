// Service accounts as users and in-cluster clients meet them, through the real kubectl: default
// accounts and the root CA ConfigMap in every namespace, `kubectl create token`, bearer tokens,
// `kubectl auth whoami`, discovery, TokenReview and the ServiceAccount admission plugin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, api, type Cluster } from './harness.ts';

let c: Cluster;

before(async () => {
  c = await startCluster({ args: ['--nodes', '1'] });
});

after(async () => {
  if (c) {
    await stopCluster(c);
    removeCluster(c);
  }
});

const json = async (args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json']));
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.trim().split('.')[1]!, 'base64url').toString());
/** kubectl with only a bearer token (and the CA), as a pod's client would present itself. */
const asToken = (token: string, args: string[]) =>
  kubectl(c, ['--kubeconfig=/dev/null', `--server=${c.url}`, `--certificate-authority=${join(c.dataDir, 'pki', 'ca.crt')}`, `--token=${token.trim()}`, ...args]);

test('every namespace gets a default ServiceAccount and the kube-root-ca.crt ConfigMap, kept as they should be', async () => {
  const ca = readFileSync(join(c.dataDir, 'pki', 'ca.crt'), 'utf8');
  await waitUntil(async () => (await json(['get', 'sa', '-A'])).items.length >= 4, 10_000, () => 'default accounts');
  const sas = (await json(['get', 'sa', '-A'])).items.map((s: any) => `${s.metadata.namespace}/${s.metadata.name}`).sort();
  assert.deepEqual(sas, ['default/default', 'kube-node-lease/default', 'kube-public/default', 'kube-system/default']);
  const cm = await json(['get', 'cm', 'kube-root-ca.crt', '-n', 'kube-system']);
  assert.deepEqual(cm.data, { 'ca.crt': ca });
  assert.match(cm.metadata.annotations['kubernetes.io/description'], /^Contains a CA bundle that can be used to verify the kube-apiserver/);

  await kubectlOk(c, ['create', 'namespace', 'team']);
  await waitUntil(async () => (await kubectl(c, ['get', 'sa', 'default', '-n', 'team'])).code === 0, 5_000, () => 'default account in a new namespace');
  await waitUntil(async () => (await kubectl(c, ['get', 'cm', 'kube-root-ca.crt', '-n', 'team'])).code === 0, 5_000, () => 'root CA in a new namespace');

  const before = (await json(['get', 'sa', 'default', '-n', 'team'])).metadata.uid;
  await kubectlOk(c, ['delete', 'sa', 'default', '-n', 'team']);
  await waitUntil(async () => {
    const r = await kubectl(c, ['get', 'sa', 'default', '-n', 'team', '-o', 'jsonpath={.metadata.uid}']);
    return r.code === 0 && r.stdout !== before;
  }, 5_000, () => 'default account recreated');

  await kubectlOk(c, ['patch', 'cm', 'kube-root-ca.crt', '-n', 'team', '--type=merge', '-p', '{"data":{"ca.crt":"tampered","extra":"x"}}']);
  await waitUntil(async () => JSON.stringify((await json(['get', 'cm', 'kube-root-ca.crt', '-n', 'team'])).data) === JSON.stringify({ 'ca.crt': ca }), 5_000, () => 'root CA restored');
  await kubectlOk(c, ['delete', 'cm', 'kube-root-ca.crt', '-n', 'team']);
  await waitUntil(async () => (await kubectl(c, ['get', 'cm', 'kube-root-ca.crt', '-n', 'team'])).code === 0, 5_000, () => 'root CA recreated');
});

test('kubectl create token: upstream claims, durations, audiences and errors', async () => {
  const sa = await json(['get', 'sa', 'default']);
  const token = await kubectlOk(c, ['create', 'token', 'default']);
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
  assert.equal(header.alg, 'RS256');
  const claims = claimsOf(token);
  assert.deepEqual(Object.keys(claims), ['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub']);
  assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
  assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
  assert.equal(claims.sub, 'system:serviceaccount:default:default');
  assert.equal(claims.exp - claims.iat, 3600);
  assert.deepEqual(claims['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'default', uid: sa.metadata.uid } });

  const short = claimsOf(await kubectlOk(c, ['create', 'token', 'default', '--duration', '10m', '--audience', 'vault']));
  assert.equal(short.exp - short.iat, 600);
  assert.deepEqual(short.aud, ['vault']);

  const tooShort = await kubectl(c, ['create', 'token', 'default', '--duration', '5m']);
  assert.notEqual(tooShort.code, 0);
  assert.match(tooShort.stderr, /TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes/);
  const missing = await kubectl(c, ['create', 'token', 'nobody']);
  assert.match(missing.stderr, /serviceaccounts "nobody" not found/);
  const badKind = await api(c, 'POST', '/api/v1/namespaces/default/serviceaccounts/default/token', { spec: { boundObjectRef: { apiVersion: 'v1', kind: 'ConfigMap', name: 'x' } } });
  assert.equal(badKind.status, 400);
  assert.equal(badKind.json.message, 'cannot bind token to object of type /v1, Kind=ConfigMap');
  const created = await api(c, 'POST', '/api/v1/namespaces/default/serviceaccounts/default/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
  assert.equal(created.status, 201);
  assert.equal(created.json.kind, 'TokenRequest');
  assert.equal(created.json.spec.expirationSeconds, 3600);
  assert.match(created.json.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('service account tokens authenticate while their account and pod exist; kubectl auth whoami', async () => {
  const admin = await kubectlOk(c, ['auth', 'whoami']);
  assert.match(admin, /Username\s+ordinal-admin/);
  assert.match(admin, /Groups\s+\[system:masters system:authenticated\]/);

  const token = await kubectlOk(c, ['create', 'token', 'default']);
  const who = await asToken(token, ['auth', 'whoami']);
  assert.equal(who.code, 0, who.stderr);
  assert.match(who.stdout, /Username\s+system:serviceaccount:default:default/);
  assert.match(who.stdout, /Groups\s+\[system:serviceaccounts system:serviceaccounts:default system:authenticated\]/);
  assert.match(who.stdout, /authentication.kubernetes.io\/credential-id\s+\[JTI=/);
  // Authenticated, but granted nothing on pods by the default policy: 403, not 401.
  assert.match((await asToken(token, ['get', 'pods'])).stderr, /Error from server \(Forbidden\): pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"/);

  const foreign = await kubectlOk(c, ['create', 'token', 'default', '--audience', 'vault']);
  assert.match((await asToken(foreign, ['get', 'pods'])).stderr, /Unauthorized/);
  assert.match((await asToken('not-a-token', ['get', 'pods'])).stderr, /Unauthorized/);

  await kubectlOk(c, ['run', 'holder', '--image=busybox', '--restart=Never']);
  const bound = await kubectlOk(c, ['create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'holder']);
  const pod = await json(['get', 'pod', 'holder']);
  const k8s = claimsOf(bound)['kubernetes.io'];
  assert.deepEqual(k8s.pod, { name: 'holder', uid: pod.metadata.uid });
  const boundWho = await asToken(bound, ['auth', 'whoami']);
  assert.match(boundWho.stdout, /authentication.kubernetes.io\/pod-name\s+\[holder\]/);
  await kubectlOk(c, ['delete', 'pod', 'holder', '--grace-period=0', '--force']);
  await waitUntil(async () => (await kubectl(c, ['get', 'pod', 'holder'])).code !== 0, 10_000, () => 'pod gone');
  assert.match((await asToken(bound, ['get', 'pods'])).stderr, /Unauthorized/);

  // A recreated account is another account: the old tokens stop working.
  await kubectlOk(c, ['create', 'sa', 'temp']);
  const temp = await kubectlOk(c, ['create', 'token', 'temp']);
  assert.match((await asToken(temp, ['get', 'pods'])).stderr, /Forbidden/);
  await kubectlOk(c, ['delete', 'sa', 'temp']);
  await kubectlOk(c, ['create', 'sa', 'temp']);
  assert.match((await asToken(temp, ['get', 'pods'])).stderr, /Unauthorized/);
});

test('TokenReview and discovery of the authentication API', async () => {
  const token = (await kubectlOk(c, ['create', 'token', 'default'])).trim();
  const review = await api(c, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
  assert.equal(review.status, 201);
  assert.equal(review.json.status.authenticated, true);
  assert.equal(review.json.status.user.username, 'system:serviceaccount:default:default');
  assert.deepEqual(review.json.status.audiences, ['https://kubernetes.default.svc.cluster.local']);
  const bad = await api(c, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token: token.slice(0, -4) + 'AAAA' } });
  assert.equal(bad.json.status.authenticated, undefined);
  assert.equal((await api(c, 'GET', '/apis/authentication.k8s.io/v1/selfsubjectreviews')).status, 405);

  const resources = await kubectlOk(c, ['api-resources', '--api-group=authentication.k8s.io', '-o', 'wide']);
  assert.match(resources, /selfsubjectreviews\s+authentication.k8s.io\/v1\s+false\s+SelfSubjectReview\s+create/);
  assert.match(resources, /tokenreviews\s+authentication.k8s.io\/v1\s+false\s+TokenReview\s+create/);
  const core = (await api(c, 'GET', '/api/v1')).json.resources.find((r: any) => r.name === 'serviceaccounts/token');
  assert.deepEqual(core, { name: 'serviceaccounts/token', singularName: '', namespaced: true, kind: 'TokenRequest', verbs: ['create'], group: 'authentication.k8s.io', version: 'v1' });
  const agg = (await api(c, 'GET', '/api', undefined, { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' })).json;
  const sa = agg.items[0].versions[0].resources.find((r: any) => r.resource === 'serviceaccounts');
  assert.deepEqual(sa.subresources, [{ subresource: 'token', responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, verbs: ['create'] }]);
});

test('admission: the API access volume, opting out, and pods of missing accounts refused', async () => {
  await kubectlOk(c, ['run', 'mounted', '--image=busybox', '--restart=Never']);
  const pod = await json(['get', 'pod', 'mounted']);
  const vol = pod.spec.volumes.find((v: any) => v.name.startsWith('kube-api-access-'));
  assert.match(vol.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.equal(vol.projected.sources[0].serviceAccountToken.expirationSeconds, 3607);
  assert.deepEqual(pod.spec.containers[0].volumeMounts, [{ name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
  assert.equal(pod.spec.serviceAccountName, 'default');

  await kubectlOk(c, ['run', 'optout', '--image=busybox', '--restart=Never', '--overrides={"spec":{"automountServiceAccountToken":false}}']);
  assert.equal((await json(['get', 'pod', 'optout'])).spec.volumes, undefined);
  await kubectlOk(c, ['create', 'sa', 'quiet']);
  await kubectlOk(c, ['patch', 'sa', 'quiet', '-p', '{"automountServiceAccountToken":false}']);
  await kubectlOk(c, ['run', 'quietpod', '--image=busybox', '--restart=Never', '--overrides={"spec":{"serviceAccountName":"quiet"}}']);
  assert.equal((await json(['get', 'pod', 'quietpod'])).spec.volumes, undefined);

  const refused = await kubectl(c, ['run', 'orphan', '--image=busybox', '--restart=Never', '--overrides={"spec":{"serviceAccountName":"ghost"}}']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Error from server \(Forbidden\): pods "orphan" is forbidden: error looking up service account default\/ghost: serviceaccount "ghost" not found/);

  // A pod created right with its namespace waits for the namespace's default account.
  await kubectlOk(c, ['create', '-f', '-'], {
    input: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: quick\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: quick\nspec:\n  containers:\n  - name: c\n    image: busybox\n',
  });
  assert.equal((await json(['get', 'pod', 'p', '-n', 'quick'])).spec.serviceAccountName, 'default');
});
