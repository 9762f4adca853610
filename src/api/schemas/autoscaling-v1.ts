// autoscaling/v1 HorizontalPodAutoscaler: the older view of the HPAs stored as autoscaling/v2
// (src/api/kinds/autoscaling-v1.ts converts). It names one target, average CPU utilization; what v2
// says beyond that travels in the autoscaling.alpha.kubernetes.io/* annotations, as upstream's does.
import { defineComponents } from '../schema.ts';
import { str, int32, int64, refTo, obj, time, kindWithList, gvk } from './helpers.ts';

const H = 'io.k8s.api.autoscaling.v1.';

defineComponents({
  ...kindWithList(H + 'HorizontalPodAutoscaler',
    'Configuration of a horizontal pod autoscaler. Stored and validated here; this cluster has no metrics server, so it never scales anything.',
    gvk('autoscaling', 'v1', 'HorizontalPodAutoscaler'), {
      spec: refTo(H + 'HorizontalPodAutoscalerSpec', 'The desired behaviour of the autoscaler.', { default: {} }),
      status: refTo(H + 'HorizontalPodAutoscalerStatus', 'The current information about the autoscaler. Read-only.', { default: {} }),
    }, 'HorizontalPodAutoscalers'),
  [H + 'HorizontalPodAutoscalerSpec']: obj('What to scale, within which bounds, towards which CPU target.', {
    scaleTargetRef: refTo(H + 'CrossVersionObjectReference', 'The workload to scale; its metrics are collected from its pods.', { default: {} }),
    minReplicas: int32('The lowest replica count the autoscaler may set. Defaults to 1.'),
    maxReplicas: int32('The highest replica count the autoscaler may set; not below minReplicas.', { default: 0 }),
    targetCPUUtilizationPercentage: int32('The target average CPU utilization over all pods, as a percentage of their requests; the default policy is used when absent.'),
  }, { required: ['scaleTargetRef', 'maxReplicas'] }),
  [H + 'CrossVersionObjectReference']: obj('Names the object to scale.', {
    kind: str('The kind of the object, e.g. Deployment or StatefulSet.', { default: '' }),
    name: str('The name of the object.', { default: '' }),
    apiVersion: str('The API version of the object.'),
  }, { required: ['kind', 'name'] }),
  [H + 'HorizontalPodAutoscalerStatus']: obj('What the autoscaler last observed. Never written by this cluster, which has no autoscaler.', {
    observedGeneration: int64('The generation of the autoscaler the status was computed for.'),
    lastScaleTime: time('When the autoscaler last changed the replica count.'),
    currentReplicas: int32('The replica count last seen.', { default: 0 }),
    desiredReplicas: int32('The replica count last computed.', { default: 0 }),
    currentCPUUtilizationPercentage: int32('The average CPU utilization last read, as a percentage of the pods\' requests.'),
  }, { required: ['currentReplicas', 'desiredReplicas'] }),
});
