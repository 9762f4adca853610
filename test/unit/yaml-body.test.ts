import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { parseDocument } from 'yaml';
import { yamlToJson, YamlBodyError } from '../../src/apiserver/yaml-body.ts';
import { MAX_NESTING_DEPTH } from '../../src/apiserver/body-limits.ts';
import { generate } from '../fuzz/generate.ts';
import { SHAPES } from '../../bench/yaml-body.ts';

const root = resolve(import.meta.dirname, '../..');

function refused(text: string, message: string | RegExp): void {
  assert.throws(
    () => yamlToJson(text),
    (err: unknown) => {
      assert.ok(err instanceof YamlBodyError, String(err));
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

test('plain scalars resolve as the YAML 1.2 core schema, as the server always read them', () => {
  const table: [string, unknown][] = [
    ['yes', 'yes'], ['no', 'no'], ['on', 'on'], ['off', 'off'], ['y', 'y'], ['True', true], ['TRUE', true], ['false', false],
    ['~', null], ['null', null], ['Null', null], ['', null],
    ['0x1F', 31], ['0o17', 15], ['017', 17], ['+12', 12], ['-0', -0], ['1_000', '1_000'], ['0b11', '0b11'], ['9007199254740993', 9007199254740992],
    ['1.5e3', 1500], ['.5', 0.5], ['1.', 1], ['.inf', Infinity], ['-.Inf', -Infinity], ['1e', '1e'],
    ['2001-12-14', '2001-12-14'], ['1Gi', '1Gi'], ['100m', '100m'], ['"123"', '123'], ["'true'", 'true'],
    ['"\\u00e9\\t"', 'é\t'], ['!!str 1', '1'], ['!!int "3"', 3], ['!!bool "true"', true],
  ];
  for (const [src, want] of table) {
    assert.deepEqual(yamlToJson(`v: ${src}\n`), { v: want }, src);
    // The same as the `yaml` package's Document, which decoded bodies before.
    assert.deepEqual(parseDocument(`v: ${src}\n`).toJS(), { v: want }, `yaml package: ${src}`);
  }
  assert.ok(Number.isNaN((yamlToJson('v: .nan') as { v: number }).v));
  // The yaml package made a string of this one; a float is what the tag asks for.
  assert.deepEqual(yamlToJson('v: !!float 1'), { v: 1 });
  // Out of float range: a string, as go-yaml leaves a plain scalar it cannot parse.
  assert.deepEqual(yamlToJson('v: 1e400'), { v: '1e400' });
});

test('manifests and fuzzer bodies decode to what the yaml package made of them', () => {
  const docs: string[] = [];
  const fixtures = join(root, 'test/fixtures');
  for (const f of readdirSync(fixtures).filter((x) => x.endsWith('.yaml'))) docs.push(...readFileSync(join(fixtures, f), 'utf8').split(/^---\n/m));
  for (let i = 0; i < 3000; i++) {
    const r = generate(7, i);
    if (/yaml/.test(r.headers['Content-Type'] ?? '') && r.body && r.body.length < 256 * 1024) docs.push(r.body.toString('utf8'));
  }
  let compared = 0;
  for (const text of docs) {
    const before = parseDocument(text);
    // Only where the old decoder accepted the text cleanly: tags and complex keys it turned
    // into strings with a warning are refused now.
    if (before.errors.length || before.warnings.length) continue;
    let want: unknown;
    try {
      want = before.toJS({ maxAliasCount: 100 });
    } catch {
      continue;
    }
    let got: unknown;
    try {
      got = yamlToJson(text);
    } catch (err) {
      // Complex keys, which the yaml package stringified (warning only as it converted them), and
      // NUL bytes and other control characters, which YAML (and go-yaml) refuse anywhere in the
      // stream and it let through, and
      // anchors inside their own value, which it turned into cycles (refused before toJS), and tags
      // beyond the core schema (it made a Buffer of !!binary); nesting too deep was refused after it.
      assert.match((err as Error).message, /complex keys|null byte is not allowed|non-printable characters|value contains itself|unknown scalar tag|exceeded max depth/, text.slice(0, 300));
      continue;
    }
    assert.deepEqual(overflowMarked(got), overflowMarked(want ?? null), text.slice(0, 300));
    compared++;
  }
  assert.ok(compared > 100, `only ${compared} documents compared`);
});

/**
 * Numbers beyond float range (1e400) were Infinity; they are strings now, as go-yaml leaves a
 * plain scalar it cannot parse as a float: both are marked alike for the comparison.
 */
function overflowMarked(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v) && !Number.isNaN(v)) return 'overflow';
  if (typeof v === 'string' && /^[-+]?[0-9.]+e[-+]?[0-9]+$/i.test(v) && !Number.isFinite(Number(v))) return 'overflow';
  if (Array.isArray(v)) return v.map(overflowMarked);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, overflowMarked(x)]));
  return v;
}

