// /openapi/v2 as kubectl uses it: the protobuf document behind client-side validation of kinds
// the server does not serve, and behind `kubectl explain --output=plaintext-openapiv2`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, fixture, type Cluster } from './harness.ts';

let c: Cluster;

before(async () => {
  c = await startCluster();
});

after(async () => {
  if (!c) return;
  await stopCluster(c);
  removeCluster(c);
});

test('create -f with a retired apiVersion: the service is created, the StatefulSet gets a clear error', async () => {
  const r = await kubectl(c, ['create', '-f', fixture('web-v1beta1.yaml')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout, /service\/nginx created/);
  assert.match(r.stderr, /no matches for kind "StatefulSet" in version "apps\/v1beta1"/);
  assert.doesNotMatch(r.stderr, /error validating data|failed to download openapi/);
});

test('explain --output=plaintext-openapiv2 prints the field and its description', async () => {
  const out = await kubectlOk(c, ['explain', '--output=plaintext-openapiv2', 'statefulset.spec.updateStrategy']);
  assert.match(out, /KIND:\s+StatefulSet/);
  assert.match(out, /VERSION:\s+apps\/v1/);
  assert.match(out, /RESOURCE:\s+updateStrategy\s+<Object>/);
  // The description kubectl prints is the one the document gives the field (re-wrapped to 80 columns).
  const doc = JSON.parse(await kubectlOk(c, ['get', '--raw', '/openapi/v2']));
  const described: string = doc.definitions['io.k8s.api.apps.v1.StatefulSetSpec'].properties.updateStrategy.description;
  const words = (t: string) => t.split(/\s+/).filter(Boolean).join(' ');
  assert.ok(described);
  assert.ok(words(out).includes(words(described).split(' ').slice(0, 8).join(' ')), `description missing from:\n${out}`);
  assert.match(out, /rollingUpdate\s+<Object>/);
  assert.match(out, /type\s+<string>/);

  const recursive = await kubectlOk(c, ['explain', '--output=plaintext-openapiv2', 'pods', '--recursive']);
  assert.match(recursive, /\n      containers\t<\[\]Object>\n/);
});

test('get --raw /openapi/v2 returns the JSON document', async () => {
  const out = await kubectlOk(c, ['get', '--raw', '/openapi/v2']);
  assert.equal(out.slice(0, 100).trimStart()[0], '{');
  assert.match(out.slice(0, 100), /"swagger":\s*"2\.0"/);
  const doc = JSON.parse(out);
  assert.ok(doc.definitions['io.k8s.api.apps.v1.StatefulSet']);
});

test('protobuf when asked, with the content type client-go can parse, and ETags honoured', async () => {
  const pb = await get('/openapi/v2', { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
  assert.equal(pb.status, 200);
  assert.equal(pb.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  assert.equal(pb.body[0], 0x0a, 'starts with Document.swagger (field 1, length-delimited)');
  assert.equal(pb.body.subarray(2, 2 + pb.body[1]).toString(), '2.0');
  const etag = pb.headers.etag as string;
  assert.match(etag, /^"[0-9A-F]+"$/);

  const again = await get('/openapi/v2', { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'if-none-match': etag });
  assert.equal(again.status, 304);

  const json = await get('/openapi/v2', { accept: 'application/json' });
  assert.equal(json.headers['content-type'], 'application/json');
  assert.notEqual(json.headers.etag, etag);
  assert.equal(JSON.parse(json.body.toString()).swagger, '2.0');
});

/** GETs a path with the credentials from the cluster's kubeconfig. */
function get(path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const kc = parseYaml(readFileSync(c.kubeconfig, 'utf8'));
  const cluster = kc.clusters[0].cluster;
  const user = kc.users[0].user;
  const b64 = (v: string | undefined) => (v ? Buffer.from(v, 'base64') : undefined);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, cluster.server),
      {
        headers: { ...headers, ...(user.token ? { authorization: `Bearer ${user.token}` } : {}) },
        ca: b64(cluster['certificate-authority-data']),
        cert: b64(user['client-certificate-data']),
        key: b64(user['client-key-data']),
        rejectUnauthorized: !cluster['insecure-skip-tls-verify'],
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
