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

/** Serving TLS: etcd's --cert-file/--key-file, and with a CA, --client-cert-auth against it. */
export interface EtcdTls {
  certFile: string;
  keyFile: string;
  caFile?: string;
}

export async function startEtcd(opts: { dataDir?: string; port?: number; tls?: EtcdTls } = {}): Promise<Etcd> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'ordinal-etcd-'));
  const port = opts.port ?? (await freePort());
  const peer = await freePort();
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const tlsArgs = opts.tls
    ? ['--cert-file', opts.tls.certFile, '--key-file', opts.tls.keyFile, ...(opts.tls.caFile ? ['--client-cert-auth', '--trusted-ca-file', opts.tls.caFile] : [])]
    : [];
  const ctlTls = opts.tls ? ['--cacert', opts.tls.caFile ?? opts.tls.certFile, ...(opts.tls.caFile ? ['--cert', opts.tls.certFile, '--key', opts.tls.keyFile] : [])] : [];
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
      ...tlsArgs,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const ctl = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile(ETCDCTL_BIN, ['--endpoints', url, ...ctlTls, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
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

/** One member of a test cluster: killable and restartable on the same ports and data. */
export interface EtcdMember {
  name: string;
  url: string;
  peerUrl: string;
  dataDir: string;
  proc: ChildProcess;
  logs(): string;
  running(): boolean;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again (after a stop or a kill) with its data; it rejoins the cluster. */
  start(): void;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** The client URLs, comma-separated, as --etcd-servers takes them. */
  servers: string;
  /** etcdctl against every member; resolves with stdout. */
  ctl(args: string[]): Promise<string>;
  /** Resolves once every running member reports healthy. */
  healthy(ms?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  remove(): Promise<void>;
}

/**
 * A cluster of n members on loopback, as the README's "Running etcd for Ordinal" runs one: static
 * bootstrap with --initial-cluster, every client and peer port picked free, each member in its own
 * process group under one temp dir.
 */
export async function startEtcdCluster(n = 3): Promise<EtcdCluster> {
  const base = mkdtempSync(join(tmpdir(), 'ordinal-etcd-cluster-'));
  const specs = [];
  for (let i = 0; i < n; i++) specs.push({ name: `m${i}`, url: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}`, dataDir: join(base, `m${i}`) });
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
  const members: EtcdMember[] = specs.map((s) => {
    let out = '';
    const m: EtcdMember = {
      ...s,
      proc: undefined as unknown as ChildProcess,
      logs: () => out,
      running: () => m.proc.exitCode === null && m.proc.signalCode === null,
      stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
        if (!m.running()) return;
        const exited = new Promise<void>((r) => m.proc.once('exit', () => r()));
        try {
          process.kill(-m.proc.pid!, signal);
        } catch {}
        // A member left without quorum may linger on SIGTERM: its group is killed after a while.
        const timer = setTimeout(() => {
          try {
            process.kill(-m.proc.pid!, 'SIGKILL');
          } catch {}
        }, 5_000);
        await exited;
        clearTimeout(timer);
      },
      start: () => {
        m.proc = spawn(
          ETCD_BIN,
          [
            '--name', s.name,
            '--data-dir', s.dataDir,
            '--listen-client-urls', s.url,
            '--advertise-client-urls', s.url,
            '--listen-peer-urls', s.peerUrl,
            '--initial-advertise-peer-urls', s.peerUrl,
            '--initial-cluster', initialCluster,
            '--initial-cluster-token', 'ordinal-test',
            '--initial-cluster-state', 'new',
            '--log-level', 'warn',
            '--logger', 'zap',
          ],
          { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        m.proc.stdout!.on('data', (d) => (out += d));
        m.proc.stderr!.on('data', (d) => (out += d));
      },
    };
    m.start();
    return m;
  });
  const servers = specs.map((s) => s.url).join(',');
  const ctlAt = (endpoints: string, args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile(ETCDCTL_BIN, ['--endpoints', endpoints, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`etcdctl ${args.join(' ')}: ${stderr || err.message}`));
        else resolve(stdout);
      });
    });
  const stop = async (signal?: NodeJS.Signals) => {
    await Promise.all(members.map((m) => m.stop(signal)));
  };
  const cluster: EtcdCluster = {
    members,
    servers,
    // Only running members: etcdctl 3.4 may stay on a dead first endpoint until its deadline.
    ctl: (args) => ctlAt(members.filter((m) => m.running()).map((m) => m.url).join(',') || servers, args),
    healthy: async (ms = 30_000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const dead = members.find((m) => !m.running() && m.proc.exitCode !== null && m.proc.exitCode !== 0 && m.proc.signalCode === null);
        try {
          const up = members.filter((m) => m.running()).map((m) => m.url).join(',');
          await ctlAt(up, ['endpoint', 'health']);
          return;
        } catch (err) {
          if (Date.now() > deadline || dead) {
            throw new Error(`etcd cluster not healthy: ${(err as Error).message}\n${members.map((m) => `--- ${m.name}\n${m.logs().slice(-4000)}`).join('\n')}`);
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    stop,
    remove: async () => {
      await stop();
      rmSync(base, { recursive: true, force: true });
    },
  };
  try {
    await cluster.healthy();
  } catch (err) {
    await stop('SIGKILL');
    rmSync(base, { recursive: true, force: true });
    throw err;
  }
  return cluster;
}
