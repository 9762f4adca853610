// The CRI container log format, as containerd writes it and the kubelet reads it back for
// `kubectl logs`: one record per line, `<RFC 3339 timestamp> <stdout|stderr> <tags> <content>`,
// where the first tag is P for a fragment of a longer line (the runtime splits lines it cannot
// buffer whole) and F for the fragment that ends a line. Pure helpers: parsing a record, the
// timestamp format kubectl shows with --timestamps, and finding where the last N lines start.
import type { FileHandle } from 'node:fs/promises';

export interface CriLogRecord {
  /** Milliseconds since the epoch, with the sub-millisecond part as a fraction (for --since). */
  timeMs: number;
  /** The timestamp as --timestamps prints it: nanoseconds always written out, as upstream's RFC3339NanoFixed. */
  timestamp: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  /** What the container wrote: ends with the newline for a full line, none for a fragment. */
  content: Buffer;
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const SPACE = 0x20;
const NEWLINE = 0x0a;

/** Parses an RFC 3339 timestamp with up to nanosecond precision (trailing zeros may be trimmed, as Go writes them). */
export function parseLogTimestamp(text: string): { timeMs: number; timestamp: string } | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, base, frac = '', zone] = m;
  const whole = Date.parse(base + zone);
  if (Number.isNaN(whole)) return undefined;
  // Go prints a zero offset as Z whichever way it was written.
  const outZone = zone === '+00:00' || zone === '-00:00' ? 'Z' : zone;
  return { timeMs: whole + (frac ? Number(`0.${frac}`) * 1000 : 0), timestamp: `${base}.${frac.padEnd(9, '0')}${outZone}` };
}

/**
 * One line of a CRI log file (with or without its newline); undefined when it is not in the
 * format (the kubelet skips such lines). A fragment's newline is not part of its content.
 */
export function parseCriLogLine(line: Buffer): CriLogRecord | undefined {
  const a = line.indexOf(SPACE);
  if (a < 0) return undefined;
  const time = parseLogTimestamp(line.toString('latin1', 0, a));
  if (!time) return undefined;
  const b = line.indexOf(SPACE, a + 1);
  if (b < 0) return undefined;
  const stream = line.toString('latin1', a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const c = line.indexOf(SPACE, b + 1);
  if (c < 0) return undefined;
  // Tags are colon-separated; only the first (P or F) means anything today.
  const partial = line.toString('latin1', b + 1, c).split(':')[0] === 'P';
  let end = line.length;
  if (partial && end > c + 1 && line[end - 1] === NEWLINE) end--;
  return { ...time, stream, partial, content: line.subarray(c + 1, end) };
}

/** The bytes a record adds to the output: its content, after its timestamp when asked for. */
export function renderRecord(rec: CriLogRecord, timestamps: boolean): Buffer {
  return timestamps ? Buffer.concat([Buffer.from(`${rec.timestamp} `, 'latin1'), rec.content]) : rec.content;
}

/** Block size for reading a file backwards: large enough that a tail of a few lines is one read. */
const TAIL_BLOCK = 64 * 1024;

/**
 * Where the last `n` lines of a file of `size` bytes start, read backwards in blocks so a large
 * file is not read whole. As upstream's tail: a last line without its newline is not counted,
 * and n < 0 means the whole file.
 */
export async function findTailStart(fh: Pick<FileHandle, 'read'>, size: number, n: number): Promise<number> {
  if (n < 0) return 0;
  let count = 0;
  let right = size;
  while (right > 0) {
    const left = Math.max(0, right - TAIL_BLOCK);
    const buf = Buffer.alloc(right - left);
    const { bytesRead } = await fh.read(buf, 0, buf.length, left);
    // Scan this block from its end: the (n+1)th newline from the end closes the line before the tail.
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buf[i] !== NEWLINE) continue;
      count++;
      if (count > n) return left + i + 1;
    }
    right = left;
  }
  return 0;
}
