// Checks the OCI archives the e2e tests import: layout shape, digests, and the
// root filesystem's contents. No root or containerd needed; needs busybox-static
// for the image tests (skipped without it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { readTar, writeTar, type TarEntry } from './tar.ts';
import { BUSYBOX_DEFAULT, kubiaImage, kubiaScript, nginxSlimImage, normalizeRef, ociArchive, pauseImage } from './build.ts';

const haveBusybox = existsSync(process.env.BUSYBOX ?? BUSYBOX_DEFAULT);
const sha = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex');

test('tar round-trips files, dirs, symlinks and long paths', () => {
  const long = 'a/'.repeat(60) + 'file.txt';
  const entries: TarEntry[] = [
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: 'etc/passwd', data: 'root:x:0:0::/root:/bin/sh\n' },
    { type: 'file', path: long, data: Buffer.alloc(1000, 7), mode: 0o755, uid: 33, gid: 33 },
    { type: 'symlink', path: 'bin/sh', target: 'busybox' },
  ];
  const buf = writeTar(entries);
  assert.equal(buf.length % 512, 0);
  const back = readTar(buf);
  assert.equal(back.length, 4);
  assert.deepEqual(back[0], { type: 'dir', path: 'tmp', mode: 0o1777, uid: 0, gid: 0 });
  assert.equal(back[2]!.path, long);
  assert.equal(back[2]!.type === 'file' && back[2]!.data.length, 1000);
  assert.equal(back[2]!.type === 'file' && back[2]!.uid, 33);
  assert.deepEqual(back[3], { type: 'symlink', path: 'bin/sh', target: 'busybox' });
  assert.deepEqual(writeTar(entries), buf, 'same input, same bytes');
});

test('short image names normalise as CRI does', () => {
  assert.equal(normalizeRef('kubia-stored'), 'docker.io/library/kubia-stored:latest');
  assert.equal(normalizeRef('kubia-stored:v2'), 'docker.io/library/kubia-stored:v2');
  assert.equal(normalizeRef('me/app'), 'docker.io/me/app:latest');
  assert.equal(normalizeRef('registry.k8s.io/nginx-slim:0.8'), 'registry.k8s.io/nginx-slim:0.8');
  assert.equal(normalizeRef('localhost:5000/x'), 'localhost:5000/x:latest');
});

test('kubia CGI script answers like seed 004', () => {
  assert.match(kubiaScript(), /Data stored on this Pod: \$data/);
  assert.match(kubiaScript('v2, '), /v2, Data stored on this Pod/);
});

test('OCI archive: layout, index annotations, digests and rootfs', { skip: !haveBusybox && 'busybox-static not installed' }, () => {
  const nginx = nginxSlimImage();
  const files = new Map(readTar(ociArchive([nginx, pauseImage()])).map((e) => [e.path, e]));
  const read = (p: string) => {
    const e = files.get(p);
    assert.ok(e && e.type === 'file', `${p} in archive`);
    return Buffer.from(e.data);
  };
  assert.deepEqual(JSON.parse(read('oci-layout').toString()), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(read('index.json').toString());
  assert.equal(index.manifests.length, 2);
  const desc = index.manifests[0];
  assert.equal(desc.annotations['io.containerd.image.name'], 'registry.k8s.io/nginx-slim:0.8');
  assert.equal(desc.annotations['org.opencontainers.image.ref.name'], '0.8');
  // every blob's name is its digest
  for (const [p, e] of files) {
    if (p.startsWith('blobs/sha256/') && e.type === 'file') assert.equal(sha(e.data as Uint8Array), 'sha256:' + p.slice(13));
  }
  const manifest = JSON.parse(read(`blobs/sha256/${desc.digest.slice(7)}`).toString());
  const config = JSON.parse(read(`blobs/sha256/${manifest.config.digest.slice(7)}`).toString());
  assert.deepEqual(config.config.ExposedPorts, { '80/tcp': {} });
  assert.deepEqual(config.config.Entrypoint, ['/usr/local/bin/fg']);
  const layer = gunzipSync(read(`blobs/sha256/${manifest.layers[0].digest.slice(7)}`));
  assert.equal(config.rootfs.diff_ids[0], sha(layer));
  const rootfs = new Map(readTar(layer).map((e) => [e.path, e]));
  for (const applet of ['sh', 'httpd', 'hostname', 'sleep', 'cat', 'echo', 'nslookup', 'wget', 'mkdir', 'ls', 'chmod']) {
    assert.deepEqual(rootfs.get(`bin/${applet}`), { type: 'symlink', path: `bin/${applet}`, target: 'busybox' });
  }
  for (const p of ['etc/passwd', 'etc/group', 'usr/share/nginx/html/index.html', 'bin/busybox']) assert.ok(rootfs.has(p), p);
  const tmp = rootfs.get('tmp');
  assert.ok(tmp && tmp.type === 'dir');
  assert.equal(tmp.mode, 0o1777);
});

test('images are reproducible and v1/v2 kubia differ', { skip: !haveBusybox && 'busybox-static not installed' }, () => {
  assert.equal(kubiaImage('v1').manifest.digest, kubiaImage('v1').manifest.digest);
  assert.notEqual(kubiaImage('v1').manifest.digest, kubiaImage('v2').manifest.digest);
  assert.equal(kubiaImage('v2').ref, 'docker.io/library/kubia-stored:v2');
});
