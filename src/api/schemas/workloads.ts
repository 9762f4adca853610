// apps/v1 Deployment, ReplicaSet, DaemonSet and batch/v1 Job, CronJob. The descriptions are what
// `kubectl explain` prints, so they say what the controllers do with each field.
import { defineComponents } from '../schema.ts';
import {
  META, CORE, APPS,
  str, strEnum, int32, int64, bool, refTo, arrOf, obj, time, intOrString, kindWithList, gvk,
  atomic, conditionsList, strings,
} from './helpers.ts';

const A = (name: string) => APPS + name;
const BATCH = 'io.k8s.api.batch.v1.';
const B = (name: string) => BATCH + name;

const SELECTOR_DESC = 'A label query over the pods this object manages. It must match the labels of the pod template. Cannot be changed after creation in apps/v1.';
const TEMPLATE_DESC = 'The template the pods are made from.';

const condition = (what: string, withUpdate = false) =>
  obj(`A condition of a ${what} at a point in time.`, {
    ...(withUpdate ? { lastUpdateTime: time('When this condition was last written.') } : {}),
    lastTransitionTime: time('When the condition last changed status.'),
    message: str('A human-readable message with details about the transition.'),
    reason: str('CamelCase reason for the last transition.'),
    status: str('True, False or Unknown.'),
    type: str('Type of the condition.'),
  }, { required: ['type', 'status'] });

