// The long fuzz run of issue 11: at least 100,000 generated requests against `ordinal up
// --runtime sim`; prints the seed (replay with --seed), counts by status code, every 5xx or
// malformed rejection with its request, RSS, and stored objects that fail validation.
//   node bench/fuzz.ts [--requests 100000] [--seed N] [--concurrency 8]
import { parseArgs } from 'node:util';
import { fuzz, report, startServer, stopServer } from '../test/fuzz/run.ts';

const { values } = parseArgs({ options: { requests: { type: 'string' }, seed: { type: 'string' }, concurrency: { type: 'string' } } });
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const count = Number(values.requests ?? 100_000);
console.log(`fuzz: seed ${seed}, ${count} requests (replay: node bench/fuzz.ts --seed ${seed} --requests ${count})`);
const server = await startServer();
try {
  const sum = await fuzz(server, seed, count, { concurrency: Number(values.concurrency ?? 8), onProgress: (n) => n % 10_000 === 0 && console.log(`  ${n} sent`) });
  console.log(report(sum));
  if (sum.crashed) console.log(server.logs().slice(-4000));
  process.exitCode = sum.crashed || !sum.stillServing || sum.findings.length || sum.invalidStored.length ? 1 : 0;
} finally {
  await stopServer(server);
}
