import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  openApiV3Index, openApiV3Document, openApiV3Served, openApiV3Paths, openApiV2Document, gvPathOf,
} from '../../src/api/openapi.ts';
import { resources } from '../../src/api/registry.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const doc = (gv: string): Json => openApiV3Document(gv) as Json;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

function sameGvk(a: Json, b: Json): boolean {
  return a.group === b.group && a.version === b.version && a.kind === b.kind;
}

test('the index lists every group version with a content hash', () => {
  const index = openApiV3Index() as Json;
  const expected = [...new Set(resources.map(gvPathOf))].sort();
  assert.deepEqual(Object.keys(index.paths).sort(), expected);
  assert.deepEqual(openApiV3Paths().sort(), expected);
  for (const gv of expected) {
    const served = openApiV3Served(gv)!;
    assert.match(served.hash, /^[0-9A-F]{128}$/);
    assert.equal(served.hash, createHash('sha512').update(served.json).digest('hex').toUpperCase());
    assert.equal(index.paths[gv].serverRelativeURL, `/openapi/v3/${gv}?hash=${served.hash}`);
    assert.deepEqual(JSON.parse(served.json), doc(gv));
  }
  assert.equal(openApiV3Document('apis/nope/v1'), undefined);
  assert.equal(openApiV3Document('/apis/apps/v1'), openApiV3Document('apis/apps/v1'));
});

test('documents are self-contained: every $ref resolves inside the document', () => {
  for (const gv of openApiV3Paths()) {
    const d = doc(gv);
    assert.equal(d.openapi, '3.0.0');
    assert.deepEqual(d.info, { title: 'Kubernetes', version: 'v1.32.0' });
    for (const r of refsIn(d)) {
      assert.ok(r.startsWith('#/components/schemas/'), r);
      assert.ok(d.components.schemas[r.slice('#/components/schemas/'.length)], `${gv}: unresolved ${r}`);
    }
  }
});

