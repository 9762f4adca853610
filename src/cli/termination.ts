// How an `ordinal` process learns that it should stop: SIGTERM or SIGINT, or its parent going away.
//
// The last case is `npx ordinal ...` stopped by a supervisor or a script: npm runs the command
// through `sh -c`, and a SIGTERM to npm ends npm and the shell but is not passed on, so `ordinal`
// would live on, orphaned, holding its ports. An orphan is re-parented (to init or a subreaper), so a
// parent id that changes means whoever started us is gone: stop as for SIGTERM.
const PARENT_CHECK_MS = 500;

export function onTermination(stop: (reason: string) => Promise<void> | void): void {
  let stopping = false;
  const run = (reason: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(parentCheck);
    Promise.resolve()
      .then(() => stop(reason))
      .catch((err) => process.stderr.write(`ordinal: error while stopping: ${(err as Error)?.stack ?? err}\n`))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', () => run('SIGINT'));
  process.on('SIGTERM', () => run('SIGTERM'));
  const parent = process.ppid;
  const parentCheck = setInterval(() => {
    if (process.ppid !== parent) run('parent exited');
  }, PARENT_CHECK_MS);
  parentCheck.unref();
}
