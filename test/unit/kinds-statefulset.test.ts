import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../../src/api/field-errors.ts';
import { strategyFor } from '../../src/api/kinds/index.ts';
import type { Obj } from '../../src/api/resource.ts';

const sts = strategyFor('StatefulSet');

function web(mut?: (o: Obj) => void): Obj {
  const o: Obj = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.21', ports: [{ containerPort: 80, name: 'web' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
  mut?.(o);
  return o;
}

const created = (mut?: (o: Obj) => void): Obj => {
  const o = web(mut);
  sts.default(o);
  sts.prepareForCreate(o);
  return o;
};

const messages = (o: Obj) => sts.validate(o).map(formatFieldError);

test('statefulset defaults', () => {
  const o = web();
  sts.default(o);
  const s = o.spec;
  assert.equal(s.replicas, 1);
  assert.equal(s.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(s.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 1 } });
  assert.equal(s.revisionHistoryLimit, 10);
  assert.deepEqual(s.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  const ps = s.template.spec;
  assert.equal(ps.restartPolicy, 'Always');
  assert.equal(ps.dnsPolicy, 'ClusterFirst');
  assert.equal(ps.terminationGracePeriodSeconds, 30);
  assert.equal(ps.schedulerName, 'default-scheduler');
  assert.deepEqual(ps.securityContext, {});
  assert.equal(ps.enableServiceLinks, undefined, 'enableServiceLinks is a Pod-only default');
  const c = ps.containers[0];
  assert.equal(c.imagePullPolicy, 'IfNotPresent');
  assert.equal(c.terminationMessagePath, '/dev/termination-log');
  assert.equal(c.terminationMessagePolicy, 'File');
  assert.equal(c.ports[0].protocol, 'TCP');
  assert.deepEqual(c.resources, {});
  const vct = s.volumeClaimTemplates[0];
  assert.equal(vct.apiVersion, 'v1');
  assert.equal(vct.kind, 'PersistentVolumeClaim');
  assert.equal(vct.spec.volumeMode, 'Filesystem');
  assert.deepEqual(vct.status, { phase: 'Pending' });
});

