// The live view (/ui/) in a real headless Chromium, reached through the real `kubectl proxy` as a
// user would, against `ordinal up --runtime sim`: a partitioned rolling update seen as revisions
// and a partition line (checked on the screenshot's pixels), then scale, delete and taint followed
// live, and a user without rights shown the API's 403 instead of data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { startCluster, stopCluster, removeCluster, kubectlOk, waitUntil, tempDir, api, type Cluster } from './harness.ts';
import { decodePng, hex, near, pixel } from '../support/png.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (Debian package chromium; .ci/run installs it): the live view's browser test cannot run`;

// The page's revision and partition colours (src/ui/static/ui.css).
const CURRENT = hex('#2563eb');
const UPDATE = hex('#d97706');
const PARTITION = hex('#dc2626');
const VIEWPORT = { width: 1280, height: 900 };

const WEB = `apiVersion: v1
kind: Service
metadata: { name: nginx, labels: { app: nginx } }
spec:
  clusterIP: None
  selector: { app: nginx }
  ports: [{ port: 80, name: web }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: nginx
  replicas: 5
  selector: { matchLabels: { app: nginx } }
  updateStrategy: { type: RollingUpdate, rollingUpdate: { partition: 3 } }
  template:
    metadata: { labels: { app: nginx } }
    spec:
      containers: [{ name: nginx, image: registry.k8s.io/nginx-slim:0.8, ports: [{ containerPort: 80, name: web }] }]
  volumeClaimTemplates:
  - metadata: { name: www }
    spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
`;

interface Proxy {
  url: string;
  stop(): void;
}

const home = tempDir('ordinal-ui-home-');

/** `kubectl proxy` on a free port, in its own process group, with the cluster's kubeconfig. */
async function startProxy(c: Cluster, extra: string[] = []): Promise<Proxy> {
  const proc: ChildProcess = spawn('kubectl', ['proxy', '--port', '0', ...extra], {
    env: { ...process.env, KUBECONFIG: c.kubeconfig, HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubectl proxy did not start:\n${out}`)), 15_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /Starting to serve on [^\s]*:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`kubectl proxy exited with ${code}:\n${out}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => {
      try {
        process.kill(-proc.pid!, 'SIGTERM');
      } catch {}
    },
  };
}

let c: Cluster;
let admin: Proxy;
let browser: import('playwright-core').Browser;
let page: import('playwright-core').Page;

before(async () => {
  if (skip) return;
  c = await startCluster({ args: ['--nodes', '3', '--sim-start-delay', '300'] });
  admin = await startProxy(c);
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  admin?.stop();
  await stopCluster(c);
  removeCluster(c);
});

const json = async (args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json']));

/** The page's cell of each of the set's pods: [name, status, ready, revision role]. */
async function cells(): Promise<string[][]> {
  return page.$$eval('[data-set="web"] .cell', (els) => els.map((e) => [e.getAttribute('data-pod')!, e.getAttribute('data-status')!, e.getAttribute('data-ready')!, e.getAttribute('data-revision-role')!]));
}

async function waitForPage(cond: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  await waitUntil(cond, ms, () => `page: ${what}`);
}

test('/ui/ is served to authenticated users only, as a non-resource path', { skip }, async () => {
  const redirect = await fetch(`${admin.url}/ui`, { redirect: 'manual' });
  assert.equal(redirect.status, 301);
  assert.equal(new URL(redirect.headers.get('location')!, `${admin.url}/ui`).href, `${admin.url}/ui/`);
  const index = await fetch(`${admin.url}/ui/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type')!, /^text\/html/);
  assert.match(await index.text(), /<script type="module" src="app.js">/);
  const js = await fetch(`${admin.url}/ui/app.js`);
  assert.match(js.headers.get('content-type')!, /^text\/javascript/);
  const missing = await fetch(`${admin.url}/ui/nothing.js`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).reason, 'NotFound');
  // Without credentials, the server answers 401 (no anonymous access beyond the health paths).
  const anon = await new Promise<number>((resolve, reject) => {
    import('node:https').then((https) => https.get(`${c.url}/ui/`, { rejectUnauthorized: false }, (r) => (r.resume(), resolve(r.statusCode!))).on('error', reject));
  });
  assert.equal(anon, 401);
  // The default policy grants it to system:authenticated through ordinal:ui.
  const can = await kubectlOk(c, ['auth', 'can-i', 'get', '/ui/', '--as', 'someone']);
  assert.equal(can.trim(), 'yes');
  assert.equal((await api(c, 'GET', '/ui/', undefined, { 'Impersonate-User': 'someone' })).status, 200);
});

