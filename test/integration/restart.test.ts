// Durability: every write the server acknowledged survives a kill -9 at any moment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectlOk, type Cluster } from './harness.ts';

function client(c: Cluster) {
  const pki = join(c.dataDir, 'pki');
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 8,
    ca: readFileSync(join(pki, 'ca.crt')),
    cert: readFileSync(join(pki, 'admin.crt')),
    key: readFileSync(join(pki, 'admin.key')),
  });
  const url = new URL(c.url);
  return (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = https.request({ host: url.hostname, port: url.port, method, path, agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: data ? JSON.parse(data) : undefined }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
}

test('acknowledged writes survive kill -9 in the middle of a write burst', async () => {
  const c = await startCluster({ command: 'server' });
  let restarted: Cluster | undefined;
  try {
    const call = client(c);
    const acked = new Map<string, string>();
    let killed = false;
    const writer = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const name = `cm-${w}-${i}`;
        try {
          const r = await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name }, data: { n: String(i) } });
          if (r.status === 201) acked.set(name, r.json.metadata.resourceVersion);
        } catch {
          return; // the connection died with the server
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    while (acked.size < 400) await new Promise((r) => setTimeout(r, 5));
    c.proc.kill('SIGKILL');
    killed = true;
    await Promise.all(writers);
    await new Promise((r) => c.proc.once('exit', r));

    restarted = await startCluster({ command: 'server', dataDir: c.dataDir });
    const list = JSON.parse(await kubectlOk(restarted, ['get', 'configmaps', '-o', 'json']));
    const stored = new Map<string, any>(list.items.map((i: any) => [i.metadata.name, i]));
    const missing = [...acked.keys()].filter((n) => !stored.has(n));
    assert.deepEqual(missing, [], `${missing.length} of ${acked.size} acknowledged writes were lost`);
    for (const [name, rv] of acked) assert.equal(stored.get(name).metadata.resourceVersion, rv, `${name} kept its resourceVersion`);

    // The revision keeps growing after the restart: no resourceVersion is ever reused.
    const maxRv = Math.max(...[...stored.values()].map((i) => Number(i.metadata.resourceVersion)));
    const after = await client(restarted)('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'after-restart' } });
    assert.equal(after.status, 201);
    assert.ok(Number(after.json.metadata.resourceVersion) > maxRv);
  } finally {
    await stopCluster(c, 'SIGKILL');
    if (restarted) await stopCluster(restarted);
    removeCluster(c);
  }
});

test('a StatefulSet, its Service and the namespace survive a restart unchanged', async () => {
  const c = await startCluster();
  let again: Cluster | undefined;
  try {
    await kubectlOk(c, ['create', 'namespace', 'keep']);
    await kubectlOk(c, ['create', '-n', 'keep', '-f', join(import.meta.dirname, '../fixtures/web.yaml')]);
    const before = await kubectlOk(c, ['get', '-n', 'keep', 'sts/web', 'svc/nginx', '-o', 'json']);
    c.proc.kill('SIGKILL');
    await new Promise((r) => c.proc.once('exit', r));
    again = await startCluster({ dataDir: c.dataDir });
    const after = await kubectlOk(again, ['get', '-n', 'keep', 'sts/web', 'svc/nginx', '-o', 'json']);
    assert.deepEqual(JSON.parse(after), JSON.parse(before));
  } finally {
    if (again) await stopCluster(again);
    await stopCluster(c, 'SIGKILL');
    removeCluster(c);
  }
});
