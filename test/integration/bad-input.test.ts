// Bad input gets upstream's error (status, reason, message, causes) and changes nothing; the
// server keeps serving afterwards. Driven with raw HTTPS and the real kubectl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, api, type Cluster, type ApiResponse } from './harness.ts';

let c: Cluster;
before(async () => {
  // The API's own semantics, with only the controllers these tests rely on (no set controller or nodes rewriting objects).
  c = await startCluster({ args: ['--controllers', 'garbagecollector,namespace,volume', '--nodes', '0'] });
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

const STS = '/apis/apps/v1/namespaces/default/statefulsets';
const CM = '/api/v1/namespaces/default/configmaps';
const MERGE = { 'Content-Type': 'application/merge-patch+json' };

function web(name = 'web'): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas: 2,
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.8' }] } },
      volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
}

function expectStatus(r: ApiResponse, status: number, reason: string): void {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.body.slice(0, 500)}`);
  assert.equal(r.json?.kind, 'Status', r.body.slice(0, 500));
  assert.equal(r.json.status, 'Failure');
  assert.equal(r.json.code, status);
  assert.equal(r.json.reason, reason);
}

/** After a rejected request: nothing stored under that name, and the server still answers. */
async function nothingStored(path: string): Promise<void> {
  const r = await api(c, 'GET', path);
  assert.equal(r.status, 404, `${path} should not exist: ${r.body.slice(0, 300)}`);
  assert.equal((await api(c, 'GET', '/readyz')).status, 200);
}

// ---------------------------------------------------------------- undecodable bodies

test('malformed JSON, non-object bodies and unknown media types are rejected', async () => {
  const cases: [string, string | Buffer, Record<string, string>, number, string, RegExp][] = [
    ['truncated JSON', '{"metadata": {"name": "x"', {}, 400, 'BadRequest', /json parse error/],
    ['trailing comma', '{"metadata": {"name": "x",}}', {}, 400, 'BadRequest', /json parse error/],
    ['a JSON array', '[1, 2]', {}, 400, 'BadRequest', /must be (a JSON )?an? object|must be an object/],
    ['a JSON string', '"x"', {}, 400, 'BadRequest', /must be/],
    ['malformed YAML', 'metadata:\n  name: [x\n', { 'Content-Type': 'application/yaml' }, 400, 'BadRequest', /^error converting YAML to JSON: /],
    [
      'text/plain',
      '{"metadata":{"name":"x"}}',
      { 'Content-Type': 'text/plain' },
      415,
      'UnsupportedMediaType',
      /^the body of the request was in an unknown format - accepted media types include: application\/json, application\/yaml, application\/vnd\.kubernetes\.protobuf$/,
    ],
  ];
  for (const [label, body, headers, status, reason, message] of cases) {
    const r = await api(c, 'POST', CM, body, headers);
    expectStatus(r, status, reason);
    assert.match(r.json.message, message, label);
  }
  await nothingStored(`${CM}/x`);

  const patch = await api(c, 'PATCH', `${CM}/x`, '{}', { 'Content-Type': 'text/plain' });
  expectStatus(patch, 415, 'UnsupportedMediaType');
  assert.equal(patch.json.message, 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml');
});

test('malformed YAML given to kubectl fails with a clear error before reaching the server', async () => {
  const r = await kubectl(c, ['create', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: 1\n' });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'error: error parsing STDIN: error converting YAML to JSON: yaml: line 4: did not find expected key\n');
  await nothingStored(`${CM}/x`);
});

test('a body over 3 MiB is 413 RequestEntityTooLarge', async () => {
  const big = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { blob: 'x'.repeat(3 * 1024 * 1024) } };
  const r = await api(c, 'POST', CM, big);
  expectStatus(r, 413, 'RequestEntityTooLarge');
  assert.equal(r.json.message, 'Request entity too large: limit is 3145728');
  await nothingStored(`${CM}/big`);

  // Under the body limit the object is decoded and validated: a ConfigMap holds at most 1 MiB.
  const fits = await api(c, 'POST', CM, { ...big, data: { blob: 'x'.repeat(2 * 1024 * 1024) } });
  expectStatus(fits, 422, 'Invalid');
  assert.equal(fits.json.message, 'ConfigMap "big" is invalid: : Too long: must have at most 1048576 bytes');
  await nothingStored(`${CM}/big`);

  const file = join(c.dataDir, 'big.json');
  writeFileSync(file, JSON.stringify(big));
  const k = await kubectl(c, ['create', '-f', file]);
  assert.equal(k.code, 1);
  assert.equal(k.stderr, `Error from server (RequestEntityTooLarge): error when creating "${file}": Request entity too large: limit is 3145728\n`);
  await nothingStored(`${CM}/big`);
});

test('wrong type meta, name or namespace in the body is 400 BadRequest', async () => {
  const cases: [string, string, string, unknown, string][] = [
    ['POST', STS, 'other-api', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'other-api' } }, 'the API version in the data (v1) does not match the expected API version (apps/v1)'],
    ['POST', STS, 'ns-mismatch', { ...web('ns-mismatch'), metadata: { name: 'ns-mismatch', namespace: 'kube-system' } }, 'the namespace of the provided object does not match the namespace sent on the request'],
    ['PUT', `${STS}/url-name`, 'url-name', web('body-name'), 'the name of the object (body-name) does not match the name on the URL (url-name)'],
  ];
  for (const [method, path, name, body, message] of cases) {
    const r = await api(c, method, path, body);
    expectStatus(r, 400, 'BadRequest');
    assert.equal(r.json.message, message);
    await nothingStored(`${STS}/${name}`);
  }
  const noNs = await api(c, 'POST', '/apis/apps/v1/namespaces/nope/statefulsets', web());
  expectStatus(noNs, 404, 'NotFound');
  assert.equal(noNs.json.message, 'namespaces "nope" not found');
  assert.deepEqual(noNs.json.details, { name: 'nope', kind: 'namespaces' });
});

// ---------------------------------------------------------------- validation

interface InvalidCase {
  name: string;
  mutate: (s: any) => void;
  /** [field, reason, message] per cause, in upstream's order. */
  causes: [string, string, string][];
}

const LABEL_RULE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const invalidCases: InvalidCase[] = [
  { name: 'negative replicas', mutate: (s) => (s.spec.replicas = -1), causes: [['spec.replicas', 'FieldValueInvalid', 'Invalid value: -1: must be greater than or equal to 0']] },
  {
    name: 'selector not matching the template labels',
    mutate: (s) => (s.spec.template.metadata.labels = { app: 'other' }),
    causes: [['spec.template.metadata.labels', 'FieldValueInvalid', 'Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`']],
  },
  {
    // A missing selector selects nothing, so upstream also reports that it does not match the template.
    name: 'missing selector',
    mutate: (s) => delete s.spec.selector,
    causes: [
      ['spec.selector', 'FieldValueRequired', 'Required value'],
      ['spec.template.metadata.labels', 'FieldValueInvalid', 'Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`'],
    ],
  },
  {
    name: 'bad podManagementPolicy',
    mutate: (s) => (s.spec.podManagementPolicy = 'Sometimes'),
    causes: [['spec.podManagementPolicy', 'FieldValueInvalid', `Invalid value: "Sometimes": must be 'OrderedReady' or 'Parallel'`]],
  },
  {
    name: 'bad updateStrategy type',
    mutate: (s) => (s.spec.updateStrategy = { type: 'Sometimes' }),
    causes: [['spec.updateStrategy', 'FieldValueInvalid', `Invalid value: apps.StatefulSetUpdateStrategy{Type:"Sometimes", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be 'RollingUpdate' or 'OnDelete'`]],
  },
  {
    name: 'rollingUpdate with OnDelete',
    mutate: (s) => (s.spec.updateStrategy = { type: 'OnDelete', rollingUpdate: { partition: 2 } }),
    causes: [['spec.updateStrategy.rollingUpdate', 'FieldValueInvalid', `Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:2, MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy 'RollingUpdate'`]],
  },
  { name: 'uppercase name', mutate: (s) => (s.metadata.name = 'Web'), causes: [['metadata.name', 'FieldValueInvalid', `Invalid value: "Web": ${LABEL_RULE}`]] },
  {
    name: 'restartPolicy Never',
    mutate: (s) => (s.spec.template.spec.restartPolicy = 'Never'),
    causes: [['spec.template.spec.restartPolicy', 'FieldValueNotSupported', 'Unsupported value: "Never": supported values: "Always"']],
  },
  {
    name: 'two errors at once',
    mutate: (s) => {
      s.spec.replicas = -3;
      s.spec.podManagementPolicy = 'Sometimes';
    },
    causes: [
      ['spec.podManagementPolicy', 'FieldValueInvalid', `Invalid value: "Sometimes": must be 'OrderedReady' or 'Parallel'`],
      ['spec.replicas', 'FieldValueInvalid', 'Invalid value: -3: must be greater than or equal to 0'],
    ],
  },
];

