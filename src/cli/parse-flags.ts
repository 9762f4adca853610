// Command-line flags read with node:util's parseArgs, where a flag it cannot read (unknown, or a
// value missing or starting with a dash) is reported as the command's other flag errors are: one
// line and exit code 2, rather than the TypeError's stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export function parseFlags<T extends ParseArgsConfig>(config: T, fail: (msg: string) => never): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    return fail((err as Error).message);
  }
}
