// `ordinal controllers` as its own process (its own process group), for high-availability tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

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
  const proc = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'controllers', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ORDINAL_LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, sig) => res(code ?? sig ?? -1)));
  const identity = new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`controllers did not start in time:\n${out}`)), 60_000);
    proc.stdout!.on('data', () => {
      const m = /leader election as (\S+?)\)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`controllers exited (${code}) before starting:\n${out}`));
    });
  });
  identity.catch(() => {});
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, sig);
    } catch {
      // already gone
    }
  };
  return {
    proc,
    identity,
    logs: () => out,
    exited,
    signal,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      signal('SIGTERM');
      const t = setTimeout(() => signal('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}
