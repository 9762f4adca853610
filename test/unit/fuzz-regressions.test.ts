// Requests the fuzzer (test/fuzz/) found answered with 500, reduced to the registry call that threw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobStrategy } from '../../src/api/kinds/workloads/batch.ts';

test('a Job with manualSelector and a template without metadata is invalid, not a crash', () => {
  const job: Record<string, any> = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default' }, spec: { manualSelector: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } } };
  jobStrategy.default(job);
  jobStrategy.prepareForCreate(job);
  const errs = jobStrategy.validate(job);
  assert.ok(errs.some((e) => e.field === 'spec.selector'), JSON.stringify(errs));
});

test('a watch resourceVersion must be a uint64: past 2^64-1, signed, fractional or exponent forms are 400s', async () => {
  const { serveWatch } = await import('../../src/apiserver/watch.ts');
  const { resources } = await import('../../src/api/registry.ts');
  const cm = resources.find((r) => r.kind === 'ConfigMap')!;
  let wrote = false;
  const res = { writeHead: () => (wrote = true), flushHeaders: () => {}, on: () => {}, once: () => {}, write: () => true, end: () => {} } as any;
  const cache = { revision: () => 1 } as any;
  for (const rv of ['18446744073709551616', '-1', '1.5', '1e3', ' 12', '0x10']) {
    assert.throws(() => serveWatch(res, cache, { resource: cm, namespace: 'default', filter: () => true, resourceVersion: rv, sendInitialEvents: false, allowBookmarks: false, initial: () => [] } as any), (err: any) => err.code === 400 || err.status?.code === 400, rv);
  }
  assert.equal(wrote, false);
});

test('watchResourceVersion: none and "0" start from now; uint64 digits only', async () => {
  const { watchResourceVersion } = await import('../../src/apiserver/watch.ts');
  assert.equal(watchResourceVersion(null), undefined);
  assert.equal(watchResourceVersion('0'), undefined);
  assert.equal(watchResourceVersion('42'), 42);
  assert.equal(watchResourceVersion('18446744073709551615'), 18446744073709551615);
  assert.throws(() => watchResourceVersion('18446744073709551616'), /invalid resource version "18446744073709551616"/);
});

test('a CRD whose versions list holds null is invalid, not a crash', async () => {
  const { crdStrategy } = await import('../../src/apiextensions/crd-strategy.ts');
  const crd: Record<string, any> = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'xs.a.b' }, spec: { group: 'a.b', scope: 'Namespaced', names: { plural: 'xs', kind: 'X' }, versions: [null, { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] } };
  crdStrategy.default(crd);
  crdStrategy.prepareForCreate(crd);
  assert.ok(crdStrategy.validate(crd).some((e) => e.field === 'spec.versions[0].name'));
});

test('a DELETE body of null is empty options; other non-objects are 400s', async () => {
  const { Readable } = await import('node:stream');
  const { deleteOptions } = await import('../../src/apiserver/handlers.ts');
  const req = (body: string) => Object.assign(Readable.from([Buffer.from(body)]), { headers: { 'content-type': 'application/json' } }) as any;
  assert.deepEqual(await deleteOptions(req('null'), new URLSearchParams()), { dryRun: false });
  await assert.rejects(deleteOptions(req('[1]'), new URLSearchParams()), (err: any) => (err.code ?? err.status?.code) === 400 && /cannot unmarshal array into Go value of type v1.DeleteOptions/.test(err.message));
});
