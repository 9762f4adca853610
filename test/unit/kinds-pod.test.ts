import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../../src/api/field-errors.ts';
import { strategyFor } from '../../src/api/kinds/index.ts';
import { addDefaultTolerations, computeQOSClass } from '../../src/api/kinds/pod.ts';
import { imageTag } from '../../src/api/kinds/podspec.ts';
import type { Obj } from '../../src/api/resource.ts';

const pods = strategyFor('Pod');

function pod(mut?: (o: Obj) => void): Obj {
  const o: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-0', namespace: 'default' },
    spec: {
      containers: [
        {
          name: 'nginx',
          image: 'nginx',
          ports: [{ containerPort: 80 }],
          readinessProbe: { httpGet: { port: 80 } },
          volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }],
        },
      ],
      volumes: [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }],
    },
  };
  mut?.(o);
  return o;
}

const created = (mut?: (o: Obj) => void) => {
  const o = pod(mut);
  pods.default(o);
  pods.prepareForCreate(o);
  // What the DefaultTolerationSeconds admission plugin adds on create.
  addDefaultTolerations(o.spec);
  return o;
};

test('pod defaults and create preparation', () => {
  const o = created();
  const s = o.spec;
  assert.equal(s.restartPolicy, 'Always');
  assert.equal(s.dnsPolicy, 'ClusterFirst');
  assert.equal(s.terminationGracePeriodSeconds, 30);
  assert.equal(s.schedulerName, 'default-scheduler');
  assert.deepEqual(s.securityContext, {});
  assert.equal(s.enableServiceLinks, true);
  assert.equal(s.priority, 0);
  assert.equal(s.preemptionPolicy, 'PreemptLowerPriority');
  assert.deepEqual(s.tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]);
  const c = s.containers[0];
  assert.equal(c.imagePullPolicy, 'Always');
  assert.equal(c.terminationMessagePath, '/dev/termination-log');
  assert.equal(c.terminationMessagePolicy, 'File');
  assert.equal(c.ports[0].protocol, 'TCP');
  assert.deepEqual(c.resources, {});
  assert.deepEqual(c.readinessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(o.status, { phase: 'Pending', qosClass: 'BestEffort' });
  assert.equal(o.metadata.generation, undefined);
  assert.deepEqual(pods.validate(o), []);
});

test('existing tolerations are not duplicated', () => {
  const o = created((x) => (x.spec.tolerations = [{ operator: 'Exists' }]));
  assert.deepEqual(o.spec.tolerations, [{ operator: 'Exists' }]);
});

test('image pull policy by tag', () => {
  const cases: [string, string][] = [
    ['nginx', 'latest'],
    ['nginx:latest', 'latest'],
    ['nginx:1.25', '1.25'],
    ['localhost:5000/nginx', 'latest'],
    ['localhost:5000/nginx:v1', 'v1'],
    ['nginx@sha256:abc', ''],
    ['nginx:1.2@sha256:abc', '1.2'],
  ];
  for (const [image, tag] of cases) assert.equal(imageTag(image), tag, image);
});