test('every resource has the upstream paths and operations', () => {
  for (const r of resources) {
    const d = doc(gvPathOf(r));
    const base = `/${gvPathOf(r)}/${r.namespaced ? 'namespaces/{namespace}/' : ''}${r.plural}`;
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const expect = (path: string, method: string, action: string, kind: Json = gvk) => {
      const o = d.paths[path]?.[method];
      assert.ok(o, `${method} ${path}`);
      assert.equal(o['x-kubernetes-action'], action, `${method} ${path}`);
      assert.deepEqual(o['x-kubernetes-group-version-kind'], kind, `${method} ${path}`);
      assert.ok(o.operationId && o.responses?.['200'], `${method} ${path}`);
    };
    expect(base, 'get', 'list');
    expect(base, 'post', 'post');
    expect(base, 'delete', 'deletecollection');
    expect(`${base}/{name}`, 'get', 'get');
    expect(`${base}/{name}`, 'put', 'put');
    expect(`${base}/{name}`, 'patch', 'patch');
    expect(`${base}/{name}`, 'delete', 'delete');
    if (r.subresources.includes('status')) expect(`${base}/{name}/status`, 'patch', 'patch');
    if (r.subresources.includes('scale')) expect(`${base}/{name}/scale`, 'put', 'put', { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    if (r.subresources.includes('binding')) expect(`${base}/{name}/binding`, 'post', 'post', { group: '', version: 'v1', kind: 'Binding' });
    if (r.subresources.includes('eviction')) expect(`${base}/{name}/eviction`, 'post', 'post', { group: 'policy', version: 'v1', kind: 'Eviction' });
    if (r.namespaced) expect(`/${gvPathOf(r)}/${r.plural}`, 'get', 'list');
    const read = d.paths[`${base}/{name}`].get.responses['200'].content['application/json'].schema.$ref;
    assert.equal(read, `#/components/schemas/${r.schema}`);
  }
});

// Mirrors kubectl's query-param verifier: the first PATCH operation found for the GVK decides,
// and paths are visited in no particular order, so every one of them must qualify.
test('every PATCH operation of every kind offers fieldValidation, dryRun and fieldManager as query parameters', () => {
  for (const r of resources) {
    const d = doc(gvPathOf(r));
    const patches = Object.values(d.paths as Json)
      .map((item: Json) => item.patch)
      .filter((o: Json | undefined) => o && sameGvk(o['x-kubernetes-group-version-kind'], r));
    assert.ok(patches.length >= 1, `${r.kind}: no PATCH operation`);
    for (const o of patches) {
      for (const name of ['fieldValidation', 'dryRun', 'fieldManager']) {
        assert.ok(o.parameters.some((p: Json) => p.name === name && p.in === 'query'), `${r.kind} ${o.operationId}: ${name}`);
      }
      const types = Object.keys(o.requestBody.content);
      for (const t of ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']) {
        assert.ok(types.includes(t), `${o.operationId}: ${t}`);
      }
    }
  }
  const sts = doc('apis/apps/v1').paths['/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}'].patch;
  assert.ok(sts.parameters.some((p: Json) => p.name === 'fieldValidation'));
  for (const path of Object.values(doc('apis/apps/v1').paths as Json)) {
    for (const m of ['post', 'put']) {
      if (path[m]) assert.ok(path[m].parameters.some((p: Json) => p.name === 'fieldValidation'), path[m].operationId);
    }
  }
});

// Mirrors the lookup of kubectl explain's v3 template: GVK from an operation on the list or item
// path, then the one component schema carrying that GVK.
test('kubectl explain can find each kind\'s schema', () => {
  for (const r of resources) {
    const d = doc(gvPathOf(r));
    const prefix = r.group ? `/apis/${r.group}` : '/api';
    const candidates = [
      `${prefix}/${r.version}/${r.plural}`, `${prefix}/${r.version}/${r.plural}/{name}`,
      `${prefix}/${r.version}/namespaces/{namespace}/${r.plural}`, `${prefix}/${r.version}/namespaces/{namespace}/${r.plural}/{name}`,
    ];
    let gvk: Json | undefined;
    outer: for (const p of candidates) {
      for (const m of METHODS) {
        gvk = d.paths[p]?.[m]?.['x-kubernetes-group-version-kind'];
        if (gvk) break outer;
      }
    }
    assert.deepEqual(gvk, { group: r.group, kind: r.kind, version: r.version });
    const matches = Object.entries(d.components.schemas as Json)
      .filter(([, s]) => (s['x-kubernetes-group-version-kind'] ?? []).some((g: Json) => sameGvk(g, gvk!)));
    assert.deepEqual(matches.map(([n]) => n), [r.schema]);
  }
  // Nested types travel with the kind.
  const apps = doc('apis/apps/v1').components.schemas;
  for (const n of ['io.k8s.api.apps.v1.StatefulSetSpec', 'io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy', 'io.k8s.api.core.v1.PodSpec', 'io.k8s.api.core.v1.PersistentVolumeClaim', 'io.k8s.apimachinery.pkg.util.intstr.IntOrString', 'io.k8s.api.autoscaling.v1.Scale']) {
    assert.ok(apps[n], n);
  }
  assert.equal(apps['io.k8s.api.core.v1.Node'], undefined, 'only reachable components are included');
});

test('the swagger 2.0 document uses #/definitions throughout', () => {
  const v2 = openApiV2Document() as Json;
  assert.equal(v2.swagger, '2.0');
  for (const r of refsIn(v2)) {
    assert.ok(r.startsWith('#/definitions/'), r);
    assert.ok(v2.definitions[r.slice('#/definitions/'.length)], r);
  }
  const spec = v2.definitions['io.k8s.api.apps.v1.StatefulSet'].properties.spec;
  assert.equal(spec.$ref, '#/definitions/io.k8s.api.apps.v1.StatefulSetSpec');
  assert.ok(spec.description);
  const patch = v2.paths['/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}'].patch;
  assert.ok(patch.parameters.some((p: Json) => p.name === 'fieldValidation' && p.in === 'query' && p.type === 'string'));
  assert.ok(patch.consumes.includes('application/strategic-merge-patch+json'));
});

test('documents are built once and reused', () => {
  assert.equal(openApiV3Document('apis/apps/v1'), openApiV3Document('apis/apps/v1'));
  assert.equal(openApiV2Document(), openApiV2Document());
});
