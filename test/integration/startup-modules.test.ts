// What `ordinal up --runtime sim` loads before it is ready. Modules that a start does not use are
// loaded on first use (src/util/lazy-module.ts and dynamic imports), and a warm start loads no
// type stripper (bin/ordinal.js enables the compile cache first): each of these cost tens of
// milliseconds of CPU at every start, and a single static import in the wrong place brings one back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ORDINAL_NODE_FLAGS } from '../../src/cli/node-flags.ts';

const root = resolve(import.meta.dirname, '../..');
const preload = join(root, 'test/support/startup-modules.mjs');

interface Loaded {
  urls: string[];
  internal: string[];
}

/** Starts bin/ordinal.js as users do, with the compile cache under `cacheTmp`, and returns what it loaded before "ready at". */
function loadedBeforeReady(dataDir: string, cacheTmp: string, debug = false): Promise<Loaded & { misses: string[] }> {
  const { NODE_COMPILE_CACHE: _, ...env } = process.env;
  const proc = spawn(process.execPath, [...ORDINAL_NODE_FLAGS, '--import', preload, join(root, 'bin/ordinal.js'), 'up', '--runtime', 'sim', '--data-dir', dataDir, '--port', '0', '--dns-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, TMPDIR: cacheTmp, ORDINAL_LOG_LEVEL: 'warn', ...(debug ? { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } : {}) },
    detached: true,
  });
  let out = '';
  return new Promise<Loaded & { misses: string[] }>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`not ready in 60 s:\n${out}`)), 60_000);
    const seen = (d: Buffer) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('STARTUP-MODULES '));
      if (line && /ready at/.test(out)) {
        clearTimeout(timer);
        const misses = out.split('\n').filter((l) => /no transpile cache|no cache for/.test(l));
        res({ ...JSON.parse(line.slice('STARTUP-MODULES '.length)), misses });
      }
    };
    proc.stdout!.on('data', seen);
    proc.stderr!.on('data', seen);
    proc.once('exit', (code) => rej(new Error(`exited with ${code} before ready:\n${out}`)));
  }).finally(async () => {
    const exited = new Promise((r) => proc.once('exit', r));
    try {
      process.kill(-proc.pid!, 'SIGTERM');
    } catch {}
    await exited;
  });
}

/** Files in the compile cache under `cacheTmp` (Node keeps it in node-compile-cache/<version>/). */
function cachedFiles(cacheTmp: string): number {
  try {
    return readdirSync(join(cacheTmp, 'node-compile-cache'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  } catch {
    return 0;
  }
}

test('a start on the simulated runtime loads no module it does not use before it is ready', { timeout: 180_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ordinal-startup-'));
  const cacheTmp = mkdtempSync(join(tmpdir(), 'ordinal-startup-cache-'));
  try {
    // Fills the compile cache. Under the full suite's load, a start stopped right after it is ready
    // has now and then left no cache at all (every file missing from it, not one): that is a failed
    // fill, which a second start repeats; a file missing from a filled cache is what this test catches.
    for (let fill = 0; fill < 3 && cachedFiles(cacheTmp) === 0; fill++) await loadedBeforeReady(dataDir, cacheTmp);
    assert.ok(cachedFiles(cacheTmp) > 0, 'three starts left no compile cache');
    const { urls, internal, misses } = await loadedBeforeReady(dataDir, cacheTmp, true);
    const own = urls.filter((u) => u.startsWith(`file://${root}/src/`));
    assert.ok(own.some((u) => u.endsWith('/src/apiserver/server.ts')), 'the hook saw the server load');
    const unwanted: [string, (u: string) => boolean][] = [
      ['the yaml package', (u) => u.includes('/node_modules/yaml/')],
      ['the YAML body decoder', (u) => u.includes('/node_modules/js-yaml/') || u.includes('/src/apiserver/yaml-body.ts')],
      ['CEL', (u) => u.includes('/node_modules/@bufbuild/') || u.includes('/src/apiextensions/cel/compile.ts')],
      ['the ws package', (u) => u.includes('/node_modules/ws/')],
      ['the streaming endpoints', (u) => u.includes('/src/apiserver/streaming/index.ts') || u.includes('/src/streaming/spdy/')],
      ['the containerd runtime', (u) => u.includes('/src/agent/runtime/containerd.ts') || u.includes('/src/agent/containerd-supervisor/')],
      ['the protobuf decoder', (u) => u.includes('/src/apiserver/protobuf/decode.ts')],
      ['audit logging', (u) => u.includes('/src/apiserver/audit/')],
      ['the etcd client', (u) => u.includes('/node_modules/etcd3/') || u.includes('/src/storage/etcd/store.ts')],
      ["etcd's messages (protobufjs)", (u) => u.includes('/node_modules/protobufjs/') || u.includes('/src/storage/etcd/proto.ts')],
      ['leader election', (u) => u.includes('/src/client/leaderelection/elector.ts')],
    ];
    for (const [what, matches] of unwanted) assert.deepEqual(urls.filter(matches), [], `${what} loaded before ready`);
    // Node loads these lazily, and only an import that needs them brings them in.
    for (const mod of ['NativeModule internal/deps/amaro/dist/index', 'NativeModule internal/deps/undici/undici', 'NativeModule http2']) {
      assert.ok(!internal.includes(mod), `${mod} loaded before ready (warm compile cache); not in the cache:\n${misses.join('\n')}`);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(cacheTmp, { recursive: true, force: true });
  }
});
