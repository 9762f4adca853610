// `ordinal migrate`: moves a cluster's state from its SQLite file to etcd (src/storage/migrate/).
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { parseEtcdFlags } from './etcd-flags.ts';

const USAGE = `Usage: ordinal migrate --from-data-dir DIR --to-etcd URL[,URL...] [options]

Copies every object of a stopped cluster on the SQLite store (DIR/state.db) into etcd, under
kube-apiserver's key layout. Then start the servers with --store etcd --etcd-servers URL,... and
the same data dir (or a copy of it): the PKI stays there. Objects keep their uids; their
resourceVersions become etcd's revisions. Stop the cluster first: writes made during the copy are
not carried over.

Options:
  --from-data-dir DIR   the data dir of the cluster to migrate
  --to-etcd URLS        the etcd members (comma-separated, e.g. http://127.0.0.1:2379)
  --etcd-prefix PREFIX  where the keys go (default /registry), as kube-apiserver's flag
  --etcd-cafile FILE, --etcd-certfile FILE, --etcd-keyfile FILE
                        TLS to etcd
  --overwrite           replace whatever etcd holds under the prefix (without it, a non-empty
                        prefix is refused and nothing is written)
  -h, --help            show this help
`;

export async function runMigrate(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'from-data-dir': { type: 'string' },
        'to-etcd': { type: 'string' },
        'etcd-prefix': { type: 'string' },
        'etcd-cafile': { type: 'string' },
        'etcd-certfile': { type: 'string' },
        'etcd-keyfile': { type: 'string' },
        overwrite: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values['from-data-dir']) return usageError('--from-data-dir is required');
  if (!values['to-etcd']) return usageError('--to-etcd is required');
  let flags;
  try {
    flags = parseEtcdFlags('etcd', {
      'etcd-servers': values['to-etcd'],
      'etcd-prefix': values['etcd-prefix'],
      'etcd-cafile': values['etcd-cafile'],
      'etcd-certfile': values['etcd-certfile'],
      'etcd-keyfile': values['etcd-keyfile'],
    })!;
  } catch (err) {
    return usageError((err as Error).message.replace('--etcd-servers', '--to-etcd'));
  }
  const { migrateSqliteToEtcd } = await import('../storage/migrate/migrate.ts');
  const { storedResources } = await import('../apiserver/stored-resources.ts');
  const sqliteFile = join(resolve(values['from-data-dir']), 'state.db');
  try {
    let shown = 0;
    const r = await migrateSqliteToEtcd({
      ...flags,
      sqliteFile,
      overwrite: values.overwrite ?? false,
      builtins: storedResources(),
      progress: (n, total) => {
        if (n - shown >= 1000 || n === total) {
          shown = n;
          process.stdout.write(`${n}/${total} objects written\n`);
        }
      },
    });
    if (r.removed) process.stdout.write(`removed ${r.removed} keys that were under ${flags.prefix}/\n`);
    for (const k of r.skipped) process.stderr.write(`skipped ${k}: not an object key\n`);
    process.stdout.write(`migrated ${r.written} objects from ${sqliteFile} to ${flags.servers.join(',')} under ${flags.prefix}/ (etcd revision ${r.revision})\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

function usageError(msg: string): number {
  process.stderr.write(`error: ${msg}\n\nRun 'ordinal migrate --help' for usage.\n`);
  return 2;
}
