// Structured logs: one JSON object per line on stderr.
export type Level = 'debug' | 'info' | 'warn' | 'error';

let minLevel: Level = (process.env.ORDINAL_LOG_LEVEL as Level) ?? 'info';
const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function setLogLevel(l: Level): void {
  minLevel = l;
}

/** Whether a line at this level would be written: for callers whose fields cost something to build. */
export function logEnabled(level: Level): boolean {
  return order[level] >= order[minLevel];
}

export function log(level: Level, component: string, msg: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < order[minLevel]) return;
  process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...fields }) + '\n');
}
