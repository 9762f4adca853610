// autoscaling/v1 <-> v2 HorizontalPodAutoscaler conversion, as upstream's
// pkg/apis/autoscaling/v1/conversion.go: the CPU utilization target is v1's field, everything else
// travels in the autoscaling.alpha.kubernetes.io annotations, and a round trip loses nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, hpaFromV1, hpaToV1 } from '../../src/api/kinds/autoscaling-v1.ts';

const v2 = () => ({
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'h', namespace: 'default', annotations: { team: 'db' } },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db' },
    minReplicas: 2, maxReplicas: 6,
    metrics: [
      { type: 'External', external: { metric: { name: 'queue', selector: { matchLabels: { q: 'jobs' } } }, target: { type: 'AverageValue', averageValue: '30' } } },
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Gi' } } },
      { type: 'Object', object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: 'rps' }, target: { type: 'Value', value: '10k' } } },
    ],
    behavior: { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] }, scaleDown: { selectPolicy: 'Min', policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] } },
  },
  status: {
    currentReplicas: 3, desiredReplicas: 4,
    currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 55, averageValue: '550m' } } }],
    conditions: [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2024-05-01T12:00:00Z', reason: 'ReadyForNewScale', message: 'ok' }],
  },
});

test('v2 to v1: the CPU target becomes targetCPUUtilizationPercentage, the rest goes to annotations', () => {
  const v1 = hpaToV1(v2());
  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.deepEqual(v1.spec, { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db' }, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70 });
  assert.deepEqual(v1.status, { currentReplicas: 3, desiredReplicas: 4, currentCPUUtilizationPercentage: 55 });
  const ann = v1.metadata.annotations;
  assert.equal(ann.team, 'db');
  assert.deepEqual(JSON.parse(ann[METRIC_SPECS_ANNOTATION]), [
    { type: 'External', external: { metricName: 'queue', metricSelector: { matchLabels: { q: 'jobs' } }, targetAverageValue: '30' } },
    { type: 'Resource', resource: { name: 'memory', targetAverageValue: '1Gi' } },
    { type: 'Object', object: { target: { kind: 'Ingress', name: 'main', apiVersion: 'networking.k8s.io/v1' }, metricName: 'rps', targetValue: '10k' } },
  ]);
  assert.deepEqual(JSON.parse(ann[METRIC_STATUSES_ANNOTATION]), [{ type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 55, currentAverageValue: '550m' } }]);
  assert.deepEqual(JSON.parse(ann[CONDITIONS_ANNOTATION]), v2().status.conditions);
  // Upstream marshals its internal behavior type: Go field names, null for unset pointers.
  assert.deepEqual(JSON.parse(ann[BEHAVIOR_ANNOTATION]), {
    ScaleUp: { StabilizationWindowSeconds: 0, SelectPolicy: 'Max', Policies: [{ Type: 'Pods', Value: 4, PeriodSeconds: 15 }] },
    ScaleDown: { StabilizationWindowSeconds: null, SelectPolicy: 'Min', Policies: [{ Type: 'Percent', Value: 10, PeriodSeconds: 60 }] },
  });
});

test('v1 back to v2 restores every metric (the others first, CPU last), the behavior, status and conditions', () => {
  const back = hpaFromV1(hpaToV1(v2()));
  const want = v2();
  assert.equal(back.apiVersion, 'autoscaling/v2');
  assert.deepEqual(back.metadata.annotations, { team: 'db' });
  assert.deepEqual(back.spec.metrics, [want.spec.metrics[0], want.spec.metrics[2], want.spec.metrics[3], want.spec.metrics[1]]);
  assert.deepEqual(back.spec.behavior, want.spec.behavior);
  assert.deepEqual(back.status, want.status);
});

test('a bare v1 HPA gets the implied 80% CPU target; annotations a client sent to v2 are not stored', () => {
  const v1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'b' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 } };
  const stored = hpaFromV1(v1);
  assert.deepEqual(stored.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.equal(stored.metadata.annotations, undefined);
  assert.equal(hpaToV1(stored).spec.targetCPUUtilizationPercentage, 80);
  // No CPU metric at all in v2: v1 shows no target, and the other metrics in the annotation.
  const memOnly = { ...v2(), spec: { ...v2().spec, metrics: [v2().spec.metrics[2]], behavior: undefined } };
  const shown = hpaToV1(memOnly);
  assert.equal(shown.spec.targetCPUUtilizationPercentage, undefined);
  assert.deepEqual(hpaFromV1(shown).spec.metrics, [v2().spec.metrics[2]]);
});

test('behavior written by another server in any letter case is read back, as Go reads JSON', () => {
  const v1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'b', annotations: { [BEHAVIOR_ANNOTATION]: '{"scaleDown":{"stabilizationWindowSeconds":30,"policies":[{"type":"Pods","value":1,"periodSeconds":60}]}}' } }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 } };
  assert.deepEqual(hpaFromV1(v1).spec.behavior, { scaleDown: { stabilizationWindowSeconds: 30, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } });
});
