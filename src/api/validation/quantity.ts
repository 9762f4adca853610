// resource.Quantity parsing to an exact rational, enough to compare and sum quantities
// (requests vs limits, QoS class, storage sizes).

export interface Quantity {
  /** value = num / den exactly */
  num: bigint;
  den: bigint;
}

export const quantityRegexpText = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
export const quantityFormatError = `quantities must match the regular expression '${quantityRegexpText}'`;

const binary: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimal: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/**
 * Answers by text: a cluster uses a handful of quantities ("1Gi", "100m"), parsed at every write
 * that validates, schedules or binds them; parsing allocated regex matches and bigints each time
 * (about 6 KB per pod in a 10,000-pod scale-up). Answers are frozen, shared by every caller.
 * Cleared when full, so odd input (a fuzzer's) cannot grow it.
 */
const parsed = new Map<string, Quantity | undefined>();
const PARSED_MAX = 1024;

/** Parses a quantity string (or a JSON number); undefined when malformed. The answer is frozen. */
export function parseQuantity(input: unknown): Quantity | undefined {
  if (typeof input === 'number') input = String(input);
  if (typeof input !== 'string') return undefined;
  let q = parsed.get(input);
  if (q === undefined && !parsed.has(input)) {
    q = parseText(input);
    if (q) Object.freeze(q);
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(input, q);
  }
  return q;
}

function parseText(input: string): Quantity | undefined {
  const m = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(.*)$/.exec(input.trim() === input ? input : '');
  if (!m) return undefined;
  const [, sign, numText, suffix] = m;
  const [intPart, fracPart = ''] = numText.split('.');
  let num = BigInt((intPart || '0') + fracPart);
  let den = 10n ** BigInt(fracPart.length);
  if (suffix in binary) {
    num *= 2n ** BigInt(binary[suffix]);
  } else if (suffix in decimal) {
    const e = decimal[suffix];
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  } else {
    const em = /^[eE]([+-]?[0-9]+)$/.exec(suffix);
    if (!em) return undefined;
    const e = Number(em[1]);
    if (Math.abs(e) > 1000) return undefined;
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  }
  if (sign === '-') num = -num;
  return { num, den };
}

export function compareQuantity(a: Quantity, b: Quantity): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function addQuantity(a: Quantity, b: Quantity): Quantity {
  return { num: a.num * b.den + b.num * a.den, den: a.den * b.den };
}

export const zeroQuantity: Quantity = Object.freeze({ num: 0n, den: 1n });

export function isNegative(q: Quantity): boolean {
  return q.num < 0n;
}

/** Text for a quantity as the user wrote it (upstream prints the canonical form; JSON input is usually canonical already). */
export function quantityText(v: unknown): string {
  return typeof v === 'number' ? String(v) : String(v ?? '');
}
