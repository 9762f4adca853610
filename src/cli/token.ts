// `ordinal token create|list|delete`, as `kubeadm token`: bootstrap tokens are Secrets written
// through the API server named in <data-dir>/kubeconfig, with the admin's credentials from it.
// `create` prints the command a new node joins with, the CA pinned by its hash.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { Obj } from '../api/resource.ts';
import { caCertHash } from '../certificates/ca-hash.ts';
import {
  DEFAULT_NODE_TOKEN_GROUP, KEY, SECRET_PREFIX, SECRET_TYPE, TOKEN_NAMESPACE, dataOf, expiration, generateToken,
  isTokenId, parseRfc3339, parseToken, secretName, tokenSecret, validateGroupName,
} from '../bootstraptoken/token.ts';
import { parseGoDuration } from '../util/duration.ts';

export const TOKEN_USAGE = `Usage: ordinal token <create|list|delete> [options]

  create [--ttl 24h] [--description TEXT] [--groups G1,G2]
                   create a bootstrap token and print the command a node joins with
  list             list bootstrap tokens (TOKEN TTL EXPIRES USAGES DESCRIPTION EXTRA GROUPS)
  delete ID|TOKEN  delete bootstrap tokens

Options:
  --data-dir DIR   the cluster's data dir, whose kubeconfig names the API server (default ~/.ordinal)
  --ttl DURATION   how long the token is valid; 0 never expires (default 24h)
  --description TEXT
                   a human-readable note kept with the token
  --groups LIST    extra groups the token authenticates as (default ${DEFAULT_NODE_TOKEN_GROUP});
                   each must start with system:bootstrappers:
`;

class CliError extends Error {}

interface Admin {
  server: string;
  ca: string;
  cert?: string;
  key?: string;
  token?: string;
}

/** The API server and admin credentials of the kubeconfig's current context. */
export function adminFromKubeconfig(text: string): Admin {
  const cfg = parseYaml(text) as Obj;
  const ctxName = cfg['current-context'];
  const ctx = (cfg.contexts ?? []).find((c: Obj) => c.name === ctxName)?.context ?? cfg.contexts?.[0]?.context ?? {};
  const cluster = (cfg.clusters ?? []).find((c: Obj) => c.name === ctx.cluster)?.cluster ?? cfg.clusters?.[0]?.cluster;
  const user = (cfg.users ?? []).find((u: Obj) => u.name === ctx.user)?.user ?? cfg.users?.[0]?.user ?? {};
  if (!cluster?.server) throw new CliError('the kubeconfig names no API server');
  const b64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : undefined);
  const file = (p: string | undefined) => (p ? readFileSync(p, 'utf8') : undefined);
  const ca = b64(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']);
  if (!ca) throw new CliError('the kubeconfig has no certificate authority for the API server');
  return {
    server: cluster.server,
    ca,
    cert: b64(user['client-certificate-data']) ?? file(user['client-certificate']),
    key: b64(user['client-key-data']) ?? file(user['client-key']),
    token: user.token,
  };
}

function request(admin: Admin, method: string, path: string, body?: Obj): Promise<{ status: number; json: Obj }> {
  const u = new URL(path, admin.server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((res, rej) => {
    const req = https.request(
      {
        method,
        hostname: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port || 443,
        path: u.pathname + u.search,
        ca: admin.ca,
        cert: admin.cert,
        key: admin.key,
        headers: {
          Accept: 'application/json',
          ...(admin.token ? { Authorization: `Bearer ${admin.token}` } : {}),
          ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}),
        },
      },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (d: Buffer) => chunks.push(d));
        r.on('end', () => {
          let json: Obj = {};
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {}
          res({ status: r.statusCode ?? 0, json });
        });
        r.on('error', rej);
      },
    );
    req.on('error', (err) => rej(new CliError(`cannot reach the API server at ${admin.server}: ${err.message}`)));
    req.end(payload);
  });
}

const secretsPath = `/api/v1/namespaces/${TOKEN_NAMESPACE}/secrets`;

async function ok(p: Promise<{ status: number; json: Obj }>, what: string): Promise<Obj> {
  const r = await p;
  if (r.status >= 300) throw new CliError(`${what}: ${r.json.message ?? `HTTP ${r.status}`}`);
  return r.json;
}

