// Upstream Kubernetes v1.32 API semantics, pinned against a real `ordinal up` with raw HTTPS,
// the real kubectl and @kubernetes/client-node: object metadata, optimistic concurrency,
// selectors, pagination, watch (resume, bookmarks, 410), deletion (grace, finalizers,
// propagation), dry-run, field validation, tables and subresources.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, api, type Cluster, type ApiResponse } from './harness.ts';

let c: Cluster;
before(async () => {
  // Bookmarks every 200 ms instead of every minute, so that the bookmark test is quick.
  process.env.ORDINAL_WATCH_BOOKMARK_INTERVAL_MS = '200';
  try {
    // The API's own semantics, with only the controllers these tests rely on (no set controller or nodes rewriting objects).
    c = await startCluster({ args: ['--controllers', 'garbagecollector,namespace,volume,serviceaccount', '--nodes', '0'] });
  } finally {
    delete process.env.ORDINAL_WATCH_BOOKMARK_INTERVAL_MS;
  }
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

// ---------------------------------------------------------------- helpers

const STS = (ns: string) => `/apis/apps/v1/namespaces/${ns}/statefulsets`;
const CM = (ns: string) => `/api/v1/namespaces/${ns}/configmaps`;
const PODS = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
const MERGE = { 'Content-Type': 'application/merge-patch+json' };

function expectStatus(r: ApiResponse, status: number): void {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.body.slice(0, 500)}`);
}

async function ok(r: Promise<ApiResponse>): Promise<any> {
  const res = await r;
  assert.ok(res.status >= 200 && res.status < 300, `request failed with ${res.status}: ${res.body.slice(0, 500)}`);
  return res.json;
}

async function namespace(name: string): Promise<void> {
  await ok(api(c, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
}

function sts(name: string, extra: { replicas?: number; labels?: Record<string, string> } = {}): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, labels: extra.labels },
    spec: {
      replicas: extra.replicas ?? 1,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
    },
  };
}

function pod(name: string, labels: Record<string, string> = {}, nodeName?: string): any {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox:1' }] } };
}

interface WatchEvent {
  type: string;
  object: any;
}

/** A watch that the server ends after `timeoutSeconds`; resolves with every event it sent. */
async function watchFor(path: string, timeoutSeconds = 1): Promise<WatchEvent[]> {
  const sep = path.includes('?') ? '&' : '?';
  const r = await api(c, 'GET', `${path}${sep}watch=true&timeoutSeconds=${timeoutSeconds}`);
  expectStatus(r, 200);
  return r.body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const names = (items: any[]) => items.map((o) => o.metadata.name);
const rv = (o: any) => Number(o.metadata.resourceVersion);

// ---------------------------------------------------------------- metadata and concurrency

test('create sets uid, creationTimestamp and resourceVersion; generation moves on spec changes only', async () => {
  const created = await ok(api(c, 'POST', STS('default'), sts('gen-test')));
  assert.match(created.metadata.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.match(created.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Math.abs(Date.parse(created.metadata.creationTimestamp) - Date.now()) < 5_000);
  assert.equal(created.metadata.generation, 1);

  const labelled = await ok(api(c, 'PATCH', `${STS('default')}/gen-test`, { metadata: { labels: { team: 'a' } } }, MERGE));
  assert.equal(labelled.metadata.generation, 1, 'a label change does not bump the generation');
  assert.ok(rv(labelled) > rv(created));
  assert.equal(labelled.metadata.uid, created.metadata.uid);
  assert.equal(labelled.metadata.creationTimestamp, created.metadata.creationTimestamp);

  const scaled = await ok(api(c, 'PATCH', `${STS('default')}/gen-test`, { spec: { replicas: 3 } }, MERGE));
  assert.equal(scaled.metadata.generation, 2);
  assert.ok(rv(scaled) > rv(labelled));

  // A write that changes nothing stores nothing: same resourceVersion, same generation.
  const same = await ok(api(c, 'PATCH', `${STS('default')}/gen-test`, { spec: { replicas: 3 } }, MERGE));
  assert.equal(same.metadata.resourceVersion, scaled.metadata.resourceVersion);
  assert.equal(same.metadata.generation, 2);

  // Clients cannot set the system fields.
  const forged = await ok(api(c, 'POST', CM('default'), { metadata: { name: 'forged', uid: 'abc', resourceVersion: '999999', creationTimestamp: '2000-01-01T00:00:00Z' } }));
  assert.notEqual(forged.metadata.uid, 'abc');
  assert.notEqual(forged.metadata.creationTimestamp, '2000-01-01T00:00:00Z');
  assert.ok(rv(forged) < 999999);
});

test('PUT with a stale resourceVersion is 409 Conflict; PUT without one overwrites', async () => {
  const v1 = await ok(api(c, 'POST', CM('default'), { metadata: { name: 'occ' }, data: { k: '1' } }));
  const v2 = await ok(api(c, 'PUT', `${CM('default')}/occ`, { ...v1, data: { k: '2' } }));
  assert.ok(rv(v2) > rv(v1));

  const stale = await api(c, 'PUT', `${CM('default')}/occ`, { ...v1, data: { k: 'stale' } });
  expectStatus(stale, 409);
  assert.deepEqual(stale.json, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again',
    reason: 'Conflict',
    details: { name: 'occ', kind: 'configmaps' },
    code: 409,
  });

  // Grouped resources are named with their group.
  const set = await ok(api(c, 'POST', STS('default'), sts('occ-sts')));
  await ok(api(c, 'PATCH', `${STS('default')}/occ-sts`, { spec: { replicas: 2 } }, MERGE));
  const staleSet = await api(c, 'PUT', `${STS('default')}/occ-sts`, set);
  expectStatus(staleSet, 409);
  assert.equal(staleSet.json.message, 'Operation cannot be fulfilled on statefulsets.apps "occ-sts": the object has been modified; please apply your changes to the latest version and try again');
  assert.deepEqual(staleSet.json.details, { name: 'occ-sts', group: 'apps', kind: 'statefulsets' });

  const { resourceVersion: _drop, ...meta } = v1.metadata;
  const unconditional = await ok(api(c, 'PUT', `${CM('default')}/occ`, { ...v1, metadata: meta, data: { k: '3' } }));
  assert.deepEqual(unconditional.data, { k: '3' });
  assert.ok(rv(unconditional) > rv(v2));

  // kubectl replace sends the resourceVersion it read: a concurrent change makes it fail the same way.
  const r = await kubectl(c, ['replace', '-f', '-'], { input: JSON.stringify({ ...v1, data: { k: 'x' } }) });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), 'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again');
});

test('generateName makes a unique name from the prefix', async () => {
  const made = await Promise.all([1, 2, 3].map(() => ok(api(c, 'POST', CM('default'), { metadata: { generateName: 'gen-' } }))));
  for (const o of made) {
    assert.match(o.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(o.metadata.generateName, 'gen-');
  }
  assert.equal(new Set(names(made)).size, 3);
  const out = await kubectlOk(c, ['create', '-f', '-', '-o', 'name'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'kgen-' } }) });
  assert.match(out, /^configmap\/kgen-[a-z0-9]{5}\n$/);
});

// ---------------------------------------------------------------- selectors

async function selectorFixture(): Promise<void> {
  await namespace('sel');
  await namespace('sel2');
  await ok(api(c, 'POST', PODS('sel'), pod('p-prod-web', { env: 'prod', tier: 'web', n: '1' }, 'node-a')));
  await ok(api(c, 'POST', PODS('sel'), pod('p-prod-db', { env: 'prod', tier: 'db', n: '5' }, 'node-b')));
  await ok(api(c, 'POST', PODS('sel'), pod('p-dev', { env: 'dev', n: '3' })));
  await ok(api(c, 'POST', PODS('sel'), pod('p-none')));
  await ok(api(c, 'POST', PODS('sel2'), pod('q')));
  await ok(api(c, 'PATCH', `${PODS('sel')}/p-prod-web/status`, { status: { phase: 'Running' } }, MERGE));
}

const labelCases: [string, string[]][] = [
  ['env=prod', ['p-prod-db', 'p-prod-web']],
  ['env==prod', ['p-prod-db', 'p-prod-web']],
  ['env!=prod', ['p-dev', 'p-none']],
  ['env in (prod,dev)', ['p-dev', 'p-prod-db', 'p-prod-web']],
  ['env notin (prod)', ['p-dev', 'p-none']],
  ['tier', ['p-prod-db', 'p-prod-web']],
  ['!tier', ['p-dev', 'p-none']],
  ['env=prod,tier=db', ['p-prod-db']],
  ['n>2', ['p-dev', 'p-prod-db']],
  ['n<2', ['p-prod-web']],
  ['env in (staging)', []],
];

const fieldCases: [string, string[]][] = [
  ['metadata.name=p-dev', ['p-dev']],
  ['metadata.name!=p-dev', ['p-none', 'p-prod-db', 'p-prod-web']],
  ['metadata.namespace=sel', ['p-dev', 'p-none', 'p-prod-db', 'p-prod-web']],
  ['spec.nodeName=node-a', ['p-prod-web']],
  ['spec.nodeName=', ['p-dev', 'p-none']],
  ['status.phase=Running', ['p-prod-web']],
  ['status.phase!=Running', ['p-dev', 'p-none', 'p-prod-db']],
  ['status.phase=Pending,spec.nodeName=node-b', ['p-prod-db']],
];

test('label and field selectors filter list and watch alike', async () => {
  await selectorFixture();
  const cases = [...labelCases.map(([s, want]) => ['labelSelector', s, want] as const), ...fieldCases.map(([s, want]) => ['fieldSelector', s, want] as const)];
  await Promise.all(
    cases.map(async ([param, selector, want]) => {
      const q = `${param}=${encodeURIComponent(selector)}`;
      const list = await ok(api(c, 'GET', `${PODS('sel')}?${q}`));
      assert.deepEqual(names(list.items), want, `list ${param} ${selector}`);
      // A watch without a resourceVersion starts with the matching objects as ADDED events.
      const events = await watchFor(`${PODS('sel')}?${q}`);
      assert.deepEqual(events.map((e) => e.type), want.map(() => 'ADDED'), `watch ${param} ${selector}`);
      assert.deepEqual(names(events.map((e) => e.object)).sort(), want, `watch ${param} ${selector}`);
    }),
  );
  // Across namespaces, metadata.namespace picks one.
  assert.deepEqual(names((await ok(api(c, 'GET', '/api/v1/pods?fieldSelector=metadata.namespace%3Dsel2'))).items), ['q']);
  // kubectl passes selectors through unchanged.
  const out = await kubectlOk(c, ['get', 'pods', '-n', 'sel', '-l', 'env in (prod,dev),tier', '--field-selector', 'status.phase!=Running', '-o', 'name']);
  assert.equal(out, 'pod/p-prod-db\n');
});

test('a watch with a selector sees objects enter (ADDED) and leave (DELETED) the selection', async () => {
  const list = await ok(api(c, 'GET', `${PODS('sel')}?labelSelector=env%3Dprod`));
  const watching = watchFor(`${PODS('sel')}?labelSelector=env%3Dprod&resourceVersion=${list.metadata.resourceVersion}`, 2);
  await new Promise((r) => setTimeout(r, 200));
  await ok(api(c, 'PATCH', `${PODS('sel')}/p-none`, { metadata: { labels: { env: 'prod' } } }, MERGE));
  await ok(api(c, 'PATCH', `${PODS('sel')}/p-none`, { metadata: { labels: { other: 'x' } } }, MERGE));
  await ok(api(c, 'PATCH', `${PODS('sel')}/p-none`, { metadata: { labels: { env: 'dev' } } }, MERGE));
  await ok(api(c, 'PATCH', `${PODS('sel')}/p-dev`, { metadata: { labels: { other: 'y' } } }, MERGE));
  const events = await watching;
  assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED p-none', 'MODIFIED p-none', 'DELETED p-none']);
  assert.equal(events[2].object.metadata.labels.env, 'dev', 'DELETED carries the object as it is now');
});

test('an unsupported field selector is 400 BadRequest on list and on watch', async () => {
  // Pods have their own field labels; kinds without any accept only metadata.name and metadata.namespace.
  const cases: [string, string][] = [
    [`${PODS('sel')}?fieldSelector=spec.foo%3Dx`, 'field label not supported: spec.foo'],
    [`${PODS('sel')}?watch=true&fieldSelector=spec.foo%3Dx`, 'field label not supported: spec.foo'],
    [`${STS('default')}?fieldSelector=spec.replicas%3D1`, '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'],
    [`${STS('default')}?watch=true&fieldSelector=spec.replicas%3D1`, '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'],
  ];
  for (const [path, message] of cases) {
    const r = await api(c, 'GET', path);
    expectStatus(r, 400);
    assert.deepEqual(r.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 });
  }
  const k = await kubectl(c, ['get', 'pods', '-n', 'sel', '--field-selector', 'spec.foo=x']);
  assert.equal(k.code, 1);
  assert.equal(k.stderr.trim(), 'Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", field selector "spec.foo=x": field label not supported: spec.foo');
  const bad = await api(c, 'GET', `${PODS('sel')}?labelSelector=${encodeURIComponent('env in (prod')}`);
  expectStatus(bad, 400);
});

// ---------------------------------------------------------------- pagination

test('limit and continue page through 25 objects in order, each once', async () => {
  await namespace('paging');
  const all = Array.from({ length: 25 }, (_, i) => `cm-${String(i).padStart(2, '0')}`);
  // Created out of order: pages follow name order, not creation order.
  for (const name of [...all].reverse()) await ok(api(c, 'POST', CM('paging'), { metadata: { name, labels: { page: 'yes' } } }));
  // Whatever else the namespace holds (e.g. a published root CA) pages along with our objects.
  const full = names((await ok(api(c, 'GET', CM('paging')))).items);
  assert.deepEqual(full.filter((n: string) => n.startsWith('cm-')), all);
  const seen: string[] = [];
  const remaining: (number | undefined)[] = [];
  let token = '';
  let pageRv: string | undefined;
  for (let page = 0; page < 5; page++) {
    const l = await ok(api(c, 'GET', `${CM('paging')}?limit=10${token ? `&continue=${encodeURIComponent(token)}` : ''}`));
    seen.push(...names(l.items));
    remaining.push(l.metadata.remainingItemCount);
    pageRv ??= l.metadata.resourceVersion;
    assert.equal(l.metadata.resourceVersion, pageRv, 'every page is served at the first page resourceVersion');
    token = l.metadata.continue ?? '';
    if (!token) break;
  }
  assert.deepEqual(seen, full);
  assert.deepEqual(remaining, [full.length - 10, full.length - 20, undefined]);

  // A selector that skips items still pages correctly; upstream gives no count then, as it
  // would have to evaluate the selector on the rest.
  const odd = await ok(api(c, 'GET', `${CM('paging')}?limit=3&fieldSelector=metadata.name!%3Dcm-01`));
  assert.deepEqual(names(odd.items), ['cm-00', 'cm-02', 'cm-03']);
  assert.ok(odd.metadata.continue);
  assert.equal(odd.metadata.remainingItemCount, undefined);
  const rest = await ok(api(c, 'GET', `${CM('paging')}?limit=100&fieldSelector=metadata.name!%3Dcm-01&continue=${encodeURIComponent(odd.metadata.continue)}`));
  assert.deepEqual(names(rest.items), full.slice(4));
  assert.equal(rest.metadata.continue, undefined);

  // kubectl pages with --chunk-size and prints one table.
  const out = await kubectlOk(c, ['get', 'cm', '-n', 'paging', '--chunk-size=7', '-l', 'page=yes', '-o', 'name']);
  assert.deepEqual(out.trim().split('\n'), all.map((n) => `configmap/${n}`));

  const junk = await api(c, 'GET', `${CM('paging')}?limit=10&continue=not-a-token`);
  expectStatus(junk, 400);
  assert.equal(junk.json.reason, 'BadRequest');
});

// ---------------------------------------------------------------- watch

test('a watch from a resourceVersion returns exactly the later changes, in order', async () => {
  await namespace('watching');
  const first = await ok(api(c, 'POST', CM('watching'), { metadata: { name: 'w1' }, data: { v: '1' } }));
  const from = first.metadata.resourceVersion;
  const m = await ok(api(c, 'PATCH', `${CM('watching')}/w1`, { data: { v: '2' } }, MERGE));
  const a = await ok(api(c, 'POST', CM('watching'), { metadata: { name: 'w2' } }));
  await ok(api(c, 'DELETE', `${CM('watching')}/w1`));
  // A change in another namespace is not part of this watch.
  await ok(api(c, 'POST', CM('default'), { metadata: { name: 'elsewhere' } }));

  const events = await watchFor(`${CM('watching')}?resourceVersion=${from}`);
  assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['MODIFIED w1', 'ADDED w2', 'DELETED w1']);
  assert.equal(events[0].object.metadata.resourceVersion, m.metadata.resourceVersion);
  assert.equal(events[1].object.metadata.resourceVersion, a.metadata.resourceVersion);
  assert.ok(rv(events[2].object) > rv(a), 'a DELETED event carries the revision of the deletion');
  for (const e of events) assert.ok(rv(e.object) > Number(from));

  // resourceVersion=0 (or none) starts from the current state instead.
  const fresh = await watchFor(`${CM('watching')}?resourceVersion=0`);
  assert.deepEqual(fresh.filter((e) => e.object.metadata.name.startsWith('w')).map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w2']);
});

test('allowWatchBookmarks brings BOOKMARK events with the current resourceVersion', async () => {
  const events = await watchFor(`${CM('watching')}?allowWatchBookmarks=true&resourceVersion=${await currentRv()}`);
  const bookmarks = events.filter((e) => e.type === 'BOOKMARK');
  assert.ok(bookmarks.length >= 2, `expected bookmarks every 200 ms, got ${JSON.stringify(events)}`);
  for (const b of bookmarks) {
    assert.deepEqual(Object.keys(b.object).sort(), ['apiVersion', 'kind', 'metadata']);
    assert.equal(b.object.kind, 'ConfigMap');
    assert.match(b.object.metadata.resourceVersion, /^\d+$/);
  }
  // Without the flag, no bookmarks.
  const plain = await watchFor(`${CM('watching')}?resourceVersion=${await currentRv()}`);
  assert.deepEqual(plain, []);
  // With sendInitialEvents the end of the initial state is marked by an annotated bookmark.
  const initial = await watchFor(`${CM('watching')}?sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
  const end = initial.findIndex((e) => e.type === 'BOOKMARK');
  assert.ok(end >= 1, JSON.stringify(initial));
  assert.ok(initial.slice(0, end).every((e) => e.type === 'ADDED'));
  assert.ok(names(initial.slice(0, end).map((e) => e.object)).includes('w2'));
  assert.equal(initial[end].object.metadata.annotations['k8s.io/initial-events-end'], 'true');
});

