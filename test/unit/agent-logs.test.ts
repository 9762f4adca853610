// `kubectl logs` on the node: the CRI log format, which instance is read (with upstream's errors),
// and the options (--tail, --since, --limit-bytes, --timestamps, -f) on log files written here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ApiError } from '../../src/apiserver/errors.ts';
import { findTailStart, parseCriLogLine, parseLogTimestamp } from '../../src/agent/cri-log-format.ts';
import { openContainerLogs, selectLogInstance, type LogContext } from '../../src/agent/logs.ts';
import type { ContainerView } from '../../src/agent/pod-worker.ts';
import type { RuntimeContainerStatus } from '../../src/agent/runtime/types.ts';
import type { LogOptions } from '../../src/streaming/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'ordinal-logs-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function logFile(text: string): string {
  const path = join(dir, `${files++}.log`);
  writeFileSync(path, text);
  return path;
}

const T0 = Date.parse('2026-01-02T03:04:05Z');
/** A CRI record stamped `sec` seconds after T0 (with a trimmed fraction, as Go writes them). */
const rec = (sec: number, stream: string, tag: string, content: string) => `${new Date(T0 + sec * 1000).toISOString().replace('.000Z', '.5Z')} ${stream} ${tag} ${content}\n`;

const status = (id: string, state: RuntimeContainerStatus['state'], logPath?: string): RuntimeContainerStatus => ({ id, state, createdAt: '2026-01-02T03:04:05Z', ...(logPath ? { logPath } : {}) });
const view = (v: Partial<ContainerView>): ContainerView => ({ name: 'c', init: false, restartCount: 0, ...v });
const options = (o: Partial<LogOptions> = {}): LogOptions => ({ container: 'c', follow: false, previous: false, timestamps: false, ...o });