test('a partitioned rolling update: revisions per ordinal and the partition line, on the screenshot', { skip }, async () => {
  await kubectlOk(c, ['apply', '-f', '-'], { input: WEB });
  await kubectlOk(c, ['rollout', 'status', 'statefulset/web', '--timeout', '40s']);
  await kubectlOk(c, ['set', 'image', 'statefulset/web', 'nginx=registry.k8s.io/nginx-slim:0.9']);
  const rollout = await kubectlOk(c, ['rollout', 'status', 'statefulset/web', '--timeout', '40s']);
  assert.match(rollout, /partitioned roll out complete: 2 new pods have been updated/);
  const sts = await json(['get', 'statefulset', 'web']);
  const { currentRevision, updateRevision } = sts.status;
  assert.notEqual(currentRevision, updateRevision);

  await page.goto(`${admin.url}/ui`);
  assert.match(page.url(), /\/ui\/\?view=statefulsets&namespace=default$/);
  const expected = [0, 1, 2, 3, 4].map((i) => [`web-${i}`, 'Running', 'true', i < 3 ? 'current' : 'update']);
  await waitForPage(async () => JSON.stringify(await cells()) === JSON.stringify(expected), `cells ${JSON.stringify(expected)}, have ${JSON.stringify(await cells().catch(() => []))}`);
  await waitForPage(async () => (await page.textContent('#live')) === 'live', 'every watch open');
  await page.evaluate(() => ((window as any).__notReloaded = true));

  // What the cells say beside the colours: revision hashes, nodes and claims as the API has them.
  const pods = (await json(['get', 'pods', '-l', 'app=nginx'])).items as any[];
  for (const p of pods) {
    const cell = page.locator(`[data-pod="${p.metadata.name}"]`);
    assert.equal(await cell.getAttribute('data-revision'), p.metadata.labels['controller-revision-hash']);
    assert.equal((await cell.locator('.pod-node').textContent())!.replace('▣', '').trim(), p.spec.nodeName);
    assert.match((await cell.locator(`[data-claim="www-${p.metadata.name}"]`).textContent())!, /www-web-\d Bound/);
  }
  const progress = (await page.textContent('[data-set="web"] .progress'))!;
  assert.match(progress, /ready 5\/5/);
  assert.match(progress, /current 3\/5/);
  assert.match(progress, /updated 2\/5/);
  assert.equal(await page.textContent('[data-set="web"] .rev.current'), currentRevision);
  assert.equal(await page.textContent('[data-set="web"] .rev.update'), updateRevision);
  assert.match((await page.textContent('[data-set="web"] .events'))!, /SuccessfulCreate/);

  // The screenshot, checked at the page's own element boxes.
  const shot = await page.screenshot({ fullPage: true });
  // ORDINAL_UI_SCREENSHOT=docs/ui.png keeps the picture the README shows (the page down to the set).
  if (process.env.ORDINAL_UI_SCREENSHOT) {
    const set = (await page.locator('[data-set="web"]').boundingBox())!;
    writeFileSync(process.env.ORDINAL_UI_SCREENSHOT, await page.screenshot({ clip: { x: 0, y: 0, width: VIEWPORT.width, height: Math.ceil(set.y + set.height + 16) } }));
  }
  const png = decodePng(shot);
  const docHeight = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.equal(png.width, VIEWPORT.width);
  assert.equal(png.height, Math.max(VIEWPORT.height, docHeight));
  const box = async (sel: string) => {
    const b = await page.locator(sel).boundingBox();
    assert.ok(b, `no box for ${sel}`);
    return b;
  };
  const centre = (b: { x: number; y: number; width: number; height: number }) => pixel(png, b.x + b.width / 2, b.y + b.height / 2);
  for (let i = 0; i < 5; i++) {
    const bar = centre(await box(`[data-pod="web-${i}"] .rev-bar`));
    assert.ok(near(bar, i < 3 ? CURRENT : UPDATE), `web-${i}'s revision bar is ${bar}, expected ${i < 3 ? 'current' : 'update'}`);
  }
  assert.equal(await page.locator('[data-set="web"] .partition').count(), 1);
  const line = await box('[data-set="web"] .partition[data-partition="3"]');
  const web2 = await box('[data-pod="web-2"]');
  const web3 = await box('[data-pod="web-3"]');
  assert.ok(line.x >= web2.x + web2.width && line.x + line.width <= web3.x, `partition line ${JSON.stringify(line)} not between web-2 ${JSON.stringify(web2)} and web-3 ${JSON.stringify(web3)}`);
  assert.ok(near(centre(line), PARTITION), `partition line is ${centre(line)}`);
  // And nowhere else: the gap between web-1 and web-2 is background.
  const web1 = await box('[data-pod="web-1"]');
  const gap = pixel(png, (web1.x + web1.width + web2.x) / 2, web2.y + web2.height / 2);
  assert.ok(!near(gap, PARTITION), `gap between web-1 and web-2 is ${gap}`);
});

