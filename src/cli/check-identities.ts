// `ordinal check-identities`: watches a cluster and proves (or refutes) that no pod identity ever ran
// twice at once, from every node's own listing of what its runtime runs. Exit status 0 when no
// overlap was found other than those following an operator's force deletion (reported apart, as
// upstream documents that risk), 1 otherwise, 2 on bad usage.
import { parseArgs } from 'node:util';
import { parseGoDuration } from '../util/duration.ts';
import { startIdentityChecker, formatVerdict } from '../tools/identity-checker/sampler.ts';
import { onTermination } from './termination.ts';

const USAGE = `Usage: ordinal check-identities --kubeconfig FILE [--interval 200ms] [--duration 10m]

Samples every node's /pods through the API server's node proxy (what each runtime really runs) and
watches the API's pods and their deletions, then reports every two lifetimes of one pod identity
(namespace/name, and its StatefulSet claims) that overlapped: on two runtimes, or twice on one.
Overlaps that follow a force deletion (kubectl delete --force --grace-period=0, pod GC of an
out-of-service or deleted node) are reported apart as upstream's documented risk.
Runs until --duration has passed or it is interrupted (Ctrl-C), then prints its verdict.

Options:
  --kubeconfig FILE   the cluster to check (default $KUBECONFIG); needs get on nodes/proxy and pods
  --interval DURATION time between two listings of one node (default 200ms)
  --timeout DURATION  how long a listing may take before the node counts as unreachable (default 2s)
  --duration DURATION stop after this long (default: until interrupted)
  --quiet             print only the verdict, not what happens along the way
  -h, --help          show this help
`;

export async function checkIdentitiesCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        interval: { type: 'string' },
        timeout: { type: 'string' },
        duration: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`ordinal check-identities: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) {
    process.stderr.write('ordinal check-identities: --kubeconfig is required (or set KUBECONFIG)\n');
    return 2;
  }
  const duration = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const ms = parseGoDuration(v);
    if (!(ms > 0)) throw new Error(`invalid --${flag} ${v}: must be positive`);
    return ms;
  };
  let intervalMs, timeoutMs, durationMs;
  try {
    intervalMs = duration('interval', values.interval);
    timeoutMs = duration('timeout', values.timeout);
    durationMs = duration('duration', values.duration);
  } catch (err) {
    process.stderr.write(`ordinal check-identities: ${(err as Error).message}\n`);
    return 2;
  }
  const stamp = () => new Date().toISOString().slice(11, 23);
  const checker = await startIdentityChecker({ kubeconfig, intervalMs, timeoutMs, onNote: values.quiet ? undefined : (line) => process.stdout.write(`${stamp()} ${line}\n`) });
  if (!values.quiet) process.stdout.write(`${stamp()} checking pod identities (Ctrl-C to stop and print the verdict)\n`);
  const finish = async () => {
    const verdict = await checker.stop();
    process.stdout.write(`${formatVerdict(verdict)}\n`);
    return verdict.ok ? 0 : 1;
  };
  // Interrupted: the verdict so far, and the exit status that says it (before onTermination's own exit).
  onTermination(async () => process.exit(await finish()));
  if (durationMs === undefined) return new Promise<number>(() => {});
  await new Promise((r) => setTimeout(r, durationMs));
  return finish();
}
