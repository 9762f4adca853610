// policy/v1: PodDisruptionBudget and the Eviction subresource body.
import { defineComponents } from '../schema.ts';
import {
  META, str, int32, int64, refTo, arrOf, obj, time, intOrString, kindWithList, kindSchema, gvk, conditionsList,
} from './helpers.ts';

const P = 'io.k8s.api.policy.v1.';

defineComponents({
  ...kindWithList(P + 'PodDisruptionBudget', 'Limits how many pods of a group may be down at once because of voluntary disruptions such as evictions during node drains.',
    gvk('policy', 'v1', 'PodDisruptionBudget'), {
      spec: refTo(P + 'PodDisruptionBudgetSpec', 'Which pods the budget covers and how many must stay up.', { default: {} }),
      status: refTo(P + 'PodDisruptionBudgetStatus', 'The observed state of the budget.', { default: {} }),
    }, 'PodDisruptionBudgets'),
  [P + 'PodDisruptionBudgetSpec']: obj('The desired budget.', {
    maxUnavailable: intOrString('An eviction is allowed if at most this many (or this percentage) of the selected pods are unavailable afterwards. Exclusive with minAvailable.'),
    minAvailable: intOrString('An eviction is allowed if at least this many (or this percentage) of the selected pods remain available afterwards. Exclusive with maxUnavailable.'),
    selector: refTo(META + 'LabelSelector', 'The pods the budget covers. An empty selector selects every pod of the namespace.', { 'x-kubernetes-patch-strategy': 'replace' }),
    unhealthyPodEvictionPolicy: str('When unhealthy (running but not ready) pods may be evicted: IfHealthyBudget (the default) or AlwaysAllow.'),
  }),
  [P + 'PodDisruptionBudgetStatus']: obj('The observed state of a budget.', {
    conditions: arrOf(META + 'Condition', 'Current conditions, e.g. DisruptionAllowed.', conditionsList),
    currentHealthy: int32('Number of healthy pods now.', { default: 0 }),
    desiredHealthy: int32('Minimum number of healthy pods wanted.', { default: 0 }),
    disruptedPods: { type: 'object', description: 'Pods whose eviction was admitted but not yet seen by the budget controller, with the time of admission.', additionalProperties: time('') },
    disruptionsAllowed: int32('How many more pod disruptions are allowed now.', { default: 0 }),
    expectedPods: int32('Total number of pods counted by the budget.', { default: 0 }),
    observedGeneration: int64('The generation of the budget these figures were computed for.'),
  }, { required: ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] }),
  [P + 'Eviction']: kindSchema('Evicts a pod from its node, subject to disruption budgets. Sent to the pods/eviction subresource.',
    gvk('policy', 'v1', 'Eviction'), {
      deleteOptions: refTo(META + 'DeleteOptions', 'Options for the deletion of the pod.'),
    }),
});
