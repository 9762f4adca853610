// Builds small OCI images for the real-container tests without Docker or a
// registry: a single-layer root filesystem made from Debian's busybox-static,
// packed as an OCI image layout tarball that `ctr images import` (and so the
// CRI plugin in the k8s.io namespace) accepts.
//
//   node test/e2e/images/build.ts [outdir]   # one <name>.oci.tar per image (default $TMPDIR/ordinal-test-images)
//
// Images (names are what pods refer to; CRI normalises short names):
//   registry.k8s.io/pause:3.10              sleeps until TERM/INT (sandbox image)
//   registry.k8s.io/nginx-slim:0.8           busybox httpd on :80 serving /usr/share/nginx/html
//   docker.io/library/kubia-stored:latest    seed 004's app on :8080 (POST stores body in /var/data/kubia.txt)
//   docker.io/library/kubia-stored:v2        same, answers prefixed with "v2, "
//   docker.io/library/busybox:1.28           a shell and the applets (`kubectl run --image busybox:1.28`)

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TarEntry } from './tar.ts';
import { buildImage, normalizeRef, ociArchive, type BuiltImage } from '../../../src/agent/images/oci.ts';
// The OCI layout code lives in src (Ordinal builds its own pause image with it); re-exported for the tests.
export * from '../../../src/agent/images/oci.ts';

export const BUSYBOX_DEFAULT = '/bin/busybox';

// Applets linked into every image: what the tutorials and tests run inside
// pods (kubectl exec, probes, the CGI app, DNS checks), plus basic shell tools.
export const APPLETS = [
  'sh', 'ash', 'httpd', 'hostname', 'sleep', 'cat', 'echo', 'nslookup', 'wget', 'mkdir', 'ls', 'chmod',
  'head', 'tail', 'printf', 'kill', 'test', '[', '[[', 'env', 'rm', 'mv', 'cp', 'ps', 'true', 'false', 'id',
  'grep', 'sed', 'awk', 'touch', 'date', 'nc', 'ip', 'ifconfig', 'hostid', 'uname', 'wc', 'tee', 'pwd',
  'dirname', 'basename', 'stat', 'df', 'du', 'tar', 'find', 'xargs', 'seq', 'expr', 'timeout', 'usleep',
  'whoami', 'chown', 'ln', 'readlink', 'vi', 'more', 'less', 'dd', 'sync', 'nproc', 'free', 'top', 'netstat',
  'ping', 'traceroute', 'telnet', 'base64', 'md5sum', 'sha256sum', 'sort', 'uniq', 'cut', 'tr', 'yes',
] as const;

/** The common base: busybox, its applet links, passwd/group, and the usual directories. */
const CURL_SHIM = [
  '#!/bin/sh',
  '# curl [-s] [-X METHOD] [-d DATA] URL, through busybox wget',
  'method=GET; data=; url=',
  'while [ $# -gt 0 ]; do',
  '  case "$1" in',
  '    -s|--silent) ;;',
  '    -X|--request) method=$2; shift ;;',
  '    -d|--data) data=$2; method=${method#GET}; method=${method:-POST}; shift ;;',
  '    -*) echo "curl (test image): unsupported option $1" >&2; exit 2 ;;',
  '    *) url=$1 ;;',
  '  esac',
  '  shift',
  'done',
  'case "$url" in *://*) ;; *) url="http://$url" ;; esac',
  'if [ "$method" = POST ]; then exec wget -q -O - --post-data "$data" "$url"; fi',
  'exec wget -q -O - "$url"',
  '',
].join('\n');

export function busyboxRootfs(busybox: string = process.env.BUSYBOX ?? BUSYBOX_DEFAULT): TarEntry[] {
  if (!existsSync(busybox)) {
    throw new Error(`${busybox} not found: install Debian's busybox-static (apt-get install busybox-static) or set BUSYBOX`);
  }
  const entries: TarEntry[] = [
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/busybox', data: readFileSync(busybox), mode: 0o755 },
  ];
  for (const a of APPLETS) entries.push({ type: 'symlink', path: `bin/${a}`, target: 'busybox' });
  entries.push(
    { type: 'dir', path: 'etc' },
    {
      type: 'file',
      path: 'etc/passwd',
      data: 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    },
    { type: 'file', path: 'etc/group', data: 'root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n' },
    { type: 'dir', path: 'root', mode: 0o700 },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'usr' },
    { type: 'dir', path: 'usr/local' },
    { type: 'dir', path: 'usr/local/bin' },
    // Runs the real server as a child so that PID 1 answers TERM/INT promptly:
    // a process that is PID 1 in its namespace gets no default signal actions,
    // so a bare `httpd` would only ever die to SIGKILL at the end of the grace period.
    {
      type: 'file',
      path: 'usr/local/bin/fg',
      mode: 0o755,
      data: '#!/bin/sh\n"$@" &\nchild=$!\ntrap \'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0\' TERM INT\nwait "$child"\n',
    },
    // The tutorials type `curl localhost` and `curl -X POST -d "..." host:8080`; busybox has no curl,
    // so a few lines of sh map the options they use onto busybox wget.
    { type: 'file', path: 'usr/local/bin/curl', mode: 0o755, data: CURL_SHIM },
    { type: 'dir', path: 'var' },
  );
  return entries;
}

