// Drives a running `ordinal up --runtime sim` with generated requests (generate.ts) and checks
// what the brief of issue 11 asks: no crash, no 5xx, every API rejection a 4xx with a Status
// body, RSS bounded, the server still serving, nothing stored that validation refuses.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generate, NAMESPACES, type FuzzRequest, type Identity } from './generate.ts';
import { resources, groupVersion } from '../../src/api/registry.ts';
import { issueUserCertificate } from '../../src/cli/kubeconfig-user.ts';
import { caCertPath, caKeyPath, loadIssuer } from '../../src/apiserver/pki.ts';
import { ORDINAL_NODE_FLAGS } from '../../src/cli/node-flags.ts';

const root = resolve(import.meta.dirname, '../..');

export interface Server {
  url: URL;
  dataDir: string;
  proc: ChildProcess;
  logs(): string;
}

/** Starts `ordinal up --runtime sim` in its own process group on a free port and a fresh data dir. */
export async function startServer(extra: string[] = [], nodeFlags: string[] = ORDINAL_NODE_FLAGS): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ordinal-fuzz-'));
  // With the V8 flags `ordinal` runs with (bin/ordinal.js), so that its memory is what users get.
  const proc = spawn(process.execPath, [...nodeFlags, join(root, 'src/cli/main.ts'), 'up', '--runtime', 'sim', '--data-dir', dataDir, '--port', '0', '--dns-port', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ORDINAL_LOG_LEVEL: 'warn' },
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out = (out + d).slice(-200_000)));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 60_000);
    proc.stdout!.on('data', (d) => {
      out = (out + d).slice(-200_000);
      const m = /ready at (https:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    proc.once('exit', (code) => rej(new Error(`server exited with ${code}:\n${out}`)));
  });
  return { url: new URL(url), dataDir, proc, logs: () => out };
}

export async function stopServer(s: Server): Promise<void> {
  if (s.proc.exitCode === null && s.proc.signalCode === null) {
    const gone = new Promise<void>((r) => s.proc.once('exit', () => r()));
    try {
      process.kill(-s.proc.pid!, 'SIGTERM');
    } catch {}
    await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
    try {
      process.kill(-s.proc.pid!, 'SIGKILL');
    } catch {}
  }
  rmSync(s.dataDir, { recursive: true, force: true });
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The request failed at the transport level (reset, timeout). */
  error?: string;
}

export type Agents = Record<Identity, Agent>;

export function agentsFor(s: Server): Agents {
  const pki = join(s.dataDir, 'pki');
  const ca = readFileSync(caCertPath(s.dataDir));
  // A user no binding names: what `ordinal kubeconfig --user nobody` hands out.
  const nobody = issueUserCertificate(loadIssuer(ca.toString(), readFileSync(caKeyPath(s.dataDir), 'utf8')), 'nobody', [], 3600_000);
  const opts = { keepAlive: true, maxSockets: 16, ca };
  return {
    admin: new Agent({ ...opts, cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) }),
    nobody: new Agent({ ...opts, cert: nobody.certPem, key: nobody.keyPem }),
    anonymous: new Agent(opts),
  };
}

const BODY_CAP = 16 << 20;

