// The identity checker's effects: it polls every node's /pods through the API server's node proxy
// (what each runtime really runs), one loop per node so a frozen or cut-off node does not slow the
// others, and watches the API's pods (creation order, and how each was deleted). Everything goes into
// an IdentityLedger; the verdict is the ledger's.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { HttpClient, type Credentials } from '../../client/http-client.ts';
import { IdentityLedger, formatVerdict, type RuntimePod, type Verdict } from './ledger.ts';

export interface KubeconfigAccess {
  server: string;
  caCertPem: string;
  credentials: Credentials;
}

/** The current context's server and credentials (client certificate or token, inline or in files). */
export function readKubeconfig(path: string): KubeconfigAccess {
  const cfg = parseYaml(readFileSync(path, 'utf8'));
  const ctxName = cfg['current-context'];
  const ctx = (cfg.contexts ?? []).find((c: any) => c.name === ctxName)?.context ?? cfg.contexts?.[0]?.context;
  if (!ctx) throw new Error(`${path}: no context`);
  const cluster = (cfg.clusters ?? []).find((c: any) => c.name === ctx.cluster)?.cluster;
  const user = (cfg.users ?? []).find((u: any) => u.name === ctx.user)?.user ?? {};
  if (!cluster?.server) throw new Error(`${path}: no server for context ${ctxName}`);
  const data = (inline: string | undefined, file: string | undefined) => (inline ? Buffer.from(inline, 'base64').toString('utf8') : file ? readFileSync(file, 'utf8') : undefined);
  const caCertPem = data(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (!caCertPem) throw new Error(`${path}: the cluster has no certificate authority`);
  const certPem = data(user['client-certificate-data'], user['client-certificate']);
  const keyPem = data(user['client-key-data'], user['client-key']);
  const credentials: Credentials | undefined = certPem && keyPem ? { certPem, keyPem } : user.token ? { token: user.token } : undefined;
  if (!credentials) throw new Error(`${path}: the user has neither a client certificate nor a token`);
  return { server: cluster.server, caCertPem, credentials };
}

export interface CheckerOptions {
  kubeconfig: string;
  /** Time between two listings of one node (default 200 ms). */
  intervalMs?: number;
  /** How long one listing may take before it counts as failed (default 2 s). */
  timeoutMs?: number;
  /** Called on what the checker notices as it goes (a node unreachable, a force deletion). */
  onNote?: (line: string) => void;
}

export interface IdentityChecker {
  ledger: IdentityLedger;
  /** The verdict so far. */
  verdict(): Verdict;
  /** The newest successful listing of a node: when it was asked for, and the uids it showed. */
  lastListing(node: string): { sentAt: number; uids: Set<string> } | undefined;
  /** Stops sampling and watching; returns the final verdict. */
  stop(): Promise<Verdict>;
}

export async function startIdentityChecker(opts: CheckerOptions): Promise<IdentityChecker> {
  const access = readKubeconfig(opts.kubeconfig);
  const interval = opts.intervalMs ?? 200;
  const timeout = opts.timeoutMs ?? 2000;
  const note = opts.onNote ?? (() => {});
  const ledger = new IdentityLedger();
  const agent = new https.Agent({ keepAlive: true, maxSockets: 32, ca: access.caCertPem, ...('certPem' in access.credentials ? { cert: access.credentials.certPem, key: access.credentials.keyPem } : {}) });
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'ordinal-check-identities' };
  if ('token' in access.credentials) headers.Authorization = `Bearer ${access.credentials.token}`;
  let stopped = false;

  const get = (path: string) =>
    new Promise<any>((resolve, reject) => {
      const req = https.request(new URL(path, access.server), { method: 'GET', agent, headers, timeout }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`${res.statusCode}: ${body.slice(0, 200)}`));
          try {
            resolve(JSON.parse(body));
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer in ${timeout} ms`)));
      req.on('error', reject);
      req.end();
    });

  // One polling loop per node, started as nodes appear; a node that is deleted keeps its loop
  // (its runtime may still run what it ran, and the ledger must hear of it if it answers again).
  const loops = new Map<string, Promise<void>>();
  const reachable = new Map<string, boolean>();
  const latest = new Map<string, { sentAt: number; uids: Set<string> }>();
  const pollNode = async (node: string) => {
    while (!stopped) {
      const sentAt = Date.now();
      try {
        const list = await get(`/api/v1/nodes/${encodeURIComponent(node)}/proxy/pods`);
        const pods: RuntimePod[] = (list.items ?? []).map((p: any) => ({ namespace: p.metadata?.namespace ?? 'default', name: p.metadata?.name, uid: p.metadata?.uid })).filter((p: RuntimePod) => p.uid && p.name);
        ledger.addSample({ node, sentAt, receivedAt: Date.now(), pods });
        latest.set(node, { sentAt, uids: new Set(pods.map((p) => p.uid)) });
        if (reachable.get(node) === false) note(`node ${node} answers again`);
        reachable.set(node, true);
      } catch (err) {
        ledger.addSample({ node, sentAt, receivedAt: Date.now(), error: String(err) });
        if (reachable.get(node) !== false) note(`node ${node} cannot be listed: ${(err as Error).message}`);
        reachable.set(node, false);
      }
      await sleep(Math.max(0, interval - (Date.now() - sentAt)));
    }
  };
  const discoverNodes = async () => {
    while (!stopped) {
      try {
        const nodes = await get('/api/v1/nodes');
        for (const n of nodes.items ?? []) {
          const name = n.metadata?.name;
          if (name && !loops.has(name)) loops.set(name, pollNode(name));
        }
      } catch {
        // The API server is away; nodes already known keep being tried.
      }
      await sleep(1000);
    }
  };

  // The API's pods: a list, then a watch that resumes where it left off (the client retries while
  // the server is away); an expired revision means a re-list, and pods missing from it vanished.
  const client = new HttpClient({ servers: [access.server], caCertPem: access.caCertPem, credentials: access.credentials, userAgent: 'ordinal-check-identities', timeoutMs: 10_000 });
  const pods = client.resource('', 'pods');
  let cancelWatch: (() => void) | undefined;
  const listAndWatch = async (): Promise<void> => {
    while (!stopped) {
      try {
        const { items, resourceVersion } = await client.list(pods);
        const present = new Set(items.map((p) => p.metadata.uid));
        const at = Date.now();
        for (const uid of ledger.liveUids()) if (!present.has(uid)) ledger.observeVanished(uid, at);
        for (const p of items) ledger.observePod(p);
        await new Promise<void>((resolve) => {
          cancelWatch = client.watch(
            pods,
            { resourceVersion },
            (type, obj) => {
              if (type === 'DELETED') {
                ledger.observeDeleted(obj, Date.now());
                const f = ledger.forceDeletions().find((d) => d.uid === obj.metadata.uid);
                if (f) note(`force deletion of ${f.namespace}/${f.name} (uid ${f.uid.slice(0, 8)}): ${f.reason}`);
              } else ledger.observePod(obj);
            },
            () => resolve(),
          );
        });
      } catch {
        await sleep(500);
      }
    }
  };

  // The first list completes before the checker counts as started, so no pod predates its knowledge.
  const first = await client.list(pods);
  for (const p of first.items) ledger.observePod(p);
  const watching = listAndWatch();
  const discovering = discoverNodes();
  // Wait for a first listing of the nodes known now, so callers start with a baseline.
  await sleep(0);
  const nodes = await get('/api/v1/nodes').catch(() => ({ items: [] }));
  for (const n of nodes.items ?? []) if (!loops.has(n.metadata.name)) loops.set(n.metadata.name, pollNode(n.metadata.name));

  return {
    ledger,
    verdict: () => ledger.verdict(),
    lastListing: (node) => latest.get(node),
    async stop() {
      stopped = true;
      cancelWatch?.();
      await Promise.race([Promise.all([...loops.values(), discovering]), sleep(timeout + 1000)]);
      void watching;
      client.close();
      agent.destroy();
      return ledger.verdict();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { formatVerdict };
