// A private image registry on loopback for tests that pull through CRI: Debian's docker-registry
// (distribution 2.8) started as a plain child process with its own config and storage under a
// temp dir, listening on 127.0.0.1:<free port>. Images built by ../images/build.ts are pushed
// into it with the registry HTTP API v2 (monolithic blob uploads, OCI manifests). Every process
// started here is stopped by its PID.
//
// containerd reaches it over plain HTTP once told to: trustRegistry() in containerd.ts writes the
// hosts.toml for it.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BuiltImage } from '../images/build.ts';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** Why a local registry cannot run here, or undefined when it can. */
export function registryUnavailable(): string | undefined {
  if (!existsSync(REGISTRY_BIN)) return `${REGISTRY_BIN} not found: apt-get install docker-registry (or bash test/e2e/containerd/install.sh)`;
  return undefined;
}

export interface Registry {
  /** host:port, the registry part of image references ("127.0.0.1:41234/kubia-stored:v2"). */
  host: string;
  port: number;
  dir: string;
  pid: number;
  proc: ChildProcess;
  log(): string;
  /** Pushes an image as <repository>:<tag>; returns the manifest digest. */
  push(img: BuiltImage, repository: string, tag: string): Promise<string>;
  stop(): Promise<void>;
}

/** distribution's config: filesystem storage in dir, loopback only, no auth, no debug listener. */
export function registryConfig(o: { dir: string; port: number }): string {
  return `version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${JSON.stringify(join(o.dir, 'storage'))}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${o.port}
`;
}

/** A port nobody listens on right now (the registry takes it a moment later; start retries on a clash). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startRegistry(opts: { dir?: string } = {}): Promise<Registry> {
  const why = registryUnavailable();
  if (why) throw new Error(why);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ordinal-registry-'));
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const logFile = join(dir, 'registry.log');
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  let lastErr = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const configPath = join(dir, 'config.yml');
    writeFileSync(configPath, registryConfig({ dir, port }));
    const fd = openSync(logFile, 'a');
    // docker-registry reads OTEL/REGISTRY_* variables from the environment: start it with a clean one
    const proc = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', fd, fd], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    closeSync(fd);
    let exited: number | null = null;
    proc.on('exit', (code) => (exited = code ?? -1));
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (exited !== null) break;
      const ok = await fetch(`${base}/v2/`).then((r) => r.status === 200, () => false);
      if (ok) return handle(dir, port, proc, log);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        break;
      }
      await sleep(30);
    }
    lastErr = log().slice(-2000);
    if (!/address already in use/.test(lastErr)) break;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`docker-registry did not start:\n${lastErr}`);
}

function handle(dir: string, port: number, proc: ChildProcess, log: () => string): Registry {
  const host = `127.0.0.1:${port}`;
  return {
    host,
    port,
    dir,
    pid: proc.pid!,
    proc,
    log,
    push: (img, repository, tag) => pushImage(`http://${host}`, img, repository, tag),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = sleep(5000, undefined, { ref: false }).then(() => 'timeout');
        if ((await Promise.race([done, t])) === 'timeout') {
          proc.kill('SIGKILL');
          await done;
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function expectStatus(res: Response, want: number[], what: string): Promise<Response> {
  if (!want.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

/** Uploads one blob unless the repository has it: POST starts an upload session, one PUT with ?digest= completes it. */
export async function pushBlob(base: string, repository: string, digest: string, data: Buffer): Promise<void> {
  const head = await fetch(`${base}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status === 200) return;
  const start = await expectStatus(await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: 'POST' }), [202], `start upload of ${digest}`);
  const location = new URL(start.headers.get('location') ?? '', base); // may be relative, and carries state in its query
  location.searchParams.set('digest', digest);
  await expectStatus(
    await fetch(location, { method: 'PUT', body: new Uint8Array(data), headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) } }),
    [201],
    `upload ${digest}`,
  );
}

/** Pushes config and layer blobs, then the OCI manifest under the tag; returns the digest the registry reports. */
export async function pushImage(base: string, img: BuiltImage, repository: string, tag: string): Promise<string> {
  const manifestBytes = img.blobs.get(img.manifest.digest);
  if (!manifestBytes) throw new Error(`${img.ref}: manifest ${img.manifest.digest} missing from its blobs`);
  for (const [digest, data] of img.blobs) {
    if (digest !== img.manifest.digest) await pushBlob(base, repository, digest, data);
  }
  const res = await expectStatus(
    await fetch(`${base}/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: new Uint8Array(manifestBytes), headers: { 'content-type': img.manifest.mediaType } }),
    [201],
    `put manifest ${repository}:${tag}`,
  );
  return res.headers.get('docker-content-digest') ?? img.manifest.digest;
}