test('deleting a pod below the partition: the page follows it back to the current revision', { skip }, async () => {
  await page.evaluate(() => {
    const seen: string[] = ((window as any).__web1 = []);
    new MutationObserver(() => {
      const s = document.querySelector('[data-pod="web-1"]')?.getAttribute('data-status') ?? 'missing';
      if (seen[seen.length - 1] !== s) seen.push(s);
    }).observe(document.getElementById('view')!, { childList: true, subtree: true });
  });
  const before = (await json(['get', 'pod', 'web-1'])).metadata.uid;
  await kubectlOk(c, ['delete', 'pod', 'web-1']);
  await waitUntil(async () => {
    const p = await json(['get', 'pod', 'web-1']).catch(() => undefined);
    return p && p.metadata.uid !== before && p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True');
  }, 20_000, () => 'web-1 replaced and Ready');
  await waitForPage(async () => JSON.stringify((await cells())[1]) === JSON.stringify(['web-1', 'Running', 'true', 'current']), 'web-1 back at the current revision');
  const seen: string[] = await page.evaluate(() => (window as any).__web1);
  assert.ok(seen.some((s) => s !== 'Running'), `the page never showed web-1 away: ${seen}`);
  assert.equal(seen[seen.length - 1], 'Running');
});

test('kubectl scale --replicas 2: web-2..4 leave the page live, without a reload', { skip }, async () => {
  await kubectlOk(c, ['scale', 'statefulset', 'web', '--replicas', '2']);
  await waitForPage(async () => JSON.stringify((await cells()).map((x) => x[0])) === JSON.stringify(['web-0', 'web-1']), 'only web-0 and web-1', 30_000);
  assert.equal(await page.evaluate(() => (window as any).__notReloaded), true);
  // The partition (3) is now beyond the last ordinal: the line closes the row.
  const line = await page.locator('[data-set="web"] .partition').boundingBox();
  const web1 = await page.locator('[data-pod="web-1"]').boundingBox();
  assert.ok(line && web1 && line.x >= web1.x + web1.width);
  await waitForPage(async () => /ready 2\/2/.test((await page.textContent('[data-set="web"] .progress'))!), 'ready 2/2');
  // Claims stay (retention policy Retain), but not the cells.
  assert.equal((await json(['get', 'pvc'])).items.length, 5);
});

