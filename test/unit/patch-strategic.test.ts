import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineComponents, ref, type Schema } from '../../src/api/schema.ts';
import { applyStrategicMergePatch, PatchError } from '../../src/apiserver/patch/index.ts';

// Small schemas carrying upstream's patch metadata for the fields the cases touch. Names are
// private to this test so they never collide with the real component registry.
const str: Schema = { type: 'string' };
const strMap: Schema = { type: 'object', additionalProperties: str };
const merge = (mergeKey: string, items: Schema, strategy = 'merge'): Schema => ({
  type: 'array',
  items,
  'x-kubernetes-patch-merge-key': mergeKey,
  'x-kubernetes-patch-strategy': strategy,
});
// Upstream wraps a $ref in allOf when it adds a default beside it; lookups must see through.
const wrapped = (name: string): Schema => ({ allOf: [ref(name)], default: {} });

defineComponents({
  'test.patch.ObjectMeta': {
    type: 'object',
    properties: {
      name: str,
      labels: strMap,
      annotations: strMap,
      finalizers: { type: 'array', items: str, 'x-kubernetes-patch-strategy': 'merge' },
      ownerReferences: merge('uid', { type: 'object', properties: { uid: str, name: str } }),
    },
  },
  'test.patch.ContainerPort': { type: 'object', properties: { containerPort: { type: 'integer' }, name: str, protocol: str } },
  'test.patch.EnvVar': { type: 'object', properties: { name: str, value: str } },
  'test.patch.Container': {
    type: 'object',
    properties: {
      name: str,
      image: str,
      args: { type: 'array', items: str },
      ports: merge('containerPort', wrapped('test.patch.ContainerPort')),
      env: merge('name', wrapped('test.patch.EnvVar')),
      volumeMounts: merge('mountPath', { type: 'object', properties: { name: str, mountPath: str } }),
      resources: { type: 'object', properties: { limits: strMap, requests: strMap } },
    },
  },
  'test.patch.Volume': {
    type: 'object',
    properties: {
      name: str,
      emptyDir: { type: 'object', properties: { medium: str } },
      configMap: { type: 'object', properties: { name: str } },
      secret: { type: 'object', properties: { secretName: str } },
    },
  },
  'test.patch.PodSpec': {
    type: 'object',
    properties: {
      containers: merge('name', wrapped('test.patch.Container')),
      initContainers: merge('name', wrapped('test.patch.Container')),
      volumes: merge('name', wrapped('test.patch.Volume'), 'merge,retainKeys'),
      tolerations: { type: 'array', items: { type: 'object', properties: { key: str, effect: str, value: str } } },
      nodeSelector: strMap,
      matrix: { type: 'array', items: { type: 'array', items: str }, 'x-kubernetes-patch-strategy': 'merge' },
    },
  },
  'test.patch.PodTemplateSpec': { type: 'object', properties: { metadata: wrapped('test.patch.ObjectMeta'), spec: wrapped('test.patch.PodSpec') } },
  'test.patch.DeploymentStrategy': {
    type: 'object',
    properties: { type: str, rollingUpdate: { type: 'object', properties: { maxSurge: str, maxUnavailable: str } } },
  },
  'test.patch.WorkloadSpec': {
    type: 'object',
    properties: {
      replicas: { type: 'integer' },
      template: wrapped('test.patch.PodTemplateSpec'),
      strategy: { ...wrapped('test.patch.DeploymentStrategy'), 'x-kubernetes-patch-strategy': 'retainKeys' },
      updateStrategy: { type: 'object', properties: { type: str, rollingUpdate: { type: 'object', properties: { partition: { type: 'integer' } } } } },
      selector: { type: 'object', properties: { matchLabels: strMap } },
    },
  },
  'test.patch.Workload': { type: 'object', properties: { metadata: wrapped('test.patch.ObjectMeta'), spec: wrapped('test.patch.WorkloadSpec') } },
});

const WORKLOAD = ref('test.patch.Workload');

type Obj = Record<string, any>;

/** A StatefulSet-like object as the server stores it. */
function web(): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', labels: { app: 'nginx' }, finalizers: ['a', 'b'] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'nginx' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx:1.1',
              ports: [{ containerPort: 80, name: 'web' }, { containerPort: 443, name: 'tls' }],
              env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }],
              volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }],
            },
            { name: 'sidecar', image: 'busybox', args: ['sleep', '1000'] },
          ],
          volumes: [{ name: 'cache', emptyDir: {} }, { name: 'conf', configMap: { name: 'nginx-conf' } }],
          tolerations: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }],
        },
      },
    },
  };
}

