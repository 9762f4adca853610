// Canonical form of a resource quantity, as upstream's resource.Quantity.String() prints it.
// Capacity columns show quantities the way a real server would after its decode/encode round
// trip, e.g. '1024Mi' shows as '1Gi' and '1500m' as '1500m'.

const binarySuffixes: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const decimalByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binaryByPower = new Map(Object.entries(binarySuffixes).map(([s, p]) => [p, s]));

const pattern = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$/;

/** Returns `s` unchanged when it does not parse as a quantity. */
export function canonicalQuantity(s: string): string {
  const m = pattern.exec(s.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return s;
  const negative = m[1] === '-';
  const whole = m[2] ?? '';
  const frac = m[3] ?? '';
  const suffix = m[4] ?? '';
  let mantissa = BigInt((whole + frac) || '0');
  let exponent = -frac.length;
  let format: 'binary' | 'decimal' | 'exponent' = 'decimal';
  if (suffix in binarySuffixes) {
    format = 'binary';
    mantissa *= 1024n ** BigInt(binarySuffixes[suffix]);
  } else if (/^[eE]/.test(suffix)) {
    format = 'exponent';
    exponent += Number(suffix.slice(1));
  } else {
    exponent += decimalSuffixes[suffix];
  }
  if (mantissa === 0n) return '0';
  // Upstream keeps nano precision at most, rounding up what lies below it.
  if (exponent < -9) {
    const div = 10n ** BigInt(-9 - exponent);
    mantissa = (mantissa + div - 1n) / div;
    exponent = -9;
  }
  const sign = negative ? '-' : '';

  if (format === 'binary') {
    const asInteger = exponent >= 0 ? mantissa * 10n ** BigInt(exponent) : mantissa % 10n ** BigInt(-exponent) === 0n ? mantissa / 10n ** BigInt(-exponent) : undefined;
    // Small or fractional binary amounts are shown in decimal notation to avoid rounding.
    if (asInteger !== undefined && asInteger >= 1024n) {
      let n = asInteger;
      let power = 0;
      while (power < 6 && n % 1024n === 0n) {
        n /= 1024n;
        power++;
      }
      return sign + n.toString() + (binaryByPower.get(power) ?? '');
    }
    format = 'decimal';
  }

  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  const rem = ((exponent % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(rem);
  exponent -= rem;
  let unit: string;
  if (format === 'exponent') unit = exponent === 0 ? '' : `e${exponent}`;
  else unit = decimalByExponent.get(exponent) ?? `e${exponent}`;
  return sign + mantissa.toString() + unit;
}
