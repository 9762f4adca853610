// `ordinal images import FILE...`: loads OCI or docker-save archives into the node's containerd (the
// data dir's own one by default, --containerd-socket otherwise), in the k8s.io namespace where pods
// find them by name.
import { existsSync } from 'node:fs';
import { containerdLayout } from '../agent/containerd-supervisor/config.ts';
import { importArchive } from '../agent/images/import.ts';

export const IMAGES_USAGE = `Usage: ordinal images import FILE... [--data-dir DIR | --containerd-socket PATH]

Imports image archives (OCI image layout or \`docker save\` tar files) into the node's containerd,
where pods find them by name without a registry: the containerd Ordinal runs for DIR (default
~/.ordinal; the cluster must be running), or the one at --containerd-socket.
Archives placed in DIR/images/ are imported at every start of the node.
`;

/** Runs the subcommand; returns the exit code. Output goes to the given writers. */
export async function imagesCommand(args: string[], o: { dataDir: string; socket?: string; out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const [sub, ...files] = args;
  if (sub !== 'import' || !files.length) {
    o.err(IMAGES_USAGE);
    return 2;
  }
  const socket = o.socket ?? containerdLayout(o.dataDir).socket;
  if (!existsSync(socket)) {
    o.err(o.socket ? `ordinal: --containerd-socket ${socket} does not exist\n` : `ordinal: no containerd runs for ${o.dataDir} (no ${socket}): start the cluster first (ordinal up --data-dir ${o.dataDir}), or pass --containerd-socket PATH\n`);
    return 1;
  }
  let failed = 0;
  for (const file of files) {
    try {
      const names = await importArchive(socket, file);
      for (const n of names) o.out(`imported ${n}\n`);
    } catch (err) {
      o.err(`ordinal: ${(err as Error).message}\n`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}
