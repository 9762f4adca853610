// `ordinal server` processes for high-availability tests: each in its own process group on a fixed
// address and port and data dir, so it can be killed -9 and started again exactly where it was.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { poll } from './failure-cluster.ts';

const root = resolve(import.meta.dirname, '../..');

export class ServerProcess {
  proc!: ChildProcess;
  out = '';
  exited!: Promise<unknown>;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly args: string[];
  constructor(dataDir: string, host: string, port: number, args: string[]) {
    this.dataDir = dataDir;
    this.host = host;
    this.port = port;
    this.args = args;
  }
  get url() {
    return `https://${this.host}:${this.port}`;
  }
  /** Starts it and resolves once it serves. */
  async start(): Promise<void> {
    this.proc = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'server', '--data-dir', this.dataDir, '--host', this.host, '--port', String(this.port), ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, ORDINAL_LOG_LEVEL: 'warn' },
    });
    const p = this.proc;
    // Readiness is judged on this start's output only: the log keeps earlier starts' too.
    let ready = false;
    const take = (d: Buffer) => {
      this.out = (this.out + d).slice(-100_000);
      if (/ready at /.test(String(d))) ready = true;
    };
    p.stdout!.on('data', take);
    p.stderr!.on('data', take);
    this.exited = new Promise((r) => p.once('exit', (c, s) => r(c ?? s)));
    await poll(`${this.url} ready`, 60_000, async () => {
      if (p.exitCode !== null) throw new Error(`server exited:\n${this.out}`);
      return ready;
    }, 100);
  }
  running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }
  /** Signals its process group (kill -9 by default) and waits for it to exit. */
  async kill(sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running()) return;
    try {
      process.kill(-this.proc.pid!, sig);
    } catch {}
    const t = setTimeout(() => {
      try {
        process.kill(-this.proc.pid!, 'SIGKILL');
      } catch {}
    }, 10_000);
    await this.exited;
    clearTimeout(t);
  }
}
