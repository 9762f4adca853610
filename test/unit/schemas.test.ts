import { test } from 'node:test';
import assert from 'node:assert/strict';
import { components, resolveSchema } from '../../src/api/schema.ts';
import type { Schema } from '../../src/api/schema.ts';
import '../../src/api/schemas/index.ts';
import { resources } from '../../src/api/registry.ts';
// The generated client models list every field of every type (for a newer release); they are
// our cross-check that no field is invented and none of the commonly used ones is missing.
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';

const PREFIX = '#/components/schemas/';

function walk(s: Schema | undefined, visit: (s: Schema, path: string) => void, path: string): void {
  if (!s) return;
  visit(s, path);
  for (const [k, p] of Object.entries(s.properties ?? {})) walk(p, visit, `${path}.${k}`);
  if (s.items) walk(s.items, visit, `${path}[]`);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, visit, `${path}{}`);
  for (const a of s.allOf ?? []) walk(a, visit, path);
}

/** The schema of a dotted field path under a component, following refs like kubectl does. */
function field(component: string, path: string): Schema {
  let s: Schema | undefined = components[component];
  for (const part of path.split('.')) {
    let r = resolveSchema(s);
    if (r?.items) r = resolveSchema(r.items);
    s = r?.properties?.[part];
    assert.ok(s, `${component}: no field ${path} (at ${part})`);
  }
  return s!;
}

test('every $ref points at a defined component', () => {
  const missing: string[] = [];
  for (const [name, schema] of Object.entries(components)) {
    walk(schema, (s, path) => {
      if (s.$ref && !components[s.$ref.slice(PREFIX.length)]) missing.push(`${path}: ${s.$ref}`);
      if (s.$ref) assert.ok(s.$ref.startsWith(PREFIX), s.$ref);
    }, name);
  }
  assert.deepEqual(missing, []);
});

test('every served kind and its list have a schema tagged with the right GVK', () => {
  for (const r of resources) {
    const s = components[r.schema];
    assert.ok(s, `no schema ${r.schema}`);
    assert.deepEqual(s['x-kubernetes-group-version-kind'], [{ group: r.group, version: r.version, kind: r.kind }]);
    const list = components[r.schema + 'List'];
    assert.ok(list, `no schema ${r.schema}List`);
    assert.deepEqual(list['x-kubernetes-group-version-kind'], [{ group: r.group, version: r.version, kind: r.kind + 'List' }]);
    for (const p of ['apiVersion', 'kind', 'metadata']) assert.ok(s.properties?.[p], `${r.kind}.${p}`);
  }
  for (const [name, g] of [
    ['io.k8s.api.autoscaling.v1.Scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' }],
    ['io.k8s.api.core.v1.Binding', { group: '', version: 'v1', kind: 'Binding' }],
    ['io.k8s.api.policy.v1.Eviction', { group: 'policy', version: 'v1', kind: 'Eviction' }],
    ['io.k8s.apimachinery.pkg.apis.meta.v1.Status', { group: '', version: 'v1', kind: 'Status' }],
  ] as const) {
    assert.deepEqual(components[name]['x-kubernetes-group-version-kind'], [g]);
  }
});

test('scalar wrappers look like upstream', () => {
  const ios = components['io.k8s.apimachinery.pkg.util.intstr.IntOrString'];
  assert.equal(ios.type, 'string');
  assert.equal(ios.format, 'int-or-string');
  assert.equal(ios['x-kubernetes-int-or-string'], true);
  assert.equal(components['io.k8s.apimachinery.pkg.api.resource.Quantity'].type, 'string');
  assert.equal(components['io.k8s.apimachinery.pkg.apis.meta.v1.Time'].format, 'date-time');
});