defineComponents({
  // ---------------------------------------------------------------- Deployment
  ...kindWithList(A('Deployment'),
    'A Deployment keeps a number of interchangeable pods running from one template and rolls them to a new template declaratively: each template version gets its own ReplicaSet, and the controller scales the new one up and the old ones down within the strategy\'s bounds.',
    gvk('apps', 'v1', 'Deployment'), {
      spec: refTo(A('DeploymentSpec'), 'The desired behaviour of the Deployment.', { default: {} }),
      status: refTo(A('DeploymentStatus'), 'The most recently observed state of the Deployment. Read-only.', { default: {} }),
    }, 'Deployments'),
  [A('DeploymentSpec')]: obj('The specification of a Deployment.', {
    minReadySeconds: int32('Minimum number of seconds a new pod must be ready, with none of its containers crashing, before it counts as available. Defaults to 0.'),
    paused: bool('While true, changes to the template do not start a rollout; scaling still applies.'),
    progressDeadlineSeconds: int32('How long a rollout may go without progress before the Progressing condition turns False with reason ProgressDeadlineExceeded. The rollout itself goes on. Defaults to 600.'),
    replicas: int32('The desired number of pods. Defaults to 1.'),
    revisionHistoryLimit: int32('How many old ReplicaSets (scaled to zero) are kept to allow rollbacks. Defaults to 10.'),
    selector: refTo(META + 'LabelSelector', SELECTOR_DESC),
    strategy: refTo(A('DeploymentStrategy'), 'How old pods are replaced by new ones.', { default: {}, 'x-kubernetes-patch-strategy': 'retainKeys' }),
    template: refTo(CORE + 'PodTemplateSpec', TEMPLATE_DESC + ' The only allowed restartPolicy is Always.', { default: {} }),
  }, { required: ['selector', 'template'] }),
  [A('DeploymentStrategy')]: obj('How a Deployment replaces its pods.', {
    rollingUpdate: refTo(A('RollingUpdateDeployment'), 'Parameters of the RollingUpdate strategy. Only allowed when type is RollingUpdate.'),
    type: strEnum('Recreate deletes every old pod before creating new ones. RollingUpdate (the default) replaces them gradually, within maxSurge and maxUnavailable.', ['Recreate', 'RollingUpdate']),
  }),
  [A('RollingUpdateDeployment')]: obj('Parameters of a Deployment\'s rolling update.', {
    maxSurge: intOrString('How many pods may exist above the desired count during an update, as a number or a percentage of replicas (rounded up). Defaults to 25%. Cannot be 0 when maxUnavailable is 0.'),
    maxUnavailable: intOrString('How many pods may be unavailable during an update, as a number or a percentage of replicas (rounded down). Defaults to 25%. Cannot be 0 when maxSurge is 0.'),
  }),
  [A('DeploymentStatus')]: obj('The observed state of a Deployment.', {
    availableReplicas: int32('Pods targeted by the Deployment that have been ready for at least minReadySeconds.'),
    collisionCount: int32('Count of hash collisions among the Deployment\'s ReplicaSets; salts the next pod-template-hash.'),
    conditions: arrOf(A('DeploymentCondition'), 'The latest available observations of the Deployment\'s state (Available, Progressing, ReplicaFailure).', conditionsList),
    observedGeneration: int64('The generation the controller last acted on.'),
    readyReplicas: int32('Pods targeted by the Deployment with a Ready condition.'),
    replicas: int32('Pods targeted by the Deployment (their labels match the selector), old and new.'),
    unavailableReplicas: int32('Pods still needed for the Deployment to have 100% available capacity.'),
    updatedReplicas: int32('Pods targeted by the Deployment that run the current template.'),
  }),
  [A('DeploymentCondition')]: condition('Deployment', true),

  // ---------------------------------------------------------------- ReplicaSet
  ...kindWithList(A('ReplicaSet'),
    'A ReplicaSet keeps a number of interchangeable pods running. Its pods get random names (generateName "<set>-") and no stable identity: a replaced pod is a new pod. Usually owned by a Deployment.',
    gvk('apps', 'v1', 'ReplicaSet'), {
      spec: refTo(A('ReplicaSetSpec'), 'The desired behaviour of the ReplicaSet.', { default: {} }),
      status: refTo(A('ReplicaSetStatus'), 'The most recently observed state of the ReplicaSet. Read-only.', { default: {} }),
    }, 'ReplicaSets'),
  [A('ReplicaSetSpec')]: obj('The specification of a ReplicaSet.', {
    minReadySeconds: int32('Minimum number of seconds a new pod must be ready before it counts as available. Defaults to 0.'),
    replicas: int32('The desired number of pods. Defaults to 1.'),
    selector: refTo(META + 'LabelSelector', SELECTOR_DESC + ' Orphan pods it matches are adopted.'),
    template: refTo(CORE + 'PodTemplateSpec', TEMPLATE_DESC + ' Changing it affects only pods created afterwards.', { default: {} }),
  }, { required: ['selector'] }),
  [A('ReplicaSetStatus')]: obj('The observed state of a ReplicaSet.', {
    availableReplicas: int32('Pods that have been ready for at least minReadySeconds.'),
    conditions: arrOf(A('ReplicaSetCondition'), 'The latest available observations of the ReplicaSet\'s state.', conditionsList),
    fullyLabeledReplicas: int32('Pods whose labels match the template\'s labels.'),
    observedGeneration: int64('The generation the controller last acted on.'),
    readyReplicas: int32('Pods with a Ready condition.'),
    replicas: int32('The most recently observed number of pods.', { default: 0 }),
  }, { required: ['replicas'] }),
  [A('ReplicaSetCondition')]: condition('ReplicaSet'),

  // ---------------------------------------------------------------- DaemonSet
  ...kindWithList(A('DaemonSet'),
    'A DaemonSet runs one copy of a pod on every eligible node: nodes its nodeSelector and affinity admit and whose NoSchedule/NoExecute taints its pods tolerate.',
    gvk('apps', 'v1', 'DaemonSet'), {
      spec: refTo(A('DaemonSetSpec'), 'The desired behaviour of the DaemonSet.', { default: {} }),
      status: refTo(A('DaemonSetStatus'), 'The most recently observed state of the DaemonSet. Read-only.', { default: {} }),
    }, 'DaemonSets'),
  [A('DaemonSetSpec')]: obj('The specification of a DaemonSet.', {
    minReadySeconds: int32('Minimum number of seconds a new pod must be ready before it counts as available. Defaults to 0.'),
    revisionHistoryLimit: int32('How many old ControllerRevisions are kept to allow rollbacks. Defaults to 10.'),
    selector: refTo(META + 'LabelSelector', SELECTOR_DESC),
    template: refTo(CORE + 'PodTemplateSpec', TEMPLATE_DESC + ' Each pod is bound to its node by a node affinity term on metadata.name, and gets the daemon tolerations. The only allowed restartPolicy is Always.', { default: {} }),
    updateStrategy: refTo(A('DaemonSetUpdateStrategy'), 'How pods are replaced when the template changes.', { default: {} }),
  }, { required: ['selector', 'template'] }),
  [A('DaemonSetUpdateStrategy')]: obj('How a DaemonSet replaces its pods.', {
    rollingUpdate: refTo(A('RollingUpdateDaemonSet'), 'Parameters of the RollingUpdate strategy.'),
    type: strEnum('RollingUpdate (the default) replaces old pods automatically; OnDelete only when a pod is deleted.', ['OnDelete', 'RollingUpdate']),
  }),
  [A('RollingUpdateDaemonSet')]: obj('Parameters of a DaemonSet\'s rolling update.', {
    maxSurge: intOrString('How many nodes may run an extra, new pod beside the old one during an update (number or percentage, rounded up). Defaults to 0.'),
    maxUnavailable: intOrString('How many nodes may be without an available pod during an update (number or percentage, rounded up). Defaults to 1.'),
  }),
  [A('DaemonSetStatus')]: obj('The observed state of a DaemonSet.', {
    collisionCount: int32('Count of hash collisions among the DaemonSet\'s ControllerRevisions.'),
    conditions: arrOf(A('DaemonSetCondition'), 'The latest available observations of the DaemonSet\'s state.', conditionsList),
    currentNumberScheduled: int32('Nodes running at least one daemon pod that should run it.', { default: 0 }),
    desiredNumberScheduled: int32('Nodes that should run the daemon pod.', { default: 0 }),
    numberAvailable: int32('Nodes that should run the daemon pod and have one available.'),
    numberMisscheduled: int32('Nodes running the daemon pod that should not.', { default: 0 }),
    numberReady: int32('Nodes that should run the daemon pod and have one Ready.', { default: 0 }),
    numberUnavailable: int32('Nodes that should run the daemon pod and have none available.'),
    observedGeneration: int64('The generation the controller last acted on.'),
    updatedNumberScheduled: int32('Nodes running the daemon pod of the current template.'),
  }, { required: ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady'] }),
  [A('DaemonSetCondition')]: condition('DaemonSet'),

  // ---------------------------------------------------------------- Job
  ...kindWithList(B('Job'),
    'A Job runs pods until a number of them succeed (completions), retrying failed pods up to backoffLimit times with an exponential back-off.',
    gvk('batch', 'v1', 'Job'), {
      spec: refTo(B('JobSpec'), 'The desired behaviour of the Job.', { default: {} }),
      status: refTo(B('JobStatus'), 'The most recently observed state of the Job. Read-only.', { default: {} }),
    }, 'Jobs'),
  [B('JobSpec')]: obj('The specification of a Job.', {
    activeDeadlineSeconds: int64('How long the Job may be active, counted from its start; past it, its pods are deleted and it fails with reason DeadlineExceeded.'),
    backoffLimit: int32('How many pod failures the Job tolerates before it fails with reason BackoffLimitExceeded. Defaults to 6.'),
    backoffLimitPerIndex: int32('For Indexed Jobs: retries allowed per index before the index is marked failed.'),
    completionMode: strEnum('NonIndexed (the default): the Job is complete once `completions` pods succeed, pods are interchangeable. Indexed: each pod gets an index 0..completions-1 (annotation and label batch.kubernetes.io/job-completion-index, env JOB_COMPLETION_INDEX, hostname <job>-<index>) and the Job is complete once every index has succeeded.', ['Indexed', 'NonIndexed']),
    completions: int32('How many pods must succeed. Unset means any single success completes the Job (work-queue style).'),
    managedBy: str('The controller that reconciles the Job; only the built-in controller (kubernetes.io/job-controller) is supported here.'),
    manualSelector: bool('When true, the selector is taken as given instead of being generated from the Job\'s uid.'),
    maxFailedIndexes: int32('For Indexed Jobs with backoffLimitPerIndex: how many failed indexes fail the whole Job.'),
    parallelism: int32('The most pods that run at once. Defaults to 1.'),
    podFailurePolicy: refTo(B('PodFailurePolicy'), 'Rules that decide, from a failed pod\'s exit codes or conditions, whether the failure fails the Job, is ignored, or counts against backoffLimit.'),
    podReplacementPolicy: strEnum('When a replacement pod is created: TerminatingOrFailed (the default) as soon as the old one is terminating; Failed only once it has failed.', ['Failed', 'TerminatingOrFailed']),
    selector: refTo(META + 'LabelSelector', 'A label query over the Job\'s pods. Generated from the Job\'s uid unless manualSelector is true.'),
    successPolicy: refTo(B('SuccessPolicy'), 'For Indexed Jobs: which succeeded indexes are enough to declare the Job succeeded.'),
    suspend: bool('While true, no pods are created and running ones are deleted.'),
    template: refTo(CORE + 'PodTemplateSpec', TEMPLATE_DESC + ' restartPolicy must be Never or OnFailure.', { default: {} }),
    ttlSecondsAfterFinished: int32('Seconds after the Job finishes (Complete or Failed) before it is deleted, with its pods, by the ttl-after-finished controller.'),
  }, { required: ['template'] }),
  [B('PodFailurePolicy')]: obj('How failed pods are judged.', {
    rules: arrOf(B('PodFailurePolicyRule'), 'Rules evaluated in order; the first that matches a failed pod decides. A pod that matches none counts against backoffLimit.', atomic),
  }, { required: ['rules'] }),
  [B('PodFailurePolicyRule')]: obj('One rule of a pod failure policy: an action and a condition on the pod.', {
    action: strEnum('FailJob: fail the Job at once. FailIndex: fail the pod\'s index. Ignore: the failure does not count. Count: counts against backoffLimit.', ['Count', 'FailIndex', 'FailJob', 'Ignore']),
    onExitCodes: refTo(B('PodFailurePolicyOnExitCodesRequirement'), 'Matches by the exit codes of the pod\'s containers.'),
    onPodConditions: arrOf(B('PodFailurePolicyOnPodConditionsPattern'), 'Matches by the pod\'s conditions.', atomic),
  }, { required: ['action'] }),
  [B('PodFailurePolicyOnExitCodesRequirement')]: obj('Matches a failed pod by the exit codes of its containers.', {
    containerName: str('Only this container\'s exit code is checked, when set.'),
    operator: strEnum('In: some container exited with one of the values. NotIn: some container exited with a code not among them.', ['In', 'NotIn']),
    values: arr32('The exit codes; 0 is not allowed with In.'),
  }, { required: ['operator', 'values'] }),
  [B('PodFailurePolicyOnPodConditionsPattern')]: obj('Matches a failed pod by one of its conditions.', {
    status: str('The condition\'s status to match. Defaults to True.'),
    type: str('The condition type to match, e.g. DisruptionTarget.'),
  }, { required: ['type'] }),
  [B('SuccessPolicy')]: obj('When an Indexed Job is declared succeeded before all its indexes are.', {
    rules: arrOf(B('SuccessPolicyRule'), 'Any rule met declares the Job succeeded (SuccessCriteriaMet).', atomic),
  }, { required: ['rules'] }),
  [B('SuccessPolicyRule')]: obj('One rule of a success policy.', {
    succeededCount: int32('How many of the listed (or of all) indexes must have succeeded.'),
    succeededIndexes: str('Indexes that must have succeeded, as ranges like "1,3-5".'),
  }),
  [B('JobStatus')]: obj('The observed state of a Job.', {
    active: int32('Pods pending or running, not terminating.'),
    completedIndexes: str('For Indexed Jobs: the indexes that succeeded, as ranges like "1,3-5".'),
    completionTime: time('When the Job completed; only set once it is Complete.'),
    conditions: arrOf(B('JobCondition'), 'The latest available observations of the Job\'s state: Suspended, FailureTarget, SuccessCriteriaMet, Complete, Failed.', { 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-merge-key': 'type', 'x-kubernetes-patch-strategy': 'merge' }),
    failed: int32('Pods that reached phase Failed.'),
    failedIndexes: str('For Indexed Jobs with backoffLimitPerIndex: the failed indexes.'),
    ready: int32('Active pods with a Ready condition.'),
    startTime: time('When the Job controller started working on the Job.'),
    succeeded: int32('Pods that reached phase Succeeded.'),
    terminating: int32('Pods that are terminating.'),
    uncountedTerminatedPods: refTo(B('UncountedTerminatedPods'), 'UIDs of finished pods not yet counted in succeeded or failed.'),
  }),
  [B('UncountedTerminatedPods')]: obj('Finished pods whose job-tracking finalizer the controller has yet to remove.', {
    failed: strings('UIDs of failed pods.', { 'x-kubernetes-list-type': 'set' }),
    succeeded: strings('UIDs of succeeded pods.', { 'x-kubernetes-list-type': 'set' }),
  }),
  [B('JobCondition')]: obj('A condition of a Job at a point in time.', {
    lastProbeTime: time('When the condition was last checked.'),
    lastTransitionTime: time('When the condition last changed status.'),
    message: str('A human-readable message with details about the transition.'),
    reason: str('CamelCase reason for the last transition.'),
    status: str('True, False or Unknown.'),
    type: str('Type of the condition: Suspended, FailureTarget, SuccessCriteriaMet, Complete or Failed.'),
  }, { required: ['type', 'status'] }),
  [B('JobTemplateSpec')]: obj('The template of the Jobs a CronJob creates.', {
    metadata: refTo(META + 'ObjectMeta', 'Metadata of the created Jobs.', { default: {} }),
    spec: refTo(B('JobSpec'), 'The specification of the created Jobs.', { default: {} }),
  }),

  // ---------------------------------------------------------------- CronJob
  ...kindWithList(B('CronJob'),
    'A CronJob creates a Job from its template at each time its cron schedule names.',
    gvk('batch', 'v1', 'CronJob'), {
      spec: refTo(B('CronJobSpec'), 'The desired behaviour of the CronJob.', { default: {} }),
      status: refTo(B('CronJobStatus'), 'The most recently observed state of the CronJob. Read-only.', { default: {} }),
    }, 'CronJobs'),
  [B('CronJobSpec')]: obj('The specification of a CronJob.', {
    concurrencyPolicy: strEnum('What to do when a run is due while an earlier Job is still running: Allow (the default) runs both, Forbid skips the new run, Replace deletes the running Job first.', ['Allow', 'Forbid', 'Replace']),
    failedJobsHistoryLimit: int32('How many failed Jobs are kept. Defaults to 1.'),
    jobTemplate: refTo(B('JobTemplateSpec'), 'The Job created at each scheduled time.', { default: {} }),
    schedule: str('The schedule in cron format: five fields (minute hour day-of-month month day-of-week), or @yearly, @monthly, @weekly, @daily, @hourly.'),
    startingDeadlineSeconds: int64('How late a run may start, in seconds after its scheduled time; runs missed by more are skipped and count as missed.'),
    successfulJobsHistoryLimit: int32('How many successful Jobs are kept. Defaults to 3.'),
    suspend: bool('While true, no new Jobs are created; running ones are not affected. Defaults to false.'),
    timeZone: str('The IANA time zone the schedule is read in (e.g. Europe/Berlin). Defaults to the controller\'s time zone (UTC here).'),
  }, { required: ['schedule', 'jobTemplate'] }),
  [B('CronJobStatus')]: obj('The observed state of a CronJob.', {
    active: arrOf(CORE + 'ObjectReference', 'The Jobs of this CronJob that are running.', atomic),
    lastScheduleTime: time('The last time a Job was scheduled.'),
    lastSuccessfulTime: time('The last time a Job of this CronJob completed successfully.'),
  }),
});

function arr32(description: string) {
  return { type: 'array', description, items: { type: 'integer', format: 'int32', default: 0 }, 'x-kubernetes-list-type': 'set' } as const;
}