async function currentRv(): Promise<string> {
  return (await ok(api(c, 'GET', `${CM('watching')}?limit=1`))).metadata.resourceVersion;
}

test('a watch from a revision older than the retained history gets 410 Expired', async () => {
  process.env.ORDINAL_WATCH_CACHE_HISTORY = '10';
  let small: Cluster;
  try {
    small = await startCluster();
  } finally {
    delete process.env.ORDINAL_WATCH_CACHE_HISTORY;
  }
  try {
    const first = await ok(api(small, 'POST', CM('default'), { metadata: { name: 'old' } }));
    for (let i = 0; i < 15; i++) await ok(api(small, 'PATCH', `${CM('default')}/old`, { data: { i: String(i) } }, MERGE));
    const r = await api(small, 'GET', `${CM('default')}?watch=true&resourceVersion=${first.metadata.resourceVersion}`);
    expectStatus(r, 200);
    const events = r.body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(events.length, 1, r.body);
    assert.equal(events[0].type, 'ERROR');
    const status = events[0].object;
    assert.equal(status.kind, 'Status');
    assert.equal(status.status, 'Failure');
    assert.equal(status.code, 410);
    assert.equal(status.reason, 'Expired');
    assert.match(status.message, new RegExp(`^too old resource version: ${first.metadata.resourceVersion} \\(\\d+\\)$`));
    // A recent revision still resumes.
    const list = await ok(api(small, 'GET', CM('default')));
    const recent = await api(small, 'GET', `${CM('default')}?watch=true&timeoutSeconds=1&resourceVersion=${list.metadata.resourceVersion}`);
    assert.equal(recent.body, '');
  } finally {
    await stopCluster(small);
    removeCluster(small);
  }
});

