// Own containerds that an earlier Ordinal left behind, and what to do with them.
//
// A containerd and its shims outlive the Ordinal that started them (kill -9, a crash), and its pods
// keep their addresses on the bridge. If the data dir is then removed, nothing in the new data dir
// knows about them, and host-local IPAM would hand their addresses out again. So every own
// containerd is recorded machine-wide in /run/ordinal/containerd (tmpfs: a reboot, which ends
// every container, also ends the records), and each start looks at the records first.
//
// Only what a record proves to be Ordinal's is ever touched: the containerd process with the
// recorded pid, start time and config, the shims that report to the recorded socket, their
// children, the network namespaces those children are in, and mounts under the recorded state dir.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { CriClient } from '../runtime/cri/client.ts';
import { childrenOf, cmdline, mountsUnder, netnsInode, processStartTime, sameProcess, shimsOf } from './proc.ts';

export const RECORDS_DIR = '/run/ordinal/containerd';
const NETNS_DIR = '/var/run/netns';
/** How long a leftover containerd gets to answer each CRI call, and to have its sandboxes stopped, before its processes are ended directly. */
const LEFTOVER_CRI_TIMEOUT_MS = 5_000;
const LEFTOVER_CRI_BUDGET_MS = 10_000;

export interface ContainerdRecord {
  socket: string;
  config: string;
  state: string;
  dataDir: string;
  /** The pod bridge its pods are on: a later cluster on the same bridge would reuse their addresses. */
  bridge: string;
  ownerPid: number;
  ownerStart: number;
  containerdPid?: number;
  containerdStart?: number;
}

export type LeftoverAction =
  /** Another Ordinal, still running, owns it. */
  | 'leave'
  /** A live Ordinal already runs a containerd on this very data dir: refuse to start a second. */
  | 'conflict'
  /** Our own data dir: stop the old containerd (if it still runs) and start ours on the same state; the shims and their pods carry on. */
  | 'take-over'
  /** Its data dir is gone or it shares our bridge: end its pods, shims and containerd. */
  | 'end'
  /** A dead cluster's, on another bridge, data dir still there: its pods wait for it to come back. */
  | 'keep';

/** The decision for one record (pure). */
export function leftoverAction(rec: ContainerdRecord, now: { ownerAlive: boolean; socket: string; bridge: string; dataDirExists: boolean }): LeftoverAction {
  const ours = rec.socket === now.socket;
  if (now.ownerAlive) return ours ? 'conflict' : 'leave';
  if (ours) return 'take-over';
  if (!now.dataDirExists || rec.bridge === now.bridge) return 'end';
  return 'keep';
}

const recordFile = (socket: string) => join(RECORDS_DIR, createHash('sha256').update(socket).digest('hex').slice(0, 16) + '.json');

export function readRecords(dir = RECORDS_DIR): ContainerdRecord[] {
  if (!existsSync(dir)) return [];
  const out: ContainerdRecord[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    } catch {
      // half-written by a process that died: ignore
    }
  }
  return out;
}

export function writeRecord(rec: ContainerdRecord): void {
  mkdirSync(RECORDS_DIR, { recursive: true });
  const file = recordFile(rec.socket);
  writeFileSync(file + '.tmp', JSON.stringify(rec) + '\n');
  renameSync(file + '.tmp', file);
}

export function removeRecord(socket: string): void {
  rmSync(recordFile(socket), { force: true });
}

export function ownerAlive(rec: ContainerdRecord): boolean {
  return sameProcess(rec.ownerPid, rec.ownerStart);
}

/** The recorded containerd's pid if that very process still runs (same start time, same config). */
export function liveContainerd(rec: ContainerdRecord): number | undefined {
  const pid = rec.containerdPid;
  if (!sameProcess(pid, rec.containerdStart)) return undefined;
  const argv = cmdline(pid!);
  return argv.includes(rec.config) ? pid : undefined;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function terminate(pid: number, startTime: number, graceMs = 5000): Promise<void> {
  const deadline = Date.now() + graceMs;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  while (sameProcess(pid, startTime)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
    }
    await sleep(50);
  }
}

const run = (cmd: string, args: string[]) => new Promise<void>((resolve) => execFile(cmd, args, { timeout: 10_000 }, () => resolve()));

export interface EndReport {
  sandboxes: number;
  shims: number;
  netns: number;
  mounts: number;
}

/**
 * Ends an earlier own containerd and everything it ran. Through CRI first when it still answers (so
 * CNI takes each pod off the bridge and releases its address), then by process for whatever is
 * left: a containerd killed with its state dir gone leaves shims nobody can ask to stop.
 */
export async function endInstance(rec: ContainerdRecord): Promise<EndReport> {
  const report: EndReport = { sandboxes: 0, shims: 0, netns: 0, mounts: 0 };
  const pid = liveContainerd(rec);
  if (pid !== undefined && existsSync(rec.socket)) {
    // Bounded well below the CRI client's default (two minutes a call): a containerd left behind
    // may be half broken (its machine's network gone) and hang on a sandbox's network teardown,
    // and ending it must not stall this node's start; the process route below ends what is left.
    const cri = new CriClient(rec.socket, { timeoutMs: LEFTOVER_CRI_TIMEOUT_MS });
    const until = Date.now() + LEFTOVER_CRI_BUDGET_MS;
    try {
      for (const s of await cri.listPodSandbox()) {
        if (Date.now() > until) break;
        await cri.stopPodSandbox(s.id).catch(() => {});
        await cri.removePodSandbox(s.id).catch(() => {});
        report.sandboxes++;
      }
    } catch {
      // not answering: the process route below does it
    } finally {
      cri.close();
    }
  }
  if (pid !== undefined) await terminate(pid, rec.containerdStart!);
  report.shims = await killShims(rec.socket, (n) => (report.netns += n));
  for (const m of mountsUnder(rec.state)) {
    await run('umount', ['-l', m]);
    report.mounts++;
  }
  return report;
}

/** Kills the shims serving `socket` and their containers, then deletes the containers' network namespaces (which takes their veths off the bridge). */
async function killShims(socket: string, countNetns: (n: number) => void): Promise<number> {
  const shims = shimsOf(socket);
  const namespaces = new Set<number>();
  const victims: { pid: number; start: number }[] = [];
  for (const shim of shims) {
    for (const child of childrenOf(shim)) {
      const ino = netnsInode(child);
      if (ino !== undefined && ino !== netnsInode(process.pid)) namespaces.add(ino);
      const start = processStartTime(child);
      if (start !== undefined) victims.push({ pid: child, start });
    }
    const start = processStartTime(shim);
    if (start !== undefined) victims.push({ pid: shim, start });
  }
  // A container's init is PID 1 of its PID namespace: killing it ends everything in there.
  for (const v of victims) {
    try {
      process.kill(v.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5000;
  while (victims.some((v) => sameProcess(v.pid, v.start)) && Date.now() < deadline) await sleep(50);
  let deleted = 0;
  if (namespaces.size && existsSync(NETNS_DIR)) {
    for (const name of readdirSync(NETNS_DIR)) {
      let ino: number | undefined;
      try {
        ino = statSync(join(NETNS_DIR, name)).ino;
      } catch {
        continue;
      }
      if (!namespaces.has(ino)) continue;
      await run('ip', ['netns', 'delete', name]);
      deleted++;
    }
  }
  countNetns(deleted);
  return shims.length;
}
