// The JSONPath subset printer columns and the scale subresource use (kubectl's syntax without
// the braces): .field, ['field'], [n], [*], .* and filters [?(@.a.b=="x")] with == and !=.
type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'all' }
  | { kind: 'filter'; path: Step[]; op: '==' | '!=' | 'exists'; value?: unknown };

const cache = new Map<string, Step[] | Error>();

export function parseJsonPath(expr: string): Step[] {
  const hit = cache.get(expr);
  if (hit instanceof Error) throw hit;
  if (hit) return hit;
  try {
    const steps = parse(expr.trim().replace(/^\{(.*)\}$/, '$1').replace(/^\$/, ''));
    cache.set(expr, steps);
    return steps;
  } catch (e) {
    cache.set(expr, e as Error);
    throw e;
  }
}

function parse(s: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      i++;
      if (s[i] === '*') {
        steps.push({ kind: 'all' });
        i++;
        continue;
      }
      const m = /^[A-Za-z0-9_\-$]+/.exec(s.slice(i));
      if (!m) throw new Error(`invalid path at ${i}: ${s}`);
      steps.push({ kind: 'field', name: m[0] });
      i += m[0].length;
    } else if (s[i] === '[') {
      const end = closing(s, i);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) steps.push(filter(inner.slice(2, -1).trim()));
      else throw new Error(`unsupported subscript [${inner}]`);
    } else {
      throw new Error(`invalid path at ${i}: ${s}`);
    }
  }
  return steps;
}

function closing(s: string, open: number): number {
  let depth = 0;
  let quote = '';
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  throw new Error(`unclosed [ in ${s}`);
}

function filter(expr: string): Step {
  const m = /^@((?:\.[A-Za-z0-9_\-$]+|\['[^']*'\])*)\s*(==|!=)\s*(.+)$/.exec(expr);
  if (m) {
    const raw = m[3].trim();
    let value: unknown;
    if (/^'.*'$/.test(raw)) value = raw.slice(1, -1);
    else value = JSON.parse(raw);
    return { kind: 'filter', path: parse(m[1]), op: m[2] as '==' | '!=', value };
  }
  const e = /^@((?:\.[A-Za-z0-9_\-$]+)+)$/.exec(expr);
  if (e) return { kind: 'filter', path: parse(e[1]), op: 'exists' };
  throw new Error(`unsupported filter ${expr}`);
}

/** Every value the path selects in obj, in document order. */
export function evaluate(steps: Step[], obj: unknown): unknown[] {
  let cur: unknown[] = [obj];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || typeof v !== 'object') continue;
      switch (step.kind) {
        case 'field':
          if (!Array.isArray(v) && step.name in v) next.push((v as Record<string, unknown>)[step.name]);
          break;
        case 'index':
          if (Array.isArray(v)) {
            const i = step.index < 0 ? v.length + step.index : step.index;
            if (i >= 0 && i < v.length) next.push(v[i]);
          }
          break;
        case 'all':
          next.push(...(Array.isArray(v) ? v : Object.values(v)));
          break;
        case 'filter':
          for (const item of Array.isArray(v) ? v : Object.values(v)) {
            const found = evaluate(step.path, item);
            if (step.op === 'exists' ? found.length > 0 : found.length > 0 && (found[0] === step.value) === (step.op === '==')) next.push(item);
          }
          break;
      }
    }
    cur = next;
  }
  return cur;
}

export function jsonPathValues(expr: string, obj: unknown): unknown[] {
  return evaluate(parseJsonPath(expr), obj);
}
