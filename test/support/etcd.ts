// A private etcd for tests: Debian's /usr/bin/etcd on loopback ports picked free, its data in a temp
// dir, in its own process group so that stopping it stops nothing else.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BIN = '/usr/bin/etcd';
export const ETCDCTL_BIN = '/usr/bin/etcdctl';

/** Why etcd tests cannot run here, or undefined when they can. */
export function etcdMissing(): string | undefined {
  if (!existsSync(ETCD_BIN)) return `${ETCD_BIN} is missing (Debian package etcd-server; .ci/run installs it)`;
  if (!existsSync(ETCDCTL_BIN)) return `${ETCDCTL_BIN} is missing (Debian package etcd-client; .ci/run installs it)`;
  return undefined;
}

export interface Etcd {
  url: string;
  dataDir: string;
  proc: ChildProcess;
  logs(): string;
  /** etcdctl against this etcd; resolves with stdout, rejects on a non-zero exit. */
  ctl(args: string[]): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its data. */
  remove(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startEtcd(opts: { dataDir?: string; port?: number } = {}): Promise<Etcd> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'ordinal-etcd-'));
  const port = opts.port ?? (await freePort());
  const peer = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const proc = spawn(
    ETCD_BIN,
    [
      '--name', 'test',
      '--data-dir', dataDir,
      '--listen-client-urls', url,
      '--advertise-client-urls', url,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `test=${peerUrl}`,
      '--initial-cluster-state', existsSync(join(dataDir, 'member')) ? 'existing' : 'new',
      '--log-level', 'warn',
      '--logger', 'zap',
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const ctl = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile(ETCDCTL_BIN, ['--endpoints', url, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`etcdctl ${args.join(' ')}: ${stderr || err.message}`));
        else resolve(stdout);
      });
    });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    try {
      process.kill(-proc.pid!, signal);
    } catch {}
    await exited;
  };
  const etcd: Etcd = {
    url,
    dataDir,
    proc,
    logs: () => out,
    ctl,
    stop,
    remove: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}:\n${out}`);
    try {
      await ctl(['endpoint', 'health']);
      return etcd;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop('SIGKILL');
        throw new Error(`etcd did not become healthy: ${(err as Error).message}\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