// ---------------------------------------------------------------- deletion

test('graceful pod deletion: a pod on a node gets a 30 s grace period; --force --grace-period=0 removes it', async () => {
  await ok(api(c, 'POST', PODS('default'), pod('graceful', { app: 'g' }, 'node-1')));
  await ok(api(c, 'POST', PODS('default'), pod('unscheduled', { app: 'g' })));

  const del = await kubectlOk(c, ['delete', 'pod', 'graceful', '--wait=false']);
  assert.equal(del, 'pod "graceful" deleted\n');
  const p = await ok(api(c, 'GET', `${PODS('default')}/graceful`));
  assert.equal(p.metadata.deletionGracePeriodSeconds, 30);
  const deadline = Date.parse(p.metadata.deletionTimestamp) - Date.now();
  assert.ok(deadline > 25_000 && deadline <= 31_000, `deletionTimestamp about 30 s ahead, got ${deadline} ms`);
  // A second ordinary delete keeps the original deadline.
  const again = await ok(api(c, 'DELETE', `${PODS('default')}/graceful`));
  assert.equal(again.metadata.deletionTimestamp, p.metadata.deletionTimestamp);

  const forced = await kubectl(c, ['delete', 'pod', 'graceful', '--force', '--grace-period=0']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(forced.stdout, 'pod "graceful" force deleted\n');
  assert.match(forced.stderr, /Immediate deletion does not wait for confirmation/);
  expectStatus(await api(c, 'GET', `${PODS('default')}/graceful`), 404);

  // A pod that never reached a node has nothing to stop and goes at once.
  assert.equal(await kubectlOk(c, ['delete', 'pod', 'unscheduled']), 'pod "unscheduled" deleted\n');
  expectStatus(await api(c, 'GET', `${PODS('default')}/unscheduled`), 404);

  const missing = await kubectl(c, ['delete', 'pod', 'unscheduled']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim(), 'Error from server (NotFound): pods "unscheduled" not found');
});

test('finalizers hold a deleted object until the last one is removed', async () => {
  await ok(api(c, 'POST', CM('default'), { metadata: { name: 'held', finalizers: ['example.com/a', 'example.com/b'] } }));
  assert.equal(await kubectlOk(c, ['delete', 'cm', 'held', '--wait=false']), 'configmap "held" deleted\n');
  const held = await ok(api(c, 'GET', `${CM('default')}/held`));
  assert.ok(held.metadata.deletionTimestamp);
  assert.equal(held.metadata.deletionGracePeriodSeconds, 0);

  // No new finalizer may be added to an object that is going away.
  const add = await api(c, 'PATCH', `${CM('default')}/held`, { metadata: { finalizers: ['example.com/a', 'example.com/b', 'example.com/c'] } }, MERGE);
  expectStatus(add, 422);
  assert.equal(add.json.message, 'ConfigMap "held" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/c"}');

  await kubectlOk(c, ['patch', 'cm', 'held', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers/0"}]']);
  const still = await ok(api(c, 'GET', `${CM('default')}/held`));
  assert.deepEqual(still.metadata.finalizers, ['example.com/b']);
  assert.equal(still.metadata.deletionTimestamp, held.metadata.deletionTimestamp);

  await kubectlOk(c, ['patch', 'cm', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  expectStatus(await api(c, 'GET', `${CM('default')}/held`), 404);
});

async function ownerWithDependents(ns: string, name: string, n = 2): Promise<{ owner: any; deps: string[] }> {
  const owner = await ok(api(c, 'POST', STS(ns), sts(name, { replicas: 0 })));
  const ref = { apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
  const deps: string[] = [];
  for (let i = 0; i < n; i++) {
    const dep = `${name}-dep-${i}`;
    await ok(api(c, 'POST', CM(ns), { metadata: { name: dep, ownerReferences: [ref] } }));
    deps.push(dep);
  }
  return { owner, deps };
}

const exists = async (path: string) => (await api(c, 'GET', path)).status === 200;

test('deletion propagation: background deletes dependents, orphan releases them, foreground deletes them first', async () => {
  await namespace('gc');
  const bg = await ownerWithDependents('gc', 'bg');
  // Upstream's collector ignores Events (DefaultIgnoredResources): one that names the owner stays.
  const bgRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'bg', uid: bg.owner.metadata.uid };
  await ok(api(c, 'POST', '/api/v1/namespaces/gc/events', { metadata: { name: 'bg-event', ownerReferences: [bgRef] }, involvedObject: { ...bgRef, namespace: 'gc' }, reason: 'Test', message: 'm', type: 'Normal' }));
  const orphan = await ownerWithDependents('gc', 'orphan');
  const fg = await ownerWithDependents('gc', 'fg');

  // Background (kubectl's default): the owner goes now, the collector removes the dependents after.
  assert.equal(await kubectlOk(c, ['delete', 'sts', 'bg', '-n', 'gc']), 'statefulset.apps "bg" deleted\n');
  expectStatus(await api(c, 'GET', `${STS('gc')}/bg`), 404);
  for (const d of bg.deps) await waitUntil(async () => !(await exists(`${CM('gc')}/${d}`)), 10_000, () => `${d} was not collected`);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(await exists('/api/v1/namespaces/gc/events/bg-event'), 'the collector deleted an Event');

  // Orphan: the dependents stay, without the ownerReference.
  assert.equal(await kubectlOk(c, ['delete', 'sts', 'orphan', '-n', 'gc', '--cascade=orphan']), 'statefulset.apps "orphan" deleted\n');
  expectStatus(await api(c, 'GET', `${STS('gc')}/orphan`), 404);
  for (const d of orphan.deps) {
    const cm = await ok(api(c, 'GET', `${CM('gc')}/${d}`));
    assert.equal(cm.metadata.ownerReferences, undefined, `${d} still names its owner`);
  }

  // Foreground: the owner stays (deletionTimestamp, foregroundDeletion finalizer) until every
  // blocking dependent is gone. One dependent is held by its own finalizer to observe the order.
  await ok(api(c, 'PATCH', `${CM('gc')}/${fg.deps[0]}`, { metadata: { finalizers: ['example.com/hold'] } }, MERGE));
  assert.equal(await kubectlOk(c, ['delete', 'sts', 'fg', '-n', 'gc', '--cascade=foreground', '--wait=false']), 'statefulset.apps "fg" deleted\n');
  const deleting = await ok(api(c, 'GET', `${STS('gc')}/fg`));
  assert.ok(deleting.metadata.deletionTimestamp);
  assert.deepEqual(deleting.metadata.finalizers, ['foregroundDeletion']);
  await waitUntil(async () => !(await exists(`${CM('gc')}/${fg.deps[1]}`)), 10_000, () => 'the free dependent was not deleted');
  const heldDep = await ok(api(c, 'GET', `${CM('gc')}/${fg.deps[0]}`));
  assert.ok(heldDep.metadata.deletionTimestamp, 'the held dependent is being deleted');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(await exists(`${STS('gc')}/fg`), 'the owner waits for its held dependent');
  await ok(api(c, 'PATCH', `${CM('gc')}/${fg.deps[0]}`, { metadata: { finalizers: null } }, MERGE));
  await waitUntil(async () => !(await exists(`${STS('gc')}/fg`)), 10_000, () => 'the owner was not deleted after its dependents');
  expectStatus(await api(c, 'GET', `${CM('gc')}/${fg.deps[0]}`), 404);

  // The options reach the server as DeleteOptions in the body as well.
  const viaBody = await ownerWithDependents('gc', 'viabody', 1);
  await ok(api(c, 'DELETE', `${STS('gc')}/viabody`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' }));
  await waitUntil(async () => !(await exists(`${STS('gc')}/viabody`)), 10_000, () => 'viabody still there');
  assert.equal((await ok(api(c, 'GET', `${CM('gc')}/${viaBody.deps[0]}`))).metadata.ownerReferences, undefined);
});

// ---------------------------------------------------------------- dry run and field validation

test('dryRun=All runs create, patch and delete without storing anything', async () => {
  const created = await api(c, 'POST', `${CM('default')}?dryRun=All`, { metadata: { name: 'dry' }, data: { a: '1' } });
  expectStatus(created, 201);
  assert.equal(created.json.metadata.name, 'dry');
  assert.ok(created.json.metadata.uid);
  assert.equal(created.json.metadata.resourceVersion, undefined);
  expectStatus(await api(c, 'GET', `${CM('default')}/dry`), 404);

  const real = await ok(api(c, 'POST', CM('default'), { metadata: { name: 'dry' }, data: { a: '1' } }));
  const patched = await ok(api(c, 'PATCH', `${CM('default')}/dry?dryRun=All`, { data: { a: '2' } }, MERGE));
  assert.deepEqual(patched.data, { a: '2' });
  const afterPatch = await ok(api(c, 'GET', `${CM('default')}/dry`));
  assert.deepEqual(afterPatch, real);

  await ok(api(c, 'DELETE', `${CM('default')}/dry?dryRun=All`));
  assert.deepEqual(await ok(api(c, 'GET', `${CM('default')}/dry`)), real);

  // kubectl's --dry-run=server says so and changes nothing either.
  assert.equal(await kubectlOk(c, ['create', 'configmap', 'dry2', '--dry-run=server']), 'configmap/dry2 created (server dry run)\n');
  expectStatus(await api(c, 'GET', `${CM('default')}/dry2`), 404);
  assert.equal(await kubectlOk(c, ['delete', 'configmap', 'dry', '--dry-run=server']), 'configmap "dry" deleted (server dry run)\n');
  assert.deepEqual(await ok(api(c, 'GET', `${CM('default')}/dry`)), real);
  assert.equal(await kubectlOk(c, ['label', 'configmap', 'dry', 'x=y', '--dry-run=server']), 'configmap/dry labeled (server dry run)\n');
  assert.deepEqual(await ok(api(c, 'GET', `${CM('default')}/dry`)), real);
});

test('fieldValidation: Strict rejects unknown fields, Warn warns and drops them, Ignore drops them', async () => {
  const body = (name: string) => {
    const s = sts(name);
    s.spec.foo = 1;
    s.spec.template.spec.containers[0].bar = 'x';
    return s;
  };
  const strict = await api(c, 'POST', `${STS('default')}?fieldValidation=Strict`, body('fv-strict'));
  expectStatus(strict, 400);
  assert.equal(strict.json.reason, 'BadRequest');
  // Unknown fields are listed in the order the decoder meets them in the document.
  assert.equal(strict.json.message, 'StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "spec.template.spec.containers[0].bar", unknown field "spec.foo"');
  expectStatus(await api(c, 'GET', `${STS('default')}/fv-strict`), 404);

  const warn = await api(c, 'POST', `${STS('default')}?fieldValidation=Warn`, body('fv-warn'));
  expectStatus(warn, 201);
  assert.equal(warn.headers.warning, '299 - "unknown field \\"spec.template.spec.containers[0].bar\\"", 299 - "unknown field \\"spec.foo\\""');
  const stored = await ok(api(c, 'GET', `${STS('default')}/fv-warn`));
  assert.equal(stored.spec.foo, undefined, 'unknown fields are not stored');
  assert.equal(stored.spec.template.spec.containers[0].bar, undefined);

  const ignore = await api(c, 'POST', `${STS('default')}?fieldValidation=Ignore`, body('fv-ignore'));
  expectStatus(ignore, 201);
  assert.equal(ignore.headers.warning, undefined);
  assert.equal((await ok(api(c, 'GET', `${STS('default')}/fv-ignore`))).spec.foo, undefined);

  // Patches are validated the same way.
  const patch = await api(c, 'PATCH', `${STS('default')}/fv-warn?fieldValidation=Strict`, { spec: { foo: 2 } }, MERGE);
  expectStatus(patch, 400);
  assert.equal(patch.json.message, 'StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "spec.foo"');

  // kubectl's --validate=strict asks the server to be strict.
  const k = await kubectl(c, ['create', '--validate=strict', '-f', '-'], { input: JSON.stringify(body('fv-kubectl')) });
  assert.equal(k.code, 1);
  // kubectl re-encodes the manifest (keys sorted) before sending it, hence this order.
  assert.equal(k.stderr, 'Error from server (BadRequest): error when creating "STDIN": StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].bar"\n');
  const w = await kubectl(c, ['create', '--validate=warn', '-f', '-'], { input: JSON.stringify(body('fv-kubectl')) });
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stderr, /^Warning: unknown field "spec\.foo"$/m);
});

// ---------------------------------------------------------------- tables and kubectl get

function rows(out: string): string[][] {
  return out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
}

test('kubectl get pods: -o wide, -L and --show-labels columns', async () => {
  await namespace('tables');
  await ok(api(c, 'POST', PODS('tables'), pod('t1', { app: 'web', tier: 'front' }, 'node-x')));
  const wide = rows(await kubectlOk(c, ['get', 'pods', '-n', 'tables', '-o', 'wide']));
  assert.deepEqual(wide[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
  assert.deepEqual([wide[1][0], wide[1][1], wide[1][2], wide[1][3]], ['t1', '0/1', 'Pending', '0']);
  assert.deepEqual(wide[1].slice(5), ['<none>', 'node-x', '<none>', '<none>']);

  const labelled = rows(await kubectlOk(c, ['get', 'pods', '-n', 'tables', '-L', 'app', '-L', 'missing', '--show-labels']));
  assert.deepEqual(labelled[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'APP', 'MISSING', 'LABELS']);
  assert.deepEqual(labelled[1].slice(5), ['web', 'app=web,tier=front']);

  const none = await kubectl(c, ['get', 'pods', '-n', 'tables', '-l', 'app=nothing']);
  assert.equal(none.stdout, '');
  assert.equal(none.stderr, 'No resources found in tables namespace.\n');
});

test('kubectl get sts,svc and get all list several kinds', async () => {
  await ok(api(c, 'POST', STS('tables'), sts('tweb')));
  await ok(api(c, 'POST', '/api/v1/namespaces/tables/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'tweb' }, spec: { clusterIP: 'None', selector: { app: 'tweb' }, ports: [{ port: 80 }] } }));
  const out = await kubectlOk(c, ['get', 'sts,svc', '-n', 'tables']);
  const blocks = out.trim().split('\n\n').map(rows);
  assert.equal(blocks.length, 2, out);
  assert.deepEqual(blocks[0][0], ['NAME', 'READY', 'AGE']);
  assert.deepEqual(blocks[0][1].slice(0, 2), ['statefulset.apps/tweb', '0/1']);
  assert.deepEqual(blocks[1][0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  assert.deepEqual(blocks[1][1].slice(0, 5), ['service/tweb', 'ClusterIP', 'None', '<none>', '80/TCP']);

  const all = await kubectlOk(c, ['get', 'all', '-n', 'tables', '-o', 'name']);
  assert.deepEqual(all.trim().split('\n').sort(), ['pod/t1', 'service/tweb', 'statefulset.apps/tweb']);
});

// ---------------------------------------------------------------- subresources

test('the status subresource ignores spec changes; the main resource ignores status changes', async () => {
  const created = await ok(api(c, 'POST', STS('default'), sts('st-split')));
  const viaStatus = await ok(api(c, 'PATCH', `${STS('default')}/st-split/status`, { spec: { replicas: 7 }, status: { replicas: 0, observedGeneration: 1 }, metadata: { labels: { via: 'status' } } }, MERGE));
  assert.equal(viaStatus.spec.replicas, 1);
  assert.equal(viaStatus.status.observedGeneration, 1);
  // Upstream's StatefulSet status strategy only resets the spec: labels do change through /status.
  assert.deepEqual(viaStatus.metadata.labels, { via: 'status' });
  assert.equal(viaStatus.metadata.generation, 1);

  const viaMain = await ok(api(c, 'PATCH', `${STS('default')}/st-split`, { spec: { replicas: 2 }, status: { observedGeneration: 9 } }, MERGE));
  assert.equal(viaMain.spec.replicas, 2);
  assert.equal(viaMain.status.observedGeneration, 1);
  assert.equal(viaMain.metadata.generation, 2);

  // PUT on /status with a full object behaves the same.
  const put = await ok(api(c, 'PUT', `${STS('default')}/st-split/status`, { ...viaMain, spec: { ...viaMain.spec, replicas: 5 }, status: { ...viaMain.status, observedGeneration: 2 } }));
  assert.equal(put.spec.replicas, 2);
  assert.equal(put.status.observedGeneration, 2);
  assert.ok(rv(put) > rv(created));

  const pods = await api(c, 'GET', `${PODS('default')}/nope/status`);
  expectStatus(pods, 404);
  assert.equal(pods.json.message, 'pods "nope" not found');
});

test('the scale subresource reads and writes replicas; kubectl scale --current-replicas checks first', async () => {
  await ok(api(c, 'POST', STS('default'), sts('scaly', { replicas: 2 })));
  const scale = await ok(api(c, 'GET', `${STS('default')}/scaly/scale`));
  assert.equal(scale.kind, 'Scale');
  assert.equal(scale.apiVersion, 'autoscaling/v1');
  assert.equal(scale.metadata.name, 'scaly');
  assert.deepEqual(scale.spec, { replicas: 2 });
  assert.deepEqual(scale.status, { replicas: 0, selector: 'app=scaly' });

  const mismatch = await kubectl(c, ['scale', 'sts', 'scaly', '--current-replicas=3', '--replicas=5']);
  assert.equal(mismatch.code, 1);
  assert.equal(mismatch.stderr, 'error: Expected replicas to be 3, was 2\n');
  assert.equal((await ok(api(c, 'GET', `${STS('default')}/scaly`))).spec.replicas, 2);

  assert.equal(await kubectlOk(c, ['scale', 'sts', 'scaly', '--current-replicas=2', '--replicas=4']), 'statefulset.apps/scaly scaled\n');
  const after = await ok(api(c, 'GET', `${STS('default')}/scaly`));
  assert.equal(after.spec.replicas, 4);
  assert.equal(after.metadata.generation, 2);

  // A Scale with a stale resourceVersion conflicts; a negative count is invalid.
  const stale = await api(c, 'PUT', `${STS('default')}/scaly/scale`, { ...scale, spec: { replicas: 1 } });
  expectStatus(stale, 409);
  assert.equal(stale.json.reason, 'Conflict');
  const negative = await api(c, 'PATCH', `${STS('default')}/scaly/scale`, { spec: { replicas: -1 } }, MERGE);
  expectStatus(negative, 422);
  assert.equal(negative.json.message, 'Scale.autoscaling "scaly" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
});

test('pods/binding sets spec.nodeName once; a second binding is 409', async () => {
  await ok(api(c, 'POST', PODS('default'), pod('bindme')));
  const binding = (node: string) => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bindme' }, target: { apiVersion: 'v1', kind: 'Node', name: node } });
  const first = await api(c, 'POST', `${PODS('default')}/bindme/binding`, binding('node-1'));
  expectStatus(first, 201);
  assert.equal(first.json.status, 'Success');
  const bound = await ok(api(c, 'GET', `${PODS('default')}/bindme`));
  assert.equal(bound.spec.nodeName, 'node-1');
  assert.equal(bound.status.conditions.find((x: any) => x.type === 'PodScheduled')?.status, 'True');

  const second = await api(c, 'POST', `${PODS('default')}/bindme/binding`, binding('node-2'));
  expectStatus(second, 409);
  assert.equal(second.json.reason, 'Conflict');
  assert.equal(second.json.message, 'Operation cannot be fulfilled on pods/binding "bindme": pod bindme is already assigned to node "node-1"');
  assert.equal((await ok(api(c, 'GET', `${PODS('default')}/bindme`))).spec.nodeName, 'node-1');

  // The pod's own spec.nodeName cannot be changed by an update either.
  const moved = await api(c, 'PATCH', `${PODS('default')}/bindme`, { spec: { nodeName: 'node-3' } }, MERGE);
  expectStatus(moved, 422);
  assert.equal(moved.json.reason, 'Invalid');
});

// ---------------------------------------------------------------- a client library

test('@kubernetes/client-node: list StatefulSets, then watch from the list resourceVersion', async () => {
  const k8s = await import('@kubernetes/client-node');
  await namespace('client');
  await kubectlOk(c, ['create', '-n', 'client', '-f', '-'], { input: JSON.stringify(sts('before')) });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(c.kubeconfig);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const list = await apps.listNamespacedStatefulSet({ namespace: 'client' });
  assert.deepEqual(list.items.map((s) => s.metadata?.name), ['before']);
  assert.equal(list.items[0].spec?.podManagementPolicy, 'OrderedReady');
  const from = list.metadata?.resourceVersion;
  assert.match(String(from), /^\d+$/);

  const seen: string[] = [];
  const watch = new k8s.Watch(kc);
  let ended: unknown;
  const req = await watch.watch(
    '/apis/apps/v1/namespaces/client/statefulsets',
    { resourceVersion: from, allowWatchBookmarks: false },
    (type: string, obj: any) => seen.push(`${type} ${obj.metadata.name} ${obj.spec?.replicas}`),
    (err: unknown) => (ended = err ?? 'done'),
  );
  try {
    await kubectlOk(c, ['create', '-n', 'client', '-f', '-'], { input: JSON.stringify(sts('after')) });
    await kubectlOk(c, ['scale', '-n', 'client', 'sts', 'after', '--replicas=3']);
    await kubectlOk(c, ['delete', '-n', 'client', 'sts', 'after']);
    await waitUntil(() => seen.length >= 3, 10_000, () => `events: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen, ['ADDED after 1', 'MODIFIED after 3', 'DELETED after 3']);
    assert.equal(ended, undefined, 'the watch stays open');
  } finally {
    req.abort();
  }
});
