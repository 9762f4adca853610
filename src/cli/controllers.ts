// `ordinal controllers`: the controllers and the scheduler in a process of their own, against any
// API server(s) over HTTPS, as kube-controller-manager and kube-scheduler run beside kube-apiserver.
// Several copies may run against the same cluster: with --leader-elect (the default, as upstream)
// only the holder of each Lease works. A copy that can no longer renew its lease stops (and fences)
// that term's controllers and campaigns again, rather than exiting as kube-controller-manager does:
// Ordinal runs without a supervisor to start a fresh process.
import { parseFlags } from './parse-flags.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HttpClient, type Credentials } from '../client/http-client.ts';
import { adminFromKubeconfig } from './token.ts';
import { caCertPath } from '../apiserver/pki.ts';
import { CONTROLLER_NAMES, controllerComponents, enabledControllers, type ClusterOptions, type Component } from './components.ts';
import { LEADER_ELECT_FLAGS, LEADER_ELECT_USAGE, parseLeaderElectFlags, takeLeaderElectFlag } from './leader-elect-flags.ts';
import { NODE_LIFECYCLE_FLAGS, NODE_LIFECYCLE_USAGE, parseNodeLifecycleFlags } from './node-lifecycle-flags.ts';
import { clusterCidrFlag } from './network-flags.ts';
import { parseGoDuration } from '../util/duration.ts';
import { onTermination } from './termination.ts';
import { log } from '../util/log.ts';

const USAGE = `Usage: ordinal controllers (--kubeconfig FILE | --server URL[,URL...] --data-dir DIR) [options]

Runs the controllers and the scheduler in this process, against the API server(s) named, as
kube-controller-manager and kube-scheduler do. Run several copies for high availability: each is
leader-elected over the kube-system Leases kube-controller-manager and kube-scheduler. A copy
that cannot renew its lease in time stops that term's controllers and campaigns again.

Options:
  --kubeconfig FILE  the API server and the credentials to use
  --server URL[,URL...]
                     the API server(s) (https://HOST:PORT); a request that cannot reach one tries
                     the next. Overrides the kubeconfig's server
  --data-dir DIR     a copy of the server's data dir (its pki/): the cluster CA for the csrsigning
                     and root-ca-cert-publisher controllers and, without --kubeconfig, the
                     credentials (pki/admin.crt); the volume provisioner keeps its directories here.
                     Without it those three controllers do not run
  --controllers LIST controllers to run, as kube-controller-manager's flag: '*' for all (default),
                     a name to enable one, '-name' to disable one. Known: ${CONTROLLER_NAMES.join(', ')}
  --cluster-cidr CIDR
                     the pods' address range, one /24 per node (default 10.244.0.0/16)
  --cluster-signing-duration DURATION
                     the longest certificate the csrsigning controller issues (default 8760h)
${LEADER_ELECT_USAGE(true)}${NODE_LIFECYCLE_USAGE}  -h, --help         show this help
`;

/** Controllers that read the cluster CA or keep files: they need --data-dir. */
const NEED_DATA_DIR = ['volume', 'csrsigning', 'root-ca-cert-publisher'];