// --- the images the e2e tests use -------------------------------------------

export function pauseImage(busybox?: string): BuiltImage {
  return buildImage({
    ref: 'registry.k8s.io/pause:3.10',
    files: busyboxRootfs(busybox),
    // `sleep` in the background plus `wait` keeps the shell able to run its trap
    config: { entrypoint: ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'] },
  });
}

export const NGINX_DEFAULT_PAGE = '<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>\n<body><h1>Welcome to nginx!</h1></body></html>\n';

export function nginxSlimImage(busybox?: string): BuiltImage {
  return buildImage({
    ref: 'registry.k8s.io/nginx-slim:0.8',
    files: [
      ...busyboxRootfs(busybox),
      { type: 'dir', path: 'usr/share' },
      { type: 'dir', path: 'usr/share/nginx' },
      { type: 'dir', path: 'usr/share/nginx/html' },
      { type: 'file', path: 'usr/share/nginx/html/index.html', data: NGINX_DEFAULT_PAGE },
    ],
    config: {
      entrypoint: ['/usr/local/bin/fg'],
      cmd: ['httpd', '-f', '-v', '-p', '80', '-h', '/usr/share/nginx/html'],
      exposedPorts: ['80/tcp'],
    },
  });
}

/** The CGI program behind seed 004's kubia app; `prefix` marks the v2 image. */
export function kubiaScript(prefix = ''): string {
  return [
    '#!/bin/sh',
    'f=/var/data/kubia.txt',
    'printf "Content-Type: text/plain\\r\\n\\r\\n"',
    'if [ "$REQUEST_METHOD" = POST ]; then',
    '  mkdir -p /var/data',
    '  head -c "${CONTENT_LENGTH:-0}" > "$f"',
    '  echo "New Data has been received and stored." >&2',
    '  echo "Data stored on $(hostname)"',
    'else',
    '  if [ -f "$f" ]; then data=$(cat "$f"); else data="No data posted yet"; fi',
    '  echo "You\'ve hit $(hostname)"',
    `  echo "${prefix}Data stored on this Pod: $data"`,
    'fi',
    '',
  ].join('\n');
}

export function kubiaImage(version: 'v1' | 'v2' = 'v1', busybox?: string): BuiltImage {
  return buildImage({
    ref: version === 'v1' ? 'kubia-stored:latest' : 'kubia-stored:v2',
    files: [
      ...busyboxRootfs(busybox),
      { type: 'dir', path: 'var/data' },
      { type: 'dir', path: 'srv' },
      { type: 'dir', path: 'srv/kubia' },
      { type: 'dir', path: 'srv/kubia/cgi-bin' },
      // busybox httpd runs /cgi-bin/index.cgi for "/" when there is no index.html
      { type: 'file', path: 'srv/kubia/cgi-bin/index.cgi', data: kubiaScript(version === 'v2' ? 'v2, ' : ''), mode: 0o755 },
    ],
    config: {
      entrypoint: ['/usr/local/bin/fg'],
      cmd: ['sh', '-c', 'echo "Kubia server starting..." >&2; exec httpd -f -v -p 8080 -h /srv/kubia'],
      exposedPorts: ['8080/tcp'],
    },
  });
}

/** What the tutorials' `kubectl run --image busybox` expects: the applets and `sh` as the command. */
export function busyboxImage(busybox?: string): BuiltImage {
  return buildImage({ ref: 'busybox:1.28', files: busyboxRootfs(busybox), config: { cmd: ['sh'] } });
}

export function standardImages(busybox?: string): BuiltImage[] {
  return [pauseImage(busybox), nginxSlimImage(busybox), kubiaImage('v1', busybox), kubiaImage('v2', busybox), busyboxImage(busybox)];
}

export function fileNameFor(ref: string): string {
  return normalizeRef(ref).replace(/^.*\//, '').replace(/[^A-Za-z0-9._-]/g, '_') + '.oci.tar';
}

/** Writes one OCI archive per standard image into dir; returns the paths and references. */
export function writeStandardImages(dir: string, busybox?: string): { path: string; ref: string; digest: string }[] {
  mkdirSync(dir, { recursive: true });
  return standardImages(busybox).map((img) => {
    const path = join(dir, fileNameFor(img.ref));
    writeFileSync(path, ociArchive([img]));
    return { path, ref: img.ref, digest: img.manifest.digest };
  });
}

if (import.meta.main) {
  const out = resolve(process.argv[2] ?? join(tmpdir(), 'ordinal-test-images'));
  for (const r of writeStandardImages(out)) console.log(`${r.path}\t${r.ref}\t${r.digest}`);
}
