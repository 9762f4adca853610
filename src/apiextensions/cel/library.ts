// The functions a validation rule may call: CEL's standard ones (evaluated by @bufbuild/cel), its
// strings extension, and the Kubernetes libraries rule authors use most (lists, quantity),
// implemented here. Each has a signature for the checker, so a call with the wrong argument
// types is refused when the CRD is written, with cel-go's "found no matching overload" message.
import { celFunc, celMethod, celList, CelScalar, listType, mapType, isCelList, isCelMap, isCelUint, isCelError, celUint, type CelFunc, type CelValue, type CelList, type CelMap, type CelEnv } from '@bufbuild/cel';
import { charge } from './budget.ts';
import { strings } from '@bufbuild/cel/ext';
import { parseQuantity, compareQuantity, addQuantity, type Quantity } from '../../api/validation/quantity.ts';
import { T, type CelT } from './types.ts';

export interface Signature {
  name: string;
  target?: CelT;
  args: CelT[];
  result: CelT;
}

const A = T.param('A');
const B = T.param('B');
const { int, uint, double, string, bool, bytes, dyn, type, timestamp, duration, quantity } = T;
const sig = (name: string, args: CelT[], result: CelT, target?: CelT): Signature => ({ name, args, result, target });

const NUMERIC = [int, uint, double];
const ORDERED = [int, uint, double, string, bytes, bool, timestamp, duration];

function standard(): Signature[] {
  const out: Signature[] = [];
  for (const t of [...NUMERIC, string, bytes]) out.push(sig('_+_', [t, t], t));
  out.push(sig('_+_', [T.list(A), T.list(A)], T.list(A)), sig('_+_', [timestamp, duration], timestamp), sig('_+_', [duration, timestamp], timestamp), sig('_+_', [duration, duration], duration));
  for (const op of ['_-_', '_*_', '_/_']) for (const t of NUMERIC) out.push(sig(op, [t, t], t));
  out.push(sig('_-_', [timestamp, timestamp], duration), sig('_-_', [timestamp, duration], timestamp), sig('_-_', [duration, duration], duration));
  for (const t of [int, uint]) out.push(sig('_%_', [t, t], t));
  out.push(sig('-_', [int], int), sig('-_', [double], double), sig('!_', [bool], bool));
  for (const op of ['_==_', '_!=_']) out.push(sig(op, [A, A], bool));
  for (const op of ['_<_', '_<=_', '_>_', '_>=_']) {
    for (const t of ORDERED) out.push(sig(op, [t, t], bool));
    for (const a of NUMERIC) for (const b of NUMERIC) if (a !== b) out.push(sig(op, [a, b], bool));
  }
  out.push(sig('_&&_', [bool, bool], bool), sig('_||_', [bool, bool], bool), sig('_?_:_', [bool, A, A], A));
  out.push(sig('_[_]', [T.list(A), int], A), sig('_[_]', [T.map(A, B), A], B));
  out.push(sig('@in', [A, T.list(A)], bool), sig('@in', [A, T.map(A, B)], bool));
  out.push(sig('@not_strictly_false', [bool], bool));
  for (const t of [string, bytes, T.list(A), T.map(A, B)]) out.push(sig('size', [t], int), sig('size', [], int, t));
  for (const f of ['contains', 'startsWith', 'endsWith', 'matches']) out.push(sig(f, [string], bool, string));
  out.push(sig('matches', [string, string], bool));
  for (const t of [int, uint, double, string, timestamp]) out.push(sig('int', [t], int));
  for (const t of [int, uint, double, string]) out.push(sig('uint', [t], uint), sig('double', [t], double));
  for (const t of [int, uint, double, string, bool, bytes, timestamp, duration]) out.push(sig('string', [t], string));
  out.push(sig('bool', [bool], bool), sig('bool', [string], bool), sig('bytes', [bytes], bytes), sig('bytes', [string], bytes));
  out.push(sig('duration', [string], duration), sig('duration', [duration], duration), sig('timestamp', [string], timestamp), sig('timestamp', [timestamp], timestamp));
  out.push(sig('dyn', [A], dyn), sig('type', [A], type));
  for (const f of ['getFullYear', 'getMonth', 'getDayOfYear', 'getDate', 'getDayOfMonth', 'getDayOfWeek', 'getHours', 'getMinutes', 'getSeconds', 'getMilliseconds']) {
    out.push(sig(f, [], int, timestamp), sig(f, [string], int, timestamp));
  }
  for (const f of ['getHours', 'getMinutes', 'getSeconds', 'getMilliseconds']) out.push(sig(f, [], int, duration));
  // The strings extension (charAt, indexOf, ..., format), as @bufbuild/cel declares it.
  out.push(
    sig('charAt', [int], string, string), sig('indexOf', [string], int, string), sig('indexOf', [string, int], int, string),
    sig('lastIndexOf', [string], int, string), sig('lastIndexOf', [string, int], int, string), sig('lowerAscii', [], string, string),
    sig('upperAscii', [], string, string), sig('replace', [string, string], string, string), sig('replace', [string, string, int], string, string),
    sig('split', [string], T.list(string), string), sig('split', [string, int], T.list(string), string), sig('substring', [int], string, string),
    sig('substring', [int, int], string, string), sig('trim', [], string, string), sig('join', [], string, T.list(string)),
    sig('join', [string], string, T.list(string)), sig('format', [T.list(dyn)], string, string), sig('strings.quote', [string], string),
  );
  return out;
}

