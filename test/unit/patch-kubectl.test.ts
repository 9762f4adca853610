// The patches kubectl v1.32 sends for the StatefulSet tutorial's commands, applied with the real
// StatefulSet schema (its merge keys and strategies come from src/api/schemas).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/api/schemas/index.ts';
import { components } from '../../src/api/schema.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../../src/apiserver/patch/index.ts';

type Obj = Record<string, any>;

const STS = components['io.k8s.api.apps.v1.StatefulSet'];

/** web.yaml from the tutorial, as the server stores it (a few defaults filled in). */
function web(): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: 'u1',
      resourceVersion: '10',
      generation: 1,
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}\n' },
    },
    spec: {
      serviceName: 'nginx',
      replicas: 2,
      selector: { matchLabels: { app: 'nginx' } },
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'registry.k8s.io/nginx-slim:0.21',
              ports: [{ containerPort: 80, name: 'web', protocol: 'TCP' }],
              volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }],
              imagePullPolicy: 'IfNotPresent',
            },
          ],
          volumes: [{ name: 'scratch', emptyDir: {} }],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
        },
      },
      volumeClaimTemplates: [
        { metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      ],
    },
  };
}

function webWith(edit: (o: Obj) => void): Obj {
  const o = web();
  edit(o);
  return o;
}

const podSpec = (o: Obj) => o.spec.template.spec;

test('the StatefulSet schema is registered', () => {
  assert.ok(STS, 'io.k8s.api.apps.v1.StatefulSet must be defined');
});

test('kubectl set image statefulset web nginx=nginx:1.2', () => {
  const patch = { spec: { template: { spec: { containers: [{ image: 'nginx:1.2', name: 'nginx' }] } } } };
  assert.deepEqual(applyStrategicMergePatch(web(), patch, STS), webWith((o) => (podSpec(o).containers[0].image = 'nginx:1.2')));
});

test('kubectl patch statefulset web -p {"spec":{"replicas":3}}', () => {
  assert.deepEqual(applyStrategicMergePatch(web(), { spec: { replicas: 3 } }, STS), webWith((o) => (o.spec.replicas = 3)));
});

test('kubectl patch with a rolling update partition', () => {
  const patch = { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 3 } } } };
  assert.deepEqual(applyStrategicMergePatch(web(), patch, STS), webWith((o) => (o.spec.updateStrategy.rollingUpdate.partition = 3)));
});

test('kubectl patch --type=json replacing the image', () => {
  const ops = [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'gcr.io/google_containers/nginx-slim:0.7' }];
  assert.deepEqual(applyJsonPatch(web(), ops), webWith((o) => (podSpec(o).containers[0].image = 'gcr.io/google_containers/nginx-slim:0.7')));
});

