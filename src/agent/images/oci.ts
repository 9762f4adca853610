// OCI images without Docker or a registry: single-layer images from a list of files, and the OCI
// image layout (oci-layout, index.json, blobs/sha256/*) as one tar that `ctr images import`, and so
// containerd's CRI in the k8s.io namespace, accepts. Deterministic: the same files give the same
// digests, so importing again is a no-op.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { writeTar, type TarEntry } from './tar.ts';

export type ImageConfig = {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  exposedPorts?: string[]; // e.g. "80/tcp"
  user?: string;
  labels?: Record<string, string>;
};

export type ImageSpec = { ref: string; files: TarEntry[]; config: ImageConfig };

export type Descriptor = {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
};

export type BuiltImage = {
  ref: string; // fully qualified, e.g. registry.k8s.io/nginx-slim:0.8
  manifest: Descriptor; // annotated with the image name, ready for index.json
  configDigest: string;
  layerDigest: string; // of the gzip'd blob
  diffId: string; // of the uncompressed tar, what the config lists
  blobs: Map<string, Buffer>; // digest -> bytes
};

const sha256 = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export function goArch(arch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const a = map[arch];
  if (!a) throw new Error(`no OCI architecture for node arch ${arch}`);
  return a;
}

/** Expands a short image reference the way CRI does ("kubia-stored" -> "docker.io/library/kubia-stored:latest"). */
export function normalizeRef(ref: string): string {
  let name = ref;
  let tag = '';
  const at = name.indexOf('@');
  if (at === -1) {
    const colon = name.lastIndexOf(':');
    if (colon > name.lastIndexOf('/')) {
      tag = name.slice(colon + 1);
      name = name.slice(0, colon);
    }
  }
  const first = name.split('/')[0]!;
  const hasDomain = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasDomain) name = 'docker.io/' + (name.includes('/') ? name : 'library/' + name);
  if (at !== -1) return name;
  return `${name}:${tag || 'latest'}`;
}

function layerOf(files: TarEntry[]): { tar: Buffer; gz: Buffer } {
  const tar = writeTar(files);
  // gzip with node's defaults writes mtime 0, so the blob is reproducible too
  return { tar, gz: gzipSync(tar, { level: 9 }) };
}

export function buildImage(spec: ImageSpec): BuiltImage {
  const ref = normalizeRef(spec.ref);
  const { tar, gz } = layerOf(spec.files);
  const diffId = sha256(tar);
  const layerDigest = sha256(gz);
  const c = spec.config;
  const exposed: Record<string, object> = {};
  for (const p of c.exposedPorts ?? []) exposed[p] = {};
  const imageConfig = {
    architecture: goArch(),
    os: 'linux',
    config: {
      ...(c.user ? { User: c.user } : {}),
      ...(c.exposedPorts?.length ? { ExposedPorts: exposed } : {}),
      Env: c.env ?? ['PATH=/usr/local/bin:/usr/bin:/bin'],
      ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
      ...(c.cmd ? { Cmd: c.cmd } : {}),
      ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
      ...(c.labels ? { Labels: c.labels } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created_by: `ordinal: ${ref}` }],
  };
  const configBytes = Buffer.from(JSON.stringify(imageConfig));
  const configDigest = sha256(configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configBytes.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: gz.length }],
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = sha256(manifestBytes);
  const tag = ref.slice(ref.lastIndexOf(':') + 1);
  const blobs = new Map<string, Buffer>([
    [layerDigest, gz],
    [configDigest, configBytes],
    [manifestDigest, manifestBytes],
  ]);
  return {
    ref,
    manifest: {
      mediaType: manifest.mediaType,
      digest: manifestDigest,
      size: manifestBytes.length,
      platform: { architecture: goArch(), os: 'linux' },
      // containerd names the imported image from the first annotation; the
      // second is the OCI spec's own (tag only) for other tools
      annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': tag },
    },
    configDigest,
    layerDigest,
    diffId,
    blobs,
  };
}

/** An OCI image layout (oci-layout, index.json, blobs/sha256/*) as one tar, holding all the given images. */
export function ociArchive(images: readonly BuiltImage[]): Buffer {
  const blobs = new Map<string, Buffer>();
  for (const img of images) for (const [d, b] of img.blobs) blobs.set(d, b);
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: images.map((i) => i.manifest),
  };
  const entries: TarEntry[] = [
    { type: 'file', path: 'oci-layout', data: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { type: 'file', path: 'index.json', data: JSON.stringify(index) },
    { type: 'dir', path: 'blobs' },
    { type: 'dir', path: 'blobs/sha256' },
  ];
  for (const d of [...blobs.keys()].sort()) {
    entries.push({ type: 'file', path: `blobs/sha256/${d.slice('sha256:'.length)}`, data: blobs.get(d)! });
  }
  return writeTar(entries);
}
