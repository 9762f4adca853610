// Durable writes by resource, subresource and verb, counted where the API server hands them to the
// store: the benchmarks divide them by the pods a case made (writes per pod) to tell how far a
// figure is from what the store's commit rate allows. In-process clients skip the HTTP layer, so
// the request counters cannot tell this; the store's revision gives only the total.

const counts = new Map<string, number>();

/** One write that reached the store (not a no-op, not a dry run); `resource` may carry '/subresource'. */
export function countStoreWrite(verb: 'create' | 'update' | 'delete', resource: string): void {
  const k = `verb="${verb}",resource="${resource}"`;
  counts.set(k, (counts.get(k) ?? 0) + 1);
}

/** Prometheus lines for /metrics. */
export function storeWriteMetricLines(): string[] {
  const lines = ['# HELP ordinal_store_writes_total Writes the API server committed to the store, by verb and resource.', '# TYPE ordinal_store_writes_total counter'];
  for (const [k, v] of counts) lines.push(`ordinal_store_writes_total{${k}} ${v}`);
  return lines;
}

/** The exposition text, for registerMetricsSource (one function: registering it again counts once). */
export function renderStoreWrites(): string {
  return storeWriteMetricLines().join('\n') + '\n';
}
