// `ordinal controllers` as its own process (its own process group), for high-availability tests.
import type { ChildProcess } from 'node:child_process';
import { startOrdinal } from './ordinal-process.ts';

export interface ControllersProcess {
  proc: ChildProcess;
  /** The leader election identity it printed (`<hostname>_<uuid>`). */
  identity: Promise<string>;
  logs(): string;
  exited: Promise<number | string>;
  /** Signals the whole group (kill -9 with SIGKILL). */
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export function startControllers(args: string[], env: Record<string, string> = {}): ControllersProcess {
  const p = startOrdinal('controllers', args, { readyPattern: /leader election as (\S+?)\)/, notReady: 'controllers did not start in time', env });
  return { proc: p.proc, identity: p.ready.then((m) => m[1]!), logs: p.logs, exited: p.exited, signal: p.signal, stop: () => p.stop() };
}
