// Loading images into a node's containerd without a registry: OCI and docker-save archives through
// `ctr images import` (from the containerd package) into the k8s.io namespace, where the CRI plugin
// finds them; the archives in <data-dir>/images/ at start (k3s's air-gap directory); and Ordinal's
// pause image under whatever name containerd's sandbox_image asks for.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../../util/log.ts';
import { CriClient } from '../runtime/cri/client.ts';
import { ociArchive } from './oci.ts';
import { pauseImage } from './pause.ts';

export const CRI_NAMESPACE = 'k8s.io';

function ctr(socket: string, args: string[], input?: Buffer): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile('ctr', ['-a', socket, '-n', CRI_NAMESPACE, ...args], { timeout: 600_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}`.trim() || (err ? err.message : '') });
    });
    if (input) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

/** The image names `ctr images import` reports ("unpacking docker.io/library/x:1 (sha256:...)...done"). */
export function importedNames(ctrOutput: string): string[] {
  return [...ctrOutput.matchAll(/^unpacking (\S+) \(sha256:[0-9a-f]+\)/gm)].map((m) => m[1]!);
}

/** Imports one archive file (or bytes) into containerd's k8s.io namespace; returns the names it holds. */
export async function importArchive(socket: string, archive: string | Buffer): Promise<string[]> {
  const fromFile = typeof archive === 'string';
  if (fromFile && !existsSync(archive)) throw new Error(`${archive}: no such file`);
  // --all-platforms would also keep blobs for other machines; the default unpacks this machine's.
  const r = await ctr(socket, ['images', 'import', fromFile ? archive : '-'], fromFile ? undefined : archive);
  if (r.code !== 0) {
    const what = fromFile ? archive : 'image archive';
    throw new Error(`${what}: not imported: ${r.out.split('\n').pop()} (an OCI image layout or \`docker save\` archive, uncompressed, is expected)`);
  }
  const names = importedNames(r.out);
  if (!names.length && fromFile) throw new Error(`${archive}: no image in it was imported (does it hold images for ${process.arch}?)`);
  return names;
}

/** The sandbox (pause) image a containerd's CRI plugin uses, from its verbose status. */
export async function sandboxImageOf(socket: string): Promise<string> {
  const cri = new CriClient(socket);
  try {
    const info = (await cri.status(true)).info;
    const image = JSON.parse(info.config ?? '{}')?.sandboxImage;
    if (typeof image !== 'string' || !image) throw new Error(`containerd at ${socket} does not report its sandbox_image`);
    return image;
  } finally {
    cri.close();
  }
}

/**
 * Makes containerd's sandbox image present: Ordinal's pause program under the name the config asks
 * for, unless an image of that name is there already (a user's real pause image is left alone).
 */
export async function ensurePauseImage(socket: string): Promise<{ image: string; imported: boolean }> {
  const image = await sandboxImageOf(socket);
  const cri = new CriClient(socket);
  try {
    if (await cri.imageStatus(image)) return { image, imported: false };
  } finally {
    cri.close();
  }
  await importArchive(socket, ociArchive([pauseImage(image)]));
  log('info', 'containerd', 'imported Ordinal\'s pause image as the sandbox image', { image, socket });
  return { image, imported: true };
}

const ARCHIVE = /\.(tar|oci|docker)$/i;

/** The archives in an images directory (k3s's air-gap images: *.tar), sorted. */
export function archivesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => ARCHIVE.test(f) && statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => join(dir, f));
}

/** Imports every archive in `dir` (logging each, and each failure without stopping). */
export async function importImagesDir(socket: string, dir: string): Promise<void> {
  for (const file of archivesIn(dir)) {
    const t0 = performance.now();
    try {
      const names = await importArchive(socket, file);
      log('info', 'containerd', 'imported images', { file, images: names, ms: Math.round(performance.now() - t0) });
    } catch (err) {
      log('warn', 'containerd', 'image archive not imported', { file, error: (err as Error).message });
    }
  }
}
