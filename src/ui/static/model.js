// The live view's pure decisions: from the objects the watches hold to what each row shows.
// No DOM and no network here, so the same module runs in the page and in the unit tests.

/** The ordinal of a set's pod, from its name `<set>-<n>` (as the controller names them), or -1. */
export function ordinalOf(podName, setName) {
  const prefix = `${setName}-`;
  if (!podName.startsWith(prefix)) return -1;
  const rest = podName.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : -1;
}

/** Whether `pod` is controlled by `set`: by owner reference uid, as the controller adopts them. */
export function ownedBy(pod, set) {
  return (pod.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === set.metadata.uid);
}

function condition(obj, type) {
  return (obj.status?.conditions ?? []).find((c) => c.type === type);
}

/** True when the pod's Ready condition is True (what the controller and endpoints count). */
export function podReady(pod) {
  return condition(pod, 'Ready')?.status === 'True';
}

/**
 * The pod's status word as `kubectl get pods` shows it in its STATUS column: Terminating once
 * deleted, else the first container's waiting or terminated reason, else the pod's reason, else
 * its phase.
 */
export function podStatusText(pod) {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  let text = pod.status?.reason || pod.status?.phase || 'Pending';
  for (const cs of pod.status?.containerStatuses ?? []) {
    const reason = cs.state?.waiting?.reason || cs.state?.terminated?.reason;
    if (reason) {
      text = reason;
      break;
    }
  }
  return text;
}

/** "ready/total" containers, as kubectl's READY column. */
export function readyText(pod) {
  const total = pod.spec?.containers?.length ?? 0;
  const ready = (pod.status?.containerStatuses ?? []).filter((c) => c.ready).length;
  return `${ready}/${total}`;
}

/**
 * Which of the set's revisions the pod runs: 'update' (status.updateRevision), 'current'
 * (status.currentRevision) or 'other'. When both revisions are one, every pod at it is current:
 * there is no rollout to show.
 */
export function revisionRole(revision, currentRevision, updateRevision) {
  if (!revision) return 'other';
  if (revision === currentRevision) return 'current';
  if (revision === updateRevision) return 'update';
  return 'other';
}

/** The partition of a RollingUpdate set (0 when unset); null for OnDelete, which has none. */
export function partitionOf(set) {
  const strategy = set.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate') return null;
  return set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
}

function eventTime(e) {
  return e.lastTimestamp || e.eventTime || e.series?.lastObservedTime || e.firstTimestamp || e.metadata?.creationTimestamp || '';
}

/** The events about one object, newest first, at most `limit`. */
export function eventsFor(events, kind, namespace, name, limit = 8) {
  return events
    .filter((e) => e.involvedObject?.kind === kind && e.involvedObject?.name === name && (e.involvedObject?.namespace ?? e.metadata?.namespace) === namespace)
    .sort((a, b) => (eventTime(a) < eventTime(b) ? 1 : eventTime(a) > eventTime(b) ? -1 : 0))
    .slice(0, limit)
    .map((e) => ({ type: e.type ?? 'Normal', reason: e.reason ?? '', message: e.message ?? '', count: e.count ?? e.series?.count ?? 1, time: eventTime(e) }));
}

/**
 * One StatefulSet as its row of ordinals. Cells are the ordinals the set wants (0..replicas-1)
 * plus those of pods that still exist beyond it (being scaled down), so a pod leaves the row only
 * when it is gone. `partitionBefore` is the ordinal the partition line stands in front of (the
 * line is drawn after the last cell when no cell has that ordinal), or null when there is no line.
 */