test('qos class', () => {
  const withRes = (resources: Obj[]) => ({ containers: resources.map((r, i) => ({ name: `c${i}`, resources: r })) });
  assert.equal(computeQOSClass(withRes([{}])), 'BestEffort');
  assert.equal(computeQOSClass(withRes([{ requests: { cpu: '100m' } }])), 'Burstable');
  assert.equal(computeQOSClass(withRes([{ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1000m', memory: '1024Mi' } }])), 'Guaranteed');
  assert.equal(computeQOSClass(withRes([{ limits: { cpu: '1', memory: '1Gi' } }, {}])), 'Burstable');
  // Defaulting copies limits into requests, which makes a limits-only pod Guaranteed.
  const o = created((x) => (x.spec.containers[0].resources = { limits: { cpu: '1', memory: '1Gi' } }));
  assert.deepEqual(o.spec.containers[0].resources.requests, { cpu: '1', memory: '1Gi' });
  assert.equal(o.status.qosClass, 'Guaranteed');
});

const createCases: [string, (o: Obj) => void, string[]][] = [
  ['valid', () => {}, []],
  [
    'bad name',
    (o) => (o.metadata.name = 'Web_0'),
    [
      "metadata.name: Invalid value: \"Web_0\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ],
  ],
  ['no containers', (o) => (o.spec.containers = []), ['spec.containers: Required value']],
  ['no image', (o) => delete o.spec.containers[0].image, ['spec.containers[0].image: Required value']],
  [
    'duplicate container name',
    (o) => o.spec.containers.push({ name: 'nginx', image: 'x' }),
    ['spec.containers[1].name: Duplicate value: "nginx"'],
  ],
  [
    'container port out of range',
    (o) => (o.spec.containers[0].ports[0].containerPort = 70000),
    ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive'],
  ],
  ['unknown volume', (o) => (o.spec.containers[0].volumeMounts[0].name = 'data'), ['spec.containers[0].volumeMounts[0].name: Not found: "data"']],
  [
    'duplicate volume',
    (o) => o.spec.volumes.push({ name: 'www', emptyDir: {} }),
    ['spec.volumes[1].name: Duplicate value: "www"'],
  ],
  [
    'bad restart policy',
    (o) => (o.spec.restartPolicy = 'Sometimes'),
    ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'],
  ],
  [
    'requests above limits',
    (o) => (o.spec.containers[0].resources = { requests: { cpu: '2' }, limits: { cpu: '1' } }),
    ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'],
  ],
];

for (const [name, mut, want] of createCases) {
  test(`pod create validation: ${name}`, () => {
    assert.deepEqual(pods.validate(created(mut)).map(formatFieldError), want);
  });
}

const forbiddenMsg =
  'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

const updateCases: [string, (o: Obj) => void, string[]][] = [
  ['image', (o) => (o.spec.containers[0].image = 'nginx:1.26'), []],
  ['labels', (o) => (o.metadata.labels = { a: 'b' }), []],
  ['activeDeadlineSeconds set', (o) => (o.spec.activeDeadlineSeconds = 30), []],
  ['added toleration', (o) => o.spec.tolerations.push({ key: 'k', operator: 'Exists', effect: 'NoSchedule' }), []],
  ['removed container', (o) => o.spec.containers.pop(), ['spec.containers: Required value', 'spec.containers: Forbidden: pod updates may not add or remove containers']],
  [
    'removed toleration',
    (o) => o.spec.tolerations.pop(),
    ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds'],
  ],
];

for (const [name, mut, want] of updateCases) {
  test(`pod update validation: ${name}`, () => {
    const old = created();
    const upd = structuredClone(old);
    mut(upd);
    pods.default(upd);
    pods.prepareForUpdate(upd, old);
    assert.deepEqual(pods.validateUpdate(upd, old).map(formatFieldError), want);
  });
}

test('pod update of other fields is forbidden with the upstream message', () => {
  const old = created();
  const upd = structuredClone(old);
  upd.spec.containers[0].ports[0].containerPort = 8080;
  pods.prepareForUpdate(upd, old);
  const errs = pods.validateUpdate(upd, old).map(formatFieldError);
  assert.equal(errs.length, 1);
  assert.ok(errs[0].startsWith(forbiddenMsg + '\n'), errs[0]);
});

test('pod update keeps status; status update keeps spec and qosClass', () => {
  const old = created();
  old.status.phase = 'Running';
  const upd = structuredClone(old);
  upd.status = { phase: 'Failed' };
  pods.prepareForUpdate(upd, old);
  assert.equal(upd.status.phase, 'Running');
  const st = structuredClone(old);
  st.spec.nodeName = 'x';
  st.status = { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }] };
  pods.prepareForStatusUpdate!(st, old);
  assert.equal(st.spec.nodeName, undefined);
  assert.equal(st.status.qosClass, 'BestEffort');
  assert.deepEqual(pods.validateStatusUpdate!(st, old), []);
  st.status.podIPs = [{ ip: 'nope' }];
  assert.deepEqual(pods.validateStatusUpdate!(st, old).map(formatFieldError), [
    'status.podIPs[0]: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
  ]);
});
