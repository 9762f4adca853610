// A runtime cost budget for validation rules. Upstream estimates each rule's worst-case cost from
// the schema's maxItems/maxLength when the CRD is written, and counts actual cost while evaluating;
// here the count is simpler: one unit per rule evaluated and per comprehension iteration
// (all/exists/exists_one/map/filter), which is where a hostile rule's time goes, plus the size of
// what the linear-time operations (equality, concatenation, `in`, string and list functions)
// traverse. The compiler makes every comprehension call `__tick__` before each iteration, and the
// environment wraps those operations; a charge over budget aborts the rule.
import { celFunc, CelScalar } from '@bufbuild/cel';

/** Per rule evaluation: 0.3-1 s of iterations on a loaded 2-core machine (300k simple iterations/s measured). */
export const PER_CALL_LIMIT = 100_000;
/** Per object (all rules at all nodes together). */
export const PER_OBJECT_BUDGET = 300_000;

export const CALL_LIMIT_MESSAGE = 'operation cancelled: actual cost limit exceeded';

export interface Meter {
  /** Units left for the whole object. */
  remaining: number;
  /** Units used by the current rule evaluation. */
  call: number;
  /** Set when a tick found the limit spent, so the verdict is not trusted whatever the rule returned. */
  exceeded: boolean;
}

let current: Meter | undefined;

/** Runs `fn` (one rule evaluation) with `meter` charged for its iterations. Evaluation is synchronous. */
export function metered<R>(meter: Meter, fn: () => R): R {
  const outer = current;
  current = meter;
  meter.call = 0;
  meter.exceeded = false;
  try {
    return fn();
  } finally {
    current = outer;
  }
}

/** Charges `units` to the rule being evaluated; over its limit or the object's budget, the rule is aborted. */
export function charge(units: number): void {
  const m = current;
  if (!m) return;
  m.call += units;
  m.remaining -= units;
  if (m.call > PER_CALL_LIMIT || m.remaining < 0) {
    m.exceeded = true;
    throw new Error(CALL_LIMIT_MESSAGE);
  }
}

function tick(): void {
  charge(1);
}

export const TICK = '__tick__';

/** `__tick__(cond)` passes the loop condition through and charges one iteration. */
export const TICK_FUNC = celFunc(TICK, [CelScalar.DYN], CelScalar.DYN, (v) => {
  tick();
  return v;
});
