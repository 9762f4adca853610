// apps/v1: StatefulSet and ControllerRevision. The StatefulSet descriptions are what
// `kubectl explain statefulset...` prints, so they spell out the ordering, update and storage
// semantics users rely on.
import { defineComponents } from '../schema.ts';
import {
  META, CORE, APPS,
  str, strEnum, int32, int64, refTo, arrOf, obj, time, intOrString, kindWithList, gvk,
  atomic, conditionsList,
} from './helpers.ts';

const A = (name: string) => APPS + name;

defineComponents({
  ...kindWithList(A('StatefulSet'),
    'A StatefulSet manages a set of pods that each keep a stable identity: pod i of set "web" is always named web-i, has a stable hostname and DNS name under the governing service, and keeps its own persistent volume claims across rescheduling. Pods are created, scaled and updated in ordinal order unless the set asks for parallel management.',
    gvk('apps', 'v1', 'StatefulSet'), {
      spec: refTo(A('StatefulSetSpec'), 'The desired identities of the pods in this set: how many, from which template, with which storage, and how they are ordered and updated.', { default: {} }),
      status: refTo(A('StatefulSetStatus'), 'The most recently observed state of the set\'s pods. Written by the controller; may lag behind the spec. Read-only.', { default: {} }),
    }, 'StatefulSets'),

  [A('StatefulSetSpec')]: obj('The specification of a StatefulSet.', {
    minReadySeconds: int32('Minimum number of seconds a newly created pod must be ready, with none of its containers crashing, before it counts as available. Defaults to 0 (available as soon as it is ready).'),
    ordinals: refTo(A('StatefulSetOrdinals'), 'Controls the numbering of the pods. By default pods are numbered 0 to replicas-1; set ordinals.start to number them from another value.'),
    persistentVolumeClaimRetentionPolicy: refTo(A('StatefulSetPersistentVolumeClaimRetentionPolicy'), 'What happens to the claims made from volumeClaimTemplates when the set is deleted or scaled down. By default (Retain for both) claims are never deleted by the controller.'),
    podManagementPolicy: strEnum('How pods are created and removed when scaling. OrderedReady (the default) creates pods in increasing ordinal order, waiting for each to be Running and Ready before creating the next, and removes them in decreasing order, waiting for each to be gone before removing the next. Parallel creates and removes pods all at once without waiting. Rolling updates are not affected by this field. Cannot be changed after creation.', ['OrderedReady', 'Parallel']),
    replicas: int32('The desired number of pods. Defaults to 1. This is the scale: a value different from the current number of pods makes the controller create or delete pods at the end of the ordinal range.'),
    revisionHistoryLimit: int32('The most old revisions (ControllerRevisions) kept to allow rollbacks; older ones are deleted. Revisions still used by a pod are always kept. Defaults to 10.'),
    selector: refTo(META + 'LabelSelector', 'A label query over the pods that belong to the set. It must match the labels of the pod template. Cannot be changed after creation.'),
    serviceName: str('Name of the headless Service that governs the set. It must exist before the set and is responsible for the network identity: each pod gets the DNS name <pod>.<serviceName>.<namespace>.svc.<cluster domain>. Cannot be changed after creation.'),
    template: refTo(CORE + 'PodTemplateSpec', 'The template the pods are made from. Each pod gets a unique identity on top of it: its name and hostname, the subdomain from serviceName, and one claim per volumeClaimTemplates entry mounted as the volume of the same name. The only allowed restartPolicy is Always.', { default: {} }),
    updateStrategy: refTo(A('StatefulSetUpdateStrategy'), 'How pods are replaced when the template changes, i.e. when a new revision is made. Defaults to RollingUpdate.', { default: {} }),
    volumeClaimTemplates: arrOf(CORE + 'PersistentVolumeClaim', 'Templates of claims that each pod receives: for template "data", pod web-2 gets claim data-web-2, created if missing and kept across rescheduling. A template must have the same name as a volume mount of the pod template; it takes precedence over a pod volume of the same name. Only the requested storage may change after creation, and only grow.', atomic),
    volumeClaimUpdatePolicy: strEnum('How existing claims follow a grown volumeClaimTemplates storage request (KEP-4650). OnClaimDelete (the default when unset) leaves existing claims alone: only claims created later get the new size. InPlace grows the existing claims of the ordinals being rolled, from the highest ordinal down, one ordinal at a time, each waiting for the previous to finish.', ['InPlace', 'OnClaimDelete']),
  }, { required: ['selector', 'template'] }),

  [A('StatefulSetUpdateStrategy')]: obj('The strategy the StatefulSet controller uses to replace pods when the template changes, together with its parameters.', {
    rollingUpdate: refTo(A('RollingUpdateStatefulSetStrategy'), 'Parameters of the RollingUpdate strategy. Only allowed when type is RollingUpdate.'),
    type: strEnum('The kind of update. RollingUpdate (the default) replaces the pods automatically, from the highest ordinal to the lowest, one at a time, waiting for each new pod to be Running and Ready. OnDelete never replaces pods by itself: a pod gets the new template only after someone deletes it.', ['OnDelete', 'RollingUpdate']),
  }),

  [A('RollingUpdateStatefulSetStrategy')]: obj('Parameters of a rolling update of a StatefulSet.', {
    maxUnavailable: intOrString('The most pods that may be unavailable during the update, as a number (e.g. 5) or a percentage of replicas (e.g. 10%, rounded up); at least 1. Defaults to 1. Alpha: only honoured when the MaxUnavailableStatefulSet feature is enabled.'),
    partition: int32('The ordinal at which the update is partitioned. Pods with an ordinal greater than or equal to the partition are updated to the new revision; pods below it keep the old revision, even when they are deleted and recreated. Use it to stage a canary or a phased roll-out. Defaults to 0 (update every pod).'),
  }),

  [A('StatefulSetPersistentVolumeClaimRetentionPolicy')]: obj('Whether the claims created from volumeClaimTemplates are kept or deleted over the lifecycle of the set.', {
    whenDeleted: strEnum('What happens to the claims when the StatefulSet itself is deleted. Retain (the default) leaves them untouched. Delete makes the set the owner of the claims, so they are garbage-collected after their pods are deleted.', ['Delete', 'Retain']),
    whenScaled: strEnum('What happens to the claims of pods removed by a scale-down. Retain (the default) leaves them untouched, so a later scale-up reuses them. Delete deletes the claims of the ordinals beyond the new replica count once their pods are gone.', ['Delete', 'Retain']),
  }),

  [A('StatefulSetOrdinals')]: obj('The numbering of the replica indices of a StatefulSet.', {
    start: int32('The number given to the first pod. With replicas N the pods are numbered start, start+1, ..., start+N-1, so pod names run from <set>-<start> to <set>-<start+N-1>. Defaults to 0. Changing it moves the range, creating and deleting pods at its ends.'),
  }),

  [A('StatefulSetStatus')]: obj('The observed state of a StatefulSet.', {
    availableReplicas: int32('Number of pods targeted by the set that have been ready for at least minReadySeconds.', { default: 0 }),
    collisionCount: int32('Count of hash collisions among the set\'s ControllerRevisions. Used to make the name of the next revision unique.'),
    conditions: arrOf(A('StatefulSetCondition'), 'The latest available observations of the set\'s state.', conditionsList),
    currentReplicas: int32('Number of pods created from the revision named by currentRevision.'),
    currentRevision: str('The revision that the pods below the updated range were made from: the revision of pods in ordinal range [0, currentReplicas).'),
    observedGeneration: int64('The most recent metadata.generation the controller has acted on. It equals metadata.generation once the controller has seen the latest spec.'),
    readyReplicas: int32('Number of pods created by the set that have a Ready condition.'),
    replicas: int32('Number of pods created by the controller that still exist.', { default: 0 }),
    updateRevision: str('The revision made from the current template: the one pods in ordinal range [replicas-updatedReplicas, replicas) run.'),
    updatedReplicas: int32('Number of pods created from the revision named by updateRevision.'),
  }, { required: ['replicas'] }),

  [A('StatefulSetCondition')]: obj('A condition of a StatefulSet at a point in time.', {
    lastTransitionTime: time('When the condition last changed status.'),
    message: str('A human-readable message with details about the transition.'),
    reason: str('CamelCase reason for the last transition.'),
    status: str('True, False or Unknown.'),
    type: str('Type of the condition.'),
  }, { required: ['type', 'status'] }),

  ...kindWithList(A('ControllerRevision'),
    'An immutable snapshot of state, used by controllers to record revisions. The StatefulSet controller stores each version of its pod template as a ControllerRevision and labels pods with the revision they were made from; `kubectl rollout history` and `rollout undo` read them.',
    gvk('apps', 'v1', 'ControllerRevision'), {
      data: refTo('io.k8s.apimachinery.pkg.runtime.RawExtension', 'The serialised state of this revision (for StatefulSets, a patch holding the pod template). Cannot be changed.'),
      revision: int64('The revision number of the state in data, increasing with each new revision.', { default: 0 }),
    }, 'ControllerRevisions', { required: ['revision'] }),
});
