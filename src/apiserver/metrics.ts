// Prometheus text exposition for the API server's request counters and latencies.

const requests = new Map<string, number>();
const latencySum = new Map<string, number>();
const latencyBuckets = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5];
const latencyCounts = new Map<string, number[]>();

export function observeRequest(verb: string, resource: string, code: number, seconds: number): void {
  const k = `verb="${verb}",resource="${resource}",code="${code}"`;
  requests.set(k, (requests.get(k) ?? 0) + 1);
  const lk = `verb="${verb}",resource="${resource}"`;
  latencySum.set(lk, (latencySum.get(lk) ?? 0) + seconds);
  let counts = latencyCounts.get(lk);
  if (!counts) latencyCounts.set(lk, (counts = new Array(latencyBuckets.length + 1).fill(0)));
  let i = 0;
  while (i < latencyBuckets.length && seconds > latencyBuckets[i]) i++;
  counts[i]++;
}

/** Renderers of other components in this process (e.g. controllers), whose exposition text is appended to /metrics. */
const sources = new Set<() => string>();

/** Adds a component's metrics to this process's /metrics (the same function twice counts once); returns the remover. */
export function registerMetricsSource(render: () => string): () => void {
  sources.add(render);
  return () => sources.delete(render);
}

export function renderMetrics(extra: Record<string, number> = {}): string {
  const lines: string[] = [];
  lines.push('# HELP apiserver_request_total Requests by verb, resource and HTTP code.', '# TYPE apiserver_request_total counter');
  for (const [k, v] of requests) lines.push(`apiserver_request_total{${k}} ${v}`);
  lines.push('# HELP apiserver_request_duration_seconds Request latency.', '# TYPE apiserver_request_duration_seconds histogram');
  for (const [k, counts] of latencyCounts) {
    let cum = 0;
    latencyBuckets.forEach((b, i) => {
      cum += counts[i];
      lines.push(`apiserver_request_duration_seconds_bucket{${k},le="${b}"} ${cum}`);
    });
    cum += counts[latencyBuckets.length];
    lines.push(`apiserver_request_duration_seconds_bucket{${k},le="+Inf"} ${cum}`);
    lines.push(`apiserver_request_duration_seconds_sum{${k}} ${latencySum.get(k)}`);
    lines.push(`apiserver_request_duration_seconds_count{${k}} ${cum}`);
  }
  const mem = process.memoryUsage();
  lines.push('# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
  for (const [k, v] of Object.entries(extra)) lines.push(`# TYPE ${k} gauge`, `${k} ${v}`);
  let out = lines.join('\n') + '\n';
  for (const render of sources) out += render();
  return out;
}
