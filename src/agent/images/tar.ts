// A minimal, deterministic ustar writer: enough for OCI image layers and OCI
// layout archives. Every entry gets mtime 0 and uid/gid 0 unless told
// otherwise, so the same inputs always produce the same bytes (and digests),
// which lets tests skip re-importing an image that is already there.

export type TarEntry =
  | { type: 'file'; path: string; data: Uint8Array | string; mode?: number; uid?: number; gid?: number }
  | { type: 'dir'; path: string; mode?: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string };

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width includes the trailing NUL terminator
  const s = value.toString(8);
  if (s.length > width - 1) throw new Error(`tar: value ${value} does not fit in ${width - 1} octal digits`);
  return s.padStart(width - 1, '0') + '\0';
}

// ustar stores long names as prefix (155) + '/' + name (100); split at a slash
// so both halves fit, or fail loudly rather than silently truncate.
function splitName(path: string): { name: string; prefix: string } {
  const bytes = Buffer.byteLength(path);
  if (bytes <= 100) return { name: path, prefix: '' };
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { name, prefix };
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

function header(entry: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const path = entry.type === 'dir' && !entry.path.endsWith('/') ? entry.path + '/' : entry.path;
  const { name, prefix } = splitName(path);
  const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  const uid = entry.type === 'symlink' ? 0 : (entry.uid ?? 0);
  const gid = entry.type === 'symlink' ? 0 : (entry.gid ?? 0);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(uid, 8), 108, 'ascii');
  h.write(octal(gid, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii'); // mtime
  h.write('        ', 148, 'ascii'); // checksum placeholder: spaces while summing
  h.write(entry.type === 'file' ? '0' : entry.type === 'dir' ? '5' : '2', 156, 'ascii');
  if (entry.type === 'symlink') {
    if (Buffer.byteLength(entry.target) > 100) throw new Error(`tar: symlink target too long: ${entry.target}`);
    h.write(entry.target, 157, 100, 'utf8');
  }
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** Serialises entries, in the given order, into one tar archive (with the two zero end blocks). */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (typeof e.data === 'string' ? Buffer.from(e.data) : Buffer.from(e.data)) : Buffer.alloc(0);
    parts.push(header(e, data.length));
    if (data.length > 0) {
      parts.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad, 0));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}

/** Reads back the entries of a ustar archive written by writeTar (used by the tests). */
export function readTar(buf: Uint8Array): TarEntry[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: TarEntry[] = [];
  let off = 0;
  const str = (start: number, len: number) => {
    const raw = b.subarray(start, start + len);
    const nul = raw.indexOf(0);
    return raw.subarray(0, nul === -1 ? len : nul).toString('utf8');
  };
  while (off + BLOCK <= b.length) {
    if (b.subarray(off, off + BLOCK).every((x) => x === 0)) break;
    const name = str(off, 100);
    const prefix = str(off + 345, 155);
    const path = prefix ? `${prefix}/${name}` : name;
    const mode = parseInt(str(off + 100, 8), 8);
    const uid = parseInt(str(off + 108, 8), 8);
    const gid = parseInt(str(off + 116, 8), 8);
    const size = parseInt(str(off + 124, 12), 8);
    const type = String.fromCharCode(b[off + 156]!);
    off += BLOCK;
    if (type === '5') out.push({ type: 'dir', path: path.replace(/\/$/, ''), mode, uid, gid });
    else if (type === '2') out.push({ type: 'symlink', path, target: str(off - BLOCK + 157, 100) });
    else out.push({ type: 'file', path, data: Buffer.from(b.subarray(off, off + size)), mode, uid, gid });
    off += Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
