// A test image for Services: the busybox base plus
// - /usr/bin/curl: the machine's own Debian curl with the shared libraries it loads (found with
//   ldd) and the dynamic loader, so a pod can speak verified TLS (`--cacert`) to the API server;
//   busybox wget does not check certificates. (/usr/local/bin/curl stays the busybox shim.)
// - /usr/local/bin/udp-hostname: a small static C program built here with gcc: `serve PORT`
//   answers every datagram with the pod's hostname; `ask HOST PORT` sends one and prints the
//   answer. busybox has no UDP server or client.
// `netToolsUnavailable()` says why the image cannot be built on this machine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, busyboxRootfs, type BuiltImage } from './build.ts';
import type { TarEntry } from './tar.ts';

export const NET_TOOLS_IMAGE = 'docker.io/ordinal-test/net-tools:1';

const UDP_HOSTNAME_C = String.raw`
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  char buf[512];
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (argc == 3 && !strcmp(argv[1], "serve")) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET; a.sin_port = htons(atoi(argv[2])); a.sin_addr.s_addr = INADDR_ANY;
    if (bind(s, (struct sockaddr *)&a, sizeof a)) { perror("bind"); return 1; }
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    strcat(host, "\n");
    for (;;) {
      struct sockaddr_in from; socklen_t fl = sizeof from;
      if (recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) < 0) continue;
      sendto(s, host, strlen(host), 0, (struct sockaddr *)&from, fl);
    }
  }
  if (argc == 4 && !strcmp(argv[1], "ask")) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET; a.sin_port = htons(atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 2; }
    struct timeval tv = {2, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (sendto(s, "?", 1, 0, (struct sockaddr *)&a, sizeof a) < 0) { perror("sendto"); return 1; }
    ssize_t n = recv(s, buf, sizeof buf - 1, 0);
    if (n < 0) { perror("recv"); return 1; }
    fwrite(buf, 1, n, stdout);
    return 0;
  }
  fprintf(stderr, "usage: udp-hostname serve PORT | ask ADDR PORT\n");
  return 2;
}
`;

export function netToolsUnavailable(): string | undefined {
  if (!existsSync('/usr/bin/curl')) return '/usr/bin/curl is missing (apt-get install curl)';
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc is missing (apt-get install gcc libc6-dev): the UDP test tool is built with it';
  }
  return undefined;
}

/** The libraries `ldd` lists for a binary (absolute paths, the loader included). */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]!);
  }
  return [...libs];
}

/** Directory entries for every parent of a path (tar readers want them before the file). */
function parents(path: string, seen: Set<string>): TarEntry[] {
  const parts = path.split('/').slice(0, -1);
  const out: TarEntry[] = [];
  for (let i = 1; i <= parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    if (!dir || seen.has(dir)) continue;
    seen.add(dir);
    out.push({ type: 'dir', path: dir });
  }
  return out;
}

export function netToolsImage(busybox?: string): BuiltImage {
  const why = netToolsUnavailable();
  if (why) throw new Error(why);
  const work = mkdtempSync(join(tmpdir(), 'ordinal-net-tools-'));
  let udpTool: Buffer;
  try {
    writeFileSync(join(work, 'udp-hostname.c'), UDP_HOSTNAME_C);
    execFileSync('gcc', ['-static', '-O2', '-o', join(work, 'udp-hostname'), join(work, 'udp-hostname.c')], { stdio: 'pipe' });
    udpTool = readFileSync(join(work, 'udp-hostname'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const files = busyboxRootfs(busybox);
  // The base already has these directories.
  const seen = new Set(files.filter((f) => f.type === 'dir').map((f) => f.path));
  const add = (path: string, data: Buffer, mode: number) => files.push(...parents(path, seen), { type: 'file', path, data, mode });
  add('usr/bin/curl', readFileSync('/usr/bin/curl'), 0o755);
  // Each library goes where ldd found it (the loader by its fixed path), read through symlinks.
  for (const lib of sharedLibraries('/usr/bin/curl')) add(lib.slice(1), readFileSync(realpathSync(lib)), 0o755);
  add('usr/local/bin/udp-hostname', udpTool, 0o755);
  return buildImage({ ref: NET_TOOLS_IMAGE, files, config: { cmd: ['sh'] } });
}
