// Field selectors: the `?fieldSelector=` syntax (apimachinery fields package). Terms are joined by
// ',', each `field=value`, `field==value` or `field!=value`; in values, '\' escapes '\', ',' and '='.
import { SelectorError } from './labels.ts';

export interface FieldTerm {
  readonly field: string;
  /** '==' is stored as '=': upstream treats both as the same "has" term. */
  readonly op: '=' | '!=';
  readonly value: string;
}

export interface FieldSelector {
  readonly terms: readonly FieldTerm[];
}

// Split on commas that are not escaped; escapes stay in place for unescapeValue.
function splitTerms(s: string): string[] {
  if (s === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

// The field name cannot be escaped, so the first operator found splits the term; '!=' and '=='
// are tried before '=' so that neither leaves a stray '=' in the value.
function splitTerm(term: string): [string, string, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '=']) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

export function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let escaped = false;
  for (const c of s) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') throw new SelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',' || c === '=') {
      throw new SelectorError(`invalid field selector: unescaped character in value: ${c}`);
    } else {
      out += c;
    }
  }
  if (escaped) throw new SelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

export function escapeValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** Parse a field selector. Terms come back sorted, as upstream sorts them. Throws SelectorError. */
export function parseFieldSelector(s: string): FieldSelector {
  const parts = splitTerms(s).sort();
  const terms: FieldTerm[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split) throw new SelectorError(`invalid selector: '${s}'; can't understand '${part}'`);
    const [field, op, raw] = split;
    terms.push({ field, op: op === '!=' ? '!=' : '=', value: unescapeValue(raw) });
  }
  return { terms };
}

/** Fields the object lacks read as '' (so `spec.nodeName=` selects unscheduled pods). */
export function fieldsMatch(sel: FieldSelector, fieldValues: Record<string, string>): boolean {
  return sel.terms.every((t) => {
    const actual = Object.hasOwn(fieldValues, t.field) ? fieldValues[t.field] : '';
    return t.op === '=' ? actual === t.value : actual !== t.value;
  });
}

export function fieldSelectorToString(sel: FieldSelector): string {
  return sel.terms.map((t) => `${t.field}${t.op}${escapeValue(t.value)}`).join(',');
}

export const isEmptyFieldSelector = (sel: FieldSelector): boolean => sel.terms.length === 0;

/** The single value an exact-match term requires for `field` (upstream RequiresExactMatch). */
export function exactFieldMatch(sel: FieldSelector, field: string): string | undefined {
  return sel.terms.find((t) => t.field === field && t.op === '=')?.value;
}

/**
 * The first of `indexed` fields (in the caller's order of preference) that the selector pins to
 * one value, so the server can answer from an index and then filter the few candidates with
 * fieldsMatch instead of scanning every object.
 */
export function indexedFieldMatch(sel: FieldSelector, indexed: readonly string[]): { field: string; value: string } | undefined {
  for (const field of indexed) {
    const value = exactFieldMatch(sel, field);
    if (value !== undefined) return { field, value };
  }
  return undefined;
}

/** The field names a selector mentions, in term order. */
export function fieldSelectorTerms(sel: FieldSelector): string[] {
  return sel.terms.map((t) => t.field);
}

/** Alias of exactFieldMatch. */
export const exactFieldValue = exactFieldMatch;
