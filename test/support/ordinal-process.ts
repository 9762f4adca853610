// One `ordinal <subcommand>` as its own process, in its own process group, for tests that start
// servers, controllers and agents apart: signals and stop go to the whole group, so nothing the
// process started outlives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

export interface OrdinalProcess {
  proc: ChildProcess;
  logs(): string;
  /** Settles with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** The first match of the ready pattern in its output; rejects when it exits or times out first. */
  ready: Promise<RegExpExecArray>;
  /** Signals the whole process group. */
  signal(sig: NodeJS.Signals): void;
  /** `sig` (SIGTERM by default) to the group, SIGKILL after 10 s, and waits for the exit. */
  stop(sig?: NodeJS.Signals): Promise<void>;
}

export interface OrdinalProcessOptions {
  /** What the process prints once it is ready. */
  readyPattern: RegExp;
  /** Names the wait in the error ("agent did not join in time"). */
  notReady: string;
  env?: Record<string, string>;
  logLevel?: string;
  /** Keep only the last this many characters of output (all by default). */
  keepChars?: number;
}

export function startOrdinal(subcommand: string, args: string[], opts: OrdinalProcessOptions): OrdinalProcess {
  const proc = spawn(process.execPath, [join(root, 'src/cli/main.ts'), subcommand, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ORDINAL_LOG_LEVEL: opts.logLevel ?? 'info', ...opts.env },
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d;
    if (opts.keepChars !== undefined && out.length > opts.keepChars) out = out.slice(-opts.keepChars);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, sig) => res(code ?? sig ?? -1)));
  const ready = awaitOutput(proc, opts.readyPattern, { text: () => out, timeoutMs: 60_000, notReady: opts.notReady, what: `ordinal ${subcommand}` });
  ready.catch(() => {});
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, sig);
    } catch {
      // already gone
    }
  };
  return {
    proc,
    logs: () => out,
    exited,
    ready,
    signal,
    async stop(sig: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      signal(sig);
      const t = setTimeout(() => signal('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * The first match of `pattern` in a process's output, looked for each time it writes to stdout;
 * rejects with that output when the process exits first or `timeoutMs` passes. `text` gives the
 * output gathered so far: the caller's own stdout listener must be attached before this call, so
 * that it has taken in each chunk by the time the pattern is looked for.
 */
export function awaitOutput(proc: ChildProcess, pattern: RegExp, opts: { text: () => string; timeoutMs: number; notReady: string; what: string }): Promise<RegExpExecArray> {
  return new Promise<RegExpExecArray>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${opts.notReady}:\n${opts.text()}`)), opts.timeoutMs);
    proc.stdout!.on('data', () => {
      const m = pattern.exec(opts.text());
      if (m) {
        clearTimeout(timer);
        res(m);
      }
    });
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      rej(new Error(`${opts.what} exited (${code ?? sig}) before it was ready:\n${opts.text()}`));
    });
  });
}
