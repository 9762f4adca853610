// A static checker for validation rules over the parsed CEL syntax tree. @bufbuild/cel parses and
// evaluates but does not type-check calls or field selections, and upstream refuses, when the CRD
// is written, a rule that names a field its schema lacks, calls a function with the wrong types,
// or does not return a bool. This checker gives those verdicts with cel-go's messages. Where a type
// is not known statically (int-or-string, preserved unknown fields) it is `dyn` and accepted, as
// cel-go accepts it; the evaluator then reports mismatches at run time.
import type { Expr, ParsedExpr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { SIGNATURES, type Signature } from './library.ts';
import { T, typeName, type CelT } from './types.ts';

export interface CheckIssue {
  /** Offset of the offending node in the source. */
  offset: number;
  message: string;
}

export interface CheckResult {
  type: CelT;
  issues: CheckIssue[];
  /** Whether the expression reads the variable `oldSelf`. */
  usesOldSelf: boolean;
}

type Bindings = Map<string, CelT>;

export function checkExpr(parsed: ParsedExpr, vars: Record<string, CelT>, source = ''): CheckResult {
  const positions = parsed.sourceInfo?.positions ?? {};
  const issues: CheckIssue[] = [];
  let usesOldSelf = false;
  const at = (e: Expr) => {
    const pos = positions[Number(e.id)] ?? 0;
    // cel-go places a named call (`x.f(...)`, `f(...)`) at its opening parenthesis; the parser here at its name.
    if (e.exprKind.case === 'callExpr' && /^[A-Za-z_]/.test(e.exprKind.value.function)) {
      const m = /^\.?\s*[A-Za-z_][A-Za-z0-9_.]*\s*\(/.exec(source.slice(pos));
      if (m) return pos + m[0].length - 1;
    }
    return pos;
  };
  const fail = (e: Expr, message: string): CelT => {
    issues.push({ offset: at(e), message });
    return T.dyn;
  };

  const visit = (e: Expr | undefined, scope: Map<string, CelT>): CelT => {
    if (!e) return T.dyn;
    const kind = e.exprKind;
    switch (kind.case) {
      case 'constExpr': {
        switch (kind.value.constantKind.case) {
          case 'nullValue':
            return T.null;
          case 'boolValue':
            return T.bool;
          case 'int64Value':
            return T.int;
          case 'uint64Value':
            return T.uint;
          case 'doubleValue':
            return T.double;
          case 'stringValue':
            return T.string;
          case 'bytesValue':
            return T.bytes;
        }
        return T.dyn;
      }
      case 'identExpr': {
        const name = kind.value.name;
        const t = scope.get(name) ?? vars[name];
        if (name === 'oldSelf' && !scope.has(name)) usesOldSelf = true;
        if (t) return t;
        if (name === 'int' || name === 'uint' || name === 'double' || name === 'string' || name === 'bool' || name === 'bytes' || name === 'list' || name === 'map' || name === 'null_type' || name === 'type') return T.type;
        return fail(e, `undeclared reference to '${name}' (in container '')`);
      }
      case 'selectExpr': {
        const { operand, field, testOnly } = kind.value;
        const t = visit(operand, scope);
        const r = selectField(t, field, e);
        return testOnly ? T.bool : r;
      }
      case 'callExpr': {
        const { target, function: fn, args } = kind.value;
        // `strings.quote(x)`: a namespaced function, not a method of an identifier.
        if (target?.exprKind.case === 'identExpr' && !scope.has(target.exprKind.value.name) && !vars[target.exprKind.value.name]) {
          const qualified = `${target.exprKind.value.name}.${fn}`;
          if (SIGNATURES.has(qualified)) return resolve(e, qualified, undefined, args.map((a) => visit(a, scope)));
        }
        const targetType = target ? visit(target, scope) : undefined;
        return resolve(e, fn, targetType, args.map((a) => visit(a, scope)));
      }
      case 'listExpr': {
        const elems = kind.value.elements.map((x) => visit(x, scope));
        return T.list(common(elems));
      }
      case 'structExpr': {
        if (kind.value.messageName) return fail(e, `undeclared reference to '${kind.value.messageName}' (in container '')`);
        const keys: CelT[] = [];
        const values: CelT[] = [];
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') keys.push(visit(entry.keyKind.value, scope));
          values.push(visit(entry.value, scope));
        }
        return T.map(common(keys), common(values));
      }
      case 'comprehensionExpr': {
        const c = kind.value;
        const range = visit(c.iterRange, scope);
        let iterType: CelT = T.dyn;
        let iter2Type: CelT = T.dyn;
        if (range.k === 'list') [iterType, iter2Type] = c.iterVar2 ? [T.int, range.elem] : [range.elem, T.dyn];
        else if (range.k === 'map') [iterType, iter2Type] = [range.key, range.value];
        else if (range.k !== 'dyn') fail(c.iterRange!, `expression of type '${typeName(range)}' cannot be range of a comprehension (must be list, map, or dynamic)`);
        const accu = visit(c.accuInit, scope);
        const inner = new Map(scope);
        inner.set(c.accuVar, accu);
        inner.set(c.iterVar, iterType);
        if (c.iterVar2) inner.set(c.iterVar2, iter2Type);
        visit(c.loopCondition, inner);
        const step = visit(c.loopStep, inner);
        // An accumulator that starts as an empty list takes the type of what the steps append.
        inner.set(c.accuVar, accu.k === 'list' && accu.elem.k === 'dyn' && step.k === 'list' ? step : accu);
        return visit(c.result, inner);
      }
    }
    return T.dyn;
  };

  const selectField = (t: CelT, field: string, e: Expr): CelT => {
    switch (t.k) {
      case 'dyn':
        return T.dyn;
      case 'map':
        return t.value;
      case 'object': {
        const f = t.fields().get(field);
        return f ?? fail(e, `undefined field '${field}'`);
      }
    }
    return fail(e, `type '${typeName(t)}' does not support field selection`);
  };

  const resolve = (e: Expr, fn: string, target: CelT | undefined, args: CelT[]): CelT => {
    if (target?.k === 'optional') return optionalMethod(e, fn, target.elem, args);
    const candidates = SIGNATURES.get(fn);
    if (!candidates) return fail(e, `undeclared reference to '${fn}' (in container '')`);
    const results: CelT[] = [];
    for (const s of candidates) {
      const r = matchSignature(s, target, args);
      if (r) results.push(r);
    }
    if (!results.length) {
      const shown = `${target ? `${typeName(target)}.` : ''}(${args.map(typeName).join(', ')})`;
      return fail(e, `found no matching overload for '${fn}' applied to '${shown}'`);
    }
    return results.every((r) => sameType(r, results[0])) ? results[0] : T.dyn;
  };

  const optionalMethod = (e: Expr, fn: string, elem: CelT, args: CelT[]): CelT => {
    if (fn === 'hasValue' && args.length === 0) return T.bool;
    if (fn === 'value' && args.length === 0) return elem;
    if (fn === 'orValue' && args.length === 1 && assignable(elem, args[0], new Map())) return elem;
    return fail(e, `found no matching overload for '${fn}' applied to '${typeName(T.optional(elem))}.(${args.map(typeName).join(', ')})'`);
  };

  const type = visit(parsed.expr, new Map());
  issues.sort((a, b) => a.offset - b.offset);
  return { type, issues, usesOldSelf };
}

function matchSignature(s: Signature, target: CelT | undefined, args: CelT[]): CelT | undefined {
  if (!!s.target !== !!target || s.args.length !== args.length) return undefined;
  const b: Bindings = new Map();
  if (s.target && target && !assignable(s.target, target, b)) return undefined;
  for (let i = 0; i < args.length; i++) if (!assignable(s.args[i], args[i], b)) return undefined;
  return substitute(s.result, b);
}

/** Whether a value of type `actual` fits `want`, binding type parameters; `dyn` fits anything, either way round. */
function assignable(want: CelT, actual: CelT, b: Bindings): boolean {
  if (want.k === 'param') {
    const bound = b.get(want.n);
    if (!bound || bound.k === 'dyn') {
      b.set(want.n, actual);
      return true;
    }
    return assignable(bound, actual, b);
  }
  if (want.k === 'dyn' || actual.k === 'dyn') return true;
  if (actual.k === 'null_type' && (want.k === 'object' || want.k === 'map' || want.k === 'list' || want.k === 'null_type' || want.k === 'timestamp' || want.k === 'duration')) return true;
  if (want.k === 'list') return actual.k === 'list' && assignable(want.elem, actual.elem, b);
  if (want.k === 'map') return actual.k === 'map' && assignable(want.key, actual.key, b) && assignable(want.value, actual.value, b);
  if (want.k === 'optional') return actual.k === 'optional' && assignable(want.elem, actual.elem, b);
  if (want.k === 'object') return actual.k === 'object' && actual.name === want.name;
  return want.k === actual.k;
}

function substitute(t: CelT, b: Bindings): CelT {
  if (t.k === 'param') return b.get(t.n) ?? T.dyn;
  if (t.k === 'list') return T.list(substitute(t.elem, b));
  if (t.k === 'map') return T.map(substitute(t.key, b), substitute(t.value, b));
  return t;
}

function sameType(a: CelT, b: CelT): boolean {
  return typeName(a) === typeName(b);
}

/** The element type of a literal list or map: the one type all share, else dyn. */
function common(ts: CelT[]): CelT {
  const known = ts.filter((t) => t.k !== 'dyn');
  if (!known.length) return T.dyn;
  return known.every((t) => sameType(t, known[0])) ? known[0] : T.dyn;
}

/** cel-go's rendering of issues: `ERROR: <input>:1:6: undefined field 'foo'` with the line and a caret under the column. */
export function formatIssues(source: string, issues: { offset: number; message: string }[]): string {
  return issues.map(({ offset, message }) => {
    const before = source.slice(0, offset);
    const line = before.split('\n').length;
    const lineStart = before.lastIndexOf('\n') + 1;
    const col = offset - lineStart;
    const lineEnd = source.indexOf('\n', lineStart);
    const text = source.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
    return `ERROR: <input>:${line}:${col + 1}: ${message}\n | ${text}\n | ${'.'.repeat(col)}^`;
  }).join('\n');
}
