// Hostile input, bounded for CI: a few thousand generated requests (test/fuzz/) against a running
// `ordinal up --runtime sim`; the seed is printed (set ORDINAL_FUZZ_SEED to replay one). The long
// run is `npm run bench:fuzz`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, report, startServer, stopServer } from '../fuzz/run.ts';

test('the API server survives generated hostile requests with 4xx Status answers', { timeout: 120_000 }, async () => {
  const seed = process.env.ORDINAL_FUZZ_SEED ? Number(process.env.ORDINAL_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
  const server = await startServer();
  try {
    const sum = await fuzz(server, seed, Number(process.env.ORDINAL_FUZZ_REQUESTS ?? 4000), { concurrency: 8, deadlineMs: Date.now() + 40_000 });
    const text = report(sum);
    console.log(text);
    assert.ok(!sum.crashed, `server crashed (seed ${seed}):\n${server.logs().slice(-3000)}`);
    assert.ok(sum.stillServing, `server no longer serving (seed ${seed})`);
    assert.ok(sum.sent >= 1000, `only ${sum.sent} requests sent (seed ${seed})`);
    assert.deepEqual(sum.findings.map((f) => f.problem), [], text);
    assert.deepEqual(sum.invalidStored, [], text);
    // Bounded: the server starts at about 155 MB and peaked at 234-269 MB over eleven seeds of
    // 4,000 requests (YAML bodies decoded from js-yaml's events or by JSON.parse, in proportion to
    // their size). The yaml package's Document tree took three of those seeds to 355-483 MB, and
    // others to ~700 MB. 450 leaves room for a CI machine's other allocation patterns (every run
    // draws a new seed) while still catching such a blow-up or a leak.
    assert.ok(sum.rss.peak < 450, text);
  } finally {
    await stopServer(server);
  }
});
