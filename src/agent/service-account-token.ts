// The node agent's side of projected service account tokens, as the kubelet's token manager:
// a token bound to the pod is requested through the TokenRequest API, shared by the pod's
// containers, and rewritten in the pod's volume before it needs replacing (at 80% of its lifetime,
// or after a day, whichever comes first).
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { Obj } from '../api/resource.ts';
import type { Client } from '../client/client.ts';
import { ApiError } from '../apiserver/errors.ts';
import { log } from '../util/log.ts';

/** A projected volume's serviceAccountToken source. */
export interface TokenProjection {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}

export interface IssuedToken {
  token: string;
  /** status.expirationTimestamp, in ms. */
  expiresAtMs: number;
  /** The lifetime asked for (spec.expirationSeconds), which the refresh is reckoned from. */
  expirationSeconds: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** The kubelet spreads refreshes by up to ten seconds so pods do not all ask at once. */
const MAX_JITTER_MS = 10_000;
const RETRY_MS = 10_000;

/**
 * When a token should be replaced: once 80% of the lifetime asked for has passed, or a day after
 * issue, less a jitter (a fraction in [0, 1)).
 */
export function refreshAtMs(t: IssuedToken, jitter = 0): number {
  const lifetimeMs = t.expirationSeconds * 1000;
  const issuedMs = t.expiresAtMs - lifetimeMs;
  const j = jitter * MAX_JITTER_MS;
  return Math.min(issuedMs + DAY_MS - j, t.expiresAtMs - lifetimeMs * 0.2 - j);
}

/** The TokenRequest the kubelet sends for a projection of a pod. */
export function tokenRequestFor(pod: Obj, source: TokenProjection): Obj {
  const spec: Obj = {
    expirationSeconds: source.expirationSeconds ?? 3600,
    boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
  };
  // No audience means the API server's own.
  if (source.audience) spec.audiences = [source.audience];
  return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec };
}

interface Tracked {
  pod: Obj;
  source: TokenProjection;
  file: string;
  root: string;
  mode: number;
  timer?: NodeJS.Timeout;
}

export class ServiceAccountTokens {
  private readonly client: () => Client | undefined;
  private readonly now: () => number;
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly tracked = new Map<string, Tracked>();

  constructor(client: () => Client | undefined, opts: { now?: () => number } = {}) {
    this.client = client;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The token file of a projection in a volume rendered under `root`. The file is then kept fresh
   * there until the directory is gone (the pod's volumes were removed) or the pod is.
   */
  async file(pod: Obj, source: TokenProjection, root: string, mode = 0o644): Promise<{ path: string; data: string }> {
    const issued = await this.token(pod, source);
    const file = join(root, normalize(source.path));
    const entry: Tracked = { pod, source, file, root, mode };
    clearTimeout(this.tracked.get(file)?.timer);
    this.tracked.set(file, entry);
    this.schedule(entry, refreshAtMs(issued, Math.random()));
    return { path: source.path, data: issued.token };
  }

  /** A valid token for the projection: the one held, unless it is due for replacement. */
  async token(pod: Obj, source: TokenProjection, renew = false): Promise<IssuedToken> {
    const key = `${pod.metadata.uid}|${source.audience ?? ''}|${source.expirationSeconds ?? 3600}`;
    const held = this.tokens.get(key);
    if (held && !renew && this.now() < refreshAtMs(held)) return held;
    const client = this.client();
    if (!client) throw new Error('no API access to request a service account token');
    const answer = await client.createToken(pod.metadata.namespace, pod.spec?.serviceAccountName || 'default', tokenRequestFor(pod, source));
    const issued: IssuedToken = {
      token: answer.status.token,
      expiresAtMs: Date.parse(answer.status.expirationTimestamp),
      expirationSeconds: answer.spec?.expirationSeconds ?? source.expirationSeconds ?? 3600,
    };
    this.tokens.set(key, issued);
    return issued;
  }

  stop(): void {
    for (const t of this.tracked.values()) clearTimeout(t.timer);
    this.tracked.clear();
  }

  private schedule(entry: Tracked, atMs: number): void {
    // At least a second apart, whatever the token's lifetime: never a busy loop of requests.
    const delay = Math.max(1000, Math.min(atMs - this.now(), 2 ** 31 - 1));
    entry.timer = setTimeout(() => void this.refresh(entry), delay);
    entry.timer.unref();
  }

  private async refresh(entry: Tracked): Promise<void> {
    if (this.tracked.get(entry.file) !== entry) return;
    if (!existsSync(entry.root)) return this.forget(entry);
    try {
      // Files of the pod sharing the token may be refreshed just before: a token younger than the
      // refresh point is theirs, and good for this file too.
      const held = await this.token(entry.pod, entry.source);
      const issued = this.now() >= refreshAtMs(held, 1) ? await this.token(entry.pod, entry.source, true) : held;
      // Replaced in one step inside the same directory, so a reader in the container (which sees
      // this directory through its mount) never finds a half-written token.
      const tmp = `${entry.file}.tmp-${process.pid}`;
      writeFileSync(tmp, issued.token, { mode: entry.mode });
      renameSync(tmp, entry.file);
      this.schedule(entry, refreshAtMs(issued, Math.random()));
    } catch (err) {
      // The pod (or its service account) is gone: its token has nothing left to do.
      if (err instanceof ApiError && err.code === 404) return this.forget(entry);
      log('warn', 'agent', 'service account token refresh failed, retrying', { pod: `${entry.pod.metadata.namespace}/${entry.pod.metadata.name}`, error: String(err) });
      this.schedule(entry, this.now() + RETRY_MS);
    }
  }

  private forget(entry: Tracked): void {
    this.tracked.delete(entry.file);
    const uid: string = entry.pod.metadata.uid;
    if ([...this.tracked.values()].some((t) => t.pod.metadata.uid === uid)) return;
    for (const key of this.tokens.keys()) if (key.startsWith(`${uid}|`)) this.tokens.delete(key);
  }
}