/** Kubernetes' list and quantity libraries (regex find/findAll are left out: no linear-time matcher with positions here) (k8s.io/apiserver/pkg/cel/library). */
function kubernetes(): Signature[] {
  const L = T.list(A);
  return [
    ...[int, uint, double, duration].map((t) => sig('sum', [], t, T.list(t))),
    ...[int, uint, double, string, bytes, bool, timestamp, duration].flatMap((t) => [sig('isSorted', [], bool, T.list(t)), sig('min', [], t, T.list(t)), sig('max', [], t, T.list(t))]),
    sig('indexOf', [A], int, L), sig('lastIndexOf', [A], int, L),
    sig('quantity', [string], quantity), sig('isQuantity', [string], bool),
    sig('isInteger', [], bool, quantity), sig('asInteger', [], int, quantity), sig('asApproximateFloat', [], double, quantity), sig('sign', [], int, quantity),
    sig('add', [quantity], quantity, quantity), sig('add', [int], quantity, quantity), sig('sub', [quantity], quantity, quantity), sig('sub', [int], quantity, quantity),
    sig('isGreaterThan', [quantity], bool, quantity), sig('isLessThan', [quantity], bool, quantity), sig('compareTo', [quantity], int, quantity),
  ];
}

export const SIGNATURES: Map<string, Signature[]> = (() => {
  const m = new Map<string, Signature[]>();
  for (const s of [...standard(), ...kubernetes()]) {
    if (!m.has(s.name)) m.set(s.name, []);
    m.get(s.name)!.push(s);
  }
  return m;
})();

// ---- runtime ----

const LIST = listType(CelScalar.DYN);
/** A quantity travels through CEL as a map holding its exact value, so `==` compares values ("1" == "1000m"). */
const QMAP = mapType(CelScalar.STRING, CelScalar.DYN);
const QKEY = '@quantity';

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b) [a, b] = [b, a % b];
  return a || 1n;
}

function toQuantityValue(q: Quantity): Map<string, string> {
  const g = gcd(q.num, q.den);
  return new Map([[QKEY, `${q.num / g}/${q.den / g}`]]);
}

function quantityOf(v: CelValue): Quantity {
  if (!isCelMap(v) || typeof v.get(QKEY) !== 'string') throw new Error('no such overload');
  const [n, d] = (v.get(QKEY) as string).split('/');
  return { num: BigInt(n), den: BigInt(d) };
}

