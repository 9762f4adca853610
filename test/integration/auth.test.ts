// Only holders of the cluster's credentials get in: client certificate or bearer token, else 401.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, stopCluster, removeCluster, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ command: 'server' });
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

function get(path: string, opts: { cert?: boolean; token?: string } = {}): Promise<{ status: number; body: string }> {
  const pki = join(c.dataDir, 'pki');
  const url = new URL(c.url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        ca: readFileSync(join(pki, 'ca.crt')),
        cert: opts.cert ? readFileSync(join(pki, 'admin.crt')) : undefined,
        key: opts.cert ? readFileSync(join(pki, 'admin.key')) : undefined,
        headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('requests without credentials get 401 Unauthorized as a Status', async () => {
  const r = await get('/api/v1/namespaces');
  assert.equal(r.status, 401);
  const status = JSON.parse(r.body);
  assert.equal(status.kind, 'Status');
  assert.equal(status.reason, 'Unauthorized');
  assert.equal(status.code, 401);
  assert.equal((await get('/api/v1/namespaces', { token: 'not-the-token' })).status, 401);
});

test('the admin client certificate and the admin token are accepted', async () => {
  assert.equal((await get('/api/v1/namespaces', { cert: true })).status, 200);
  const token = readFileSync(join(c.dataDir, 'pki', 'admin.token'), 'utf8').trim();
  assert.equal((await get('/api/v1/namespaces', { token })).status, 200);
});

test('health and version are public, as upstream', async () => {
  for (const p of ['/healthz', '/livez', '/readyz']) {
    const r = await get(p);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
  }
  const v = JSON.parse((await get('/version')).body);
  assert.equal(v.major, '1');
  assert.equal(v.minor, '32');
});
