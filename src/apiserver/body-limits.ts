// Limits on decoded request bodies that upstream's decoders enforce while parsing: Go's JSON
// scanner (and so kube-apiserver's) refuses nesting deeper than 10,000, and go-yaml refuses an
// anchor whose value contains its own alias, or aliases that expand too far. JSON.parse accepts
// deep nesting, and the server's recursive walks (defaulting, validation, managed fields) would
// then overflow the stack and answer 500, so these limits are checked once, right after parsing
// (YAML's while parsing, in yaml-body.ts).

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

/**
 * go-yaml's guard against alias expansion bombs ("billion laughs"), checked as each node is
 * decoded: with more than 100 nodes reached through aliases among more than 1,000 decoded, the
 * share reached through aliases may be at most 99 % for documents of up to 400,000 decoded nodes,
 * falling evenly to 10 % at 4,000,000 and beyond. Beyond it go-yaml fails with "document contains
 * excessive aliasing".
 */
export function aliasBudgetExceeded(aliased: number, decoded: number): boolean {
  return aliased > 100 && decoded > 1000 && aliased / decoded > allowedAliasRatio(decoded);
}

const RATIO_RANGE_LOW = 400_000;
const RATIO_RANGE_HIGH = 4_000_000;

function allowedAliasRatio(decoded: number): number {
  if (decoded <= RATIO_RANGE_LOW) return 0.99;
  if (decoded >= RATIO_RANGE_HIGH) return 0.1;
  return 0.99 - 0.89 * ((decoded - RATIO_RANGE_LOW) / (RATIO_RANGE_HIGH - RATIO_RANGE_LOW));
}