test('explicit RollingUpdate without rollingUpdate keeps it absent', () => {
  const o = web((x) => (x.spec.updateStrategy = { type: 'RollingUpdate' }));
  sts.default(o);
  assert.deepEqual(o.spec.updateStrategy, { type: 'RollingUpdate' });
  const d = web((x) => (x.spec.updateStrategy = { type: 'OnDelete' }));
  sts.default(d);
  assert.deepEqual(d.spec.updateStrategy, { type: 'OnDelete' });
  const p = web((x) => (x.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%' } }));
  sts.default(p);
  assert.deepEqual(p.spec.updateStrategy.rollingUpdate, { partition: 0, maxUnavailable: '50%' });
});

test('create clears status and sets generation 1', () => {
  const o = web((x) => {
    x.status = { replicas: 5 };
    x.metadata.generation = 7;
  });
  sts.default(o);
  sts.prepareForCreate(o);
  assert.deepEqual(o.status, { replicas: 0, availableReplicas: 0 });
  assert.equal(o.metadata.generation, 1);
  assert.deepEqual(sts.validate(o), []);
});

test('update keeps status and bumps generation only on spec change', () => {
  const old = created();
  old.status = { replicas: 3, readyReplicas: 3 };
  const meta = structuredClone(old);
  meta.metadata.labels = { a: 'b' };
  meta.status = { replicas: 99 };
  sts.default(meta);
  sts.prepareForUpdate(meta, old);
  assert.equal(meta.metadata.generation, 1);
  assert.deepEqual(meta.status, { replicas: 3, readyReplicas: 3 });
  const scaled = structuredClone(old);
  scaled.spec.replicas = 5;
  sts.prepareForUpdate(scaled, old);
  assert.equal(scaled.metadata.generation, 2);
  assert.deepEqual(sts.validateUpdate(scaled, old), []);
});

test('status update keeps spec', () => {
  const old = created();
  old.metadata.generation = 4;
  const upd = structuredClone(old);
  upd.spec.replicas = 10;
  upd.status = { replicas: 1, observedGeneration: 4 };
  sts.prepareForStatusUpdate!(upd, old);
  assert.equal(upd.spec.replicas, 1);
  assert.deepEqual(upd.status, { replicas: 1, observedGeneration: 4 });
  assert.equal(upd.metadata.generation, 4);
});

const createCases: [string, (o: Obj) => void, string[]][] = [
  ['valid', () => {}, []],
  [
    'name must be a DNS-1123 label',
    (o) => (o.metadata.name = 'Web'),
    [
      "metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ],
  ],
  ['name with dots', (o) => (o.metadata.name = 'web.v1'), ['metadata.name: Invalid value: "web.v1": must not contain dots']],
  ['negative replicas', (o) => (o.spec.replicas = -1), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
  ['negative minReadySeconds', (o) => (o.spec.minReadySeconds = -1), ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0']],
  ['negative ordinals.start', (o) => (o.spec.ordinals = { start: -1 }), ['spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0']],
  [
    'negative partition',
    (o) => (o.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: -1 } }),
    ['spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0'],
  ],
  [
    'missing selector',
    (o) => delete o.spec.selector,
    ['spec.selector: Required value', 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`'],
  ],
  [
    'empty selector',
    (o) => (o.spec.selector = {}),
    ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset'],
  ],
  [
    'selector does not match',
    (o) => (o.spec.selector = { matchLabels: { app: 'other' } }),
    ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`'],
  ],
  [
    'bad podManagementPolicy',
    (o) => (o.spec.podManagementPolicy = 'Sometimes'),
    ['spec.podManagementPolicy: Invalid value: "Sometimes": must be \'OrderedReady\' or \'Parallel\''],
  ],
  [
    'bad update strategy type',
    (o) => (o.spec.updateStrategy = { type: 'Recreate' }),
    ['spec.updateStrategy: Invalid value: apps.StatefulSetUpdateStrategy{Type:"Recreate", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be \'RollingUpdate\' or \'OnDelete\''],
  ],
  [
    'rollingUpdate with OnDelete',
    (o) => (o.spec.updateStrategy = { type: 'OnDelete', rollingUpdate: { partition: 1 } }),
    ["spec.updateStrategy.rollingUpdate: Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:1, MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy 'RollingUpdate'"],
  ],
  [
    'maxUnavailable 0',
    (o) => (o.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } }),
    ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0'],
  ],
  [
    'maxUnavailable 0%',
    (o) => (o.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '0%' } }),
    ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0%: cannot be 0'],
  ],
  [
    'maxUnavailable over 100%',
    (o) => (o.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '150%' } }),
    ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 150%: must not be greater than 100%'],
  ],
  [
    'maxUnavailable negative',
    (o) => (o.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: -2 } }),
    ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: -2: must be greater than or equal to 0'],
  ],
  [
    'maxUnavailable not a percent',
    (o) => (o.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 'half' } }),
    [
      "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: half: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: half: cannot be 0',
    ],
  ],
  [
    'retention policy',
    (o) => (o.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Keep', whenScaled: 'Delete' }),
    ['spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"'],
  ],
  [
    'restartPolicy Never',
    (o) => (o.spec.template.spec.restartPolicy = 'Never'),
    ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
  ],
  [
    'activeDeadlineSeconds',
    (o) => (o.spec.template.spec.activeDeadlineSeconds = 10),
    ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported'],
  ],
  ['template pod spec is not validated', (o) => (o.spec.template.spec.containers = []), []],
  [
    'bad template label value',
    (o) => {
      o.spec.template.metadata.labels.x = '-bad';
    },
    [
      "spec.template.labels: Invalid value: \"-bad\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ],
  ],
  [
    'bad selector operator',
    (o) => (o.spec.selector = { matchExpressions: [{ key: 'app', operator: 'Like', values: ['x'] }] }),
    [
      'spec.selector.matchExpressions[0].operator: Invalid value: "Like": not a valid selector operator',
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"Like", Values:[]string{"x"}}}}',
    ],
  ],
];

for (const [name, mut, want] of createCases) {
  test(`statefulset create validation: ${name}`, () => {
    assert.deepEqual(messages(created(mut)), want);
  });
}

