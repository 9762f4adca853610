// The start-up shortcut for the project's own imports (src/cli/module-resolution.ts) must give
// the URL Node's resolver gives: the file exists there, and it is its own real path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ownImportUrl } from '../../src/cli/module-resolution.ts';

const root = resolve(import.meta.dirname, '../..');

test("every relative .ts import of the sources resolves, by the shortcut, to the file's real URL", () => {
  let checked = 0;
  for (const rel of readdirSync(join(root, 'src'), { recursive: true }) as string[]) {
    if (!rel.endsWith('.ts')) continue;
    const file = join(root, 'src', rel);
    const parent = pathToFileURL(file).href;
    const text = readFileSync(file, 'utf8');
    // Static imports and re-exports, dynamic import() and lazyModule()/require() of a relative .ts file.
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|lazyModule<[^>]*>\(import\.meta\.url,\s*)'(\.\.?\/[^']+\.ts)'/g)) {
      const url = ownImportUrl(m[1]!, parent);
      assert.ok(url, `${rel}: ${m[1]} not taken by the shortcut`);
      assert.equal(pathToFileURL(realpathSync(fileURLToPath(url))).href, url, `${rel}: ${m[1]}`);
      checked++;
    }
  }
  assert.ok(checked > 500, `only ${checked} imports found`);
});

test('imports other than relative .ts imports from a .ts file of the project are left to Node', () => {
  const parent = pathToFileURL(join(root, 'src/cli/ordinal.ts')).href;
  assert.equal(ownImportUrl('./ordinal.ts', parent), pathToFileURL(join(root, 'src/cli/ordinal.ts')).href);
  assert.equal(ownImportUrl('../api/registry.ts', parent), pathToFileURL(join(root, 'src/api/registry.ts')).href);
  for (const [spec, from] of [
    ['node:fs', parent],
    ['yaml', parent],
    ['./x.js', parent],
    ['/abs/x.ts', parent],
    ['./x.ts', pathToFileURL(join(root, 'bin/ordinal.js')).href],
    ['./x.ts', pathToFileURL(join(root, 'node_modules/pkg/index.ts')).href],
    ['./x.ts', 'file:///elsewhere/y.ts'],
    ['./x.ts', undefined],
    // Out of the project by climbing.
    ['../../../../x.ts', parent],
  ] as const) {
    assert.equal(ownImportUrl(spec, from), undefined, `${spec} from ${from}`);
  }
});
