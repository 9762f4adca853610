// Ordinal's pause program and image: the ELF runs on this machine (x86-64), exits 0 on SIGTERM and
// SIGINT, ignores SIGCHLD, and sleeps otherwise; the image wraps it under the asked-for name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { ORDINAL_PAUSE_IMAGE, pauseImage, pauseProgram } from '../../src/agent/images/pause.ts';
import { readTar } from '../../src/agent/images/tar.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordinal-pause-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const onX64 = process.arch === 'x64' && process.platform === 'linux';

function startPause(): { pid: number; exited: Promise<{ code: number | null; signal: string | null }> } {
  const file = join(dir, 'pause');
  writeFileSync(file, pauseProgram('x64'), { mode: 0o755 });
  const child = spawn(file, [], { stdio: 'ignore', detached: true });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { pid: child.pid!, exited };
}

/** Signal numbers set in a /proc/<pid>/status mask line (SigCgt, SigIgn). */
function signals(pid: number, field: string): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(field + ':'))!;
  const mask = BigInt('0x' + line.split(/\s+/)[1]);
  return Array.from({ length: 64 }, (_, i) => i + 1).filter((s) => (mask >> BigInt(s - 1)) & 1n);
}

test('the pause program is a small static ELF for x86-64', () => {
  const elf = pauseProgram('x64');
  assert.deepEqual([...elf.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
  assert.equal(elf[4], 2, '64-bit');
  assert.equal(elf.readUInt16LE(18), 62, 'EM_X86_64');
  assert.equal(elf.readUInt16LE(56), 1, 'one program header');
  assert.ok(elf.length < 512, `${elf.length} bytes`);
});

test('other architectures are refused with advice', () => {
  assert.throws(() => pauseProgram('riscv64'), /x86-64 only, not riscv64.*ordinal images import/);
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test(`the pause program exits 0 at once on ${sig}`, { skip: !onX64 && 'needs Linux on x86-64' }, async () => {
    const p = startPause();
    await sleep(100);
    assert.deepEqual(signals(p.pid, 'SigCgt'), [2, 15], 'handlers for SIGINT and SIGTERM');
    assert.ok(signals(p.pid, 'SigIgn').includes(17), 'SIGCHLD ignored');
    assert.match(readFileSync(`/proc/${p.pid}/stat`, 'utf8'), /^\d+ \([^)]*\) S /, 'sleeping');
    const t0 = performance.now();
    process.kill(p.pid, sig);
    assert.deepEqual(await p.exited, { code: 0, signal: null });
    assert.ok(performance.now() - t0 < 1000);
  });
}

test('the pause program keeps sleeping through signals it does not handle', { skip: !onX64 && 'needs Linux on x86-64' }, async () => {
  const p = startPause();
  await sleep(50);
  process.kill(p.pid, 'SIGCHLD');
  process.kill(p.pid, 'SIGWINCH');
  await sleep(100);
  process.kill(p.pid, 0); // still there
  process.kill(p.pid, 'SIGKILL');
  assert.equal((await p.exited).signal, 'SIGKILL');
});

test('the pause image holds /pause as its entrypoint under the requested name', () => {
  const img = pauseImage('registry.k8s.io/pause:3.6', 'x64');
  assert.equal(img.ref, 'registry.k8s.io/pause:3.6');
  assert.equal(img.manifest.annotations?.['io.containerd.image.name'], 'registry.k8s.io/pause:3.6');
  const config = JSON.parse(img.blobs.get(img.configDigest)!.toString());
  assert.deepEqual(config.config.Entrypoint, ['/pause']);
  assert.equal(config.architecture, 'amd64');
  const files = readTar(gunzipSync(img.blobs.get(img.layerDigest)!));
  assert.deepEqual(files.map((f) => f.path), ['pause']);
  assert.deepEqual((files[0] as unknown as { data: Buffer }).data, pauseProgram('x64'));
  assert.equal(pauseImage(undefined, 'x64').ref, ORDINAL_PAUSE_IMAGE);
});
