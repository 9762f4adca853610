// Ordinal's own containerd, as k3s runs one: its config, root, state, socket and CNI config under
// the data dir, started in its own process group, restarted with back-off when it dies, and stopped
// (SIGTERM) when Ordinal stops. Containers live in their shims, so they keep running while
// containerd restarts or is stopped, and the next containerd on the same state finds them again.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from '../../util/log.ts';
import { CriClient } from '../runtime/cri/client.ts';
import { ORDINAL_PAUSE_IMAGE } from '../images/pause.ts';
import { containerdConfigToml, containerdLayout, findCniBinDir, lacksSysResource, restartDelayMs, type ContainerdLayout } from './config.ts';
import { endInstance, leftoverAction, liveContainerd, ownerAlive, readRecords, removeRecord, terminate, writeRecord, type ContainerdRecord } from './leftovers.ts';
import { processStartTime, shimsOf } from './proc.ts';

export interface OwnContainerdOptions {
  dataDir: string;
  /** The pod bridge this node uses (recorded, so a later cluster on the same bridge ends these pods). */
  bridge: string;
  sandboxImage?: string;
  /** How long to wait for the socket to answer CRI calls. */
  startTimeoutMs?: number;
}

export interface OwnContainerd {
  socket: string;
  layout: ContainerdLayout;
  /** The running containerd's pid (it changes when containerd is restarted). */
  readonly pid: number | undefined;
  /** SIGTERM to containerd (SIGKILL after 10 s); its containers keep running in their shims. */
  stop(): Promise<void>;
}

/** Why this machine cannot run an own containerd (as the current user), or undefined when it can. */
export function ownContainerdUnavailable(): string | undefined {
  const missing = ['containerd', 'containerd-shim-runc-v2', 'runc', 'ctr'].filter((b) => !onPath(b));
  if (missing.length) return `${missing.join(', ')} not installed (apt-get install containerd runc containernetworking-plugins)`;
  if (!findCniBinDir()) return 'the CNI plugins are not installed in /usr/lib/cni or /opt/cni/bin (apt-get install containernetworking-plugins)';
  if (process.getuid?.() !== 0) return 'real containers need root (containerd manages mounts, cgroups and network namespaces)';
  return undefined;
}

