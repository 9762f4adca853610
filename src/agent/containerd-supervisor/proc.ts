// What /proc says about processes: enough to tell a process from a later one with the same pid
// (its start time), to find containerd's shims by the socket they report to, and their children.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';

/** Fields of /proc/<pid>/stat after the command (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The process's start time in clock ticks since boot, or undefined when there is no such process (zombies count as gone). */
export function processStartTime(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f || f[0] === 'Z' || f[0] === 'X') return undefined;
  return Number(f[19]);
}

/** Whether `pid` is still the process that started at `startTime`. */
export function sameProcess(pid: number | undefined, startTime: number | undefined): boolean {
  return pid !== undefined && startTime !== undefined && processStartTime(pid) === startTime;
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((x, i, a) => x !== '' || i < a.length - 1);
  } catch {
    return [];
  }
}

function pids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

/** containerd shims (containerd-shim-runc-v2 and kin) whose `-address` is `socket`: they serve tasks of the containerd on that socket. */
export function shimsOf(socket: string): number[] {
  return pids().filter((pid) => {
    const argv = cmdline(pid);
    if (!argv.length || !basename(argv[0]!).startsWith('containerd-shim')) return false;
    const i = argv.indexOf('-address');
    return i !== -1 && argv[i + 1] === socket;
  });
}

export function childrenOf(parent: number): number[] {
  return pids().filter((pid) => Number(statFields(pid)?.[1]) === parent);
}

/** The inode of a process's network namespace (what `ip netns` files bind-mount), or undefined. */
export function netnsInode(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}/ns/net`).ino;
  } catch {
    return undefined;
  }
}

/** Mount points at or under `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}
