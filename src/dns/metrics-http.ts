// CoreDNS serves Prometheus metrics on :9153 (the kube-dns Service's `metrics` port); a node's
// cluster DNS does the same at the addresses it answers on.
import http from 'node:http';
import type { ClusterDns } from './server.ts';

export const DNS_METRICS_PORT = 9153;

/** Listens on host:port and answers GET /metrics with the DNS server's counters; resolves to a closer. */
export function serveDnsMetrics(dns: ClusterDns, host: string, port = DNS_METRICS_PORT): Promise<() => void> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://x').pathname !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(dns.metrics());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(() => {
        server.closeAllConnections();
        server.close();
      });
    });
  });
}
