// Compiling a schema's `x-kubernetes-validations` rules: parse, check against the schema's types,
// instrument for the cost budget and plan, once per schema object (a CRD version's schema is a new
// object whenever the CRD changes, so the cache needs no invalidation). The same compilation gives
// the errors a CRD write is refused with.
import { celEnv, parse, plan, type CelResult } from '@bufbuild/cel';
import { RE2JS } from '@bufbuild/re2';
import type { Expr, ParsedExpr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import type { JSONSchema } from '../structural.ts';
import { checkExpr, formatIssues } from './check.ts';
import { RUNTIME_FUNCS, metered } from './library.ts';
import { TICK, TICK_FUNC } from './budget.ts';
import { schemaType, T, type CelT } from './types.ts';
import { hasRules } from './has-rules.ts';

const isObj = (v: unknown): v is JSONSchema => !!v && typeof v === 'object' && !Array.isArray(v);

// Rules match the same few patterns on every object: compile each once (RE2, linear time, as upstream's).
const patterns = new Map<string, { test(s: string): boolean }>();
const re2 = {
  compile(pattern: string) {
    let m = patterns.get(pattern);
    if (!m) {
      if (patterns.size >= 1000) patterns.clear();
      m = RE2JS.compile(pattern);
      patterns.set(pattern, m);
    }
    return m;
  },
};

const ENV = celEnv({ funcs: [...RUNTIME_FUNCS, TICK_FUNC, ...metered(celEnv({ funcs: RUNTIME_FUNCS, re2 }))] });

export type Program = (bindings: Record<string, unknown>) => CelResult;

export interface CompiledExpr {
  program?: Program;
  /** cel-go style issues ("ERROR: <input>:1:6: ..."), when it does not compile. */
  error?: string;
  /** Why a checked expression cannot become a program (a constant regex that does not parse). */
  instantiationError?: string;
  type: CelT;
  usesOldSelf: boolean;
}

export interface CompiledRule {
  /** The x-kubernetes-validations entry as written. */
  rule: JSONSchema;
  program?: Program;
  /** Why the rule cannot run: 'compilation failed: ...' or 'cel expression must evaluate to a bool'. */
  error?: string;
  usesOldSelf: boolean;
  optionalOldSelf: boolean;
  message?: Program;
  messageError?: string;
  /** fieldPath normalized to a field.Path suffix ('a.b', 'm[k]'), when given and valid. */
  fieldPath?: string;
}

/** The compiled rules of one schema node and of the nodes below it that have any. */
export interface Validator {
  schema: JSONSchema;
  /** `sts.Type` in upstream's messages: the schema's type word ('' when it declares none). */
  typeWord: string;
  rules: CompiledRule[];
  properties?: Map<string, Validator>;
  items?: Validator;
  additionalProperties?: Validator;
  allOf?: Validator[];
}

/** Parses, checks and plans one expression against its variables' types. */
export function compileExpr(source: string, vars: Record<string, CelT>): CompiledExpr {
  let parsed: ParsedExpr;
  try {
    parsed = parse(source);
  } catch (e) {
    const offset = (e as { location?: { start?: { offset?: number } } }).location?.start?.offset ?? 0;
    if (e instanceof RangeError) return { error: formatIssues(source, [{ offset: 0, message: `expression recursion limit exceeded: ${MAX_DEPTH}` }]), type: T.dyn, usesOldSelf: false };
    const text = String((e as Error).message).replace(/^<input>:\d+:\d+: /, '');
    return { error: formatIssues(source, [{ offset, message: `Syntax error: ${text}` }]), type: T.dyn, usesOldSelf: false };
  }
  // Deep expressions would exhaust the stack of the recursive checker and evaluator; cel-go refuses them too.
  if (depth(parsed.expr) > MAX_DEPTH) {
    return { error: formatIssues(source, [{ offset: 0, message: `expression recursion limit exceeded: ${MAX_DEPTH}` }]), type: T.dyn, usesOldSelf: false };
  }
  const checked = checkExpr(parsed, vars, source);
  if (checked.issues.length) return { error: formatIssues(source, checked.issues), type: checked.type, usesOldSelf: checked.usesOldSelf };
  const badPattern = constantPatternError(parsed.expr);
  if (badPattern) return { instantiationError: badPattern, type: checked.type, usesOldSelf: checked.usesOldSelf };
  instrument(parsed.expr);
  let evaluate: ReturnType<typeof plan>;
  try {
    evaluate = plan(ENV, parsed);
  } catch (e) {
    return { instantiationError: (e as Error).message, type: checked.type, usesOldSelf: checked.usesOldSelf };
  }
  return { program: (b) => evaluate(b as never), type: checked.type, usesOldSelf: checked.usesOldSelf };
}

const MAX_DEPTH = 250;

/** The nesting depth of an expression, measured without recursion. */
function depth(root: Expr | undefined): number {
  let max = 0;
  const stack: [Expr | undefined, number][] = [[root, 1]];
  while (stack.length) {
    const [e, d] = stack.pop()!;
    if (!e) continue;
    if (d > max) max = d;
    if (max > MAX_DEPTH) return max;
    const k = e.exprKind;
    const kids: (Expr | undefined)[] =
      k.case === 'selectExpr' ? [k.value.operand]
      : k.case === 'callExpr' ? [k.value.target, ...k.value.args]
      : k.case === 'listExpr' ? k.value.elements
      : k.case === 'structExpr' ? k.value.entries.flatMap((x) => [x.value, x.keyKind.case === 'mapKey' ? x.keyKind.value : undefined])
      : k.case === 'comprehensionExpr' ? [k.value.iterRange, k.value.accuInit, k.value.loopCondition, k.value.loopStep, k.value.result]
      : [];
    for (const c of kids) stack.push([c, d + 1]);
  }
  return max;
}

/** As cel-go's regex optimization: a `matches` pattern given as a literal is compiled with the program. */
function constantPatternError(e: Expr | undefined): string | undefined {
  if (!e) return undefined;
  const k = e.exprKind;
  switch (k.case) {
    case 'selectExpr':
      return constantPatternError(k.value.operand);
    case 'callExpr': {
      const { function: fn, target, args } = k.value;
      const pattern = fn === 'matches' ? (target ? args[0] : args[1]) : undefined;
      if (pattern?.exprKind.case === 'constExpr' && pattern.exprKind.value.constantKind.case === 'stringValue') {
        try {
          re2.compile(pattern.exprKind.value.constantKind.value);
        } catch (err) {
          return (err as Error).message;
        }
      }
      for (const x of [target, ...args]) {
        const inner = constantPatternError(x);
        if (inner) return inner;
      }
      return undefined;
    }
    case 'listExpr':
      for (const x of k.value.elements) {
        const inner = constantPatternError(x);
        if (inner) return inner;
      }
      return undefined;
    case 'structExpr':
      for (const entry of k.value.entries) {
        const inner = constantPatternError(entry.value) ?? (entry.keyKind.case === 'mapKey' ? constantPatternError(entry.keyKind.value) : undefined);
        if (inner) return inner;
      }
      return undefined;
    case 'comprehensionExpr': {
      const c = k.value;
      for (const x of [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result]) {
        const inner = constantPatternError(x);
        if (inner) return inner;
      }
    }
  }
  return undefined;
}

let nextId = 1n << 40n;

/** Every comprehension passes its loop condition through `__tick__`, which charges the budget. */
function instrument(e: Expr | undefined): void {
  if (!e) return;
  const k = e.exprKind;
  switch (k.case) {
    case 'selectExpr':
      instrument(k.value.operand);
      return;
    case 'callExpr':
      instrument(k.value.target);
      k.value.args.forEach(instrument);
      return;
    case 'listExpr':
      k.value.elements.forEach(instrument);
      return;
    case 'structExpr':
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') instrument(entry.keyKind.value);
        instrument(entry.value);
      }
      return;
    case 'comprehensionExpr': {
      const c = k.value;
      [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result].forEach(instrument);
      const cond = c.loopCondition;
      c.loopCondition = {
        $typeName: 'cel.expr.Expr',
        id: nextId++,
        exprKind: { case: 'callExpr', value: { $typeName: 'cel.expr.Expr.Call', function: TICK, args: cond ? [cond] : [], target: undefined } },
      } as Expr;
    }
  }
}

