// The in-process client's LIST with a field selector: a node's pods (spec.nodeName=<node>) come
// from the watch cache's index instead of a scan of every pod, and must be exactly what a scan
// finds, in the same order, with the rest of the selector and the namespace still applied.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from '../support/inprocess.ts';
import type { Obj } from '../../src/api/resource.ts';
import { makeFilter } from '../../src/apiserver/filter.ts';

let t: TestApi;

before(async () => {
  t = await startTestApi();
});

after(async () => {
  await t?.close();
});

const pod = (namespace: string, name: string, nodeName?: string): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels: { app: name.startsWith('db') ? 'db' : 'web' } },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }] },
});

test('in-process LIST by spec.nodeName finds what a scan finds, in key order', async () => {
  const { client } = t;
  const pods = client.resource('', 'pods');
  const namespaces = client.resource('', 'namespaces');
  await client.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  // Pods are admitted once their namespace's default service account exists.
  const sa = client.resource('', 'serviceaccounts');
  for (let i = 0; i < 50; i++) {
    if ((await client.list(sa, { namespace: 'other' })).items.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Created out of key order, on two nodes, and one not scheduled.
  const made: [string, string, string | undefined][] = [
    ['default', 'web-2', 'n1'],
    ['other', 'web-1', 'n1'],
    ['default', 'db-0', 'n2'],
    ['default', 'web-0', 'n1'],
    ['default', 'web-1', 'n2'],
    ['other', 'db-1', 'n1'],
    ['default', 'pending', undefined],
  ];
  for (const [ns, name, node] of made) await client.create(pods, ns, pod(ns, name, node));

  const all = (await client.list(pods, {})).items;
  const names = (items: Obj[]) => items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
  const cases: { namespace?: string; fieldSelector: string; labelSelector?: string }[] = [
    { fieldSelector: 'spec.nodeName=n1' },
    { fieldSelector: 'spec.nodeName=n2' },
    { fieldSelector: 'spec.nodeName=n3' },
    { fieldSelector: 'spec.nodeName=' },
    { fieldSelector: 'spec.nodeName=n1', namespace: 'default' },
    { fieldSelector: 'spec.nodeName=n1', namespace: 'other' },
    { fieldSelector: 'spec.nodeName=n1,metadata.name!=web-0' },
    { fieldSelector: 'spec.nodeName==n1', labelSelector: 'app=db' },
    { fieldSelector: 'spec.nodeName!=n1' },
  ];
  for (const c of cases) {
    const got = (await client.list(pods, c)).items;
    const filter = makeFilter(pods, c.labelSelector, c.fieldSelector);
    const want = all.filter((p) => (c.namespace === undefined || p.metadata.namespace === c.namespace) && filter(p));
    assert.deepEqual(names(got), names(want), JSON.stringify(c));
  }
  assert.deepEqual(names((await client.list(pods, { fieldSelector: 'spec.nodeName=n1' })).items), ['default/web-0', 'default/web-2', 'other/db-1', 'other/web-1']);
});
