// Watch fan-out: W watchers of all pods (each on its own HTTPS connection, as W separate clients
// would be) while the bench creates N pods. Figures:
//   - create sent → ADDED seen by each watcher (p50/p99 over all watchers and pods): the whole path
//     of a write to every watcher, commit included;
//   - spread: for every event, its arrival at a watcher minus its first arrival at any watcher
//     (p50/p99): what serving one more watcher costs;
//   - the server's RSS before, peak and after, and its CPU.
// Watchers read only the name and resourceVersion of each event (by pattern, not JSON.parse), so
// that the bench client, which shares the machine, spends as little as it can per event.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FanoutTarget {
  url: string;
  dataDir: string;
  send(method: string, path: string, body?: unknown, contentType?: string): Promise<any>;
}

export interface FanoutFigures {
  watchers: number;
  pods: number;
  events: number;
  /** µs, create request sent → ADDED arrival, over every watcher and pod. */
  added: number[];
  /** µs, arrival − first arrival of the same event, over every watcher and event. */
  spread: number[];
  seconds: number;
  missing: number;
}

const now = () => Number(process.hrtime.bigint() / 1000n);

/** Opens one raw watch; `onLine` gets each event line with the arrival time of its chunk. */
function rawWatch(target: FanoutTarget, path: string, onLine: (line: string, arrived: number) => void): Promise<() => void> {
  const pki = join(target.dataDir, 'pki');
  const u = new URL(target.url);
  const tls = { ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) };
  return new Promise((resolve, reject) => {
    const req = https.request({ host: u.hostname, port: u.port, path, method: 'GET', agent: false, ...tls, headers: { Accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`watch ${path}: ${res.statusCode}`));
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        const t = now();
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line) onLine(line, t);
        }
      });
      res.on('error', () => {});
      resolve(() => req.destroy());
    });
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
    req.end();
  });
}

/** Runs make(0..n-1) with at most `limit` in flight. */
async function pool(n: number, limit: number, make: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await make(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

export async function watchFanout(target: FanoutTarget, opts: { watchers: number; pods: number; namespace: string; timeoutS: number; image: string }): Promise<FanoutFigures> {
  const { watchers, pods, namespace } = opts;
  const prefix = `fan-${Date.now().toString(36)}-`;
  const sentAt = new Map<string, number>();
  /** Per event (resourceVersion): first arrival at any watcher. */
  const firstArrival = new Map<string, number>();
  const arrivals: { rv: string; t: number }[] = [];
  const added: number[] = [];
  const seenAdded = new Array<number>(watchers).fill(0);
  let done = () => {};
  const finished = new Promise<void>((r) => (done = r));
  let complete = 0;
  const stops: (() => void)[] = [];
  for (let w = 0; w < watchers; w++) {
    stops.push(
      await rawWatch(target, `/api/v1/pods?watch=true&resourceVersion=0&allowWatchBookmarks=false`, (line, t) => {
        const name = /"name":"([^"]+)"/.exec(line)?.[1];
        if (!name?.startsWith(prefix)) return;
        const rv = /"resourceVersion":"(\d+)"/.exec(line)?.[1];
        if (!rv) return;
        arrivals.push({ rv, t });
        const first = firstArrival.get(rv);
        if (first === undefined || t < first) firstArrival.set(rv, t);
        if (line.startsWith('{"type":"ADDED"')) {
          const sent = sentAt.get(name);
          if (sent !== undefined) added.push(t - sent);
          if (++seenAdded[w] === pods && ++complete === watchers) done();
        }
      }),
    );
  }
  const t0 = now();
  try {
    const pod = (i: number) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${prefix}${i}`, labels: { app: 'fanout' } },
      spec: { containers: [{ name: 'c', image: opts.image }] },
    });
    await pool(pods, 32, async (i) => {
      sentAt.set(`${prefix}${i}`, now());
      await target.send('POST', `/api/v1/namespaces/${namespace}/pods`, pod(i));
    });
    let timer: NodeJS.Timeout | undefined;
    const missing = await Promise.race([
      finished.then(() => 0),
      new Promise<number>((r) => (timer = setTimeout(() => r(watchers * pods - seenAdded.reduce((a, b) => a + b, 0)), opts.timeoutS * 1000))),
    ]);
    clearTimeout(timer);
    // Later events of the same pods (binding, status) still arrive: give them a moment.
    await new Promise((r) => setTimeout(r, 2000));
    const spread = arrivals.map((a) => a.t - firstArrival.get(a.rv)!);
    return { watchers, pods, events: firstArrival.size, added, spread, seconds: (now() - t0) / 1e6, missing };
  } finally {
    for (const s of stops) s();
  }
}