function parseOrThrow(s: string): Quantity {
  const q = parseQuantity(s);
  if (!q) throw new Error('quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'');
  return q;
}

function comparable(v: CelValue): number | bigint | string | boolean {
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (isCelUint(v)) return v.value;
  throw new Error('no such overload');
}

function cmp(a: CelValue, b: CelValue): number {
  const x = comparable(a);
  const y = comparable(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function sum(list: CelList): CelValue {
  let acc: CelValue | undefined;
  for (const v of list) {
    if (acc === undefined) acc = v;
    else if (typeof acc === 'bigint' && typeof v === 'bigint') acc += v;
    else if (typeof acc === 'number' && typeof v === 'number') acc += v;
    else if (isCelUint(acc) && isCelUint(v)) acc = celUint(acc.value + v.value);
    else throw new Error('no such overload');
  }
  return acc ?? 0n;
}

function extreme(list: CelList, sign: number): CelValue {
  if (list.size === 0) throw new Error(sign < 0 ? 'min called on empty list' : 'max called on empty list');
  let best: CelValue = list.get(0) as CelValue;
  for (const v of list) if (cmp(v, best) * sign > 0) best = v;
  return best;
}

function indexIn(list: CelList, v: CelValue, last: boolean): bigint {
  let found = -1;
  let i = 0;
  for (const x of list) {
    if (equalValues(x, v)) {
      found = i;
      if (!last) break;
    }
    i++;
  }
  return BigInt(found);
}

function equalValues(a: CelValue, b: CelValue): boolean {
  if (isCelUint(a) && isCelUint(b)) return a.value === b.value;
  if (isCelList(a) && isCelList(b)) return a.size === b.size && [...a].every((x, i) => equalValues(x, b.get(i)!));
  if (typeof a === 'bigint' && typeof b === 'number') return Number(a) === b;
  if (typeof a === 'number' && typeof b === 'bigint') return a === Number(b);
  return a === b;
}

/** Functions beyond @bufbuild/cel's standard library, for the evaluator's environment. */
export const RUNTIME_FUNCS: CelFunc[] = [
  ...strings,
  celMethod('isSorted', LIST, [], CelScalar.BOOL, function () {
    let prev: CelValue | undefined;
    for (const v of this) {
      if (prev !== undefined && cmp(prev, v) > 0) return false;
      prev = v;
    }
    return true;
  }),
  celMethod('sum', LIST, [], CelScalar.DYN, function () {
    return sum(this);
  }),
  celMethod('min', LIST, [], CelScalar.DYN, function () {
    return extreme(this, -1) as never;
  }),
  celMethod('max', LIST, [], CelScalar.DYN, function () {
    return extreme(this, 1) as never;
  }),
  celMethod('indexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (v) {
    return indexIn(this, v, false);
  }),
  celMethod('lastIndexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (v) {
    return indexIn(this, v, true);
  }),
  celFunc('quantity', [CelScalar.STRING], QMAP, (s) => toQuantityValue(parseOrThrow(s))),
  celFunc('isQuantity', [CelScalar.STRING], CelScalar.BOOL, (s) => parseQuantity(s) !== undefined),
  celMethod('isInteger', QMAP, [], CelScalar.BOOL, function () {
    const q = quantityOf(this);
    return q.num % q.den === 0n && (q.num / q.den) <= 9223372036854775807n && (q.num / q.den) >= -9223372036854775808n;
  }),
  celMethod('asInteger', QMAP, [], CelScalar.INT, function () {
    const q = quantityOf(this);
    if (q.num % q.den !== 0n) throw new Error('cannot convert value to integer');
    return q.num / q.den;
  }),
  celMethod('asApproximateFloat', QMAP, [], CelScalar.DOUBLE, function () {
    const q = quantityOf(this);
    return Number(q.num) / Number(q.den);
  }),
  celMethod('sign', QMAP, [], CelScalar.INT, function () {
    const n = quantityOf(this).num;
    return n > 0n ? 1n : n < 0n ? -1n : 0n;
  }),
  celMethod('add', QMAP, [CelScalar.DYN], QMAP, function (o) {
    const other = typeof o === 'bigint' ? { num: o, den: 1n } : quantityOf(o);
    return toQuantityValue(addQuantity(quantityOf(this), other));
  }),
  celMethod('sub', QMAP, [CelScalar.DYN], QMAP, function (o) {
    const other = typeof o === 'bigint' ? { num: o, den: 1n } : quantityOf(o);
    return toQuantityValue(addQuantity(quantityOf(this), { num: -other.num, den: other.den }));
  }),
  celMethod('isGreaterThan', QMAP, [QMAP], CelScalar.BOOL, function (o) {
    return compareQuantity(quantityOf(this), quantityOf(o)) > 0;
  }),
  celMethod('isLessThan', QMAP, [QMAP], CelScalar.BOOL, function (o) {
    return compareQuantity(quantityOf(this), quantityOf(o)) < 0;
  }),
  celMethod('compareTo', QMAP, [QMAP], CelScalar.INT, function (o) {
    return BigInt(Math.sign(compareQuantity(quantityOf(this), quantityOf(o))));
  }),
];

// `oldSelf` of a rule with optionalOldSelf is an optional value. @bufbuild/cel has no optional type,
// so it travels as a map with a marker; the checker allows only hasValue(), value() and orValue() on it.
const OPT = '@optional';
const OPT_VALUE = '@value';

export function optionalOf(v: unknown): Map<string, unknown> {
  return v === undefined ? new Map<string, unknown>([[OPT, false]]) : new Map<string, unknown>([[OPT, true], [OPT_VALUE, v]]);
}

function optionalParts(m: CelValue): { present: boolean; value: CelValue | undefined } {
  if (!isCelMap(m) || typeof m.get(OPT) !== 'boolean') throw new Error('no such overload');
  return { present: m.get(OPT) === true, value: m.get(OPT_VALUE) };
}

RUNTIME_FUNCS.push(
  celMethod('hasValue', QMAP, [], CelScalar.BOOL, function () {
    return optionalParts(this).present;
  }),
  celMethod('value', QMAP, [], CelScalar.DYN, function () {
    const o = optionalParts(this);
    if (!o.present) throw new Error('optional.none() dereference');
    return o.value!;
  }),
  celMethod('orValue', QMAP, [CelScalar.DYN], CelScalar.DYN, function (d) {
    const o = optionalParts(this);
    return o.present ? o.value! : d;
  }),
);

// Operations whose time grows with their operands' size: each is charged for what it traverses,
// so a cheap-looking loop over a large string or list cannot run unbounded.
const LINEAR = new Set([
  '_==_', '_!=_', '_+_', '@in', '_<_', '_<=_', '_>_', '_>=_', 'contains', 'startsWith', 'endsWith', 'matches',
  'charAt', 'indexOf', 'lastIndexOf', 'lowerAscii', 'upperAscii', 'replace', 'split', 'substring', 'trim', 'join', 'format',
  'isSorted', 'sum', 'min', 'max', 'string', 'bytes',
]);

const sizes = new WeakMap<object, number>();

/** Roughly how many units traversing `v` costs: a unit per 128 characters or bytes, per 16 list or map entries (deep). */
function weight(v: unknown): number {
  if (typeof v === 'string') return v.length >> 7;
  if (v instanceof Uint8Array) return v.length >> 7;
  if (!isCelList(v) && !isCelMap(v)) return 0;
  return entries(v) >> 4;
}

function entries(v: CelList | CelMap): number {
  const hit = sizes.get(v);
  if (hit !== undefined) return hit;
  let n = 0;
  for (const x of isCelList(v) ? v : v.values()) {
    n += 1;
    if (isCelList(x) || isCelMap(x)) n += entries(x);
    else if (typeof x === 'string') n += x.length >> 3;
  }
  sizes.set(v, n);
  return n;
}

/** The linear-time functions of `env`, wrapped to charge the budget; same signatures, so they replace the originals. */
export function metered(env: CelEnv): CelFunc[] {
  const out: CelFunc[] = [];
  for (const f of env.funcs) {
    if (!LINEAR.has(f.name)) continue;
    const impl = function (this: unknown, ...args: CelValue[]) {
      let units = weight(this);
      for (const a of args) units += weight(a);
      if (units) charge(units);
      const r = f.call(0, this as CelValue | undefined, args);
      if (r === undefined) throw new Error('no such overload');
      if (isCelError(r)) throw r;
      return r as never;
    };
    out.push(f.target ? celMethod(f.name, f.target as never, f.arguments as never, f.result as never, impl as never) : celFunc(f.name, f.arguments as never, f.result as never, impl as never));
  }
  return out;
}
