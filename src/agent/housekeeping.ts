// Node housekeeping, as the kubelet's HandlePodCleanups: whatever the runtime runs for a pod the API
// does not bind to this node (any more) is stopped and removed, which also gives its address back
// (CNI DEL). It runs once before the agent starts any pod, so a node whose data dir was wiped or
// whose pods were force-deleted while it was away never hands out an address a leftover still holds,
// and then periodically. Also the runtime's own view of what runs, for the node's /pods listing.
import type { Obj } from '../api/resource.ts';
import { log } from '../util/log.ts';
import type { ContainerSummary, Runtime, RuntimeContainerStatus, SandboxSummary } from './runtime/types.ts';

/**
 * Sandboxes that belong to no pod a worker is handling (a deleted pod's worker stops its own) and
 * to no pod bound here (pure). The bound pods are asked for only when some sandbox has no worker:
 * the common sweep finds none and never reads the pod cache.
 */
export function orphanSandboxes(sandboxes: readonly SandboxSummary[], handled: (podUid: string) => boolean, bound: () => ReadonlySet<string>): SandboxSummary[] {
  const unhandled = sandboxes.filter((s) => !handled(s.podUid));
  if (!unhandled.length) return unhandled;
  const boundNow = bound();
  return unhandled.filter((s) => !boundNow.has(s.podUid));
}

/** As the kubelet kills a runtime pod that has no API object: no spec to take a grace period from, so its minimum. */
export const ORPHAN_GRACE_SECONDS = 2;

/** Stops and removes the orphans' containers and sandboxes; returns how many sandboxes went. Errors are logged, not thrown. */
export async function removeOrphans(runtime: Runtime, orphans: readonly SandboxSummary[], nodeName: string): Promise<number> {
  let removed = 0;
  await Promise.all(
    orphans.map(async (s) => {
      const pod = `${s.namespace}/${s.name}`;
      try {
        const containers = await runtime.listContainers({ sandboxId: s.sandboxId });
        await Promise.all(containers.filter((c) => c.state === 'running' || c.state === 'created').map((c) => runtime.stopContainer(c.id, ORPHAN_GRACE_SECONDS)));
        for (const c of containers) await runtime.removeContainer(c.id);
        await runtime.stopPodSandbox(s.sandboxId);
        await runtime.removePodSandbox(s.sandboxId);
        removed++;
        log('info', 'agent', 'removed a sandbox that belongs to no pod bound to this node', { node: nodeName, pod, uid: s.podUid, sandbox: s.sandboxId, ip: s.ip || undefined });
      } catch (err) {
        log('warn', 'agent', 'could not remove an orphaned sandbox; retrying at the next housekeeping', { node: nodeName, pod, sandbox: s.sandboxId, error: String(err) });
      }
    }),
  );
  return removed;
}

const phaseOf = (states: RuntimeContainerStatus[], sandboxReady: boolean): string => {
  if (sandboxReady && states.some((c) => c.state === 'running' || c.state === 'created')) return 'Running';
  if (states.length && states.every((c) => c.state === 'exited')) return states.every((c) => c.exitCode === 0) ? 'Succeeded' : 'Failed';
  return sandboxReady ? 'Pending' : 'Unknown';
};

/** A container's state as v1.ContainerState, from the runtime's status. */
function containerState(s: RuntimeContainerStatus, runtimeName: string): Obj {
  if (s.state === 'running') return { running: { startedAt: s.startedAt } };
  if (s.state === 'exited') return { terminated: { exitCode: s.exitCode ?? 0, reason: s.reason, ...(s.message ? { message: s.message } : {}), startedAt: s.startedAt, finishedAt: s.finishedAt, containerID: `${runtimeName}://${s.id}` } };
  return { waiting: { reason: s.state === 'created' ? 'ContainerCreating' : 'Unknown' } };
}

/**
 * What the runtime really runs, as a v1 PodList (the kubelet's read-only /pods): one item per pod
 * with a sandbox (the newest sandbox of each pod), with its containers' states. Only what the
 * runtime knows: metadata name, namespace and uid, the pod IP, phase and container statuses.
 */
export async function runtimePodList(runtime: Runtime): Promise<Obj> {
  const sandboxes = await runtime.listPodSandboxes();
  const containers = await runtime.listContainers();
  const byPod = new Map<string, SandboxSummary[]>();
  for (const s of sandboxes) byPod.set(s.podUid, [...(byPod.get(s.podUid) ?? []), s]);
  const items: Obj[] = [];
  for (const [uid, list] of byPod) {
    const ready = list.find((s) => s.state === 'ready');
    const sandbox = ready ?? list[list.length - 1]!;
    const mine = containers.filter((c) => list.some((s) => s.sandboxId === c.sandboxId));
    // The latest attempt of each container name is its current state, as the kubelet reports it.
    const latest = new Map<string, ContainerSummary>();
    for (const c of mine) if ((latest.get(c.name)?.attempt ?? -1) < c.attempt) latest.set(c.name, c);
    const statuses: { name: string; summary: ContainerSummary; status: RuntimeContainerStatus }[] = [];
    for (const [name, summary] of latest) {
      const status = await runtime.containerStatus(summary.id).catch(() => undefined);
      if (status) statuses.push({ name, summary, status });
    }
    statuses.sort((a, b) => a.name.localeCompare(b.name));
    items.push({
      metadata: { name: sandbox.name, namespace: sandbox.namespace, uid },
      status: {
        phase: phaseOf(statuses.map((s) => s.status), !!ready),
        ...(ready?.ip ? { podIP: ready.ip, podIPs: [{ ip: ready.ip }] } : {}),
        containerStatuses: statuses.map(({ name, summary, status }) => ({
          name,
          state: containerState(status, runtime.name),
          ready: false,
          restartCount: summary.attempt,
          image: '',
          imageID: status.imageRef ?? '',
          containerID: `${runtime.name}://${status.id}`,
          started: status.state === 'running',
        })),
      },
    });
  }
  items.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  return { kind: 'PodList', apiVersion: 'v1', metadata: {}, items };
}
