// The etcd flags of `ordinal up` and `ordinal server`, under kube-apiserver's names and defaults.
import { parseGoDuration } from '../util/duration.ts';
import { DEFAULT_COMPACTION_INTERVAL_MS } from '../storage/etcd/defaults.ts';

export const ETCD_FLAGS = {
  'etcd-servers': { type: 'string' },
  'etcd-cafile': { type: 'string' },
  'etcd-certfile': { type: 'string' },
  'etcd-keyfile': { type: 'string' },
  'etcd-prefix': { type: 'string' },
  'etcd-compaction-interval': { type: 'string' },
} as const;

export const ETCD_USAGE = `  --etcd-servers URLS
                   etcd members to use with --store etcd (comma-separated, e.g. http://127.0.0.1:2379)
  --etcd-cafile FILE, --etcd-certfile FILE, --etcd-keyfile FILE
                   TLS to etcd: the CA that signed its certificates, and this client's certificate and key
  --etcd-prefix PREFIX
                   where the cluster's keys live in etcd (default /registry)
  --etcd-compaction-interval DURATION
                   how often etcd's history is compacted, as kube-apiserver's flag (default 5m; 0 never)
`;

export interface EtcdFlags {
  servers: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  prefix: string;
  compactionIntervalMs: number;
}

type Values = { [K in keyof typeof ETCD_FLAGS]?: string };

/** Throws with a message naming the flag; undefined when the store is not etcd and no etcd flag is given. */
export function parseEtcdFlags(store: string, values: Values): EtcdFlags | undefined {
  if (store !== 'etcd') {
    const given = Object.keys(ETCD_FLAGS).filter((f) => values[f as keyof Values] !== undefined);
    if (given.length) throw new Error(`--${given[0]} needs --store etcd`);
    return undefined;
  }
  const servers = (values['etcd-servers'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!servers.length) throw new Error('--store etcd needs --etcd-servers (e.g. http://127.0.0.1:2379)');
  for (const s of servers) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new Error(`invalid --etcd-servers entry "${s}": a URL such as http://127.0.0.1:2379`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`invalid --etcd-servers entry "${s}": the scheme must be http or https`);
    if (u.protocol === 'https:' && !values['etcd-cafile']) throw new Error(`--etcd-servers ${s} is https: give --etcd-cafile (and --etcd-certfile, --etcd-keyfile for client certificates)`);
  }
  if ((values['etcd-certfile'] === undefined) !== (values['etcd-keyfile'] === undefined)) throw new Error('--etcd-certfile and --etcd-keyfile go together');
  const prefix = values['etcd-prefix'] ?? '/registry';
  if (!prefix.startsWith('/') || prefix.length < 2) throw new Error(`invalid --etcd-prefix ${prefix}: a path such as /registry`);
  let compactionIntervalMs = DEFAULT_COMPACTION_INTERVAL_MS;
  if (values['etcd-compaction-interval'] !== undefined) {
    compactionIntervalMs = parseGoDuration(values['etcd-compaction-interval']);
    if (compactionIntervalMs < 0) throw new Error(`invalid --etcd-compaction-interval ${values['etcd-compaction-interval']}: 0 or more`);
  }
  return { servers, caFile: values['etcd-cafile'], certFile: values['etcd-certfile'], keyFile: values['etcd-keyfile'], prefix, compactionIntervalMs };
}