function collect(s: Readable, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`stream did not end; so far: ${JSON.stringify(out)}`)), timeoutMs);
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('end', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function logsOf(text: string, o: Partial<LogOptions> = {}, ctx: Partial<LogContext> = {}): Promise<string> {
  const c = view({ id: 'a', status: status('a', 'exited', logFile(text)) });
  return collect(await openContainerLogs(c, options(o), { podName: 'p', ...ctx }));
}

const sample = [rec(0, 'stdout', 'F', 'one'), rec(1, 'stderr', 'F', 'two'), rec(2, 'stdout', 'P', 'thr'), rec(2, 'stdout', 'F', 'ee'), rec(3, 'stdout', 'F', 'four')].join('');

test('timestamps: nanoseconds parsed and printed in full, zero offsets as Z', () => {
  assert.deepEqual(parseLogTimestamp('2026-11-23T16:51:43.486239921Z'), { timeMs: Date.parse('2026-11-23T16:51:43.486Z') + 0.239921, timestamp: '2026-11-23T16:51:43.486239921Z' });
  assert.equal(parseLogTimestamp('2026-11-23T16:51:43.4Z')?.timestamp, '2026-11-23T16:51:43.400000000Z');
  assert.equal(parseLogTimestamp('2026-11-23T16:51:43Z')?.timestamp, '2026-11-23T16:51:43.000000000Z');
  assert.equal(parseLogTimestamp('2026-11-23T16:51:43+00:00')?.timestamp, '2026-11-23T16:51:43.000000000Z');
  const east = parseLogTimestamp('2026-11-23T18:51:43.5+02:00')!;
  assert.equal(east.timestamp, '2026-11-23T18:51:43.500000000+02:00');
  assert.equal(east.timeMs, Date.parse('2026-11-23T16:51:43.5Z'));
  assert.equal(parseLogTimestamp('yesterday'), undefined);
  assert.equal(parseLogTimestamp('2026-11-23 16:51:43Z'), undefined);
});

test('CRI records: stream, partial tag, content with or without its newline', () => {
  const full = parseCriLogLine(Buffer.from('2026-11-23T16:51:43.1Z stdout F hello world\n'))!;
  assert.equal(full.stream, 'stdout');
  assert.equal(full.partial, false);
  assert.equal(full.content.toString(), 'hello world\n');
  const part = parseCriLogLine(Buffer.from('2026-11-23T16:51:43.1Z stderr P:x hel\n'))!;
  assert.equal(part.stream, 'stderr');
  assert.equal(part.partial, true);
  assert.equal(part.content.toString(), 'hel', 'a fragment loses its newline');
  assert.equal(parseCriLogLine(Buffer.from('2026-11-23T16:51:43.1Z stdout F \n'))!.content.toString(), '\n', 'an empty line');
  assert.equal(parseCriLogLine(Buffer.from('2026-11-23T16:51:43.1Z stdout F last'))!.content.toString(), 'last');
  for (const bad of ['garbage\n', '2026-11-23T16:51:43.1Z stdin F x\n', '2026-11-23T16:51:43.1Z stdout\n', 'notatime stdout F x\n', '{"log":"x"}\n']) {
    assert.equal(parseCriLogLine(Buffer.from(bad)), undefined, bad);
  }
});

test('which instance: current, last terminated, and upstream errors', () => {
  const run = status('new', 'running', '/l/1.log');
  const dead = status('old', 'exited', '/l/0.log');
  assert.equal(selectLogInstance(view({ id: 'new', status: run, previous: dead }), false, 'p'), run);
  assert.equal(selectLogInstance(view({ id: 'new', status: run, previous: dead }), true, 'p'), dead);
  // Crash loop: the state is waiting, lastState is the instance that just exited.
  const loop = view({ id: 'old', status: dead, previous: status('older', 'exited'), waiting: 'CrashLoopBackOff' });
  assert.equal(selectLogInstance(loop, false, 'p'), dead);
  assert.equal(selectLogInstance(loop, true, 'p'), dead);
  // Exited and not restarting (restartPolicy Never): its own log; --previous has none.
  assert.equal(selectLogInstance(view({ id: 'old', status: dead }), false, 'p'), dead);
  // Restarted, the new instance not started yet: the last terminated one.
  assert.equal(selectLogInstance(view({ id: 'n', status: status('n', 'created'), previous: dead }), false, 'p'), dead);

  const err = (c: ContainerView, previous: boolean) => {
    try {
      selectLogInstance(c, previous, 'p');
    } catch (e) {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 400);
      assert.equal(e.reason, 'BadRequest');
      return e.message;
    }
    assert.fail('no error');
  };
  assert.equal(err(view({ id: 'a', status: run }), true), 'previous terminated container "c" in pod "p" not found');
  assert.equal(err(view({ waiting: 'ContainerCreating' }), false), 'container "c" in pod "p" is waiting to start: ContainerCreating');
  assert.equal(err(view({ waiting: 'PodInitializing' }), false), 'container "c" in pod "p" is waiting to start: PodInitializing');
  assert.equal(err(view({ waiting: 'ErrImagePull' }), false), `container "c" in pod "p" is waiting to start: image can't be pulled`);
  assert.equal(err(view({ waiting: 'ImagePullBackOff' }), false), 'container "c" in pod "p" is waiting to start: trying and failing to pull image');
  assert.equal(err(view({ id: 'x', status: status('x', 'created') }), false), 'container "c" in pod "p" is waiting to start: ContainerCreating');
  assert.equal(err(view({ init: true, id: 'x', status: status('x', 'created') }), false), 'container "c" in pod "p" is waiting to start: PodInitializing');
  assert.equal(err(view({}), false), 'container "c" in pod "p" is terminated');
});

test('output: contents only, stdout and stderr together, fragments joined, junk lines skipped', async () => {
  assert.equal(await logsOf(sample), 'one\ntwo\nthree\nfour\n');
  assert.equal(await logsOf(`not a record\n${rec(0, 'stdout', 'F', 'ok')}`), 'ok\n');
  assert.equal(await logsOf(''), '');
  // Without -f, a last line still missing its newline is shown.
  assert.equal(await logsOf(`${rec(0, 'stdout', 'F', 'a')}${rec(1, 'stdout', 'F', 'b').trimEnd()}`), 'a\nb');
});

test('--timestamps: each record after its time, nanoseconds in full (fragments each stamped, as upstream)', async () => {
  assert.equal(
    await logsOf(sample, { timestamps: true }),
    ['2026-01-02T03:04:05.500000000Z one\n', '2026-01-02T03:04:06.500000000Z two\n', '2026-01-02T03:04:07.500000000Z thr2026-01-02T03:04:07.500000000Z ee\n', '2026-01-02T03:04:08.500000000Z four\n'].join(''),
  );
});