export function statefulSetView(set, pods, claims, events) {
  const name = set.metadata.name;
  const namespace = set.metadata.namespace;
  const replicas = set.spec?.replicas ?? 1;
  const status = set.status ?? {};
  const currentRevision = status.currentRevision ?? '';
  const updateRevision = status.updateRevision ?? '';
  const byOrdinal = new Map();
  for (const pod of pods) {
    if (pod.metadata.namespace !== namespace || !ownedBy(pod, set)) continue;
    const ordinal = ordinalOf(pod.metadata.name, name);
    if (ordinal >= 0) byOrdinal.set(ordinal, pod);
  }
  const claimByName = new Map(claims.filter((c) => c.metadata.namespace === namespace).map((c) => [c.metadata.name, c]));
  const templates = (set.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name).filter(Boolean);
  const ordinals = new Set([...Array.from({ length: replicas }, (_, i) => i), ...byOrdinal.keys()]);
  const cells = [...ordinals]
    .sort((a, b) => a - b)
    .map((ordinal) => {
      const pod = byOrdinal.get(ordinal);
      const revision = pod?.metadata.labels?.['controller-revision-hash'] ?? '';
      return {
        ordinal,
        name: `${name}-${ordinal}`,
        exists: Boolean(pod),
        wanted: ordinal < replicas,
        status: pod ? podStatusText(pod) : 'Absent',
        phase: pod?.status?.phase ?? '',
        ready: pod ? podReady(pod) : false,
        readyText: pod ? readyText(pod) : '',
        terminating: Boolean(pod?.metadata.deletionTimestamp),
        revision,
        revisionRole: pod ? revisionRole(revision, currentRevision, updateRevision) : 'none',
        node: pod?.spec?.nodeName ?? '',
        claims: templates.map((t) => {
          const claimName = `${t}-${name}-${ordinal}`;
          const claim = claimByName.get(claimName);
          return { name: claimName, phase: claim ? (claim.metadata.deletionTimestamp ? 'Terminating' : (claim.status?.phase ?? 'Pending')) : 'Missing' };
        }),
      };
    });
  const partition = partitionOf(set);
  return {
    name,
    namespace,
    uid: set.metadata.uid ?? '',
    replicas,
    podManagementPolicy: set.spec?.podManagementPolicy ?? 'OrderedReady',
    strategy: set.spec?.updateStrategy?.type ?? 'RollingUpdate',
    partition,
    partitionBefore: partition !== null && partition > 0 ? partition : null,
    currentRevision,
    updateRevision,
    progress: {
      replicas: status.replicas ?? 0,
      ready: status.readyReplicas ?? 0,
      available: status.availableReplicas ?? 0,
      current: status.currentReplicas ?? 0,
      updated: status.updatedReplicas ?? 0,
    },
    observed: (status.observedGeneration ?? 0) >= (set.metadata.generation ?? 0),
    cells,
    events: eventsFor(events, 'StatefulSet', namespace, name),
  };
}

/** `key=value:Effect` (or `key:Effect`), as kubectl describe prints taints. */
export function taintText(t) {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}

/** One node: its Ready condition, taints, schedulability and the pods bound to it. */
export function nodeView(node, pods) {
  const name = node.metadata.name;
  const readyCond = condition(node, 'Ready');
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((l) => l.startsWith('node-role.kubernetes.io/'))
    .map((l) => l.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean);
  const address = (node.status?.addresses ?? []).find((a) => a.type === 'InternalIP')?.address ?? '';
  return {
    name,
    ready: readyCond?.status ?? 'Unknown',
    readyReason: readyCond?.reason ?? '',
    unschedulable: Boolean(node.spec?.unschedulable),
    taints: (node.spec?.taints ?? []).map(taintText),
    roles,
    address,
    version: node.status?.nodeInfo?.kubeletVersion ?? '',
    pods: pods
      .filter((p) => p.spec?.nodeName === name)
      .map((p) => ({ namespace: p.metadata.namespace, name: p.metadata.name, status: podStatusText(p), ready: podReady(p) }))
      .sort((a, b) => (a.namespace + '/' + a.name).localeCompare(b.namespace + '/' + b.name, 'en', { numeric: true })),
  };
}

/** The text a failed request shows: its Status message, as kubectl prints "Error from server". */
export function errorText(code, body) {
  let status;
  try {
    status = JSON.parse(body);
  } catch {
    status = undefined;
  }
  if (status && status.kind === 'Status') return `${status.code ?? code} ${status.reason ?? ''}: ${status.message ?? ''}`.replace(/ :/, ':');
  return `${code}: ${String(body).trim().slice(0, 300) || 'request failed'}`;
}

/** "5s", "3m", "2h", "4d": kubectl's short ages, enough for a glance. */
export function shortAge(since, now) {
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (!Number.isFinite(s)) return '';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
