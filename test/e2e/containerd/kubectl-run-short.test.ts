// `kubectl run -i --rm --restart=Never t --image=... -- <short command>` on real containers: the
// command is often over before kubectl attaches, yet its output must reach the user exactly once,
// as upstream's kubectl 1.32 shows it: it waits for the pod to be Running and Ready (or
// completed), prints the logs of a completed pod, and otherwise attaches; an attach the node
// refuses (the container already exited) makes it warn and print the logs instead. With --rm the
// pod goes once the command has finished; a non-zero exit becomes kubectl's own exit code, with
// "pod <ns>/<name> terminated (Error)" on stderr.
// Each case runs several times: whether kubectl sees the pod Running or already completed depends
// on timing. Root only; skips with the reason elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { kubectl, kubectlOk, waitUntil, type Cluster } from '../../integration/harness.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';

const skip = realClusterUnavailable();
const ROUNDS = Number(process.env.RUN_ROUNDS ?? 4);

interface Outcome {
  code: number | null;
  /** stdout (with -t: everything the terminal showed). */
  out: string;
  err: string;
}

/** kubectl under a terminal of its own (`script`), as a user types it; stdout and stderr merge there. */
function underTerminal(cluster: Cluster, args: string[]): Promise<Outcome> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', `kubectl ${quoted}`, '/dev/null'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out, err: '' });
    }),
  );
}

async function run(cluster: Cluster, name: string, command: string[], tty: boolean): Promise<Outcome> {
  const args = ['run', tty ? '-it' : '-i', '--rm', '--restart=Never', name, '--image=busybox:1.28', '--', ...command];
  if (tty) return underTerminal(cluster, args);
  const r = await kubectl(cluster, args, { timeoutMs: 60_000 });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('kubectl run -i --rm with a short command prints its output, its exit code, and removes the pod', { skip: skip ? `real containers: ${skip}` : false, timeout: 600_000 }, async () => {
  let real: RealCluster | undefined;
  try {
    real = await startRealCluster();
    const { cluster } = real;
    const kubernetesIP = (await kubectlOk(cluster, ['get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    let n = 0;
    const cases: { what: string; command: string[]; tty: boolean; lines?: string[]; pattern?: RegExp; code: number }[] = [
      { what: 'one line', command: ['echo', 'hello from t'], tty: false, lines: ['hello from t'], code: 0 },
      { what: 'several lines', command: ['sh', '-c', 'echo first; echo second; echo third'], tty: false, lines: ['first', 'second', 'third'], code: 0 },
      { what: 'a failing command', command: ['sh', '-c', 'echo about to fail; exit 3'], tty: false, lines: ['about to fail'], code: 3 },
      { what: 'a command that sleeps first', command: ['sh', '-c', 'sleep 1; echo after a second'], tty: false, lines: ['after a second'], code: 0 },
      { what: 'one line, -t', command: ['echo', 'hello on a terminal'], tty: true, lines: ['hello on a terminal'], code: 0 },
      { what: 'several lines, -t', command: ['sh', '-c', 'echo first; echo second'], tty: true, lines: ['first', 'second'], code: 0 },
      { what: 'a failing command, -t', command: ['sh', '-c', 'echo about to fail; exit 4'], tty: true, lines: ['about to fail'], code: 4 },
      { what: 'a command that sleeps first, -t', command: ['sh', '-c', 'sleep 1; echo after a second'], tty: true, lines: ['after a second'], code: 0 },
      { what: 'nslookup', command: ['nslookup', 'kubernetes.default.svc.cluster.local'], tty: false, pattern: new RegExp(`Name:\\s+kubernetes\\.default\\.svc\\.cluster\\.local\\nAddress:?\\s+(1: )?${escape(kubernetesIP)}\\b`, 'g'), code: 0 },
    ];
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        const name = `t${++n}`;
        const r = await run(cluster, name, c.command, c.tty);
        const shown = `${c.what} (round ${round}, pod ${name}): exit ${r.code}\n--- stdout\n${r.out}--- stderr\n${r.err}`;
        const problems: string[] = [];
        // On a terminal, lines end in \r\n.
        const text = r.out.replace(/\r\n/g, '\n');
        const expected = c.pattern ?? new RegExp(`(^|\\n)${escape(c.lines!.join('\n'))}\\n`, 'g');
        if ((text.match(expected) ?? []).length !== 1) problems.push(`the output ${expected} should be shown exactly once`);
        if (r.code !== c.code) problems.push(`exit code ${r.code}, expected ${c.code}`);
        if (!text.includes(`pod "${name}" deleted\n`)) problems.push('no "pod deleted"');
        const stderr = c.tty ? text : r.err;
        if (c.code !== 0 && !stderr.includes(`pod default/${name} terminated (Error)`)) problems.push('no "terminated (Error)"');
        if (c.code === 0 && /terminated \(|^error:/m.test(stderr)) problems.push('an error was reported');
        if (problems.length) failures.push(`${problems.join('; ')}: ${shown}`);
      }
    }
    // Every pod went: kubectl deletes it without waiting, the agent finishes the job.
    await waitUntil(async () => (await kubectlOk(cluster, ['get', 'pods', '-o', 'name'])).trim() === '', 60_000, () => 'the pods to be gone');
    assert.deepEqual(failures, [], `${failures.length} of ${ROUNDS * cases.length} runs went wrong:\n${failures.join('\n')}`);
  } catch (err) {
    real?.dumpLogs();
    throw err;
  } finally {
    await real?.stop();
  }
});
