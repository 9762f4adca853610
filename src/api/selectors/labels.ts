// Label selectors: the `?labelSelector=` query syntax, metav1.LabelSelector objects, matching and
// printing, with upstream's (apimachinery labels package) grammar, ordering and error messages.
import { isQualifiedName as qualifiedNameErrors, isValidLabelValue as labelValueErrors } from '../validation/names.ts';

/** Operator spellings as upstream's selection package names them. */
export type Operator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

/**
 * A parsed selector: every requirement must match. `nothing` is the selector of a null
 * metav1.LabelSelector, which matches no object at all (unlike the empty selector).
 */
export interface LabelSelector {
  readonly requirements: readonly Requirement[];
  readonly nothing: boolean;
  /** Same as matchesLabels(this, labels). */
  matches(labels: Record<string, string> | null | undefined): boolean;
}

/** The metav1.LabelSelector object form (e.g. StatefulSet spec.selector). */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: { key: string; operator: string; values?: string[] | null }[] | null;
}

/** Thrown for unparsable or invalid selectors; the server returns the message in a 400 BadRequest. */
export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

function makeSelector(requirements: readonly Requirement[], nothing: boolean): LabelSelector {
  const sel: LabelSelector = { requirements, nothing, matches: (labels) => matchesLabels(sel, labels) };
  return sel;
}

export const everything = (): LabelSelector => makeSelector([], false);
export const nothing = (): LabelSelector => makeSelector([], true);

/** True for a selector that does not restrict anything (upstream's Empty()). */
export function isEverything(sel: LabelSelector): boolean {
  return !sel.nothing && sel.requirements.length === 0;
}

// --- validation (upstream NewRequirement) ----------------------------------------------------

/** Go's %#v / %q rendering of the bad values upstream puts in these messages. */
function goValue(v: string | readonly string[]): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return `[]string{${v.map((s) => JSON.stringify(s)).join(', ')}}`;
}

const invalid = (path: string, value: string | readonly string[], detail: string) => `${path}: Invalid value: ${goValue(value)}: ${detail}`;