test('strategic-merge metadata matches upstream', () => {
  const cases: [string, string, string | undefined, string | undefined, string?][] = [
    // component, field path, merge key, strategy, list type
    ['io.k8s.api.core.v1.PodSpec', 'containers', 'name', 'merge', 'map'],
    ['io.k8s.api.core.v1.PodSpec', 'initContainers', 'name', 'merge', 'map'],
    ['io.k8s.api.core.v1.PodSpec', 'ephemeralContainers', 'name', 'merge', 'map'],
    ['io.k8s.api.core.v1.PodSpec', 'volumes', 'name', 'merge,retainKeys', 'map'],
    ['io.k8s.api.core.v1.PodSpec', 'imagePullSecrets', 'name', 'merge', 'map'],
    ['io.k8s.api.core.v1.PodSpec', 'hostAliases', 'ip', 'merge', 'map'],
    ['io.k8s.api.core.v1.PodSpec', 'tolerations', undefined, undefined, 'atomic'],
    ['io.k8s.api.core.v1.PodSpec', 'topologySpreadConstraints', 'topologyKey', 'merge', 'map'],
    ['io.k8s.api.core.v1.Container', 'ports', 'containerPort', 'merge', 'map'],
    ['io.k8s.api.core.v1.Container', 'env', 'name', 'merge', 'map'],
    ['io.k8s.api.core.v1.Container', 'volumeMounts', 'mountPath', 'merge', 'map'],
    ['io.k8s.api.core.v1.Container', 'volumeDevices', 'devicePath', 'merge', 'map'],
    ['io.k8s.api.core.v1.Container', 'envFrom', undefined, undefined, 'atomic'],
    ['io.k8s.api.core.v1.Container', 'command', undefined, undefined, 'atomic'],
    ['io.k8s.api.core.v1.PodStatus', 'conditions', 'type', 'merge', 'map'],
    ['io.k8s.api.core.v1.PodStatus', 'podIPs', 'ip', 'merge', 'map'],
    ['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers', undefined, 'merge', 'set'],
    ['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'ownerReferences', 'uid', 'merge', 'map'],
    ['io.k8s.api.core.v1.ServiceSpec', 'ports', 'port', 'merge', 'map'],
    ['io.k8s.api.core.v1.NodeStatus', 'conditions', 'type', 'merge', 'map'],
    ['io.k8s.api.core.v1.NodeStatus', 'addresses', 'type', 'merge', 'map'],
    ['io.k8s.api.core.v1.NodeSpec', 'podCIDRs', undefined, 'merge', 'set'],
    ['io.k8s.api.core.v1.ServiceAccount', 'secrets', 'name', 'merge', 'map'],
    ['io.k8s.api.apps.v1.StatefulSetStatus', 'conditions', 'type', 'merge', 'map'],
    ['io.k8s.api.apps.v1.StatefulSetSpec', 'volumeClaimTemplates', undefined, undefined, 'atomic'],
    ['io.k8s.api.policy.v1.PodDisruptionBudgetSpec', 'selector', undefined, 'replace', undefined],
  ];
  for (const [component, path, key, strategy, listType] of cases) {
    const s = field(component, path);
    const what = `${component}.${path}`;
    assert.equal(s['x-kubernetes-patch-merge-key'], key, `${what} merge key`);
    assert.equal(s['x-kubernetes-patch-strategy'], strategy, `${what} strategy`);
    assert.equal(s['x-kubernetes-list-type'], listType, `${what} list type`);
  }
  assert.deepEqual(field('io.k8s.api.core.v1.Container', 'ports')['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  assert.deepEqual(field('io.k8s.api.core.v1.ServiceSpec', 'ports')['x-kubernetes-list-map-keys'], ['port', 'protocol']);
  assert.equal(components['io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector']['x-kubernetes-map-type'], 'atomic');
  assert.equal(field('io.k8s.api.core.v1.PodSpec', 'nodeSelector')['x-kubernetes-map-type'], 'atomic');
  // StatefulSet's updateStrategy, unlike Deployment's strategy, has no retainKeys.
  assert.equal(field('io.k8s.api.apps.v1.StatefulSetSpec', 'updateStrategy')['x-kubernetes-patch-strategy'], undefined);
});

test('every property has a description', () => {
  const missing: string[] = [];
  for (const [name, schema] of Object.entries(components)) {
    assert.ok(schema.description, `${name} has no description`);
    for (const [k, p] of Object.entries(schema.properties ?? {})) if (!p.description) missing.push(`${name}.${k}`);
  }
  assert.deepEqual(missing, []);
});

test('StatefulSet fields that kubectl explain shows are well described', () => {
  const sts = 'io.k8s.api.apps.v1.StatefulSet';
  const paths = [
    'spec', 'status', 'spec.replicas', 'spec.selector', 'spec.serviceName', 'spec.template', 'spec.volumeClaimTemplates',
    'spec.podManagementPolicy', 'spec.updateStrategy', 'spec.updateStrategy.type', 'spec.updateStrategy.rollingUpdate',
    'spec.updateStrategy.rollingUpdate.partition', 'spec.updateStrategy.rollingUpdate.maxUnavailable',
    'spec.revisionHistoryLimit', 'spec.minReadySeconds', 'spec.persistentVolumeClaimRetentionPolicy',
    'spec.persistentVolumeClaimRetentionPolicy.whenDeleted', 'spec.persistentVolumeClaimRetentionPolicy.whenScaled',
    'spec.ordinals', 'spec.ordinals.start',
  ];
  for (const p of paths) {
    const d = field(sts, p).description ?? '';
    assert.ok(d.length >= 40, `${p}: description too short: ${JSON.stringify(d)}`);
  }
  assert.deepEqual(field(sts, 'spec.podManagementPolicy').enum, ['OrderedReady', 'Parallel']);
  assert.deepEqual(field(sts, 'spec.updateStrategy.type').enum, ['OnDelete', 'RollingUpdate']);
  assert.deepEqual(resolveSchema(components['io.k8s.api.apps.v1.StatefulSetSpec'])?.required, ['selector', 'template']);
});

// ---- cross-check with the generated client models ------------------------------------------

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const modelIndex = models as unknown as Record<string, { attributeTypeMap?: { baseName: string }[] }>;

function modelFor(component: string): { baseName: string }[] | undefined {
  const m = component.match(/^io\.k8s\.(?:api\.([a-z]+)|apimachinery\.pkg\.apis\.meta)\.v1\.([A-Za-z]+)$/);
  if (!m) return undefined;
  const [, group, kind] = m;
  const prefixed = group ? group.charAt(0).toUpperCase() + group.slice(1) + 'V1' + kind : undefined;
  return (prefixed && modelIndex[prefixed]?.attributeTypeMap) || modelIndex['V1' + kind]?.attributeTypeMap;
}

// Fields the client models know that Kubernetes v1.32 does not serve yet.
const AFTER_1_32 = new Set([
  'PodSpec.hostnameOverride', 'PodSpec.schedulingGroup', 'PodSpec.workloadRef',
  'PodStatus.extendedResourceClaimStatus', 'PodStatus.nodeAllocatableResourceClaimStatuses', 'PodStatus.observedGeneration',
  'PodCondition.observedGeneration', 'Container.restartPolicyRules', 'EphemeralContainer.restartPolicyRules',
  'Lifecycle.stopSignal', 'ContainerStatus.stopSignal', 'EnvVarSource.fileKeyRef', 'VolumeProjection.podCertificate',
  'VolumeMountStatus.volumeStatus', 'NodeStatus.declaredFeatures', 'ListMeta.shardInfo', 'EndpointHints.forNodes',
  'PodStatus.allocatedResources', 'PodStatus.resources', 'ResourceHealth.message',
  'DeploymentStatus.terminatingReplicas', 'ReplicaSetStatus.terminatingReplicas',
]);

// Fields Ordinal serves beyond v1.32 on purpose, each from a published proposal.
const BEYOND_1_32 = new Set([
  'StatefulSetSpec.volumeClaimUpdatePolicy', // KEP-4650: claims that grow with their template
]);

test('schemas only have fields the API has, and the core types have all of them', () => {
  const invented: string[] = [];
  const missing: string[] = [];
  let compared = 0;
  for (const [name, schema] of Object.entries(components)) {
    const attrs = modelFor(name);
    if (!attrs || !schema.properties) continue;
    compared++;
    const short = name.split('.').pop()!;
    const theirs = new Set(attrs.map((a) => a.baseName));
    for (const k of Object.keys(schema.properties)) if (!theirs.has(k) && !BEYOND_1_32.has(`${short}.${k}`)) invented.push(`${short}.${k}`);
    for (const k of theirs) if (!(k in schema.properties) && !AFTER_1_32.has(`${short}.${k}`)) missing.push(`${short}.${k}`);
  }
  assert.ok(compared > 150, `compared only ${compared} schemas`);
  assert.deepEqual(invented, []);
  assert.deepEqual(missing, []);
});