export function send(s: Server, agents: Agents, r: FuzzRequest, timeoutMs = 30_000): Promise<Response> {
  return new Promise((res) => {
    let settled = false;
    const done = (x: Response) => {
      if (!settled) {
        settled = true;
        res(x);
      }
    };
    const headers: Record<string, string> = { ...r.headers };
    if (r.body) headers['Content-Length'] = String(r.body.length);
    let req: ReturnType<typeof request>;
    try {
      req = request({ method: r.method, hostname: s.url.hostname, port: s.url.port, path: r.path, agent: agents[r.identity], headers }, (resp) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => done({ status: resp.statusCode ?? 0, headers: resp.headers, body: Buffer.concat(chunks) });
        // A watch (asked for, or reached by an odd path or method) streams until its timeout:
        // once the status has arrived, a body still open after a moment is not waited for.
        setTimeout(
          () => {
            finish();
            resp.destroy();
          },
          r.watch ? 300 : 3000,
        );
        resp.on('data', (d: Buffer) => {
          if (size < BODY_CAP) chunks.push(d);
          size += d.length;
        });
        resp.on('end', finish);
        resp.on('error', finish);
        resp.on('close', finish);
      });
    } catch (err) {
      // The client library refused to send it (e.g. an invalid header): nothing reached the server.
      return done({ status: -1, headers: {}, body: Buffer.alloc(0), error: `not sent: ${(err as Error).message}` });
    }
    req.setTimeout(timeoutMs, () => {
      done({ status: 0, headers: {}, body: Buffer.alloc(0), error: 'timeout' });
      req.destroy();
    });
    req.on('error', (err) => done({ status: 0, headers: {}, body: Buffer.alloc(0), error: err.message }));
    req.end(r.body);
  });
}

/**
 * 5xx that upstream gives too: kube-apiserver 1.32 answers impersonated groups, extras or a uid
 * without a user with InternalError (see /work/shared/reference/authorization.md, section 7), and
 * a watch or list from a valid resourceVersion the cache does not reach in time with 504 Timeout
 * (ResourceVersionTooLarge), and a strategic merge patch with an unknown $patch directive with
 * the bare error (strategicpatch's ErrBadPatchType is not among the errors the patch handler maps
 * to 4xx), as is a list item without its declared merge key (mergepatch's ErrNoMergeKey is made
 * with fmt.Errorf, not a sentinel the handler's interpretStrategicMergePatchError knows), and so
 * are strategicpatch's other fmt.Errorf answers: a list mixing element types (sliceElementType),
 * an item of a merged list that is not a map, a list of a struct without a merge key, and a
 * $setElementOrder list that does not match its patch list. A LIST's unparsable resourceVersion
 * and an exact LIST of a future revision are 500 upstream too (see src/apiserver/list/resource-version.ts).
 */
const STRATEGIC_UPSTREAM_500 = new RegExp('"message":"(' + [
  'unknown patch type: ',
  'map: .* does not contain declared merge key: ',
  'list element types are not identical: ',
  'no elements in any of the given slices',
  'expected a [a-z]+, but received a ',
  'cannot merge lists without merge key for ',
  'merging lists cannot yet be specified in the patch',
  'value for key \\d+ is not a map\\.',
  'The order in patch list:',
].join('|') + ')');

function upstreamServerError(r: FuzzRequest, res: Response): boolean {
  const text = res.body.toString('utf8');
  const head = r.method.toUpperCase() === 'HEAD';
  const named = Object.keys(r.headers).some((h) => /^impersonate-(group|uid|extra-)/i.test(h));
  const user = Object.entries(r.headers).some(([h, v]) => /^impersonate-user$/i.test(h) && v !== '');
  if (res.status === 500 && named && !user && (head || /without impersonating a user/.test(text))) return true;
  if (res.status === 500 && /^application\/strategic-merge-patch\+json/.test(r.headers['Content-Type'] ?? '') && STRATEGIC_UPSTREAM_500.test(text)) return true;
  // A LIST's unparsable resourceVersion reaches the watch cache's parser, whose error upstream
  // passes on unconverted; so does etcd's refusal of an exact read of a future revision.
  if (res.status === 500 && /[?&]resourceVersion=/.test(r.path) && /"message":"(resourceVersion: Invalid value: .*strconv\.ParseUint: |etcdserver: mvcc: required revision is a future revision")/.test(text)) return true;
  const rv = /[?&]resourceVersion=(\d+)(&|$)/.exec(r.path);
  return res.status === 504 && rv !== null && BigInt(rv[1]) <= 0xffffffffffffffffn && /"reason":"ResourceVersionTooLarge"/.test(text);
}

