// LIST's resourceVersion and resourceVersionMatch as kube-apiserver 1.32 answers them, against a
// real `ordinal up` with raw HTTPS and the real kubectl: validation, "at least" reads that wait
// for a version, exact reads of past states (rebuilt from the cache's history), the versions the
// lists report, and paging at the first page's revision.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, api, type Cluster, type ApiResponse } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ args: ['--controllers', 'namespace,serviceaccount', '--nodes', '0'] });
  await ok(api(c, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rv' } }));
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

const CM = '/api/v1/namespaces/rv/configmaps';
const MERGE = { 'Content-Type': 'application/merge-patch+json' };

async function ok(r: Promise<ApiResponse>): Promise<any> {
  const res = await r;
  assert.ok(res.status >= 200 && res.status < 300, `request failed with ${res.status}: ${res.body.slice(0, 500)}`);
  return res.json;
}

async function fails(path: string, code: number, message: string, reason?: string): Promise<any> {
  const res = await api(c, 'GET', path);
  assert.equal(res.status, code, `${path}: ${res.body.slice(0, 500)}`);
  assert.equal(res.json.message, message);
  assert.equal(res.json.code, code);
  assert.equal(res.json.reason, reason);
  return res.json;
}

const cm = (name: string, v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v } });
const summary = (l: any) => l.items.map((o: any) => `${o.metadata.name}=${o.data.v}`).join(',');

