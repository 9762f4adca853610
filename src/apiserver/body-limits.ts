// Limits on decoded request bodies that upstream's decoders enforce while parsing: Go's JSON
// scanner (and so kube-apiserver's) refuses nesting deeper than 10,000, and go-yaml refuses an
// anchor whose value contains its own alias. JSON.parse and the `yaml` package accept both, and
// the server's recursive walks (defaulting, validation, managed fields) would then overflow the
// stack and answer 500, so these limits are checked once, right after parsing.
import type { Document } from 'yaml';
import { lazyModule } from '../util/lazy-module.ts';

// Only YAML bodies need the yaml package: it loads with the first one (handlers.ts).
const yaml = lazyModule<typeof import('yaml')>(import.meta.url, 'yaml');

/**
 * Upstream's limit is encoding/json's maxNestingDepth, 10,000. Ours is lower: the server's
 * recursive walks (cloneJson, managed fields) overflow V8's default stack between 2,000 and 3,000
 * levels of arrays, and no object of a served kind nests anywhere near 1,000 deep. Beyond it the
 * answer is upstream's, a 400 saying the maximum depth was exceeded.
 */
export const MAX_NESTING_DEPTH = 1_000;

/** True when objects and arrays nest deeper than `max` in `value` (a JSON value: no cycles). */
export function nestedDeeperThan(value: unknown, max = MAX_NESTING_DEPTH): boolean {
  // Iterative, as the point is not to recurse as deep as the input.
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/** The name of an anchor used inside its own value (`&a {x: *a}`), which go-yaml refuses. */
export function selfContainedAnchor(doc: Document): string | undefined {
  let found: string | undefined;
  const { isCollection, visit } = yaml();
  visit(doc, {
    Alias(_key, node, path) {
      const target = node.resolve(doc);
      if (target && isCollection(target) && path.includes(target)) {
        found = node.source;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