const updateCases: [string, (o: Obj) => void, string[]][] = [
  ['replicas', (o) => (o.spec.replicas = 3), []],
  ['template image', (o) => (o.spec.template.spec.containers[0].image = 'nginx:2'), []],
  ['updateStrategy', (o) => (o.spec.updateStrategy = { type: 'OnDelete' }), []],
  ['minReadySeconds', (o) => (o.spec.minReadySeconds = 5), []],
  ['ordinals', (o) => (o.spec.ordinals = { start: 2 }), []],
  ['retention policy', (o) => (o.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete', whenScaled: 'Delete' }), []],
  ...(['serviceName', 'podManagementPolicy', 'revisionHistoryLimit', 'volumeClaimTemplates', 'selector'] as const).map(
    (f): [string, (o: Obj) => void, string[]] => [
      f,
      (o) => {
        if (f === 'serviceName') o.spec.serviceName = 'other';
        if (f === 'podManagementPolicy') o.spec.podManagementPolicy = 'Parallel';
        if (f === 'revisionHistoryLimit') o.spec.revisionHistoryLimit = 3;
        if (f === 'volumeClaimTemplates') o.spec.volumeClaimTemplates[0].spec.accessModes = ['ReadWriteMany'];
        if (f === 'selector') {
          o.spec.selector = { matchLabels: { app: 'nginx', x: 'y' } };
          o.spec.template.metadata.labels.x = 'y';
        }
      },
      [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ],
    ],
  ),
  // KEP-4650: a claim template's storage request may grow, and only that.
  ['claim template storage grows', (o) => (o.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '2Gi'), []],
  ['claim template storage grows, same quantity spelled otherwise', (o) => (o.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '1024Mi'), []],
  [
    'claim template storage shrinks',
    (o) => (o.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '512Mi'),
    ['spec.volumeClaimTemplates[0].spec.resources.requests.storage: Forbidden: field can not be less than previous value'],
  ],
  [
    'claim template storage grows along with another template change',
    (o) => {
      o.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '2Gi';
      o.spec.volumeClaimTemplates[0].spec.storageClassName = 'fast';
    },
    ["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"],
  ],
  [
    'claim template added',
    (o) => o.spec.volumeClaimTemplates.push({ metadata: { name: 'logs' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }),
    ["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"],
  ],
  ['volumeClaimUpdatePolicy set', (o) => (o.spec.volumeClaimUpdatePolicy = 'InPlace'), []],
  [
    'volumeClaimUpdatePolicy unknown',
    (o) => (o.spec.volumeClaimUpdatePolicy = 'Sometimes'),
    ['spec.volumeClaimUpdatePolicy: Unsupported value: "Sometimes": supported values: "InPlace", "OnClaimDelete"'],
  ],
  [
    'name change',
    (o) => (o.metadata.name = 'web2'),
    ['metadata.name: Invalid value: "web2": field is immutable'],
  ],
];

for (const [name, mut, want] of updateCases) {
  test(`statefulset update validation: ${name}`, () => {
    const old = created();
    const upd = structuredClone(old);
    mut(upd);
    sts.default(upd);
    sts.prepareForUpdate(upd, old);
    assert.deepEqual(sts.validateUpdate(upd, old).map(formatFieldError), want);
  });
}

const statusCases: [string, Obj, Obj | undefined, string[]][] = [
  ['valid', { replicas: 3, readyReplicas: 2, availableReplicas: 2, collisionCount: 0, observedGeneration: 1 }, undefined, []],
  ['negative', { replicas: 1, currentReplicas: -1 }, undefined, ['status.currentReplicas: Invalid value: -1: must be greater than or equal to 0']],
  [
    'ready over replicas',
    { replicas: 1, readyReplicas: 2, availableReplicas: 2 },
    undefined,
    ['status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas', 'status.availableReplicas: Invalid value: 2: cannot be greater than status.replicas'],
  ],
  ['available over ready', { replicas: 3, readyReplicas: 1, availableReplicas: 2 }, undefined, ['status.availableReplicas: Invalid value: 2: cannot be greater than status.readyReplicas']],
  ['collisionCount decremented', { replicas: 0, collisionCount: 1 }, { collisionCount: 2 }, ['status.collisionCount: Invalid value: 1: cannot be decremented']],
];

for (const [name, status, oldStatus, want] of statusCases) {
  test(`statefulset status validation: ${name}`, () => {
    const old = created();
    if (oldStatus) old.status = oldStatus;
    const upd = structuredClone(old);
    upd.status = status;
    sts.prepareForStatusUpdate!(upd, old);
    assert.deepEqual(sts.validateStatusUpdate!(upd, old).map(formatFieldError), want);
  });
}

test('statefulset warnings', () => {
  const o = created((x) => (x.spec.revisionHistoryLimit = -1));
  assert.deepEqual(sts.warnings!(o), ['spec.revisionHistoryLimit: a negative value retains all historical revisions; a value >= 0 is recommended']);
  assert.deepEqual(sts.warnings!(created()), []);
});