test('ListOptions validation: 422 with upstream messages, 400 for a version with continue', async () => {
  const invalid = (detail: string) => `ListOptions.meta.k8s.io "" is invalid: ${detail}`;
  const s = await fails(`${CM}?resourceVersionMatch=Exact`, 422, invalid('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided'), 'Invalid');
  assert.deepEqual(s.details, { name: '', group: 'meta.k8s.io', kind: 'ListOptions', causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', field: 'resourceVersionMatch' }] });
  await fails(`${CM}?resourceVersion=0&resourceVersionMatch=Exact`, 422, invalid('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'), 'Invalid');
  await fails(`${CM}?resourceVersion=1&resourceVersionMatch=Newest`, 422, invalid('resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""'), 'Invalid');
  await fails(`${CM}?resourceVersion=1&resourceVersionMatch=NotOlderThan&continue=abc`, 422, invalid('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided'), 'Invalid');
  // The token is read first, then a version beside it is refused.
  await fails(`${CM}?resourceVersion=5&continue=abc`, 400, "invalid continue token: continue key is not valid: invalid character 'i' looking for beginning of value", 'BadRequest');
  for (const n of ['v-1', 'v-2']) await ok(api(c, 'POST', CM, cm(n, '1')));
  const page = await ok(api(c, 'GET', `${CM}?limit=1`));
  await fails(`${CM}?resourceVersion=5&continue=${page.metadata.continue}`, 400, 'specifying resource version is not allowed when using continue', 'BadRequest');
  assert.equal((await ok(api(c, 'GET', `${CM}?resourceVersion=0&limit=1&continue=${page.metadata.continue}`))).items.length, 1);
  const why = 'resourceVersion: Invalid value: "x1": strconv.ParseUint: parsing "x1": invalid syntax';
  await fails(`${CM}?resourceVersion=x1`, 500, why);
  await fails(`${CM}?resourceVersion=x1&resourceVersionMatch=Exact`, 400, `invalid resource version: ${why}`, 'BadRequest');
  await fails(`${CM}?resourceVersion=x1&limit=2`, 400, `invalid resource version: ${why}`, 'BadRequest');
  // kubectl shows the server's message.
  const k = await kubectl(c, ['get', '--raw', `${CM}?resourceVersion=0&resourceVersionMatch=Exact`]);
  assert.notEqual(k.code, 0);
  assert.match(k.stderr, /resourceVersionMatch "exact" is forbidden for resourceVersion "0"/);
});

test('NotOlderThan: served at once when reached, 504 ResourceVersionTooLarge after about 3 s when not', async () => {
  const created = await ok(api(c, 'POST', CM, cm('fresh', '1')));
  const rv = Number(created.metadata.resourceVersion);
  for (const q of [`resourceVersion=${rv}`, `resourceVersion=${rv}&resourceVersionMatch=NotOlderThan`, 'resourceVersion=0', '']) {
    const l = await ok(api(c, 'GET', `${CM}?${q}`));
    assert.ok(Number(l.metadata.resourceVersion) >= rv, q);
    assert.ok(l.items.some((o: any) => o.metadata.name === 'fresh'), q);
  }
  const ahead = rv + 1000;
  const t0 = Date.now();
  const r = await api(c, 'GET', `${CM}?resourceVersion=${ahead}&resourceVersionMatch=NotOlderThan`);
  const waited = Date.now() - t0;
  assert.equal(r.status, 504, r.body);
  const s = r.json;
  assert.equal(s.reason, 'Timeout');
  assert.match(s.message, new RegExp(`^Timeout: Too large resource version: ${ahead}, current: \\d+$`));
  assert.ok(waited >= 2900 && waited < 8000, `waited ${waited} ms`);
  assert.deepEqual(s.details, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
  // Paged, upstream reads etcd, which answers at once, without a retry hint.
  const t1 = Date.now();
  const paged = await api(c, 'GET', `${CM}?resourceVersion=${ahead}&resourceVersionMatch=NotOlderThan&limit=2`);
  assert.ok(Date.now() - t1 < 2000);
  assert.equal(paged.status, 504, paged.body);
  assert.match(paged.json.message, new RegExp(`^Timeout: Too large resource version: ${ahead}, current: \\d+$`));
  assert.deepEqual(paged.json.details, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] });
});

test('resourceVersion=0 serves the whole list, as the watch cache does, whatever the limit', async () => {
  for (const n of ['z-1', 'z-2', 'z-3']) await ok(api(c, 'POST', CM, cm(n, '1')));
  const all = await ok(api(c, 'GET', CM));
  const any = await ok(api(c, 'GET', `${CM}?resourceVersion=0&limit=1`));
  assert.equal(any.items.length, all.items.length);
  assert.equal(any.metadata.continue, undefined);
  assert.equal(any.metadata.remainingItemCount, undefined);
  // Any other version pages.
  const paged = await ok(api(c, 'GET', `${CM}?resourceVersion=${all.metadata.resourceVersion}&resourceVersionMatch=NotOlderThan&limit=1`));
  assert.equal(paged.items.length, 1);
  assert.ok(paged.metadata.continue);
});

test('NotOlderThan waits for a version written while it waits', async () => {
  const now = Number((await ok(api(c, 'GET', CM))).metadata.resourceVersion);
  // The next write takes the next revision (nothing else writes in this namespace's store... or elsewhere: wait for any).
  const pending = api(c, 'GET', `${CM}?resourceVersion=${now + 1}`);
  await new Promise((r) => setTimeout(r, 300));
  await ok(api(c, 'POST', CM, cm('late', '1')));
  const l = await ok(pending);
  assert.ok(Number(l.metadata.resourceVersion) >= now + 1);
});

test('Exact: the state at that very revision, whatever changed since; 410 when history is gone; 500 for a future one', async () => {
  const a = await ok(api(c, 'POST', CM, cm('ex-a', '1')));
  const b = await ok(api(c, 'POST', CM, cm('ex-b', '1')));
  const at = b.metadata.resourceVersion;
  await ok(api(c, 'PATCH', `${CM}/ex-a`, { data: { v: '2' } }, MERGE));
  await ok(api(c, 'DELETE', `${CM}/ex-b`));
  await ok(api(c, 'POST', CM, cm('ex-c', '1')));
  await ok(api(c, 'POST', CM, cm('ex-b', '3')));
  const sel = 'fieldSelector=metadata.name%3Dex-a,metadata.name!%3Dnone';
  const exact = await ok(api(c, 'GET', `${CM}?resourceVersion=${at}&resourceVersionMatch=Exact`));
  assert.equal(exact.metadata.resourceVersion, at);
  assert.match(summary(exact), /(^|,)ex-a=1,ex-b=1($|,)/);
  assert.doesNotMatch(summary(exact), /ex-c/);
  const byA = exact.items.find((o: any) => o.metadata.name === 'ex-a');
  assert.equal(byA.metadata.resourceVersion, a.metadata.resourceVersion);
  // The same through kubectl, and with a selector (no index shortcut to the current state).
  const viaKubectl = JSON.parse((await kubectl(c, ['get', '--raw', `${CM}?resourceVersion=${at}&resourceVersionMatch=Exact&${sel}`])).stdout);
  assert.equal(summary(viaKubectl), 'ex-a=1');
  // The latest, for contrast.
  assert.match(summary(await ok(api(c, 'GET', CM))), /ex-a=2,ex-b=3,ex-c=1/);
  // Legacy: a paged list at a version is exact too, and its pages stay at that version.
  const page1 = await ok(api(c, 'GET', `${CM}?resourceVersion=${at}&limit=1`));
  assert.equal(page1.metadata.resourceVersion, at);
  const names: string[] = page1.items.map((o: any) => `${o.metadata.name}=${o.data.v}`);
  let token = page1.metadata.continue;
  while (token) {
    const p = await ok(api(c, 'GET', `${CM}?limit=1&continue=${encodeURIComponent(token)}`));
    assert.equal(p.metadata.resourceVersion, at);
    names.push(...p.items.map((o: any) => `${o.metadata.name}=${o.data.v}`));
    token = p.metadata.continue;
  }
  assert.equal(names.join(','), summary(exact));
  const future = Number((await ok(api(c, 'GET', CM))).metadata.resourceVersion) + 1000;
  await fails(`${CM}?resourceVersion=${future}&resourceVersionMatch=Exact`, 500, 'etcdserver: mvcc: required revision is a future revision');
});

test('Exact and paged reads of a revision older than the retained history get 410 Expired', async () => {
  process.env.ORDINAL_WATCH_CACHE_HISTORY = '10';
  let small: Cluster;
  try {
    small = await startCluster({ args: ['--controllers', 'namespace', '--nodes', '0'] });
  } finally {
    delete process.env.ORDINAL_WATCH_CACHE_HISTORY;
  }
  try {
    const path = '/api/v1/namespaces/default/configmaps';
    await ok(api(small, 'POST', path, cm('old', '0')));
    const rv = (await ok(api(small, 'POST', path, cm('old2', '0')))).metadata.resourceVersion;
    const page = await ok(api(small, 'GET', `${path}?limit=1&resourceVersion=${rv}`));
    assert.ok(page.metadata.continue);
    for (let i = 0; i < 15; i++) await ok(api(small, 'PATCH', `${path}/old`, { data: { v: String(i) } }, MERGE));
    for (const q of [`resourceVersion=${rv}&resourceVersionMatch=Exact`, `resourceVersion=${rv}&limit=5`]) {
      const r = await api(small, 'GET', `${path}?${q}`);
      assert.equal(r.status, 410, r.body);
      assert.equal(r.json.reason, 'Expired');
      assert.equal(r.json.message, 'The resourceVersion for the provided list is too old.');
    }
    const r = await api(small, 'GET', `${path}?limit=1&continue=${encodeURIComponent(page.metadata.continue)}`);
    assert.equal(r.status, 410, r.body);
    assert.match(r.json.message, /^The provided continue parameter is too old to display a consistent list result/);
    // The 410 offers a token that goes on from the same place at the latest revision.
    const rest = await ok(api(small, 'GET', `${path}?limit=1&continue=${encodeURIComponent(r.json.metadata.continue)}`));
    assert.deepEqual(rest.items.map((o: any) => `${o.metadata.name}=${o.data.v}`), ['old2=0']);
    // A recent one is still exact.
    const latest = await ok(api(small, 'GET', path));
    assert.equal((await ok(api(small, 'GET', `${path}?resourceVersion=${latest.metadata.resourceVersion}&resourceVersionMatch=Exact`))).items.length, 2);
  } finally {
    await stopCluster(small);
    removeCluster(small);
  }
});

test('paging without a version reads every page at the first page\'s revision', async () => {
  for (const n of ['pg-1', 'pg-2', 'pg-3']) await ok(api(c, 'POST', CM, cm(n, '1')));
  const first = await ok(api(c, 'GET', `${CM}?limit=2&labelSelector=`));
  const rv = first.metadata.resourceVersion;
  // Changes after the first page do not show on later ones.
  await ok(api(c, 'POST', CM, cm('zz-later', '1')));
  await ok(api(c, 'PATCH', `${CM}/pg-3`, { data: { v: '2' } }, MERGE));
  const seen: string[] = first.items.map((o: any) => `${o.metadata.name}=${o.data.v}`);
  let token = first.metadata.continue;
  while (token) {
    const p = await ok(api(c, 'GET', `${CM}?limit=2&continue=${encodeURIComponent(token)}`));
    assert.equal(p.metadata.resourceVersion, rv);
    seen.push(...p.items.map((o: any) => `${o.metadata.name}=${o.data.v}`));
    token = p.metadata.continue;
  }
  assert.ok(seen.includes('pg-3=1'), seen.join(','));
  assert.ok(!seen.includes('zz-later=1'), seen.join(','));
  assert.equal(summary(await ok(api(c, 'GET', `${CM}?resourceVersion=${rv}&resourceVersionMatch=Exact`))), seen.join(','));
});
