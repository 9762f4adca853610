// Join time of a node agent: from `ordinal agent` process start to its Node Ready as a watch on the
// server sees it, for a first join (bootstrap token, CSR approved and signed, node registered, pod
// range assigned) and for a restart with saved credentials. Simulated runtime, agents on loopback,
// on the same machine as the server.
//
//   node bench/join.ts [--reps 5]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { adminClient } from './admin-client.ts';
import { ORDINAL_NODE_FLAGS } from '../src/cli/node-flags.ts';

const root = resolve(import.meta.dirname, '..');
const main = join(root, 'src/cli/main.ts');
const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' } } });
const reps = Number(values.reps);

const work = mkdtempSync(join(tmpdir(), 'ordinal-bench-join-'));
const serverDir = join(work, 'server');
const server = spawn(process.execPath, [...ORDINAL_NODE_FLAGS, main, 'up', '--data-dir', serverDir, '--port', '0', '--runtime', 'sim', '--nodes', '0', '--no-dns'], { detached: true, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ORDINAL_LOG_LEVEL: 'warn' } });
const url = await new Promise<string>((res, rej) => {
  let out = '';
  server.stdout!.on('data', (d) => {
    out += d;
    const m = /ready at (https:\/\/\S+)/.exec(out);
    if (m) res(m[1]!);
  });
  server.once('exit', (code) => rej(new Error(`server exited ${code}`)));
});
const client = adminClient(url, serverDir, { maxSockets: 4 });
const readyAt = new Map<string, number>();
await client.watch('/api/v1/nodes?watch=1&allowWatchBookmarks=true', (_type, node, arrived) => {
  if (node?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') && !readyAt.has(node.metadata.name)) readyAt.set(node.metadata.name, arrived);
}, undefined);

const joinCmd = execFileSync(process.execPath, [main, 'token', 'create', '--data-dir', serverDir], { encoding: 'utf8' });
const [, , token, hash] = /--server (\S+) --token (\S+) --ca-cert-hash (\S+)/.exec(joinCmd)!;

async function timeJoin(name: string, dir: string, withToken: boolean): Promise<number> {
  readyAt.delete(name);
  const started = performance.now();
  const args = [...ORDINAL_NODE_FLAGS, main, 'agent', '--server', url, ...(withToken ? ['--token', token!, '--ca-cert-hash', hash!] : []), '--node-name', name, '--runtime', 'sim', '--kubelet-port', '0', '--data-dir', dir];
  const agent = spawn(process.execPath, args, { detached: true, stdio: 'ignore', env: { ...process.env, ORDINAL_LOG_LEVEL: 'warn' } });
  while (!readyAt.has(name)) {
    if (agent.exitCode !== null) throw new Error(`agent ${name} exited ${agent.exitCode}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  // The watch's clock is 0-based: measure on ours.
  const ms = performance.now() - started;
  process.kill(-agent.pid!, 'SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  return ms;
}

const first: number[] = [];
const again: number[] = [];
for (let i = 0; i < reps; i++) {
  const dir = join(work, `agent${i}`);
  first.push(await timeJoin(`bench-${i}`, dir, true));
  again.push(await timeJoin(`bench-${i}`, dir, false));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `${xs.map((x) => Math.round(x)).join(', ')} ms (median ${Math.round(median(xs))} ms)`;
console.log(`conditions: ${cpus().length} cores, ${cpus()[0]?.model}; server and agents on one machine, loopback, simulated runtime; Node ${process.version}`);
console.log(`first join (token → CSR → certificate → node Ready): ${fmt(first)}`);
console.log(`restart with saved credentials → node Ready:       ${fmt(again)}`);
client.close();
process.kill(-server.pid!, 'SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(work, { recursive: true, force: true });
