// The SQLite store alone: CPU per write (main thread, writer thread, GC helpers) for the writes of a
// parallel StatefulSet scale-up with one claim per pod (15 a pod: the pod 4 times, its claim 4, its
// volume 2, 5 events), keys shuffled across pods as a scale-up interleaves them, 32 writers at once
// so that batches form as they do in the server. ORDINAL_BENCH_TARGET=/other/checkout measures that
// checkout's store (for A/B runs). Medians of --runs runs (default 3).
//   node bench/store-writes.ts [--pods 3000] [--runs 3] [--writers 32]
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { cpuMsByThread, threadCpuDelta } from './proc.ts';

const root = resolve(import.meta.dirname, '..');
const target = resolve(process.env.ORDINAL_BENCH_TARGET ?? root);
const { values } = parseArgs({ options: { pods: { type: 'string' }, runs: { type: 'string' }, writers: { type: 'string' } } });
const PODS = Number(values.pods ?? 3000);
const RUNS = Number(values.runs ?? 3);
const WRITERS = Number(values.writers ?? 32);
const { SqliteStore } = (await import(join(target, 'src/storage/sqlite.ts'))) as typeof import('../src/storage/sqlite.ts');

const value = (name: string, size: number) => JSON.stringify({ kind: 'X', metadata: { name }, spec: { x: 'y'.repeat(size) } });

async function run(): Promise<{ total: number; byThread: Map<string, number>; wallMs: number; writes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-bench-store-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  const order = Array.from({ length: PODS }, (_, i) => i).sort(() => Math.random() - 0.5);
  const mods = new Map<string, number>();
  const chains = new Map<string, Promise<unknown>>();
  const ops: (() => Promise<unknown>)[] = [];
  // Writes to one key are chained (each is guarded by the revision the previous one made).
  const put = (key: string, size: number) =>
    ops.push(() => {
      const write = async () => {
        const m = mods.get(key);
        const kv = m === undefined ? await store.create(key, value(key, size)) : await store.update(key, value(key, size), m);
        mods.set(key, kv.modRev);
      };
      const p = (chains.get(key) ?? Promise.resolve()).then(write);
      chains.set(key, p);
      return p;
    });
  for (let pass = 0; pass < 3; pass++) {
    for (const i of order) {
      const pod = `/registry/core/pods/ns/web-${i}`;
      const claim = `/registry/core/persistentvolumeclaims/ns/data-web-${i}`;
      const volume = `/registry/core/persistentvolumes/pv-${i}`;
      if (pass === 0) {
        put(pod, 2500);
        put(claim, 1200);
        for (let e = 0; e < 5; e++) put(`/registry/core/events/ns/web-${i}.${e}`, 900);
      } else if (pass === 1) {
        put(volume, 1200);
        put(claim, 1300);
        put(claim, 1400);
        put(pod, 2600);
      } else {
        put(volume, 1250);
        put(claim, 1500);
        put(pod, 3000);
        put(pod, 3200);
      }
    }
  }
  let next = 0;
  const before = cpuMsByThread(process.pid);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, async () => { while (next < ops.length) await ops[next++]!(); }));
  const wallMs = performance.now() - t0;
  const byThread = new Map(threadCpuDelta(before, cpuMsByThread(process.pid)));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  let total = 0;
  for (const ms of byThread.values()) total += ms;
  return { total, byThread, wallMs, writes: ops.length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Awaited<ReturnType<typeof run>>[] = [];
for (let i = 0; i < RUNS; i++) results.push(await run());
const writes = results[0]!.writes;
const perWrite = (ms: number) => ((ms * 1000) / writes).toFixed(1);
const threads = [...new Set(results.flatMap((r) => [...r.byThread.keys()]))];
console.log(`SQLite store writes (${target}): ${writes} writes of a ${PODS}-pod scale-up, ${WRITERS} writers; medians of ${RUNS} runs`);
console.log(`  CPU µs per write: total ${perWrite(median(results.map((r) => r.total)))}; by thread: ${threads.map((t) => `${t} ${perWrite(median(results.map((r) => r.byThread.get(t) ?? 0)))}`).join(', ')}`);
console.log(`  wall: ${median(results.map((r) => r.wallMs)).toFixed(0)} ms = ${Math.round(writes / (median(results.map((r) => r.wallMs)) / 1000))} writes/s`);