test('invalid StatefulSets are 422 Invalid with the field paths in details.causes, as kubectl prints them', async () => {
  for (const tc of invalidCases) {
    const body = web();
    tc.mutate(body);
    const name = body.metadata.name;
    const r = await api(c, 'POST', STS, body);
    expectStatus(r, 422, 'Invalid');
    const lines = tc.causes.map(([field, , message]) => `${field}: ${message}`);
    const summary = lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`;
    assert.equal(r.json.message, `StatefulSet.apps "${name}" is invalid: ${summary}`, tc.name);
    assert.deepEqual(
      r.json.details,
      { name, group: 'apps', kind: 'StatefulSet', causes: tc.causes.map(([field, reason, message]) => ({ reason, message, field })) },
      tc.name,
    );

    const k = await kubectl(c, ['create', '-f', '-'], { input: JSON.stringify(body) });
    assert.equal(k.code, 1, tc.name);
    const expected = lines.length === 1 ? `The StatefulSet "${name}" is invalid: ${lines[0]}\n` : `The StatefulSet "${name}" is invalid: \n${lines.map((l) => `* ${l}\n`).join('')}`;
    assert.equal(k.stderr, expected, tc.name);
    await nothingStored(`${STS}/${name}`);
  }
});

test('an empty selector is invalid for a StatefulSet', async () => {
  const body = web();
  body.spec.selector = {};
  const r = await api(c, 'POST', STS, body);
  expectStatus(r, 422, 'Invalid');
  assert.equal(r.json.details.causes.length, 1);
  assert.equal(r.json.details.causes[0].field, 'spec.selector');
  assert.equal(r.json.details.causes[0].reason, 'FieldValueInvalid');
  assert.match(r.json.details.causes[0].message, /^Invalid value: .*: empty selector is invalid for statefulset$/);
  await nothingStored(`${STS}/web`);
});

test(
  'an empty selector is rendered as upstream renders a dereferenced *LabelSelector (%#v)',
  {},
  async () => {
    const body = web();
    body.spec.selector = {};
    const r = await api(c, 'POST', STS, body);
    assert.equal(
      r.json.message,
      'StatefulSet.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset',
    );
  },
);

const FORBIDDEN =
  "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

test('updates of immutable StatefulSet fields are 422 with the Forbidden message and change nothing', async () => {
  const created = await api(c, 'POST', STS, web());
  assert.equal(created.status, 201, created.body);
  const before = created.json;
  const cases: [string, string[]][] = [
    ['serviceName', ['--type=merge', '-p', '{"spec":{"serviceName":"other"}}']],
    ['podManagementPolicy', ['--type=merge', '-p', '{"spec":{"podManagementPolicy":"Parallel"}}']],
    ['selector (with matching template labels)', ['--type=merge', '-p', '{"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}}}}}']],
    // Growing a template's storage request is allowed (KEP-4650, statefulset-claim-expand.test.ts); nothing else.
    ['volumeClaimTemplates', ['--type=json', '-p', '[{"op":"replace","path":"/spec/volumeClaimTemplates/0/spec/accessModes","value":["ReadWriteMany"]}]']],
  ];
  for (const [label, args] of cases) {
    const k = await kubectl(c, ['patch', 'sts', 'web', ...args]);
    assert.equal(k.code, 1, label);
    assert.equal(k.stderr, `The StatefulSet "web" is invalid: ${FORBIDDEN}\n`, label);
  }
  const put = await api(c, 'PUT', `${STS}/web`, { ...before, spec: { ...before.spec, serviceName: 'other' } });
  expectStatus(put, 422, 'Invalid');
  assert.equal(put.json.message, `StatefulSet.apps "web" is invalid: ${FORBIDDEN}`);
  assert.deepEqual(put.json.details.causes, [{ reason: 'FieldValueForbidden', message: FORBIDDEN.slice('spec: '.length), field: 'spec' }]);

  // The mutable fields still change in the same request shape.
  assert.equal(await kubectlOk(c, ['patch', 'sts', 'web', '--type=merge', '-p', '{"spec":{"replicas":3,"minReadySeconds":5}}']), 'statefulset.apps/web patched\n');
  const after = (await api(c, 'GET', `${STS}/web`)).json;
  assert.equal(after.spec.serviceName, 'nginx');
  assert.equal(after.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(after.spec.selector, before.spec.selector);
  assert.deepEqual(after.spec.volumeClaimTemplates, before.spec.volumeClaimTemplates);
  assert.equal(after.spec.replicas, 3);
});

test('a stale resourceVersion is 409 Conflict and stores nothing', async () => {
  const current = (await api(c, 'GET', `${STS}/web`)).json;
  const stale = { ...current, metadata: { ...current.metadata, resourceVersion: String(Number(current.metadata.resourceVersion) - 1) }, spec: { ...current.spec, replicas: 9 } };
  const r = await api(c, 'PUT', `${STS}/web`, stale);
  expectStatus(r, 409, 'Conflict');
  assert.equal(r.json.message, 'Operation cannot be fulfilled on statefulsets.apps "web": the object has been modified; please apply your changes to the latest version and try again');
  // The same precondition in a patch.
  const p = await api(c, 'PATCH', `${STS}/web`, { metadata: { resourceVersion: stale.metadata.resourceVersion }, spec: { replicas: 9 } }, MERGE);
  expectStatus(p, 409, 'Conflict');
  const after = (await api(c, 'GET', `${STS}/web`)).json;
  assert.deepEqual(after, current);
});

test('unknown fields under fieldValidation=Strict are 400 and store nothing', async () => {
  const body = web('strict');
  body.spec.replicaz = 3;
  body.metadata.labelz = { a: 'b' };
  const r = await api(c, 'POST', `${STS}?fieldValidation=Strict`, body);
  expectStatus(r, 400, 'BadRequest');
  assert.equal(r.json.message, 'StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "metadata.labelz", unknown field "spec.replicaz"');
  await nothingStored(`${STS}/strict`);

  // kubectl validates strictly by default.
  const k = await kubectl(c, ['create', '-f', '-'], { input: JSON.stringify(body) });
  assert.equal(k.code, 1);
  assert.equal(k.stderr, 'Error from server (BadRequest): error when creating "STDIN": StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "metadata.labelz", unknown field "spec.replicaz"\n');
  await nothingStored(`${STS}/strict`);
});

test('creating what exists is 409 AlreadyExists; deleting what does not is 404', async () => {
  const dup = await api(c, 'POST', STS, web());
  expectStatus(dup, 409, 'AlreadyExists');
  assert.equal(dup.json.message, 'statefulsets.apps "web" already exists');
  assert.deepEqual(dup.json.details, { name: 'web', group: 'apps', kind: 'statefulsets' });
  const k = await kubectl(c, ['create', '-f', '-'], { input: JSON.stringify(web()) });
  assert.equal(k.stderr, 'Error from server (AlreadyExists): error when creating "STDIN": statefulsets.apps "web" already exists\n');

  const gone = await api(c, 'DELETE', `${STS}/missing`);
  expectStatus(gone, 404, 'NotFound');
  assert.equal(gone.json.message, 'statefulsets.apps "missing" not found');
  const patch = await api(c, 'PATCH', `${STS}/missing`, { spec: { replicas: 1 } }, MERGE);
  expectStatus(patch, 404, 'NotFound');
  await nothingStored(`${STS}/missing`);
});

test('long selectors are served as upstream serves them; request headers past 1 MiB are refused with 431', async () => {
  // Upstream's API server reads up to 1 MiB of request line and headers; Node's own default
  // (16 KiB) had refused this selector of about 20 KB in the URL.
  await kubectlOk(c, ['create', 'configmap', 'sel-in', '--from-literal=a=b']);
  await kubectlOk(c, ['label', 'configmap', 'sel-in', 'sel=keep']);
  await kubectlOk(c, ['create', 'configmap', 'sel-out', '--from-literal=a=b']);
  await kubectlOk(c, ['label', 'configmap', 'sel-out', 'sel=v7']);
  const excluded = Array.from({ length: 3000 }, (_, i) => `v${i}`).join(',');
  const selector = `sel,sel notin (${excluded})`;
  assert.ok(selector.length > 16 * 1024);
  assert.equal(await kubectlOk(c, ['get', 'configmaps', '-l', selector, '-o', 'name']), 'configmap/sel-in\n');

  const tooLarge = await api(c, 'GET', CM, undefined, { 'X-Filler': 'x'.repeat((1 << 20) + 1) });
  assert.equal(tooLarge.status, 431);
  assert.equal((await api(c, 'GET', '/readyz')).status, 200);
});

test('the server still serves normally after all of the above', async () => {
  const names = await kubectlOk(c, ['get', 'sts', '-o', 'name']);
  assert.equal(names, 'statefulset.apps/web\n');
  assert.equal(await kubectlOk(c, ['create', 'configmap', 'after', '--from-literal=a=b']), 'configmap/after created\n');
});