const trim = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/** Compiles one x-kubernetes-validations entry for a node of type `type`. */
export function compileRule(rule: JSONSchema, type: CelT, schema: JSONSchema): CompiledRule {
  const optionalOldSelf = rule.optionalOldSelf === true;
  const out: CompiledRule = { rule, usesOldSelf: false, optionalOldSelf };
  const source = trim(rule.rule);
  if (!source) return out;
  const vars = { self: type, oldSelf: optionalOldSelf ? T.optional(type) : type };
  const c = compileExpr(String(rule.rule), vars);
  out.usesOldSelf = c.usesOldSelf;
  if (c.error) out.error = `compilation failed: ${c.error}`;
  else if (c.instantiationError) out.error = `program instantiation failed: ${c.instantiationError}`;
  else if (c.type.k !== 'bool' && c.type.k !== 'dyn') out.error = 'cel expression must evaluate to a bool';
  else out.program = c.program;
  if (trim(rule.messageExpression)) {
    const m = compileExpr(String(rule.messageExpression), vars);
    if (m.error) out.messageError = `messageExpression compilation failed: ${m.error}`;
    else if (m.instantiationError) out.messageError = `messageExpression instantiation failed: ${m.instantiationError}`;
    else if (m.type.k !== 'string' && m.type.k !== 'dyn') out.messageError = 'messageExpression must evaluate to a string';
    else out.message = m.program;
  }
  if (trim(rule.fieldPath)) {
    const p = normalizeFieldPath(String(rule.fieldPath), schema);
    if (typeof p === 'string') out.fieldPath = p;
  }
  return out;
}