test('--tail counts lines from the end (records, as upstream counts file lines)', async () => {
  assert.equal(await logsOf(sample, { tailLines: 1 }), 'four\n');
  assert.equal(await logsOf(sample, { tailLines: 2 }), 'ee\nfour\n', 'a fragment is a line of the file');
  assert.equal(await logsOf(sample, { tailLines: 0 }), '');
  assert.equal(await logsOf(sample, { tailLines: 100 }), 'one\ntwo\nthree\nfour\n');
  // An unfinished last line is not counted, and the tail stops after the counted lines.
  assert.equal(await logsOf(`${rec(0, 'stdout', 'F', 'a')}${rec(1, 'stdout', 'F', 'b')}${rec(2, 'stdout', 'F', 'c').trimEnd()}`, { tailLines: 1 }), 'b\n');
});

test('--tail on a large file reads only its end', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 200_000; i++) lines.push(rec(i / 1000, 'stdout', 'F', `line ${i} ${'x'.repeat(40)}`));
  const path = logFile(lines.join(''));
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    let read = 0;
    const counting = { read: async (buf: Buffer, off: number, len: number, pos: number) => {
      const r = await fh.read(buf, off, len, pos);
      read += r.bytesRead;
      return r;
    } } as Parameters<typeof findTailStart>[0];
    const start = await findTailStart(counting, size, 3);
    assert.ok(size > 15_000_000, `file is ${size} bytes`);
    assert.ok(read <= 64 * 1024, `read ${read} bytes of ${size} to find the tail`);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    assert.equal(buf.toString().split('\n').length, 4);
    assert.match(buf.toString(), /^\S+ stdout F line 199997 /);
  } finally {
    await fh.close();
  }
  const t = performance.now();
  const c = view({ id: 'a', status: status('a', 'exited', path) });
  const out = await collect(await openContainerLogs(c, options({ tailLines: 2 }), { podName: 'p' }));
  assert.equal(out, `line 199998 ${'x'.repeat(40)}\nline 199999 ${'x'.repeat(40)}\n`);
  assert.ok(performance.now() - t < 500, 'tail of a 16 MB log is quick');
});

test('--since-time and --since leave out older records', async () => {
  assert.equal(await logsOf(sample, { sinceTime: '2026-01-02T03:04:07Z' }), 'three\nfour\n');
  assert.equal(await logsOf(sample, { sinceTime: '2026-01-02T03:04:09Z' }), '');
  // --since 2s with the clock at T0+4.5s: from T0+2.5s on.
  assert.equal(await logsOf(sample, { sinceSeconds: 2 }, { now: () => T0 + 4500 }), 'three\nfour\n');
  // The later of the two wins.
  assert.equal(await logsOf(sample, { sinceSeconds: 100, sinceTime: '2026-01-02T03:04:08Z' }, { now: () => T0 + 4500 }), 'four\n');
  // With a tail, the tail is taken first, then filtered (as upstream).
  assert.equal(await logsOf(sample, { tailLines: 2, sinceTime: '2026-01-02T03:04:08Z' }), 'four\n');
});

test('--limit-bytes stops after that many bytes of output', async () => {
  assert.equal(await logsOf(sample, { limitBytes: 6 }), 'one\ntw');
  assert.equal(await logsOf(sample, { limitBytes: 4 }), 'one\n');
  assert.equal(await logsOf(sample, { limitBytes: 1000 }), 'one\ntwo\nthree\nfour\n');
  assert.equal(await logsOf(sample, { limitBytes: 35, timestamps: true }), '2026-01-02T03:04:05.500000000Z one\n');
});