export function onPath(bin: string): string | undefined {
  for (const d of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    if (d && existsSync(join(d, bin))) return join(d, bin);
  }
  for (const d of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (existsSync(join(d, bin))) return join(d, bin);
  return undefined;
}

/** Looks at containerds earlier Ordinals left, ends what would clash with this one, and stops an earlier one on our own data dir. */
async function settleLeftovers(layout: ContainerdLayout, bridge: string): Promise<void> {
  for (const rec of readRecords()) {
    const action = leftoverAction(rec, { ownerAlive: ownerAlive(rec), socket: layout.socket, bridge, dataDirExists: existsSync(rec.dataDir) });
    if (action === 'conflict') throw new Error(`another Ordinal (pid ${rec.ownerPid}) runs a containerd on this data dir (${rec.dataDir}); stop it first`);
    if (action === 'take-over') {
      const pid = liveContainerd(rec);
      if (pid !== undefined) {
        log('info', 'containerd', 'stopping the containerd an earlier Ordinal left running on this data dir; its containers carry on', { pid });
        await terminate(pid, rec.containerdStart!);
      }
    } else if (action === 'end') {
      const why = existsSync(rec.dataDir) ? `its pods are on this node's bridge ${bridge}` : `its data dir ${rec.dataDir} is gone`;
      log('info', 'containerd', `ending what an earlier Ordinal's containerd left running: ${why}`, { socket: rec.socket, ownerPid: rec.ownerPid });
      const report = await endInstance(rec);
      log('info', 'containerd', 'earlier containerd ended', { socket: rec.socket, ...report });
      removeRecord(rec.socket);
    } else if (action === 'keep') {
      if (liveContainerd(rec) === undefined && !shimsOf(rec.socket).length) {
        removeRecord(rec.socket); // nothing of it runs any more
        continue;
      }
      log('info', 'containerd', 'an earlier cluster left a containerd with pods on another bridge; they wait for it to restart', { dataDir: rec.dataDir, bridge: rec.bridge });
    }
  }
}

export async function startOwnContainerd(opts: OwnContainerdOptions): Promise<OwnContainerd> {
  const why = ownContainerdUnavailable();
  if (why) throw new Error(`cannot start containerd: ${why}`);
  const layout = containerdLayout(opts.dataDir);
  await settleLeftovers(layout, opts.bridge);
  for (const d of [layout.dir, layout.root, layout.state, layout.cniConfDir, layout.registryConfigDir]) mkdirSync(d, { recursive: true });
  const restrictOomScoreAdj = lacksSysResource(readFileSync('/proc/self/status', 'utf8'));
  writeFileSync(layout.config, containerdConfigToml({ layout, sandboxImage: opts.sandboxImage ?? ORDINAL_PAUSE_IMAGE, cniBinDir: findCniBinDir()!, restrictOomScoreAdj }));
  const containerdBin = onPath('containerd')!;
  const record: ContainerdRecord = {
    socket: layout.socket,
    config: layout.config,
    state: layout.state,
    dataDir: opts.dataDir,
    bridge: opts.bridge,
    ownerPid: process.pid,
    ownerStart: processStartTime(process.pid)!,
  };

  let child: ChildProcess | undefined;
  let stopping = false;
  let failures = 0;
  let restartTimer: NodeJS.Timeout | undefined;

  const launch = (): ChildProcess => {
    // A socket file left by a containerd that died would make the wait below succeed too early.
    rmSync(layout.socket, { force: true });
    const fd = openSync(layout.log, 'a');
    // Its own process group: a Ctrl-C meant for Ordinal does not reach it, so Ordinal stops it in order.
    const proc = spawn(containerdBin, ['--config', layout.config], { stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    const startedAt = Date.now();
    record.containerdPid = proc.pid;
    record.containerdStart = proc.pid !== undefined ? processStartTime(proc.pid) : undefined;
    writeRecord(record);
    proc.on('exit', (code, signal) => {
      if (child === proc) child = undefined;
      if (stopping) return;
      failures = Date.now() - startedAt > 60_000 ? 0 : failures + 1;
      const delay = restartDelayMs(failures - 1);
      log('warn', 'containerd', 'containerd exited; restarting', { code, signal, restartInMs: delay, log: layout.log });
      restartTimer = setTimeout(() => {
        if (!stopping) child = launch();
      }, delay);
    });
    log('info', 'containerd', 'containerd started', { pid: proc.pid, socket: layout.socket, config: layout.config, log: layout.log, restrictOomScoreAdj });
    return proc;
  };

  child = launch();
  await waitForCri(layout, () => child, opts.startTimeoutMs ?? 20_000).catch(async (err) => {
    stopping = true;
    if (child?.pid) await terminate(child.pid, record.containerdStart!, 2000);
    throw err;
  });

  return {
    socket: layout.socket,
    layout,
    get pid() {
      return child?.pid;
    },
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      const proc = child;
      if (proc?.pid !== undefined && record.containerdStart !== undefined) await terminate(proc.pid, record.containerdStart, 10_000);
      // While shims still run the record stays: the next start (this data dir, or another on the bridge) decides about them.
      record.containerdPid = undefined;
      record.containerdStart = undefined;
      if (shimsOf(layout.socket).length) writeRecord(record);
      else removeRecord(layout.socket);
      log('info', 'containerd', 'containerd stopped; pods keep running in their shims');
    },
  };
}

async function waitForCri(layout: ContainerdLayout, current: () => ChildProcess | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const tail = () => (existsSync(layout.log) ? readFileSync(layout.log, 'utf8').slice(-2000) : '');
  for (;;) {
    if (existsSync(layout.socket)) {
      const cri = new CriClient(layout.socket);
      try {
        const v = await cri.version();
        if (v.runtimeApiVersion === 'v1') return;
      } catch {
        // not serving yet
      } finally {
        cri.close();
      }
    }
    if (Date.now() > deadline) throw new Error(`containerd did not answer on ${layout.socket} within ${timeoutMs / 1000} s; its log (${layout.log}) ends:\n${tail()}`);
    if (!current()) await sleep(200);
    await sleep(50);
  }
}