/** web() changed by `edit`, so cases state only what moves. */
function webWith(edit: (o: Obj) => void): Obj {
  const o = web();
  edit(o);
  return o;
}

const podSpec = (o: Obj) => o.spec.template.spec;
const nginx = (o: Obj) => podSpec(o).containers[0];

interface Case {
  name: string;
  doc?: Obj;
  patch: unknown;
  schema?: Schema | null; // null: no schema at all
  want?: unknown;
  err?: { code: number; detail: string };
}

const cases: Case[] = [
  // ---- maps and scalars
  { name: 'kubectl patch replicas', patch: { spec: { replicas: 3 } }, want: webWith((o) => (o.spec.replicas = 3)) },
  { name: 'null deletes a key', patch: { spec: { updateStrategy: { rollingUpdate: null } } }, want: webWith((o) => delete o.spec.updateStrategy.rollingUpdate) },
  { name: 'null for a missing key changes nothing and leaves no null', patch: { spec: { minReadySeconds: null } }, want: web() },
  { name: 'nulls inside a new value are dropped', patch: { spec: { template: { spec: { nodeSelector: { disk: 'ssd', gone: null } } } } }, want: webWith((o) => (podSpec(o).nodeSelector = { disk: 'ssd' })) },
  { name: 'a changed type replaces', patch: { spec: { replicas: '3' } }, want: webWith((o) => (o.spec.replicas = '3')) },
  {
    name: 'kubectl rollout restart adds the restartedAt annotation',
    patch: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z' } } } } },
    want: webWith((o) => (o.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z' })),
  },

  // ---- merge lists of maps
  {
    name: 'kubectl set image merges the container by name, order kept',
    patch: { spec: { template: { spec: { containers: [{ image: 'nginx:1.2', name: 'nginx' }] } } } },
    want: webWith((o) => (nginx(o).image = 'nginx:1.2')),
  },
  {
    name: 'set image on the second container keeps order',
    patch: { spec: { template: { spec: { containers: [{ image: 'busybox:2', name: 'sidecar' }] } } } },
    want: webWith((o) => (podSpec(o).containers[1].image = 'busybox:2')),
  },
  {
    name: 'a new container without $setElementOrder goes before the server-only ones (as upstream)',
    patch: { spec: { template: { spec: { containers: [{ name: 'log', image: 'fluentd' }] } } } },
    want: webWith((o) => podSpec(o).containers.unshift({ name: 'log', image: 'fluentd' })),
  },
  {
    name: 'a new container between patched ones keeps the patch order',
    patch: { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'n2' }, { name: 'log', image: 'fluentd' }, { name: 'sidecar', image: 'b2' }] } } } },
    want: webWith((o) => {
      const [n, s] = podSpec(o).containers;
      n.image = 'n2';
      s.image = 'b2';
      podSpec(o).containers = [n, { name: 'log', image: 'fluentd' }, s];
    }),
  },
  {
    name: 'nested merge lists: ports by containerPort, env by name',
    patch: { spec: { template: { spec: { containers: [{ name: 'nginx', ports: [{ containerPort: 443, name: 'https' }], env: [{ name: 'B', value: 'two' }] }] } } } },
    want: webWith((o) => {
      nginx(o).ports[1].name = 'https';
      nginx(o).env[1].value = 'two';
    }),
  },
  {
    name: '$patch: delete removes the element with that key',
    patch: { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
    want: webWith((o) => podSpec(o).containers.splice(1, 1)),
  },
  {
    name: '$patch: delete of an absent element is a no-op',
    patch: { spec: { template: { spec: { containers: [{ name: 'nope', $patch: 'delete' }] } } } },
    want: web(),
  },
  {
    name: '$patch: replace inside a list replaces the list',
    patch: { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } } },
    want: webWith((o) => (podSpec(o).containers = [{ name: 'only', image: 'x' }])),
  },
  {
    name: 'a null inside a merged element deletes that field',
    patch: { spec: { template: { spec: { containers: [{ name: 'sidecar', args: null }] } } } },
    want: webWith((o) => delete podSpec(o).containers[1].args),
  },
  {
    name: 'ownerReferences merge by uid',
    doc: { metadata: { ownerReferences: [{ uid: '1', name: 'a' }] } },
    patch: { metadata: { ownerReferences: [{ uid: '2', name: 'b' }] } },
    want: { metadata: { ownerReferences: [{ uid: '2', name: 'b' }, { uid: '1', name: 'a' }] } },
  },

  // ---- lists without a merge strategy are atomic
  {
    name: 'tolerations (no strategy) are replaced whole',
    patch: { spec: { template: { spec: { tolerations: [{ key: 'c', effect: 'NoSchedule' }] } } } },
    want: webWith((o) => (podSpec(o).tolerations = [{ key: 'c', effect: 'NoSchedule' }])),
  },
  {
    name: 'args (no strategy) are replaced whole',
    patch: { spec: { template: { spec: { containers: [{ name: 'sidecar', args: ['sleep', '5'] }] } } } },
    want: webWith((o) => (podSpec(o).containers[1].args = ['sleep', '5'])),
  },

  // ---- lists of scalars with merge strategy
  { name: 'finalizers are unioned, new ones first as upstream', patch: { metadata: { finalizers: ['c', 'a'] } }, want: webWith((o) => (o.metadata.finalizers = ['c', 'a', 'b'])) },
  { name: 'finalizers: duplicates collapse', patch: { metadata: { finalizers: ['b', 'b'] } }, want: web() },
  { name: '$deleteFromPrimitiveList removes scalars', patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a', 'zz'] } }, want: webWith((o) => (o.metadata.finalizers = ['b'])) },
  {
    name: '$deleteFromPrimitiveList with additions and $setElementOrder (kubectl apply)',
    patch: { metadata: { '$setElementOrder/finalizers': ['b', 'c'], finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['a'] } },
    want: webWith((o) => (o.metadata.finalizers = ['b', 'c'])),
  },
  { name: '$deleteFromPrimitiveList on a missing list does nothing', doc: { metadata: {} }, patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, want: { metadata: {} } },
  { name: '$deleteFromPrimitiveList deletes on a list without merge strategy too', doc: { spec: { template: { spec: { containers: [{ name: 'x', args: ['a', 'b'] }] } } } }, patch: { spec: { template: { spec: { containers: [{ name: 'x', '$deleteFromPrimitiveList/args': ['a'] }] } } } }, want: { spec: { template: { spec: { containers: [{ name: 'x', args: ['b'] }] } } } } },

  // ---- $setElementOrder
  {
    name: '$setElementOrder reorders without content changes',
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'nginx' }] } } } },
    want: webWith((o) => podSpec(o).containers.reverse()),
  },
  {
    name: '$setElementOrder places a new container where the user wrote it',
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'log' }, { name: 'sidecar' }], containers: [{ name: 'log', image: 'fluentd' }] } } } },
    want: webWith((o) => podSpec(o).containers.splice(1, 0, { name: 'log', image: 'fluentd' })),
  },
  {
    name: '$setElementOrder with a deletion (kubectl apply removing a container)',
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
    want: webWith((o) => podSpec(o).containers.splice(1, 1)),
  },
  {
    name: '$setElementOrder/env reorders env inside a merged container',
    patch: { spec: { template: { spec: { containers: [{ name: 'nginx', '$setElementOrder/env': [{ name: 'C' }, { name: 'A' }, { name: 'B' }] }] } } } },
    want: webWith((o) => {
      const [a, b, c] = nginx(o).env;
      nginx(o).env = [c, a, b];
    }),
  },
  {
    name: 'server-only items keep their place among ordered ones',
    doc: { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'injected' }, { name: 'b' }] } } } },
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'b', image: 'x' }] } } } },
    want: { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'injected' }, { name: 'b', image: 'x' }] } } } },
  },
  {
    name: '$setElementOrder for a list the object does not have yet',
    doc: { spec: { template: { spec: {} } } },
    patch: { spec: { template: { spec: { '$setElementOrder/initContainers': [{ name: 'i1' }, { name: 'i2' }], initContainers: [{ name: 'i1', image: 'a' }, { name: 'i2', image: 'b' }] } } } },
    want: { spec: { template: { spec: { initContainers: [{ name: 'i1', image: 'a' }, { name: 'i2', image: 'b' }] } } } },
  },

  // ---- $retainKeys
  {
    name: '$retainKeys swaps a volume source (emptyDir → secret)',
    patch: { spec: { template: { spec: { volumes: [{ $retainKeys: ['name', 'secret'], name: 'cache', secret: { secretName: 's' } }] } } } },
    want: webWith((o) => (podSpec(o).volumes[0] = { name: 'cache', secret: { secretName: 's' } })),
  },
  {
    name: '$retainKeys on a map field (Deployment strategy → Recreate)',
    doc: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } } },
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    want: { spec: { strategy: { type: 'Recreate' } } },
  },
  {
    name: '$retainKeys allows null deletions of unlisted keys',
    doc: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } } },
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } },
    want: { spec: { strategy: { type: 'Recreate' } } },
  },

  // ---- map directives
  {
    name: 'kubectl rollout undo replaces the whole template ($patch: replace)',
    patch: { spec: { template: { $patch: 'replace', metadata: { labels: { app: 'nginx', v: '1' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.0' }] } } } },
    want: webWith((o) => (o.spec.template = { metadata: { labels: { app: 'nginx', v: '1' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.0' }] } })),
  },
  {
    name: '$patch: delete on a map empties it',
    patch: { spec: { updateStrategy: { $patch: 'delete' } } },
    want: webWith((o) => (o.spec.updateStrategy = {})),
  },
  {
    name: '$patch: delete on an absent map does not add it',
    patch: { spec: { template: { spec: { securityContext: { $patch: 'delete' } } } } },
    want: web(),
  },
  {
    name: 'directives inside a value taken whole are dropped (upstream #117568)',
    doc: { spec: { template: { spec: {} } } },
    patch: { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'b', $patch: 'delete' }] } } } },
    want: { spec: { template: { spec: { containers: [{ name: 'a' }] } } } },
  },
  { name: 'root $patch: replace replaces everything', doc: { a: 1, b: 2 }, patch: { $patch: 'replace', c: 3 }, want: { c: 3 } },

  // ---- unknown schema: merge-patch semantics, directives honoured
  {
    name: 'fields the schema does not know merge like a merge patch',
    doc: { spec: { extra: { list: [1, 2], m: { a: 1 } } } },
    patch: { spec: { extra: { list: [3], m: { b: 2 } } } },
    want: { spec: { extra: { list: [3], m: { a: 1, b: 2 } } } },
  },
  {
    name: 'with no schema at all, lists of maps are replaced',
    schema: null,
    doc: { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b' }] } },
    patch: { spec: { containers: [{ name: 'a', image: '2' }] } },
    want: { spec: { containers: [{ name: 'a', image: '2' }] } },
  },
  { name: 'with no schema, $patch: replace still works', schema: null, doc: { m: { a: 1 } }, patch: { m: { $patch: 'replace', b: 2 } }, want: { m: { b: 2 } } },
  { name: 'null patch is empty', patch: null, want: web() },

  // ---- errors
  { name: 'patch must be an object', patch: [1], err: { code: 400, detail: 'json: cannot unmarshal array into Go value of type map[string]interface {}' } },
  { name: 'unknown $patch value on a map', doc: { m: { a: 1 } }, patch: { m: { $patch: 'foo', a: 1 } }, err: { code: 500, detail: 'unknown patch type: foo in map: map[$patch:foo a:1]' } },
  { name: 'unknown $patch value in a list', patch: { spec: { template: { spec: { containers: [{ name: 'nginx', $patch: 'foo' }] } } } }, err: { code: 500, detail: 'unknown patch type: foo in map: map[$patch:foo name:nginx]' } },
  { name: '$patch: merge in a list', patch: { spec: { template: { spec: { containers: [{ $patch: 'merge' }] } } } }, err: { code: 500, detail: 'merging lists cannot yet be specified in the patch' } },
  { name: 'list element without its merge key', patch: { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }, err: { code: 500, detail: 'map: map[image:x] does not contain declared merge key: name' } },
  { name: '$patch: delete without merge key', patch: { spec: { template: { spec: { containers: [{ $patch: 'delete' }] } } } }, err: { code: 500, detail: 'map: map[$patch:delete] does not contain declared merge key: name' } },
  { name: 'mixed element types', patch: { metadata: { finalizers: [1] } }, err: { code: 500, detail: 'list element types are not identical: [[a b] [1]]' } },
  { name: 'lists of lists', doc: { spec: { template: { spec: { matrix: [['a']] } } } }, patch: { spec: { template: { spec: { matrix: [['b']] } } } }, err: { code: 422, detail: 'lists of lists are not supported' } },
  { name: '$retainKeys that is not a list', doc: { spec: { strategy: { type: 'Recreate' } } }, patch: { spec: { strategy: { $retainKeys: 'type' } } }, err: { code: 400, detail: 'invalid patch format of retainKeys' } },
  { name: '$retainKeys missing a key the patch sets', patch: { spec: { template: { spec: { volumes: [{ $retainKeys: ['name'], name: 'cache', secret: {} }] } } } }, err: { code: 400, detail: 'invalid patch format of retainKeys' } },
  { name: 'malformed $setElementOrder key', patch: { metadata: { $setElementOrderfinalizers: ['a'] } }, err: { code: 400, detail: 'invalid patch format of setElementOrder list' } },
  { name: 'malformed $deleteFromPrimitiveList key', patch: { metadata: { $deleteFromPrimitiveListfinalizers: ['a'] } }, err: { code: 400, detail: 'invalid patch format of primitive list' } },
  {
    name: 'patch list out of $setElementOrder order',
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [{ name: 'sidecar', image: 'a' }, { name: 'nginx', image: 'b' }] } } } },
    err: { code: 500, detail: "The order in patch list:\n[map[image:a name:sidecar] map[image:b name:nginx]]\n doesn't match $setElementOrder list:\n[map[name:nginx] map[name:sidecar]]\n" },
  },
];

for (const c of cases) {
  test(`strategic merge patch: ${c.name}`, () => {
    const doc = c.doc ?? web();
    const schema = c.schema === null ? undefined : (c.schema ?? WORKLOAD);
    const docBefore = structuredClone(doc);
    const patchBefore = structuredClone(c.patch);
    if (c.err) {
      assert.throws(
        () => applyStrategicMergePatch(doc, c.patch, schema),
        (e: unknown) => {
          assert.ok(e instanceof PatchError, String(e));
          assert.equal(e.detail, c.err!.detail);
          assert.equal(e.code, c.err!.code);
          return true;
        },
      );
    } else {
      assert.deepEqual(applyStrategicMergePatch(doc, c.patch, schema), c.want);
    }
    assert.deepEqual(doc, docBefore, 'document must not change');
    assert.deepEqual(c.patch, patchBefore, 'patch must not change');
  });
}

test('strategic merge patch: the second kubectl apply of a changed manifest', () => {
  // What kubectl v1.32 sends after the user edited web.yaml: image bumped, a port removed, env C
  // dropped, a new env var, a label removed, and the last-applied annotation refreshed.
  const lastApplied = '{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"annotations":{},"name":"web"},"spec":{"replicas":2}}\n';
  const live = webWith((o) => {
    o.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': 'old' };
    o.spec.template.metadata.labels.tier = 'web';
  });
  const patch = {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } },
    spec: {
      template: {
        metadata: { labels: { tier: null } },
        spec: {
          '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }],
          containers: [
            {
              '$setElementOrder/env': [{ name: 'A' }, { name: 'D' }, { name: 'B' }],
              '$setElementOrder/ports': [{ containerPort: 80 }],
              env: [{ name: 'D', value: '4' }, { name: 'C', $patch: 'delete' }],
              image: 'nginx:1.2',
              name: 'nginx',
              ports: [{ containerPort: 443, $patch: 'delete' }],
            },
          ],
        },
      },
    },
  };
  const got = applyStrategicMergePatch(live, patch, WORKLOAD);
  const want = webWith((o) => {
    o.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied };
    const c = nginx(o);
    c.image = 'nginx:1.2';
    c.ports = [{ containerPort: 80, name: 'web' }];
    c.env = [{ name: 'A', value: '1' }, { name: 'D', value: '4' }, { name: 'B', value: '2' }];
  });
  assert.deepEqual(got, want);
  assert.equal(JSON.stringify(got).includes('$'), false, 'no directive may leak into the object');
});

test('strategic merge patch: 500 errors have no reason (upstream omits an empty one) and the text as message', () => {
  try {
    applyStrategicMergePatch(web(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }, WORKLOAD);
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof PatchError);
    const s = e.toStatus();
    assert.equal(s.code, 500);
    assert.equal('reason' in s, false);
    assert.equal(s.message, 'map: map[image:x] does not contain declared merge key: name');
  }
});

test('strategic merge patch: the result shares nothing with its inputs', () => {
  const doc = web();
  const patch = { spec: { template: { spec: { tolerations: [{ key: 'z' }] } } } };
  const out = applyStrategicMergePatch(doc, patch, WORKLOAD) as Obj;
  out.spec.template.spec.tolerations[0].key = 'changed';
  out.metadata.labels.app = 'changed';
  assert.equal(patch.spec.template.spec.tolerations[0].key, 'z');
  assert.equal(doc.metadata.labels.app, 'nginx');
});