test('JSON text decodes as the YAML path decodes it, repeated keys and overflowing numbers included', () => {
  const texts = [SHAPES['flow-json'].body(64 * 1024), '{"a":1,"b":[1,2,{"c":null}],"d":"\\u00e9\\/\\"","e":-0,"f":1.0,"g":9007199254740993}', '[]', ' {"__proto__": {"x": 1}}'];
  for (let i = 0; i < 3000; i++) {
    const r = generate(11, i);
    if (r.body && r.body.length < 256 * 1024 && /^[ \t\r\n]*[{[]/.test(r.body.toString('utf8'))) texts.push(r.body.toString('utf8'));
  }
  let compared = 0;
  for (const text of texts) {
    // A comment first sends the same text the YAML way.
    const viaYaml = attempt(() => yamlToJson('#\n' + text));
    assert.deepEqual(attempt(() => yamlToJson(text)), viaYaml, text.slice(0, 300));
    compared++;
  }
  assert.ok(compared > 500, `only ${compared} texts compared`);
  refused('{"metadata": {"name": "a"}, "metadata": {"name": "b"}}', 'yaml: line 1: duplicated mapping key');
  refused('{"a": {"k": 1, "k": 1}}', 'yaml: line 1: duplicated mapping key');
  assert.deepEqual(yamlToJson('{"a": 1e400, "b": "x:y", "c\\"": 1}'), { a: '1e400', b: 'x:y', 'c"': 1 });
});

function attempt(fn: () => unknown): unknown {
  try {
    return { value: fn() };
  } catch (err) {
    return { error: (err as Error).message.replace(/^yaml: line \d+: /, 'yaml: ') };
  }
}

test('empty bodies are null; several documents, unknown tags and complex keys are refused', () => {
  assert.equal(yamlToJson(''), null);
  assert.equal(yamlToJson('# nothing\n'), null);
  assert.deepEqual(yamlToJson('---\na: 1\n...\n'), { a: 1 });
  assert.deepEqual(yamlToJson('\ufeff{}'), {});
  refused('a: 1\n---\nb: 2\n', 'yaml: expected a single document in the stream, but found more');
  refused('a: !!binary AAAA\n', /^yaml: line 1: unknown scalar tag/);
  refused('? [a, b]\n: c\n', /^yaml: line 1: .*complex keys/);
  refused('metadata:\n  name: a\nmetadata:\n  name: b\n', 'yaml: line 3: duplicated mapping key');
  refused('metadata:\n  name: [x\n', /^yaml: line 3: /);
  refused('a: *nope\n', 'yaml: line 1: unidentified alias "nope"');
});

test('nesting deeper than the limit is refused while parsing, without running out of stack', () => {
  const arrays = (d: number) => 'a: ' + '['.repeat(d) + ']'.repeat(d);
  // The mapping holding `a` is one level: MAX_NESTING_DEPTH - 1 arrays fit under it.
  assert.ok(yamlToJson(arrays(MAX_NESTING_DEPTH - 1)));
  refused(arrays(MAX_NESTING_DEPTH), `yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
  refused(arrays(100_000), `yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
  refused('a:\n' + Array.from({ length: 1200 }, (_, i) => ' '.repeat(i + 1) + 'b:\n').join(''), `yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
});

test("aliases: shared values within go-yaml's budget, an anchor inside its own value and alias bombs refused", () => {
  const shared = yamlToJson('a: &x {b: 1}\nc: *x\n') as Record<string, unknown>;
  assert.deepEqual(shared, { a: { b: 1 }, c: { b: 1 } });
  refused('metadata: &m {name: a, labels: *m}\n', "yaml: anchor 'm' value contains itself");
  refused('a: &x [1, [2, *x]]\n', "yaml: anchor 'x' value contains itself");
  // An anchor of the same name defined earlier does not hide the open one.
  refused('a: &x 1\nb: &x [*x]\n', "yaml: anchor 'x' value contains itself");
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (const [from, to] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f']]) bomb.push(`${to}: &${to} [${Array(9).fill('*' + from).join(',')}]`);
  refused(bomb.join('\n') + '\n', 'yaml: document contains excessive aliasing');
  // A small expansion passes: 30 aliases of a 10-node anchor in a document of 40 own nodes
  // (330 aliased of 371 decoded is over 99 % only past 1,000 decoded nodes).
  const anchor = 'base: &b {' + Array.from({ length: 4 }, (_, i) => `k${i}: v`).join(', ') + '}\n';
  const small = anchor + Array.from({ length: 30 }, (_, i) => `u${i}: *b`).join('\n') + '\n';
  assert.equal(Object.keys(yamlToJson(small) as object).length, 31);
  // The same anchor used 300 times: 3,000 aliased of 3,310 decoded is 90.6 %, within 99 %.
  const many = anchor + Array.from({ length: 300 }, (_, i) => `u${i}: *b`).join('\n') + '\n';
  assert.equal(Object.keys(yamlToJson(many) as object).length, 301);
  // A 1,000-node anchor used 100 times in a tiny document: 100,000 aliased of 101,203 decoded
  // (98.8 %) passes; 200 times, 200,000 of 201,403 (99.3 %) not.
  const big = 'base: &b [' + Array(999).fill('x').join(',') + ']\n';
  assert.doesNotThrow(() => yamlToJson(big + Array.from({ length: 100 }, (_, i) => `u${i}: *b`).join('\n')));
  refused(big + Array.from({ length: 200 }, (_, i) => `u${i}: *b`).join('\n'), 'yaml: document contains excessive aliasing');
});

test('a 3 MiB body costs memory in proportion to its size (the Document tree cost 250-320 MB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yaml-body-test-'));
  try {
    // Bounds at about 1.5 times what bench/yaml-body.ts measures; the Document tree cost 316, 251
    // and 113 MB, and JSON text taken the YAML way 92 MB.
    for (const [shape, mb] of [['flow-json', 50], ['block-list', 130], ['quoted', 40]] as const) {
      const file = join(dir, shape);
      writeFileSync(file, SHAPES[shape].body(3 * 2 ** 20));
      const out = spawnSync(process.execPath, ['--max-semi-space-size=16', '--expose-gc', join(root, 'bench/yaml-body.ts'), '--child', file, '--type', 'application/yaml', '--target', root], { encoding: 'utf8' });
      const line = out.stdout.split('\n').find((l) => l.startsWith('@result '));
      assert.ok(line, out.stderr);
      const r = JSON.parse(line.slice(8));
      assert.equal(r.outcome, 'ok', shape);
      assert.ok(r.rss < mb * 2 ** 20, `${shape}: ${(r.rss / 2 ** 20).toFixed(0)} MB transient RSS`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
