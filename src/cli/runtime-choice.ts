// Which runtime `ordinal up` (and `ordinal agent`) runs pods on, and why (pure; the caller logs the why,
// so a user always learns whether containers are real and how to get real ones).
export type RuntimeChoice =
  | { runtime: 'sim'; why: string }
  /** socket undefined: Ordinal starts its own containerd. */
  | { runtime: 'containerd'; socket?: string; why: string }
  | { error: string };

export const REAL_CONTAINERS_HINT = 'for real containers run as root after `apt-get install containerd runc containernetworking-plugins`';

/**
 * flag: --runtime; socket: --containerd-socket (as given); socketExists: whether it exists;
 * ownUnavailable: why an own containerd cannot run here (undefined when it can).
 */
export function chooseRuntime(o: { flag?: string; socket?: string; socketExists: boolean; ownUnavailable?: string }): RuntimeChoice {
  if (o.flag !== undefined && o.flag !== 'sim' && o.flag !== 'containerd') return { error: `unknown --runtime ${o.flag}: the runtimes are containerd and sim` };
  if (o.flag === 'sim') return { runtime: 'sim', why: 'chosen with --runtime sim (no containers; lifecycles are simulated)' };
  if (o.socket !== undefined) {
    if (!o.socketExists) return { error: `--containerd-socket ${o.socket} does not exist; start that containerd, or leave the flag out and Ordinal starts its own` };
    return { runtime: 'containerd', socket: o.socket, why: `the containerd at --containerd-socket ${o.socket}` };
  }
  if (!o.ownUnavailable) return { runtime: 'containerd', why: `${o.flag === 'containerd' ? 'chosen with --runtime containerd' : 'containerd is installed'}: Ordinal runs its own containerd (use --runtime sim for simulated pods)` };
  if (o.flag === 'containerd') return { error: `--runtime containerd: ${o.ownUnavailable}; or pass --containerd-socket PATH of a running containerd` };
  return { runtime: 'sim', why: `pods are simulated (no containers) because ${o.ownUnavailable}; ${REAL_CONTAINERS_HINT}` };
}
