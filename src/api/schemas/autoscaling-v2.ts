// autoscaling/v2 HorizontalPodAutoscaler. Stored and validated only: this cluster runs no metrics
// server and no autoscaler, so status stays as created (no current metrics, 0 replicas seen).
import { defineComponents } from '../schema.ts';
import {
  META,
  str, int32, int64, refTo, arrOf, obj, time, quantity, kindWithList, gvk, atomic, conditionsList,
} from './helpers.ts';

const H = 'io.k8s.api.autoscaling.v2.';

const metricSource = (what: string, props: Record<string, ReturnType<typeof str>>, required: string[]) => obj(what, props, { required });

defineComponents({
  ...kindWithList(H + 'HorizontalPodAutoscaler',
    'Scales a workload (anything with a scale subresource) between minReplicas and maxReplicas to keep the metrics near their targets. Stored and validated here; this cluster has no metrics server, so it never scales anything.',
    gvk('autoscaling', 'v2', 'HorizontalPodAutoscaler'), {
      spec: refTo(H + 'HorizontalPodAutoscalerSpec', 'The desired behaviour of the autoscaler.', { default: {} }),
      status: refTo(H + 'HorizontalPodAutoscalerStatus', 'The observed state of the autoscaler. Read-only.', { default: {} }),
    }, 'HorizontalPodAutoscalers'),
  [H + 'HorizontalPodAutoscalerSpec']: obj('What to scale, within which bounds, towards which targets.', {
    scaleTargetRef: refTo(H + 'CrossVersionObjectReference', 'The workload to scale; its metrics are collected from its pods.', { default: {} }),
    minReplicas: int32('The lowest replica count the autoscaler may set. Defaults to 1.'),
    maxReplicas: int32('The highest replica count the autoscaler may set; not below minReplicas.', { default: 0 }),
    metrics: arrOf(H + 'MetricSpec', 'The metrics whose targets decide the replica count (the highest count any of them asks for wins). Defaults to 80% average CPU utilization.', atomic),
    behavior: refTo(H + 'HorizontalPodAutoscalerBehavior', 'How fast to scale up and down. Missing means the default rules.'),
  }, { required: ['scaleTargetRef', 'maxReplicas'] }),
  [H + 'CrossVersionObjectReference']: obj('Names the object to scale.', {
    apiVersion: str('The API version of the object.'),
    kind: str('The kind of the object, e.g. Deployment or StatefulSet.', { default: '' }),
    name: str('The name of the object.', { default: '' }),
  }, { required: ['kind', 'name'] }),
  [H + 'MetricSpec']: obj('One metric and its target. Exactly the source named by type is set.', {
    type: str('Which source this is: ContainerResource, External, Object, Pods or Resource.', { default: '' }),
    containerResource: refTo(H + 'ContainerResourceMetricSource', 'A resource (CPU, memory) of one container of each pod.'),
    external: refTo(H + 'ExternalMetricSource', 'A metric from outside the cluster.'),
    object: refTo(H + 'ObjectMetricSource', 'A metric describing one other object (e.g. an Ingress\'s hits per second).'),
    pods: refTo(H + 'PodsMetricSource', 'A metric of each pod, averaged.'),
    resource: refTo(H + 'ResourceMetricSource', 'A resource (CPU, memory) of each pod, as seen by the kubelet.'),
  }, { required: ['type'] }),
  [H + 'MetricIdentifier']: obj('Names a metric.', {
    name: str('The name of the metric.', { default: '' }),
    selector: refTo(META + 'LabelSelector', 'Narrows the metric by its labels.'),
  }, { required: ['name'] }),
  [H + 'MetricTarget']: obj('The target value of a metric.', {
    type: str('Utilization, Value or AverageValue.', { default: '' }),
    value: quantity('The target value of the metric, as a quantity.'),
    averageValue: quantity('The target value of the metric averaged over the pods, as a quantity.'),
    averageUtilization: int32('The target average over the pods, as a percentage of their requests (resource metrics only).'),
  }, { required: ['type'] }),
  [H + 'MetricValueStatus']: obj('The current value of a metric.', {
    value: quantity('The current value.'),
    averageValue: quantity('The current value averaged over the pods.'),
    averageUtilization: int32('The current average as a percentage of the pods\' requests.'),
  }),
  [H + 'ContainerResourceMetricSource']: metricSource('A resource of one container of each pod.', {
    name: str('The resource, e.g. cpu.', { default: '' }),
    container: str('The container.', { default: '' }),
    target: refTo(H + 'MetricTarget', 'The target.', { default: {} }),
  }, ['name', 'target', 'container']),
  [H + 'ExternalMetricSource']: metricSource('A metric not tied to any object of the cluster.', {
    metric: refTo(H + 'MetricIdentifier', 'The metric.', { default: {} }),
    target: refTo(H + 'MetricTarget', 'The target.', { default: {} }),
  }, ['metric', 'target']),
  [H + 'ObjectMetricSource']: metricSource('A metric describing one object.', {
    describedObject: refTo(H + 'CrossVersionObjectReference', 'The object the metric describes.', { default: {} }),
    metric: refTo(H + 'MetricIdentifier', 'The metric.', { default: {} }),
    target: refTo(H + 'MetricTarget', 'The target.', { default: {} }),
  }, ['describedObject', 'target', 'metric']),
  [H + 'PodsMetricSource']: metricSource('A metric of each pod of the target, averaged.', {
    metric: refTo(H + 'MetricIdentifier', 'The metric.', { default: {} }),
    target: refTo(H + 'MetricTarget', 'The target.', { default: {} }),
  }, ['metric', 'target']),
  [H + 'ResourceMetricSource']: metricSource('A resource of each pod of the target.', {
    name: str('The resource, e.g. cpu or memory.', { default: '' }),
    target: refTo(H + 'MetricTarget', 'The target.', { default: {} }),
  }, ['name', 'target']),
  [H + 'HorizontalPodAutoscalerBehavior']: obj('Scaling rules for each direction.', {
    scaleUp: refTo(H + 'HPAScalingRules', 'Rules for scaling up. Defaults to the larger of 4 pods or 100% per 15 s, with no stabilization window.'),
    scaleDown: refTo(H + 'HPAScalingRules', 'Rules for scaling down. Defaults to removing up to 100% per 15 s, after the controller\'s stabilization window (300 s by default).'),
  }),
  [H + 'HPAScalingRules']: obj('How fast the autoscaler may change the replica count in one direction.', {
    stabilizationWindowSeconds: int32('How far back recommendations are looked at, so that flapping metrics do not flap the count (0 to 3600).'),
    selectPolicy: str('Which policy wins when several apply: Max (the default), Min, or Disabled (no scaling in this direction).'),
    policies: arrOf(H + 'HPAScalingPolicy', 'The allowed changes per period.', atomic),
  }),
  [H + 'HPAScalingPolicy']: obj('At most value pods (or percent of pods) per periodSeconds.', {
    type: str('Pods or Percent.', { default: '' }),
    value: int32('The amount of change allowed; above zero.', { default: 0 }),
    periodSeconds: int32('The window the change is counted over, 1 to 1800 seconds.', { default: 0 }),
  }, { required: ['type', 'value', 'periodSeconds'] }),
  [H + 'HorizontalPodAutoscalerStatus']: obj('What the autoscaler last observed. Never written by this cluster, which has no autoscaler.', {
    observedGeneration: int64('The generation of the autoscaler the status was computed for.'),
    lastScaleTime: time('When the autoscaler last changed the replica count.'),
    currentReplicas: int32('The replica count last seen.'),
    desiredReplicas: int32('The replica count last computed.', { default: 0 }),
    currentMetrics: arrOf(H + 'MetricStatus', 'The last read value of each metric.', atomic),
    conditions: arrOf(H + 'HorizontalPodAutoscalerCondition', 'Conditions such as AbleToScale and ScalingActive.', conditionsList),
  }, { required: ['desiredReplicas'] }),
  [H + 'MetricStatus']: obj('The current value of one metric.', {
    type: str('Which source this is.', { default: '' }),
    containerResource: refTo(H + 'ContainerResourceMetricStatus', 'Current value of a container resource metric.'),
    external: refTo(H + 'ExternalMetricStatus', 'Current value of an external metric.'),
    object: refTo(H + 'ObjectMetricStatus', 'Current value of an object metric.'),
    pods: refTo(H + 'PodsMetricStatus', 'Current value of a pods metric.'),
    resource: refTo(H + 'ResourceMetricStatus', 'Current value of a resource metric.'),
  }, { required: ['type'] }),
  [H + 'ContainerResourceMetricStatus']: metricSource('Current value of a container resource metric.', {
    name: str('The resource.', { default: '' }),
    container: str('The container.', { default: '' }),
    current: refTo(H + 'MetricValueStatus', 'The current value.', { default: {} }),
  }, ['name', 'current', 'container']),
  [H + 'ExternalMetricStatus']: metricSource('Current value of an external metric.', {
    metric: refTo(H + 'MetricIdentifier', 'The metric.', { default: {} }),
    current: refTo(H + 'MetricValueStatus', 'The current value.', { default: {} }),
  }, ['metric', 'current']),
  [H + 'ObjectMetricStatus']: metricSource('Current value of an object metric.', {
    metric: refTo(H + 'MetricIdentifier', 'The metric.', { default: {} }),
    current: refTo(H + 'MetricValueStatus', 'The current value.', { default: {} }),
    describedObject: refTo(H + 'CrossVersionObjectReference', 'The object the metric describes.', { default: {} }),
  }, ['metric', 'current', 'describedObject']),
  [H + 'PodsMetricStatus']: metricSource('Current value of a pods metric.', {
    metric: refTo(H + 'MetricIdentifier', 'The metric.', { default: {} }),
    current: refTo(H + 'MetricValueStatus', 'The current value.', { default: {} }),
  }, ['metric', 'current']),
  [H + 'ResourceMetricStatus']: metricSource('Current value of a resource metric.', {
    name: str('The resource.', { default: '' }),
    current: refTo(H + 'MetricValueStatus', 'The current value.', { default: {} }),
  }, ['name', 'current']),
  [H + 'HorizontalPodAutoscalerCondition']: obj('A condition of an autoscaler.', {
    type: str('AbleToScale, ScalingActive or ScalingLimited.', { default: '' }),
    status: str('True, False or Unknown.', { default: '' }),
    lastTransitionTime: time('When the condition last changed status.'),
    reason: str('CamelCase reason for the last transition.'),
    message: str('A human-readable message with details about the transition.'),
  }, { required: ['type', 'status'] }),
});
