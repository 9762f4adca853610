// Command-line flags read with node:util's parseArgs, where a flag it cannot read (unknown, or a
// value missing or starting with a dash) is reported as the command's other flag errors are: one
// line and exit code 2, rather than the TypeError's stack trace; and the checks of values that
// several commands share.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export function parseFlags<T extends ParseArgsConfig>(config: T, fail: (msg: string) => never): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    return fail((err as Error).message);
  }
}

/** A flag's milliseconds (0 or more; `fallback` when the flag is absent), or undefined when its value is not that. */
export function millisecondsFlag(text: string | undefined, fallback: number): number | undefined {
  const ms = Number(text ?? fallback);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