/** kubeadm's short duration: 45s, 59m, 23h, 6d, 2y. */
export function shortHumanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h`;
  if (h < 24 * 365) return `${Math.floor(h / 24)}d`;
  return `${Math.floor(h / 24 / 365)}y`;
}

/** The rows of `ordinal token list`, aligned as kubeadm's tabwriter aligns them. */
export function tokenTable(secrets: Obj[], nowMs: number): string {
  const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
  for (const s of secrets) {
    const id = dataOf(s, KEY.id);
    const secret = dataOf(s, KEY.secret);
    if (!id || !secret) continue;
    const exp = dataOf(s, KEY.expiration);
    const at = exp ? parseRfc3339(exp) : undefined;
    const usages = Object.keys(s.data ?? {})
      .filter((k) => k.startsWith('usage-bootstrap-') && dataOf(s, k) === 'true')
      .map((k) => k.slice('usage-bootstrap-'.length))
      .sort();
    rows.push([
      `${id}.${secret}`,
      at === undefined ? '<forever>' : shortHumanDuration(at - nowMs),
      at === undefined ? '<never>' : new Date(at).toISOString().replace('.000Z', 'Z'),
      usages.join(',') || '<none>',
      dataOf(s, KEY.description) || '<none>',
      dataOf(s, KEY.extraGroups) || '<none>',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')).join('\n') + '\n';
}

export async function tokenCommand(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        ttl: { type: 'string' },
        description: { type: 'string' },
        groups: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`ordinal token: ${(err as Error).message}\n${TOKEN_USAGE}`);
    return 2;
  }
  const sub = positionals[0];
  if (values.help || !sub || !['create', 'list', 'delete'].includes(sub)) {
    out(TOKEN_USAGE);
    return values.help ? 0 : 2;
  }
  try {
    const dataDir = resolve(values['data-dir'] ?? join(homedir(), '.ordinal'));
    let kubeconfig: string;
    try {
      kubeconfig = readFileSync(join(dataDir, 'kubeconfig'), 'utf8');
    } catch {
      throw new CliError(`no kubeconfig in ${dataDir}: start the cluster with \`ordinal up --data-dir ${dataDir}\` first`);
    }
    const admin = adminFromKubeconfig(kubeconfig);
    if (sub === 'create') {
      let ttlMs = 24 * 3600 * 1000;
      if (values.ttl !== undefined) {
        try {
          ttlMs = parseGoDuration(values.ttl);
        } catch (err) {
          throw new CliError(`invalid --ttl: ${(err as Error).message}`);
        }
        if (ttlMs < 0) throw new CliError(`invalid --ttl ${values.ttl}: must not be negative`);
      }
      const groups = values.groups ? values.groups.flatMap((g) => g.split(',')).map((g) => g.trim()).filter(Boolean) : [DEFAULT_NODE_TOKEN_GROUP];
      for (const g of groups) {
        const err = validateGroupName(g);
        if (err) throw new CliError(err);
      }
      const token = generateToken();
      await ok(request(admin, 'POST', secretsPath, tokenSecret({ token, ttlMs, description: values.description, groups, nowMs: Date.now() })), 'failed to create bootstrap token');
      out(`ordinal agent --server ${admin.server} --token ${token.id}.${token.secret} --ca-cert-hash ${caCertHash(admin.ca)}\n`);
      return 0;
    }
    if (sub === 'list') {
      const list = await ok(request(admin, 'GET', `${secretsPath}?fieldSelector=${encodeURIComponent(`type=${SECRET_TYPE}`)}`), 'failed to list bootstrap tokens');
      const now = Date.now();
      // Expired tokens the cleaner has not removed yet are not shown, as kubeadm skips them.
      const live = (list.items ?? []).filter((s: Obj) => s.metadata?.name?.startsWith(SECRET_PREFIX) && !expiration(s, now).expired);
      out(tokenTable(live, now));
      return 0;
    }
    const ids = positionals.slice(1);
    if (!ids.length) throw new CliError('missing subcommand; "token delete" is missing token of form "[a-z0-9]{6}" or "[a-z0-9]{6}.[a-z0-9]{16}"');
    for (const arg of ids) {
      const id = parseToken(arg)?.id ?? (isTokenId(arg) ? arg : undefined);
      if (!id) throw new CliError(`given token didn't match pattern "[a-z0-9]{6}" or "[a-z0-9]{6}.[a-z0-9]{16}"`);
      await ok(request(admin, 'DELETE', `${secretsPath}/${secretName(id)}`), `failed to delete bootstrap token with id "${id}"`);
      out(`bootstrap token "${id}" deleted\n`);
    }
    return 0;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    process.stderr.write(`ordinal token: ${err.message}\n`);
    return 1;
  }
}