const cache = new WeakMap<JSONSchema, Validator | null>();

/** The validator of a version's schema (resource root), compiled once per schema object; undefined when it has no rules. */
export function validatorFor(schema: JSONSchema): Validator | undefined {
  let v = cache.get(schema);
  if (v === undefined) {
    v = hasRules(schema) ? build(schema, schema, true, 'selfType') ?? null : null;
    cache.set(schema, v);
  }
  return v ?? undefined;
}

/** `rules` come from `ruleSchema` (the node, or one of its allOf entries); types from `node`. */
function build(ruleSchema: JSONSchema, node: JSONSchema, resourceRoot: boolean, name: string): Validator | undefined {
  if (!hasRules(ruleSchema)) return undefined;
  const type = schemaType(node, resourceRoot, name);
  const entries: JSONSchema[] = Array.isArray(ruleSchema['x-kubernetes-validations']) ? ruleSchema['x-kubernetes-validations'] : [];
  const v: Validator = { schema: node, typeWord: typeof node.type === 'string' ? node.type : '', rules: entries.map((r) => compileRule(isObj(r) ? r : {}, type, node)) };
  if (isObj(ruleSchema.properties) && isObj(node.properties)) {
    for (const [k, p] of Object.entries(ruleSchema.properties)) {
      const np = node.properties[k];
      if (!isObj(p) || !isObj(np)) continue;
      const child = build(p, np, np['x-kubernetes-embedded-resource'] === true, `${name}.${k}`);
      if (child) (v.properties ??= new Map()).set(k, child);
    }
  }
  if (isObj(ruleSchema.items) && isObj(node.items)) v.items = build(ruleSchema.items, node.items, node.items['x-kubernetes-embedded-resource'] === true, `${name}.@idx`);
  if (isObj(ruleSchema.additionalProperties) && isObj(node.additionalProperties)) {
    v.additionalProperties = build(ruleSchema.additionalProperties, node.additionalProperties, node.additionalProperties['x-kubernetes-embedded-resource'] === true, `${name}.@elem`);
  }
  if (Array.isArray(ruleSchema.allOf)) {
    for (const a of ruleSchema.allOf) {
      const av = isObj(a) ? build(a, node, resourceRoot, name) : undefined;
      if (av) (v.allOf ??= []).push(av);
    }
  }
  return v;
}

/**
 * A rule's fieldPath (`.a.b`, `.m['key']`) checked against the node's schema and normalized as
 * upstream's field.Path prints it ('a.b', 'm[key]'); an error text when it names no field.
 */
export function normalizeFieldPath(path: string, schema: JSONSchema): string | { error: string } {
  let s: JSONSchema | undefined = schema;
  let out = '';
  let i = 0;
  const step = (name: string): string | undefined => {
    if (isObj(s?.properties)) {
      if (!isObj(s.properties[name])) return 'does not refer to a valid field';
      s = s.properties[name];
      out += out ? `.${name}` : name;
    } else if (isObj(s?.additionalProperties)) {
      s = s.additionalProperties;
      out += `[${name}]`;
    } else return 'does not refer to a valid field';
    return undefined;
  };
  while (i < path.length) {
    if (path[i] === '.') {
      let j = i + 1;
      while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
      const name = path.slice(i + 1, j);
      if (!name) return { error: 'unexpected end of JSON path' };
      const e = step(name);
      if (e) return { error: e };
      i = j;
    } else if (path[i] === '[') {
      const m = /^\['((?:[^'\\]|\\.)*)'\]/.exec(path.slice(i));
      if (!m) return { error: `expected single quoted string but got ${path.slice(i + 1)}` };
      const e = step(m[1].replace(/\\(.)/g, '$1'));
      if (e) return { error: e };
      i += m[0].length;
    } else return { error: `expected [ or . but got: ${path.slice(i)}` };
  }
  return out;
}