test('kubectl rollout restart', () => {
  const patch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-03-01T10:00:00Z' } } } } };
  assert.deepEqual(
    applyStrategicMergePatch(web(), patch, STS),
    webWith((o) => (o.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': '2025-03-01T10:00:00Z' })),
  );
});

test('kubectl rollout undo replaces the template with the revision data', () => {
  // ControllerRevision.data of the previous revision, sent as is.
  const revisionTemplate = {
    $patch: 'replace',
    metadata: { labels: { app: 'nginx' } },
    spec: {
      containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.20', ports: [{ containerPort: 80, name: 'web', protocol: 'TCP' }] }],
      restartPolicy: 'Always',
    },
  };
  const live = webWith((o) => {
    o.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': 'x' };
    podSpec(o).containers.push({ name: 'extra', image: 'busybox' });
  });
  const got = applyStrategicMergePatch(live, { spec: { template: revisionTemplate } }, STS) as Obj;
  const { $patch: _, ...template } = revisionTemplate;
  assert.deepEqual(got.spec.template, template);
  assert.deepEqual(got.spec.volumeClaimTemplates, web().spec.volumeClaimTemplates);
});

test('kubectl label / annotate send merge patches', () => {
  const labelled = applyMergePatch(web(), { metadata: { labels: { env: 'prod' } } }) as Obj;
  assert.deepEqual(labelled.metadata.labels, { env: 'prod' });
  const unlabelled = applyMergePatch(labelled, { metadata: { labels: { env: null } } }) as Obj;
  assert.deepEqual(unlabelled.metadata.labels, {});
  const annotated = applyMergePatch(web(), { metadata: { annotations: { note: 'hi' } } }) as Obj;
  assert.equal(annotated.metadata.annotations.note, 'hi');
  assert.equal(annotated.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], '{"old":true}\n');
});

test('kubectl scale sends a merge patch on the scale subresource shape', () => {
  assert.deepEqual(applyMergePatch({ spec: { replicas: 2 } }, { spec: { replicas: 5 } }), { spec: { replicas: 5 } });
});

test('kubectl apply, second time: $setElementOrder, $retainKeys, null deletions, annotation', () => {
  // The user edited web.yaml: new image, a second port, a sidecar added after nginx, the scratch
  // volume switched from emptyDir to a configMap, terminationGracePeriodSeconds removed.
  const lastApplied = '{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"annotations":{},"name":"web","namespace":"default"},"spec":{}}\n';
  const patch = {
    metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } },
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }],
          '$setElementOrder/volumes': [{ name: 'scratch' }],
          containers: [
            {
              '$setElementOrder/ports': [{ containerPort: 80 }, { containerPort: 8080 }],
              image: 'registry.k8s.io/nginx-slim:0.24',
              name: 'nginx',
              ports: [{ containerPort: 8080, name: 'metrics' }],
            },
            { image: 'busybox', name: 'sidecar' },
          ],
          terminationGracePeriodSeconds: null,
          volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'site' }, name: 'scratch' }],
        },
      },
    },
  };
  const got = applyStrategicMergePatch(web(), patch, STS);
  const want = webWith((o) => {
    o.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = lastApplied;
    const ps = podSpec(o);
    ps.containers[0].image = 'registry.k8s.io/nginx-slim:0.24';
    ps.containers[0].ports.push({ containerPort: 8080, name: 'metrics' });
    ps.containers.push({ image: 'busybox', name: 'sidecar' });
    ps.volumes = [{ name: 'scratch', configMap: { name: 'site' } }];
    delete ps.terminationGracePeriodSeconds;
  });
  assert.deepEqual(got, want);
  assert.equal(JSON.stringify(got).includes('"$'), false, 'no directive may leak into the object');
});

test('kubectl apply removing the sidecar again', () => {
  const live = webWith((o) => podSpec(o).containers.push({ name: 'sidecar', image: 'busybox' }));
  const patch = {
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ $patch: 'delete', name: 'sidecar' }] } } },
  };
  assert.deepEqual(applyStrategicMergePatch(live, patch, STS), web());
});

test('tolerations are atomic in the real schema', () => {
  const live = webWith((o) => (podSpec(o).tolerations = [{ key: 'a', operator: 'Exists' }]));
  const got = applyStrategicMergePatch(live, { spec: { template: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } } } }, STS) as Obj;
  assert.deepEqual(podSpec(got).tolerations, [{ key: 'b', operator: 'Exists' }]);
});

test('env merges by name and finalizers union in the real schema', () => {
  const live = webWith((o) => {
    o.metadata.finalizers = ['x'];
    podSpec(o).containers[0].env = [{ name: 'A', value: '1' }];
  });
  const patch = { metadata: { finalizers: ['y'] }, spec: { template: { spec: { containers: [{ name: 'nginx', env: [{ name: 'A', value: '2' }] }] } } } };
  const got = applyStrategicMergePatch(live, patch, STS) as Obj;
  assert.deepEqual(got.metadata.finalizers, ['y', 'x']);
  assert.deepEqual(podSpec(got).containers[0].env, [{ name: 'A', value: '2' }]);
});
