// What a node does with containerd before its agent starts: start its own (unless given a socket),
// make the sandbox image present, and import the archives of <data-dir>/images. `ordinal up` and
// `ordinal agent` call the same function.
import { join } from 'node:path';
import { log } from '../../util/log.ts';
import { ensurePauseImage, importImagesDir } from '../images/import.ts';
import { startOwnContainerd, type OwnContainerd } from './supervisor.ts';

export interface NodeContainerd {
  socket: string;
  /** Set when Ordinal started this containerd (and must stop it). */
  own?: OwnContainerd;
  /** Stops an own containerd (containers keep running); nothing for one given by socket. */
  stop(): Promise<void>;
}

/** The images directory of a data dir (k3s's agent/images): archives there are imported at every start. */
export const imagesDir = (dataDir: string) => join(dataDir, 'images');

export async function prepareContainerd(o: { dataDir: string; bridge: string; socket?: string }): Promise<NodeContainerd> {
  const own = o.socket ? undefined : await startOwnContainerd({ dataDir: o.dataDir, bridge: o.bridge });
  const socket = own?.socket ?? o.socket!;
  try {
    try {
      await ensurePauseImage(socket);
    } catch (err) {
      // An own containerd has no other way to get a sandbox image; an existing one may have it or reach a registry.
      if (own) throw err;
      log('warn', 'containerd', 'could not provide the sandbox image; pods start only if containerd can get it itself', { error: (err as Error).message });
    }
    await importImagesDir(socket, imagesDir(o.dataDir));
  } catch (err) {
    await own?.stop();
    throw err;
  }
  return { socket, own, stop: async () => own?.stop() };
}
