// Cron schedules as the CronJob controller reads them (robfig/cron's ParseStandard): five fields
// (minute hour day-of-month month day-of-week) with lists, ranges, steps and names, or a
// descriptor (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <dur>).
// Errors carry robfig's texts, which upstream's validation returns as they are. Times are read in
// an IANA zone through Intl, so no time zone database ships with Ordinal.

export interface Schedule {
  /** The first activation strictly after `t` (ms since epoch), or undefined if none within five years. */
  next(t: number): number | undefined;
}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DOWS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const FIELDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DOWS },
];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export class CronError extends Error {}

/** A field as a set of allowed values, and whether it was written as `*` or `?` (robfig's star bit). */
interface Field {
  values: Set<number>;
  star: boolean;
}

function parseInt10(s: string): number {
  if (!/^-?\d+$/.test(s)) throw new CronError(`failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  return parseInt(s, 10);
}

function parseValue(s: string, b: Bounds): number {
  const named = b.names?.[s.toLowerCase()];
  if (named !== undefined) return named;
  const n = parseInt10(s);
  if (n < 0) throw new CronError(`negative number (${n}) not allowed: ${s}`);
  return n;
}

function parseRange(expr: string, b: Bounds, out: Field): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    start = parseValue(lowAndHigh[0], b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseValue(lowAndHigh[1], b);
    else throw new CronError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseInt10(rangeAndStep[1]);
    if (step < 0) throw new CronError(`negative number (${step}) not allowed: ${rangeAndStep[1]}`);
    // "N/step" means N through the field's maximum.
    if (single) end = b.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new CronError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) out.values.add(v);
  if (star) out.star = true;
}

function parseField(text: string, b: Bounds): Field {
  const f: Field = { values: new Set(), star: false };
  for (const part of text.split(',')) parseRange(part, b, f);
  return f;
}

/** Go's time.ParseDuration for the units a schedule uses. */
export function parseGoDuration(s: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (!s || s === '0') {
    if (s === '0') return 0;
    throw new CronError(`time: invalid duration ${JSON.stringify(s)}`);
  }
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while (pos < s.length && (m = re.exec(s))) {
    total += parseFloat(m[1]) * unit[m[2]];
    pos = re.lastIndex;
  }
  if (pos !== s.length) throw new CronError(`time: invalid duration ${JSON.stringify(s)}`);
  return total;
}

/** Parses a schedule, read in `timeZone` (an IANA name; UTC when absent). Throws CronError with robfig's message. */
export function parseSchedule(spec: string, timeZone?: string): Schedule {
  let s = spec.trim();
  if (!s) throw new CronError('empty spec string');
  let tz = timeZone ?? 'UTC';
  const tzPrefix = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(s);
  if (tzPrefix) {
    tz = tzPrefix[1];
    if (!isTimeZone(tz)) throw new CronError(`provided bad location ${tz}: unknown time zone ${tz}`);
    s = s.slice(tzPrefix[0].length).trim();
  }
  if (s.startsWith('@')) {
    if (s.startsWith('@every ')) {
      const ms = parseGoDuration(s.slice(7).trim());
      // robfig rounds delays below a second up to a second, and drops sub-second parts.
      const delay = ms < 1000 ? 1000 : Math.floor(ms / 1000) * 1000;
      return { next: (t) => Math.floor(t / 1000) * 1000 + delay };
    }
    const expanded = DESCRIPTORS[s];
    if (!expanded) throw new CronError(`unrecognized descriptor: ${s}`);
    s = expanded;
  }
  const parts = s.split(/\s+/);
  if (parts.length !== 5) throw new CronError(`expected exactly 5 fields, found ${parts.length}: [${parts.join(' ')}]`);
  const fields = parts.map((p, i) => parseField(p, FIELDS[i]));
  return new FieldSchedule(fields, tz);
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at instant t, in ms. */
export function zoneOffset(t: number, tz: string): number {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(t / 1000) * 1000;
}

class FieldSchedule implements Schedule {
  private readonly f: Field[];
  private readonly tz: string;
  constructor(fields: Field[], tz: string) {
    this.f = fields;
    this.tz = tz;
  }

  private dayMatches(d: Date): boolean {
    const dom = this.f[2].values.has(d.getUTCDate());
    const dow = this.f[4].values.has(d.getUTCDay());
    // As cron: when both day fields are restricted, either may match.
    if (this.f[2].star || this.f[4].star) return dom && dow;
    return dom || dow;
  }

  next(t: number): number | undefined {
    // Wall-clock times are handled as if they were UTC ("naive"), then mapped back to instants.
    let wall = Math.floor((t + zoneOffset(t, this.tz)) / 60_000) * 60_000 + 60_000;
    const limit = wall + 5 * 366 * 86_400_000;
    while (wall < limit) {
      const d = new Date(wall);
      if (!this.f[3].values.has(d.getUTCMonth() + 1)) {
        wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
        continue;
      }
      if (!this.dayMatches(d)) {
        wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
        continue;
      }
      if (!this.f[1].values.has(d.getUTCHours())) {
        wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
        continue;
      }
      if (!this.f[0].values.has(d.getUTCMinutes())) {
        wall += 60_000;
        continue;
      }
      const instant = this.toInstant(wall);
      if (instant !== undefined && instant > t) return instant;
      wall += 60_000;
    }
    return undefined;
  }

  /** The instant showing `wall` in the zone; undefined for a wall time skipped by a DST change. */
  private toInstant(wall: number): number | undefined {
    const guess = wall - zoneOffset(wall, this.tz);
    const exact = wall - zoneOffset(guess, this.tz);
    // Of two instants showing the same wall time (clocks turned back), the earlier one.
    const earlier = exact - 3_600_000;
    if (earlier + zoneOffset(earlier, this.tz) === wall) return earlier;
    return exact + zoneOffset(exact, this.tz) === wall ? exact : undefined;
  }
}