/** What is wrong with the answer to `r`, or undefined when it is acceptable. */
export function judge(r: FuzzRequest, res: Response): string | undefined {
  if (res.status === -1) return undefined;
  if (res.status === 0) return `no answer (${res.error})`;
  if (res.status >= 500 && upstreamServerError(r, res)) return undefined;
  if (res.status >= 500) return `${res.status}: ${res.body.toString('utf8').slice(0, 300)}`;
  // 431: the HTTP layer refused the request line and headers (over 1 MiB) before any API code
  // saw them; Go's net/http answers the same way, with a plain-text body.
  if (res.status < 400 || res.status === 431 || r.method.toUpperCase() === 'HEAD') return undefined;
  const apiPath = /^\/apis?(\/|$|\?)/.test(r.path);
  const accept = r.headers.Accept ?? '';
  if (!apiPath || !(accept === 'application/json' || accept === '')) return undefined;
  let status: any;
  try {
    status = JSON.parse(res.body.toString('utf8'));
  } catch {
    return `${res.status} without a JSON Status body: ${res.body.toString('utf8').slice(0, 200)}`;
  }
  if (status?.kind !== 'Status' || status.status !== 'Failure' || status.code !== res.status || typeof status.message !== 'string' || !status.reason) {
    return `${res.status} with a body that is not a matching failure Status: ${res.body.toString('utf8').slice(0, 200)}`;
  }
  return undefined;
}