test('-f follows the file while the container runs, then ends after the rest', async (t) => {
  const path = logFile(rec(0, 'stdout', 'F', 'first'));
  let running = true;
  let checks = 0;
  const runtime = {
    containerStatus: async (id: string) => {
      checks++;
      return status(id, running ? 'running' : 'exited');
    },
  };
  const c = view({ id: 'a', status: status('a', 'running', path) });
  const s = await openContainerLogs(c, options({ follow: true }), { podName: 'p', runtime, pollMs: 50 });
  t.after(() => s.destroy());
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  const ended = new Promise<void>((r) => s.on('end', r));
  const until = async (what: string) => {
    const deadline = Date.now() + 3000;
    while (!out.includes(what)) {
      if (Date.now() > deadline) assert.fail(`never saw ${JSON.stringify(what)}: ${JSON.stringify(out)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await until('first\n');
  appendFileSync(path, rec(1, 'stdout', 'F', 'second'));
  await until('second\n');
  // Half a record: held back until the rest of it is written.
  const third = rec(2, 'stderr', 'F', 'third');
  appendFileSync(path, third.slice(0, 20));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(out, 'first\nsecond\n');
  appendFileSync(path, third.slice(20));
  await until('third\n');
  running = false;
  appendFileSync(path, rec(3, 'stdout', 'F', 'last words'));
  await ended;
  assert.equal(out, 'first\nsecond\nthird\nlast words\n');
  assert.ok(checks > 0);
});

test('-f with --tail starts at the tail and keeps going; destroying the stream stops it', async () => {
  const path = logFile(sample);
  const runtime = { containerStatus: async (id: string) => status(id, 'running') };
  const c = view({ id: 'a', status: status('a', 'running', path) });
  const s = await openContainerLogs(c, options({ follow: true, tailLines: 1 }), { podName: 'p', runtime, pollMs: 50 });
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((r) => s.on('close', r));
  const until = async (want: string) => {
    const deadline = Date.now() + 3000;
    while (out !== want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(out, want);
  };
  try {
    // The tail is taken when reading starts: wait for it before writing more.
    await until('four\n');
    appendFileSync(path, rec(5, 'stdout', 'F', 'five'));
    await until('four\nfive\n');
  } finally {
    s.destroy();
  }
  await closed;
});

test('-f on an exited instance, and on a runtime that reports it gone, just ends', async () => {
  const path = logFile(sample);
  const gone = { containerStatus: async () => Promise.reject(new Error('not found')) };
  assert.equal(await collect(await openContainerLogs(view({ id: 'a', status: status('a', 'exited', path) }), options({ follow: true }), { podName: 'p', runtime: gone })), 'one\ntwo\nthree\nfour\n');
  assert.equal(await collect(await openContainerLogs(view({ id: 'a', status: status('a', 'running', path) }), options({ follow: true }), { podName: 'p', runtime: gone })), 'one\ntwo\nthree\nfour\n');
});

test('--previous reads the previous instance', async () => {
  const old = status('old', 'exited', logFile(rec(0, 'stdout', 'F', 'before the crash')));
  const cur = status('new', 'running', logFile(rec(9, 'stdout', 'F', 'after')));
  const c = view({ id: 'new', status: cur, previous: old, restartCount: 1 });
  assert.equal(await collect(await openContainerLogs(c, options({ previous: true }), { podName: 'p' })), 'before the crash\n');
  assert.equal(await collect(await openContainerLogs(c, options(), { podName: 'p' })), 'after\n');
});

test('runtimes without log files (simulated): empty output; -f waits for the container to stop', async (t) => {
  const c = view({ id: 'a', status: status('a', 'running') });
  assert.equal(await collect(await openContainerLogs(c, options(), { podName: 'p' })), '');
  let running = true;
  const runtime = { containerStatus: async (id: string) => status(id, running ? 'running' : 'exited') };
  const s = await openContainerLogs(c, options({ follow: true }), { podName: 'p', runtime, pollMs: 20 });
  t.after(() => s.destroy());
  let ended = false;
  const done = collect(s).then((o) => ((ended = true), o));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(ended, false);
  running = false;
  assert.equal(await done, '');
});

test('a log file that is gone is a 400 with the kubelet message', async () => {
  const c = view({ id: 'a', status: status('a', 'exited', join(dir, 'missing.log')) });
  await assert.rejects(openContainerLogs(c, options(), { podName: 'p' }), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 400);
    assert.equal(e.message, `failed to try resolving symlinks in path "${join(dir, 'missing.log')}": lstat ${join(dir, 'missing.log')}: no such file or directory`);
    return true;
  });
});