/** utilerrors aggregate text: one message alone, several as a bracketed, de-duplicated list. */
function aggregate(msgs: string[]): string {
  const unique = [...new Set(msgs)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

const intPattern = /^[+-]?\d+$/;
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;
function parseInt64(s: string): bigint | undefined {
  if (!intPattern.test(s)) return undefined;
  const n = BigInt(s);
  return n < int64Min || n > int64Max ? undefined : n;
}

function keyError(key: string, path: string): string | undefined {
  const errs = qualifiedNameErrors(key);
  return errs.length ? invalid(path, key, errs.join('; ')) : undefined;
}

function newRequirement(key: string, operator: Operator, values: string[]): Requirement {
  const errs: string[] = [];
  const kErr = keyError(key, 'key');
  if (kErr) errs.push(kErr);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(invalid('values', values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(invalid('values', values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(invalid('values', values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(invalid('values', values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(invalid(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const vErrs = labelValueErrors(v);
    if (vErrs.length) errs.push(invalid(`values[${i}][${key}]`, v, vErrs.join('; ')));
  });
  if (errs.length) throw new SelectorError(aggregate(errs));
  return { key, operator, values };
}

const byKey = (reqs: Requirement[]): Requirement[] => reqs.slice().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

// --- the query-string grammar ----------------------------------------------------------------

type Tok = 'error' | 'end' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '(';

interface Item {
  tok: Tok;
  lit: string;
}

const symbolTokens: Record<string, Tok> = { ')': ')', ',': ',', '!': '!', '==': '==', '=': '=', '>': '>', '<': '<', '!=': '!=', '(': '(' };
const isWhitespace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSpecial = (c: string) => '=!(),><'.includes(c);

function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos])) pos++;
    if (pos >= s.length) {
      items.push({ tok: 'end', lit: '' });
      return items;
    }
    if (isSpecial(s[pos])) {
      // Longest run of symbol characters that still spells a known operator.
      let buf = '';
      let last: Item | undefined;
      while (pos < s.length && isSpecial(s[pos])) {
        buf += s[pos];
        const t = symbolTokens[buf];
        if (t) last = { tok: t, lit: buf };
        else if (last) break;
        pos++;
      }
      items.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` });
      continue;
    }
    let buf = '';
    while (pos < s.length && !isSpecial(s[pos]) && !isWhitespace(s[pos])) buf += s[pos++];
    items.push({ tok: buf === 'in' ? 'in' : buf === 'notin' ? 'notin' : 'id', lit: buf });
  }
}

class Parser {
  items: Item[];
  pos = 0;

  constructor(s: string) {
    this.items = lex(s);
  }

  // In value position the words 'in' and 'notin' are ordinary identifiers.
  lookahead(values: boolean): Item {
    return this.asContext(this.items[this.pos], values);
  }

  consume(values: boolean): Item {
    return this.asContext(this.items[this.pos++], values);
  }

  asContext(item: Item, values: boolean): Item {
    return values && (item.tok === 'in' || item.tok === 'notin') ? { tok: 'id', lit: item.lit } : item;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const next = this.lookahead(true);
      if (next.tok === 'id' || next.tok === '!') {
        try {
          reqs.push(this.requirement());
        } catch (e) {
          throw new SelectorError(`unable to parse requirement: ${(e as Error).message}`);
        }
        const after = this.consume(true);
        if (after.tok === 'end') return reqs;
        if (after.tok !== ',') throw new SelectorError(`found '${after.lit}', expected: ',' or 'end of string'`);
        const t2 = this.lookahead(true);
        if (t2.tok !== 'id' && t2.tok !== '!') throw new SelectorError(`found '${t2.lit}', expected: identifier after ','`);
      } else if (next.tok === 'end') {
        return reqs;
      } else {
        throw new SelectorError(`found '${next.lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  requirement(): Requirement {
    let item = this.consume(true);
    let op: Operator | undefined;
    if (item.tok === '!') {
      op = '!';
      item = this.consume(true);
    }
    if (item.tok !== 'id') throw new Error(`found '${item.lit}', expected: identifier`);
    const key = item.lit;
    // A bad key is reported without a field path, which upstream prints as '<nil>'.
    const kErr = keyError(key, '<nil>');
    if (kErr) throw new Error(kErr);
    // '!key' is complete by itself; whatever follows must be ',' or the end.
    if (op === '!') return newRequirement(key, '!', []);
    const t = this.lookahead(true).tok;
    if (t === 'end' || t === ',') return newRequirement(key, 'exists', []);
    const opItem = this.consume(false);
    const operators: Partial<Record<Tok, Operator>> = { in: 'in', '=': '=', '==': '==', '>': 'gt', '<': 'lt', notin: 'notin', '!=': '!=' };
    const binary = operators[opItem.tok];
    if (!binary) throw new Error(`found '${opItem.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    const values = binary === 'in' || binary === 'notin' ? this.valueSet() : this.exactValue();
    // Upstream collects values in a sorted set.
    return newRequirement(key, binary, [...new Set(values)].sort());
  }

  valueSet(): string[] {
    const open = this.consume(true);
    if (open.tok !== '(') throw new Error(`found '${open.lit}' expected: '('`);
    const first = this.lookahead(true);
    if (first.tok === ')') {
      this.consume(true);
      return [''];
    }
    if (first.tok !== 'id' && first.tok !== ',') throw new Error(`found '${first.lit}', expected: ',', ')' or identifier`);
    const values = this.identifiers();
    if (this.consume(true).tok !== ')') throw new Error(`found '${first.lit}', expected: ')'`);
    return values;
  }

  // A comma-separated list in which empty entries stand for the empty value.
  identifiers(): string[] {
    const values: string[] = [];
    for (;;) {
      const item = this.consume(true);
      if (item.tok === 'id') {
        values.push(item.lit);
        const next = this.lookahead(true);
        if (next.tok === ',') continue;
        if (next.tok === ')') return values;
        throw new Error(`found '${next.lit}', expected: ',' or ')'`);
      } else if (item.tok === ',') {
        if (values.length === 0) values.push('');
        const next = this.lookahead(true);
        if (next.tok === ')') {
          values.push('');
          return values;
        }
        if (next.tok === ',') {
          this.consume(true);
          values.push('');
        }
      } else {
        throw new Error(`found '${item.lit}', expected: ',', or identifier`);
      }
    }
  }

  exactValue(): string[] {
    const next = this.lookahead(true);
    if (next.tok === 'end' || next.tok === ',') return [''];
    const item = this.consume(true);
    if (item.tok === 'id') return [item.lit];
    throw new Error(`found '${item.lit}', expected: identifier`);
  }
}

/** Parse the `labelSelector` query syntax, e.g. 'app=web,tier in (a,b),!canary,rev>3'. Throws SelectorError. */
export function parseLabelSelector(s: string): LabelSelector {
  return makeSelector(byKey(new Parser(s).parse()), false);
}

/** metav1.LabelSelectorAsSelector: null matches nothing, empty matches everything. Throws SelectorError. */
export function labelSelectorFromObject(obj: LabelSelectorObject | null | undefined): LabelSelector {
  if (obj === null || obj === undefined) return nothing();
  const matchLabels = obj.matchLabels ?? {};
  const exprs = obj.matchExpressions ?? [];
  if (Object.keys(matchLabels).length + exprs.length === 0) return everything();
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(matchLabels)) reqs.push(newRequirement(k, '=', [v]));
  const ops: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };
  for (const e of exprs) {
    const op = ops[e.operator];
    if (!op) throw new SelectorError(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    reqs.push(newRequirement(e.key, op, [...(e.values ?? [])]));
  }
  return makeSelector(byKey(reqs), false);
}

// --- matching --------------------------------------------------------------------------------

export function requirementMatches(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(labels[r.key]);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(labels[r.key]);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const actual = parseInt64(labels[r.key]);
      const bound = parseInt64(r.values[0]);
      if (actual === undefined || bound === undefined) return false;
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | null | undefined): boolean {
  if (sel.nothing) return false;
  const l = labels ?? {};
  return sel.requirements.every((r) => requirementMatches(r, l));
}

/** The value a selector pins `key` to (via =, == or a one-value in), for index lookups. */
export function requiresExactLabel(sel: LabelSelector, key: string): string | undefined {
  const r = sel.requirements.find((x) => x.key === key);
  if (r && (r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
  return undefined;
}

// --- printing --------------------------------------------------------------------------------

export function requirementToString(r: Requirement): string {
  const values = r.values.length > 1 ? [...r.values].sort().join(',') : (r.values[0] ?? '');
  switch (r.operator) {
    case '!':
      return `!${r.key}`;
    case 'exists':
      return r.key;
    case 'in':
      return `${r.key} in (${values})`;
    case 'notin':
      return `${r.key} notin (${values})`;
    case 'gt':
      return `${r.key}>${values}`;
    case 'lt':
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

/** Selector.String(): requirements sorted by key, joined by ','; '' for everything and nothing. */
export function labelSelectorToString(sel: LabelSelector): string {
  return sel.nothing ? '' : sel.requirements.map(requirementToString).join(',');
}

/**
 * The string form of a metav1.LabelSelector, as Scale's status.selector carries it
 * (e.g. 'app=nginx'). Throws SelectorError for an invalid selector.
 */
export function formatLabelSelector(obj: LabelSelectorObject | null | undefined): string {
  return labelSelectorToString(labelSelectorFromObject(obj));
}

/** metav1.FormatLabelSelector, as printers show selectors: '<none>' when empty, '<error>' when invalid. */
export function printLabelSelector(obj: LabelSelectorObject | null | undefined): string {
  try {
    return formatLabelSelector(obj) || '<none>';
  } catch {
    return '<error>';
  }
}
