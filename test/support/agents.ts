// Node agents as their own processes (`ordinal agent`), each in its own process group, for tests of
// joining and of node failure. `stop` ends the whole group (npx-style wrappers included).
import { execFile, type ChildProcess } from 'node:child_process';
import { startOrdinal } from './ordinal-process.ts';
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
  const p = startOrdinal('agent', args, { readyPattern: / joined /, notReady: 'agent did not join in time', env });
  const joined = p.ready.then(() => {});
  joined.catch(() => {});
  return { proc: p.proc, logs: p.logs, exited: p.exited, joined, signal: p.signal, stop: p.stop };
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
