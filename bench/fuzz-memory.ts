// Where the server's memory goes under the fuzzer (issue 11: a 100k-request bench:fuzz run grew
// `ordinal up` from 143 to 744 MB). Starts the fuzz server with --heapsnapshot-signal, takes a
// heap snapshot before and after each slice of requests (a snapshot collects garbage first, so it
// shows what is live), and prints the owners and kinds that grew, with RSS and what is stored.
//   node bench/fuzz-memory.ts [--requests 30000] [--slices 3] [--seed N] [--top 15] [--no-node-flags]
import { readdirSync, rmSync, mkdtempSync, statSync } from 'node:fs';
import { ORDINAL_NODE_FLAGS } from '../src/cli/node-flags.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fuzz, startServer, stopServer } from '../test/fuzz/run.ts';
import { readSnapshot, summarise, type HeapSummary } from './heap-snapshot.ts';

const { values } = parseArgs({ options: { requests: { type: 'string' }, slices: { type: 'string' }, seed: { type: 'string' }, top: { type: 'string' }, 'no-node-flags': { type: 'boolean' } } });
const REQUESTS = Number(values.requests ?? 30_000);
const SLICES = Number(values.slices ?? 3);
const SEED = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const TOP = Number(values.top ?? 15);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'ordinal-fuzz-heap-'));
// The flags reach the server through NODE_OPTIONS; snapshots land in its diagnostic directory.
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`.trim();
// --no-node-flags: without ORDINAL_NODE_FLAGS, as bench:fuzz started the server before (V8's default young generation).
const server = await startServer([], process.argv.includes('--no-node-flags') ? [] : ORDINAL_NODE_FLAGS);
delete process.env.NODE_OPTIONS;

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(String(process.getBuiltinModule('fs').readFileSync(`/proc/${pid}/status`)));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Signals the server and waits for its snapshot file to stop growing. */
async function snapshot(): Promise<HeapSummary> {
  const before = new Set(readdirSync(dir));
  process.kill(server.proc.pid!, 'SIGUSR2');
  let file: string | undefined;
  let size = -1;
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    file ??= readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    const now = statSync(join(dir, file)).size;
    if (now === size && now > 0) break;
    size = now;
  }
  if (!file) throw new Error('no heap snapshot written');
  const s = summarise(readSnapshot(join(dir, file)));
  rmSync(join(dir, file));
  return s;
}

function growth(a: HeapSummary, b: HeapSummary, key: 'byOwner' | 'byConstructor' | 'apiObjects'): string {
  const before = new Map(a[key].map((r) => [r.name, r]));
  const rows = b[key].map((r) => ({ name: r.name, bytes: r.bytes - (before.get(r.name)?.bytes ?? 0), count: r.count - (before.get(r.name)?.count ?? 0), total: r.bytes }));
  return rows
    .sort((x, y) => y.bytes - x.bytes)
    .slice(0, TOP)
    .map((r) => `    ${mib(r.bytes).padStart(11)} ${String(r.count).padStart(8)}  ${r.name} (now ${mib(r.total)})`)
    .join('\n');
}

try {
  console.log(`fuzz-memory: seed ${SEED}, ${REQUESTS} requests in ${SLICES} slices`);
  let last = await snapshot();
  console.log(`start: RSS ${mib(rss(server.proc.pid!))}, live heap ${mib(last.totalBytes)}`);
  for (let i = 0; i < SLICES; i++) {
    const sum = await fuzz(server, SEED + i, Math.floor(REQUESTS / SLICES), { concurrency: 8 });
    const now = await snapshot();
    console.log(
      `after ${((i + 1) * REQUESTS) / SLICES} requests (${sum.crashed ? 'CRASHED' : 'serving'}): RSS during the slice peaked at ${sum.rss.peak.toFixed(0)} MB; ` +
        `after the snapshot's GC: RSS ${mib(rss(server.proc.pid!))}, live heap ${mib(now.totalBytes)} (+${mib(now.totalBytes - last.totalBytes)})`,
    );
    console.log(`  grew by owner:\n${growth(last, now, 'byOwner')}`);
    console.log(`  grew by constructor:\n${growth(last, now, 'byConstructor')}`);
    console.log(`  API objects by kind:\n${growth(last, now, 'apiObjects')}`);
    last = now;
  }
  // Idle: V8's memory reducer gives back heap the bursts left behind (it starts after about 8 s).
  await sleep(20_000);
  const status = String(process.getBuiltinModule('fs').readFileSync(`/proc/${server.proc.pid}/status`));
  console.log(`after 20 s idle: RSS ${mib(rss(server.proc.pid!))}; peak RSS (VmHWM) ${/VmHWM:\s+(\d+) kB/.exec(status)?.[1]} kB`);
} finally {
  await stopServer(server);
  rmSync(dir, { recursive: true, force: true });
}
