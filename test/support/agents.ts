// Node agents as their own processes (`ordinal agent`), each in its own process group, for tests of
// joining and of node failure. `stop` ends the whole group (npx-style wrappers included).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

export interface AgentProcess {
  proc: ChildProcess;
  logs(): string;
  /** Settles with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Resolves once the agent printed that it joined; rejects when it exits first. */
  joined: Promise<void>;
  signal(sig: NodeJS.Signals): void;
  stop(sig?: NodeJS.Signals): Promise<void>;
}

export function startAgent(args: string[], env: Record<string, string> = {}): AgentProcess {
  const proc = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'agent', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ORDINAL_LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, sig) => res(code ?? sig ?? -1)));
  const joined = new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`agent did not join in time:\n${out}`)), 60_000);
    proc.stdout!.on('data', () => {
      if (/ joined /.test(out)) {
        clearTimeout(timer);
        res();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`agent exited (${code}) before joining:\n${out}`));
    });
  });
  joined.catch(() => {});
  const group = (sig: NodeJS.Signals) => {
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
    joined,
    signal: group,
    async stop(sig: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      group(sig);
      const t = setTimeout(() => group('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** `ordinal token create` against a cluster's data dir; returns the join command's parts. */
export async function createJoinToken(dataDir: string, extra: string[] = []): Promise<{ server: string; token: string; hash: string; command: string }> {
  const out = await new Promise<string>((res, rej) =>
    execFile(process.execPath, [join(root, 'src/cli/main.ts'), 'token', 'create', '--data-dir', dataDir, ...extra], { timeout: 30_000 }, (err, stdout, stderr) => (err ? rej(new Error(`${err.message}\n${stderr}`)) : res(stdout))),
  );
  const m = /ordinal agent --server (\S+) --token (\S+) --ca-cert-hash (\S+)/.exec(out);
  if (!m) throw new Error(`no join command in: ${out}`);
  return { server: m[1]!, token: m[2]!, hash: m[3]!, command: m[0] };
}
