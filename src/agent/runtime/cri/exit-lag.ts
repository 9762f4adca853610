// containerd reports a container RUNNING for tens of milliseconds after its main process has
// exited (measured here: 25-90 ms for `echo`, while the CRI plugin drains the output and deletes
// the task before it records the exit). The kubelet rarely notices: it first looks at a started
// container up to a second later, on its next relist. This agent looks at once, so it would
// report a command that is already over as Running and Ready, and `kubectl run -i` would attach
// to it and get an empty stream instead of the kubelet's "not found" and the logs. The main
// process's PID (from the verbose ContainerStatus) tells the truth earlier: once it is gone, the
// status is read again until containerd has caught up.
import { readFileSync } from 'node:fs';

/**
 * Whether the process is over: no /proc entry, or a zombie or dead task. Only meaningful when
 * containerd's PIDs are visible here (the agent owns its containerd on the same host); callers
 * treat it as a hint that containerd must confirm.
 */
export function processGone(pid: number, procRoot = '/proc'): boolean {
  let stat: string;
  try {
    stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  // "<pid> (<comm>) <state> ...": comm may hold spaces and parentheses, the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X' || state === 'x';
}

/** The main process's PID from a verbose ContainerStatus's info (containerd puts it in info.info as JSON). */
export function pidFromInfo(info: Record<string, string>): number | undefined {
  try {
    const pid = JSON.parse(info.info ?? '{}').pid;
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a RUNNING container's status until it stops saying RUNNING, for at most `limitMs`. Gives
 * the last status read: still running when containerd never confirms (a PID from another PID
 * namespace would look gone; the limit keeps that mistake cheap).
 */
export async function untilSettled<S extends { state: string }>(read: () => Promise<S>, first: S, limitMs = 500, stepMs = 5): Promise<S> {
  let s = first;
  const deadline = performance.now() + limitMs;
  while (s.state === 'running' && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, stepMs));
    s = await read();
  }
  return s;
}
