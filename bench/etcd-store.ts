// The etcd driver alone: CPU per guarded write in this process (encoding, the call, the reply, and
// the watch event that brings the write back to the cache), and writes/s, with a given number of
// writes in flight, against a private etcd on loopback. With ORDINAL_BENCH_TARGET (another
// checkout, e.g. a baseline) both drivers run in turns, round after round, on the same etcd.
//   node bench/etcd-store.ts [--writes 3000] [--inflight 32] [--rounds 3] [--value-bytes 2000]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startEtcd } from '../test/support/etcd.ts';
import type { Store, StoreEvent } from '../src/storage/types.ts';

const { values } = parseArgs({ options: { writes: { type: 'string' }, inflight: { type: 'string' }, rounds: { type: 'string' }, 'value-bytes': { type: 'string' } } });
const WRITES = Number(values.writes ?? 3000);
const INFLIGHT = Number(values.inflight ?? 32);
const ROUNDS = Number(values.rounds ?? 3);
const VALUE_BYTES = Number(values['value-bytes'] ?? 2000);

const root = resolve(import.meta.dirname, '..');
const other = process.env.ORDINAL_BENCH_TARGET ? resolve(process.env.ORDINAL_BENCH_TARGET) : undefined;

interface Driver {
  name: string;
  open(url: string): Promise<Store & { open(): Promise<void> }>;
}

async function driver(checkout: string, name: string): Promise<Driver> {
  const { EtcdStore } = await import(`${checkout}/src/storage/etcd/store.ts`);
  const { KeyLayout } = await import(`${checkout}/src/storage/etcd/keys.ts`);
  const { storedResources } = await import(`${checkout}/src/apiserver/stored-resources.ts`);
  return { name, open: async (url) => new EtcdStore({ servers: [url], layout: new KeyLayout(storedResources()) }) };
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Creates then updates WRITES keys with INFLIGHT at a time; resolves once the watch has seen them all. */
async function round(store: Store & { open(): Promise<void> }, tag: string) {
  await store.open();
  const start = store.currentRevision();
  let seen = 0;
  let all: () => void = () => {};
  const done = new Promise<void>((r) => (all = r));
  const stop = store.watch(start, (events: StoreEvent[]) => {
    seen += events.length;
    if (seen >= 2 * WRITES) all();
  });
  const body = (i: number, v: number) => {
    const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: tag }, data: { v: String(v), pad: 'x'.repeat(VALUE_BYTES) } };
    return { value: JSON.stringify(obj), decoded: { obj } };
  };
  const revs: number[] = [];
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const run = async (op: (i: number) => Promise<void>) => {
    let next = 0;
    await Promise.all(Array.from({ length: INFLIGHT }, async () => {
      while (next < WRITES) await op(next++);
    }));
  };
  await run(async (i) => {
    const { value, decoded } = body(i, 0);
    revs[i] = (await store.create(`/registry/core/configmaps/${tag}/c${i}`, value, decoded)).modRev;
  });
  await run(async (i) => {
    const { value, decoded } = body(i, 1);
    await store.update(`/registry/core/configmaps/${tag}/c${i}`, value, revs[i], decoded);
  });
  await done;
  const ms = performance.now() - t0;
  const cpu = cpuNow() - cpu0;
  stop();
  await store.close();
  return { perWrite: (cpu * 1000) / (2 * WRITES), rate: (2 * WRITES * 1000) / ms };
}

const etcd = await startEtcd();
try {
  const drivers = [await driver(root, 'this checkout')];
  if (other) drivers.unshift(await driver(other, `baseline ${other}`));
  console.log(`# etcd driver: ${WRITES} creates then ${WRITES} guarded updates of ~${VALUE_BYTES}-byte values, ${INFLIGHT} in flight, each seen back on the watch; one etcd member on loopback (fsync on)`);
  const results = new Map<string, { perWrite: number; rate: number }[]>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const d of drivers) {
      const res = await round(await d.open(etcd.url), `r${r}-${d.name.length}-${Math.random().toString(36).slice(2, 8)}`);
      (results.get(d.name) ?? results.set(d.name, []).get(d.name)!).push(res);
      console.log(`  round ${r + 1} ${d.name}: ${res.perWrite.toFixed(0)} CPU-µs per write, ${res.rate.toFixed(0)} writes/s`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [name, rs] of results) {
    console.log(`${name}: median ${median(rs.map((x) => x.perWrite)).toFixed(0)} CPU-µs per write (this process), ${median(rs.map((x) => x.rate)).toFixed(0)} writes/s`);
  }
} finally {
  await etcd.remove();
}
process.exit(0);