export async function runControllers(argv: string[]): Promise<void> {
  let leaderElect: boolean | undefined;
  let rest: string[];
  try {
    ({ rest, value: leaderElect } = takeLeaderElectFlag(argv));
  } catch (err) {
    fail((err as Error).message);
  }
  const { values } = parseFlags({
    args: rest,
    allowPositionals: false,
    options: {
      kubeconfig: { type: 'string' },
      server: { type: 'string' },
      'data-dir': { type: 'string' },
      controllers: { type: 'string' },
      'cluster-cidr': { type: 'string' },
      'cluster-signing-duration': { type: 'string' },
      ...LEADER_ELECT_FLAGS,
      ...NODE_LIFECYCLE_FLAGS,
      help: { type: 'boolean', short: 'h' },
    },
  }, fail);
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const dataDir = values['data-dir'] !== undefined ? resolve(values['data-dir']) : undefined;
  if (dataDir && !existsSync(caCertPath(dataDir))) fail(`--data-dir ${dataDir} has no pki/ca.crt: copy the API server's data dir (or its pki/)`);

  // Where and who: the kubeconfig's server and user, or the data dir's admin credentials.
  let servers: string[];
  let caCertPem: string;
  let credentials: Credentials;
  if (values.kubeconfig) {
    let admin: ReturnType<typeof adminFromKubeconfig>;
    try {
      admin = adminFromKubeconfig(readFileSync(values.kubeconfig, 'utf8'));
    } catch (err) {
      fail(`cannot read --kubeconfig ${values.kubeconfig}: ${(err as Error).message}`);
    }
    servers = [admin.server];
    caCertPem = admin.ca;
    if (admin.cert && admin.key) credentials = { certPem: admin.cert, keyPem: admin.key };
    else if (admin.token) credentials = { token: admin.token };
    else fail(`--kubeconfig ${values.kubeconfig} has no client certificate or token`);
  } else if (dataDir) {
    const pki = join(dataDir, 'pki');
    if (!values.server) fail('--server is required without --kubeconfig');
    caCertPem = readFileSync(caCertPath(dataDir), 'utf8');
    try {
      credentials = { certPem: readFileSync(join(pki, 'admin.crt'), 'utf8'), keyPem: readFileSync(join(pki, 'admin.key'), 'utf8') };
    } catch {
      fail(`no credentials: ${pki} has no admin.crt and admin.key; use --kubeconfig`);
    }
    servers = [];
  } else fail('--kubeconfig or --server with --data-dir is required (see ordinal controllers --help)');
  if (values.server) servers = values.server.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of servers) if (!/^https:\/\/[^/]+\/?$/.test(s)) fail(`invalid --server ${s}: https://HOST:PORT`);

  let names: string[];
  try {
    names = enabledControllers((values.controllers ?? '*').split(',').map((x) => x.trim()).filter(Boolean));
  } catch (err) {
    fail(`invalid --controllers: ${(err as Error).message}`);
  }
  if (!dataDir) {
    // As kube-controller-manager skips csrsigning without --cluster-signing-*-file and the root CA
    // publisher without --root-ca-file.
    const skipped = names.filter((n) => NEED_DATA_DIR.includes(n));
    if (skipped.length) log('warn', 'controllers', 'no --data-dir: not running the controllers that need the cluster CA or local files', { skipped });
    names = names.filter((n) => !NEED_DATA_DIR.includes(n));
  }
  let opts: ClusterOptions;
  try {
    const nodeFlags = parseNodeLifecycleFlags(values);
    let clusterSigningDurationMs: number | undefined;
    if (values['cluster-signing-duration'] !== undefined) {
      clusterSigningDurationMs = parseGoDuration(values['cluster-signing-duration']);
      if (!(clusterSigningDurationMs > 0)) throw new Error(`invalid --cluster-signing-duration ${values['cluster-signing-duration']}: must be longer than 0`);
    }
    const le = parseLeaderElectFlags(values, leaderElect ?? true);
    opts = {
      // Only the controllers that need files read it; they do not run without one.
      dataDir: dataDir ?? '',
      nodes: 0,
      simStartDelayMs: 0,
      controllers: names,
      clusterCIDR: clusterCidrFlag(values['cluster-cidr']),
      clusterSigningDurationMs,
      nodeLifecycle: nodeFlags.nodeLifecycle,
      terminatedPodGcThreshold: nodeFlags.terminatedPodGcThreshold,
      leaderElection: { ...le, onLost: 'campaign' },
    };
  } catch (err) {
    fail((err as Error).message);
  }

  const client = new HttpClient({ servers, caCertPem, credentials, userAgent: 'ordinal-controllers' });
  const components: Component[] = controllerComponents(client, names, opts);
  await Promise.all(components.map((c) => c.start()));
  const le = opts.leaderElection!;
  log('info', 'controllers', 'started', { servers, controllers: names, leaderElect: le.enabled, identity: le.enabled ? le.identity : undefined });
  process.stdout.write(`Ordinal controllers started against ${servers.join(',')}${le.enabled ? ` (leader election as ${le.identity})` : ''}\n`);
  onTermination(async (signal) => {
    log('info', 'controllers', 'shutting down', { signal });
    for (const c of components) c.stop();
    // A releasing elector writes its lease before the process goes.
    await new Promise((r) => setTimeout(r, 200));
    client.close();
  });
}

function fail(msg: string): never {
  process.stderr.write(`ordinal controllers: ${msg}\n`);
  process.exit(2);
}