test('kubectl patch partition 0: the rollout reaches every ordinal and the line goes', { skip }, async () => {
  await kubectlOk(c, ['patch', 'statefulset', 'web', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}']);
  await kubectlOk(c, ['rollout', 'status', 'statefulset/web', '--timeout', '40s']);
  const sts = await json(['get', 'statefulset', 'web']);
  assert.equal(sts.status.currentRevision, sts.status.updateRevision);
  await waitForPage(async () => JSON.stringify(await cells()) === JSON.stringify([0, 1].map((i) => [`web-${i}`, 'Running', 'true', 'current'])), 'both at the one revision');
  assert.equal(await page.locator('[data-set="web"] .partition').count(), 0);
  assert.equal(await page.locator('[data-set="web"] .rev.update').count(), 0);
  for (const i of [0, 1]) assert.equal(await page.locator(`[data-pod="web-${i}"]`).getAttribute('data-revision'), sts.status.updateRevision);
  assert.equal(await page.evaluate(() => (window as any).__notReloaded), true);
});

test('the nodes view: Ready, taints and the pods each node runs, live', { skip }, async () => {
  await page.click('header nav a[data-view="nodes"]');
  const nodes = (await json(['get', 'nodes'])).items as any[];
  assert.equal(nodes.length, 3);
  await waitForPage(async () => (await page.locator('section.node').count()) === 3, 'three nodes');
  const pods = (await json(['get', 'pods'])).items as any[];
  for (const n of nodes) {
    const section = page.locator(`section.node[data-node="${n.metadata.name}"]`);
    assert.equal(await section.getAttribute('data-ready'), 'True');
    const shown = await section.locator('.pod').evaluateAll((els) => els.map((e) => e.getAttribute('data-pod')));
    const expected = pods.filter((p) => p.spec.nodeName === n.metadata.name).map((p) => `default/${p.metadata.name}`).sort();
    assert.deepEqual(shown, expected);
  }
  const target = nodes[0].metadata.name;
  await kubectlOk(c, ['taint', 'node', target, 'dedicated=db:NoSchedule']);
  await waitForPage(async () => (await page.locator(`section.node[data-node="${target}"] [data-taint="dedicated=db:NoSchedule"]`).count()) === 1, 'the new taint');
  await kubectlOk(c, ['taint', 'node', target, 'dedicated=db:NoSchedule-']);
  await waitForPage(async () => (await page.locator(`section.node[data-node="${target}"] .taint`).count()) === 0, 'the taint gone');
  // An administrator may choose all namespaces: pods then show with theirs, and the sets too.
  await kubectlOk(c, ['create', 'namespace', 'other']);
  await kubectlOk(c, ['apply', '-n', 'other', '-f', '-'], { input: WEB.replace('replicas: 5', 'replicas: 1') });
  await waitForPage(async () => (await page.locator('#namespace option[value="*"]').count()) === 1 && (await page.locator('#namespace option[value="other"]').count()) === 1, 'all namespaces and other offered');
  await page.selectOption('#namespace', '*');
  await waitForPage(async () => (await page.locator('section.node .pod[data-pod="other/web-0"]').count()) === 1, 'other/web-0 on a node');
  assert.match(page.url(), /view=nodes&namespace=\*/);
  await page.click('header nav a[data-view="statefulsets"]');
  await waitForPage(
    async () => JSON.stringify(await page.$$eval('[data-set]', (els) => els.map((e) => `${e.getAttribute('data-namespace')}/${e.getAttribute('data-set')}`))) === '["default/web","other/web"]',
    'both sets',
  );
});

test('a user who may not list: the page loads and shows the API\'s 403, not the data', { skip }, async () => {
  const alice = await startProxy(c, ['--as', 'alice']);
  const p = await browser.newPage({ viewport: VIEWPORT });
  try {
    await p.goto(`${alice.url}/ui/`);
    const err = p.locator('.error[data-resource="statefulsets"]');
    await err.waitFor({ timeout: 15_000 });
    assert.equal(
      await err.textContent(),
      'statefulsets: 403 Forbidden: statefulsets.apps is forbidden: User "alice" cannot list resource "statefulsets" in API group "apps" in the namespace "default"',
    );
    assert.match((await p.textContent('.error[data-resource="pods"]'))!, /pods is forbidden: User "alice" cannot list resource "pods"/);
    assert.equal(await p.locator('[data-set]').count(), 0);
    assert.equal(await p.textContent('#user'), 'alice');
    assert.equal(await p.locator('#namespace option[value="*"]').count(), 0);
    // Granted view in default, alice sees the set there, with her rights (the page retries refusals).
    await kubectlOk(c, ['create', 'rolebinding', 'alice-view', '--clusterrole=view', '--user=alice', '-n', 'default']);
    await p.locator('[data-set="web"] .cell[data-pod="web-0"][data-ready="true"]').waitFor({ timeout: 20_000 });
    await waitUntil(async () => (await p.locator('.error').count()) === 0, 10_000, () => 'errors gone');
    await p.click('header nav a[data-view="nodes"]');
    assert.match((await p.locator('.error[data-resource="nodes"]').textContent({ timeout: 10_000 }))!, /nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope/);
  } finally {
    await p.close();
    alice.stop();
  }
});

test('behind kubectl proxy --api-prefix: the page finds the API under the same prefix', { skip }, async () => {
  const prefixed = await startProxy(c, ['--api-prefix', '/k8s/']);
  const p = await browser.newPage({ viewport: VIEWPORT });
  try {
    await p.goto(`${prefixed.url}/k8s/ui`);
    assert.equal(p.url().split('?')[0], `${prefixed.url}/k8s/ui/`);
    await p.locator('[data-set="web"] .cell[data-pod="web-1"][data-ready="true"]').waitFor({ timeout: 15_000 });
    assert.equal(await p.locator('.error').count(), 0);
  } finally {
    await p.close();
    prefixed.stop();
  }
});