export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Lists every built-in kind as the admin and runs its strategy's validation on each stored object. */
export async function revalidate(s: Server, agents: Agents): Promise<string[]> {
  const findings: string[] = [];
  for (const r of resources.filter((x) => !x.custom)) {
    const path = (r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`) + `/${r.plural}`;
    const res = await send(s, agents, { method: 'GET', path, headers: { Accept: 'application/json' }, identity: 'admin', category: 'revalidate' });
    if (res.status !== 200) {
      findings.push(`list ${path}: ${res.status} ${res.body.toString().slice(0, 200)}`);
      continue;
    }
    const list = JSON.parse(res.body.toString('utf8'));
    for (const item of list.items ?? []) {
      const obj = { apiVersion: groupVersion(r), kind: r.kind, ...item };
      // As an update to itself: what was stored may have got there by an update, whose rules
      // (upstream's too) are not the create rules (e.g. generateName is only checked on create).
      const errs = r.strategy.validateUpdate(structuredClone(obj), structuredClone(obj));
      // generateName only matters when a name is generated, on create; upstream's status writes
      // (ResetObjectMetaForStatus keeps it from the request) may change it afterwards.
      errs.splice(0, errs.length, ...errs.filter((e) => e.field !== 'metadata.generateName'));
      if (errs.length) findings.push(`stored ${r.kind} ${item.metadata?.namespace ?? ''}/${item.metadata?.name}: ${errs.map((e) => JSON.stringify(e)).join('; ').slice(0, 400)}`);
    }
  }
  return findings;
}

export interface Summary {
  seed: number;
  sent: number;
  byStatus: Map<number, number>;
  byCategory: Map<string, Map<number, number>>;
  findings: { i: number; request: FuzzRequest; problem: string }[];
  rss: { first: number; peak: number; last: number };
  stillServing: boolean;
  crashed: boolean;
  invalidStored: string[];
  seconds: number;
}

/** Sends requests 0..count-1 of `seed` with `concurrency` in flight (or until `deadlineMs`), then checks the server. */
export async function fuzz(s: Server, seed: number, count: number, opts: { concurrency?: number; deadlineMs?: number; onProgress?: (n: number) => void } = {}): Promise<Summary> {
  const agents = agentsFor(s);
  const start = Date.now();
  // The fuzz namespace exists so that namespaced writes there can succeed.
  for (const ns of NAMESPACES) await send(s, agents, { method: 'POST', path: '/api/v1/namespaces', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: Buffer.from(JSON.stringify({ metadata: { name: ns } })), identity: 'admin', category: 'setup' });
  const byStatus = new Map<number, number>();
  const byCategory = new Map<string, Map<number, number>>();
  const findings: Summary['findings'] = [];
  const rss = { first: rssMb(s.proc.pid!), peak: 0, last: 0 };
  const sampler = setInterval(() => {
    const v = rssMb(s.proc.pid!);
    rss.peak = Math.max(rss.peak, v);
    if (v) rss.last = v;
  }, 250);
  let next = 0;
  let sent = 0;
  const worker = async () => {
    while (next < count && (opts.deadlineMs === undefined || Date.now() < opts.deadlineMs) && s.proc.exitCode === null) {
      const i = next++;
      const req = generate(seed, i);
      let res = await send(s, agents, req);
      // A kept-alive socket the server closed after an earlier answer (e.g. a 413 that left the
      // body unread) fails the next request on it before it is sent: that request is retried once.
      if (res.status === 0 && /socket hang up|ECONNRESET/.test(res.error ?? '')) res = await send(s, agents, req);
      sent++;
      if (opts.onProgress && sent % 1000 === 0) opts.onProgress(sent);
      byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
      const cat = byCategory.get(req.category) ?? new Map<number, number>();
      cat.set(res.status, (cat.get(res.status) ?? 0) + 1);
      byCategory.set(req.category, cat);
      const problem = judge(req, res);
      if (problem) findings.push({ i, request: req, problem });
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  clearInterval(sampler);
  const crashed = s.proc.exitCode !== null || s.proc.signalCode !== null;
  const ready = crashed ? undefined : await send(s, agents, { method: 'GET', path: '/readyz', headers: {}, identity: 'admin', category: 'final' });
  const list = crashed ? undefined : await send(s, agents, { method: 'GET', path: '/api/v1/namespaces/default/configmaps', headers: { Accept: 'application/json' }, identity: 'admin', category: 'final' });
  const invalidStored = crashed ? [] : await revalidate(s, agents);
  for (const a of Object.values(agents)) a.destroy();
  return { seed, sent, byStatus, byCategory, findings, rss, stillServing: ready?.status === 200 && list?.status === 200, crashed, invalidStored, seconds: (Date.now() - start) / 1000 };
}

/** A replayable description of one request: enough to resend it by hand. */
export function describe(r: FuzzRequest): string {
  const body = r.body ? ` body(${r.body.length}B)=${JSON.stringify(r.body.subarray(0, 200).toString('latin1'))}` : '';
  return `${r.identity} ${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers)}${body}`;
}

export function report(sum: Summary): string {
  const lines = [`fuzz seed=${sum.seed}: ${sum.sent} requests in ${sum.seconds.toFixed(1)} s (${(sum.sent / sum.seconds).toFixed(0)}/s)`];
  lines.push('by status: ' + [...sum.byStatus].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}=${v}`).join(' '));
  for (const [cat, m] of [...sum.byCategory].sort()) lines.push(`  ${cat.padEnd(18)} ` + [...m].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}=${v}`).join(' '));
  lines.push(`server RSS: first ${sum.rss.first.toFixed(0)} MB, peak ${sum.rss.peak.toFixed(0)} MB, last ${sum.rss.last.toFixed(0)} MB`);
  lines.push(`crashed: ${sum.crashed}; still serving: ${sum.stillServing}; findings: ${sum.findings.length}; invalid stored objects: ${sum.invalidStored.length}`);
  for (const f of sum.findings.slice(0, 40)) lines.push(`  #${f.i} ${f.problem.slice(0, 300)}\n      ${describe(f.request)}`);
  for (const x of sum.invalidStored.slice(0, 40)) lines.push(`  ${x}`);
  return lines.join('\n');
}
