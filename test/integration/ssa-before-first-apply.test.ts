// Server-side apply to an object without field management, with the real kubectl: once its
// managedFields are reset with [{}], updates do not track it again, and the first apply records
// what it holds under "before-first-apply" (an Update), so the applier conflicts with those fields.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

const getJson = async (...args: string[]) => JSON.parse(await kubectlOk(c, ['get', ...args, '-o', 'json', '--show-managed-fields']));
const applied = (data: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data });

test('the first apply after managedFields were reset conflicts with before-first-apply; forcing takes the field over', async () => {
  await kubectlOk(c, ['create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=b=2']);
  assert.deepEqual((await getJson('cm', 'cfg')).metadata.managedFields.map((e: any) => e.manager), ['kubectl-create']);
  await kubectlOk(c, ['patch', 'cm', 'cfg', '--type=merge', '-p', '{"metadata":{"managedFields":[{}]}}']);
  assert.equal((await getJson('cm', 'cfg')).metadata.managedFields, undefined);
  // An untracked object stays untracked through updates.
  await kubectlOk(c, ['label', 'cm', 'cfg', 'team=db']);
  const labelled = await getJson('cm', 'cfg');
  assert.equal(labelled.metadata.labels.team, 'db');
  assert.equal(labelled.metadata.managedFields, undefined);

  const conflict = await kubectl(c, ['apply', '--server-side', '--field-manager=deployer', '-f', '-'], { input: applied({ a: 'changed' }) });
  assert.notEqual(conflict.code, 0);
  assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "before-first-apply" using v1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: \.data\.a/);
  assert.equal((await getJson('cm', 'cfg')).data.a, '1', 'a refused apply changes nothing');

  const forced = await kubectl(c, ['apply', '--server-side', '--field-manager=deployer', '--force-conflicts', '-f', '-'], { input: applied({ a: 'changed' }) });
  assert.equal(forced.code, 0, forced.stderr);
  const after = await getJson('cm', 'cfg');
  assert.equal(after.data.a, 'changed');
  const byManager = Object.fromEntries(after.metadata.managedFields.map((e: any) => [e.manager, e]));
  assert.deepEqual(Object.keys(byManager).sort(), ['before-first-apply', 'deployer']);
  assert.equal(byManager.deployer.operation, 'Apply');
  assert.deepEqual(byManager.deployer.fieldsV1, { 'f:data': { 'f:a': {} } });
  const bfa = byManager['before-first-apply'];
  assert.deepEqual([bfa.operation, bfa.apiVersion], ['Update', 'v1']);
  // It keeps what the applier did not take: the other key and the label.
  assert.deepEqual(bfa.fieldsV1, { 'f:data': { '.': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:team': {} } } });

  // From now on the object is tracked: a later update is recorded.
  await kubectlOk(c, ['label', 'cm', 'cfg', 'tier=backend']);
  assert.ok((await getJson('cm', 'cfg')).metadata.managedFields.some((e: any) => e.manager === 'kubectl-label'));
});

test('an apply that only adds fields to an untracked object succeeds and leaves the rest to before-first-apply', async () => {
  await kubectlOk(c, ['create', 'configmap', 'plain', '--from-literal=k=v']);
  await kubectlOk(c, ['patch', 'cm', 'plain', '--type=json', '-p', '[{"op":"replace","path":"/metadata/managedFields","value":[{}]}]']);
  const out = await kubectl(c, ['apply', '--server-side', '--field-manager=adder', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain' }, data: { extra: 'x' } }) });
  assert.equal(out.code, 0, out.stderr);
  const cm = await getJson('cm', 'plain');
  assert.deepEqual(cm.data, { k: 'v', extra: 'x' });
  const managers = cm.metadata.managedFields.map((e: any) => `${e.manager}/${e.operation}`);
  assert.deepEqual(managers, ['adder/Apply', 'before-first-apply/Update']);
});
