// ordinal_store_writes_total: every write that reaches the store is counted once, by verb and
// resource/subresource; no-op updates (which upstream does not write either) are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApi } from '../support/inprocess.ts';
import { storeWriteMetricLines } from '../../src/apiserver/write-counts.ts';

function counts(): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of storeWriteMetricLines()) {
    const m = /^ordinal_store_writes_total\{verb="(\w+)",resource="([^"]+)"\} (\d+)$/.exec(l);
    if (m) out.set(`${m[1]} ${m[2]}`, Number(m[3]));
  }
  return out;
}

function delta(before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of counts()) if (v !== (before.get(k) ?? 0)) out[k] = v - (before.get(k) ?? 0);
  return out;
}

test('store writes are counted by verb and resource, no-ops left out, and served in /metrics', async () => {
  const t = await startTestApi();
  try {
    const cms = t.client.resource('', 'configmaps');
    const pods = t.client.resource('', 'pods');
    // The service account controller may still be writing: wait for the namespace's account.
    const sas = t.client.resource('', 'serviceaccounts');
    for (let i = 0; i < 100; i++) {
      if (await t.client.get(sas, 'default', 'default').then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = counts();
    const cm = await t.client.create(cms, 'default', { metadata: { name: 'c' }, data: { a: '1' } });
    const changed = await t.client.update(cms, { ...cm, data: { a: '2' } });
    await t.client.update(cms, changed); // the same content: not written
    await t.client.delete(cms, 'default', 'c');
    const pod = await t.client.create(pods, 'default', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    await t.client.bind('default', 'p', 'node-a');
    await t.client.update(pods, { ...(await t.client.get(pods, 'default', 'p')), status: { ...pod.status, phase: 'Running' } }, 'status');
    assert.deepEqual(delta(before), {
      'create configmaps': 1,
      'update configmaps': 1,
      'delete configmaps': 1,
      'create pods': 1,
      'update pods/binding': 1,
      'update pods/status': 1,
    });

    // The same counters, as a scraper sees them.
    const pki = join(t.dataDir, 'pki');
    const text = await new Promise<string>((resolve, reject) => {
      const req = https.get(`${t.api.url}/metrics`, { ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode} ${body}`))));
      });
      req.on('error', reject);
    });
    assert.match(text, new RegExp(`^ordinal_store_writes_total\\{verb="update",resource="pods/binding"\\} ${counts().get('update pods/binding')}$`, 'm'));
  } finally {
    await t.close();
  }
});
