// Server-side apply versus client-side apply of 1,000 objects with the real kubectl: each way
// creates 1,000 ConfigMaps (a labelled pair of keys each) from one file, re-applies it unchanged,
// then applies a change to every object. One run each, in separate namespaces of one cluster.
// Prints the seconds and objects/s of each step and the conditions.
//   node bench/apply.ts [--objects 1000]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, tempDir } from '../test/integration/harness.ts';

const { values } = parseArgs({ options: { objects: { type: 'string' } } });
const N = Number(values.objects ?? 1000);

function manifest(ns: string, version: string): string {
  const items = Array.from({ length: N }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${i}`, namespace: ns, labels: { app: 'bench', index: String(i) } },
    data: { version, payload: `object ${i}` },
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

const dir = tempDir();
const c = await startCluster();
try {
  console.log(`# server-side versus client-side apply (${new Date().toISOString()})`);
  console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`objects: ${N} ConfigMaps in one file, kubectl ${(await kubectlOk(c, ['version', '--client', '-o', 'json']).then((s) => JSON.parse(s).clientVersion.gitVersion))}, one run each`);
  const rows: [string, number][] = [];
  for (const [mode, flags] of [['server-side', ['--server-side']], ['client-side', []]] as const) {
    const ns = `bench-${mode}`;
    await kubectlOk(c, ['create', 'namespace', ns]);
    for (const [step, version] of [['create', 'v1'], ['re-apply unchanged', 'v1'], ['change every object', 'v2']] as const) {
      const file = join(dir, `${ns}-${version}.json`);
      writeFileSync(file, manifest(ns, version));
      const t0 = performance.now();
      // Client-side apply reads and patches objects one by one: give it time.
      const r = await kubectl(c, ['apply', ...flags, '-f', file], { timeoutMs: 600_000 });
      if (r.code !== 0) throw new Error(`kubectl apply ${flags.join(' ')} failed (${r.code}): ${r.stderr.slice(0, 2000)}`);
      rows.push([`${mode} apply, ${step}`, (performance.now() - t0) / 1000]);
    }
  }
  for (const [name, s] of rows) console.log(`${name.padEnd(48)} ${s.toFixed(2).padStart(7)} s  ${(N / s).toFixed(0).padStart(6)} objects/s`);
} finally {
  await stopCluster(c);
  removeCluster(c);
}
