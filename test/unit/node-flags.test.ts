import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ORDINAL_NODE_FLAGS } from '../../src/cli/node-flags.ts';

const bin = resolve(import.meta.dirname, '../../bin/ordinal.js');

test('the ordinal command runs node with the V8 flags the benchmarks use', () => {
  const shebang = readFileSync(bin, 'utf8').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${ORDINAL_NODE_FLAGS.join(' ')}`);
});

test('the #! line works: env -S splits it and node accepts the flags', () => {
  // node_modules/.bin holds Node 24 first on the PATH, as under npx and npm scripts.
  const path = `${resolve(import.meta.dirname, '../../node_modules/.bin')}:${process.env.PATH}`;
  const r = spawnSync(bin, ['--help'], { encoding: 'utf8', env: { ...process.env, PATH: path }, timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: ordinal <command>/);
});
