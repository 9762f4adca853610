// Counters for the DNS server in Prometheus text format, named after CoreDNS's so dashboards
// read the same: requests by transport and type, responses by type and rcode.

export class DnsMetrics {
  private readonly requests = new Map<string, number>();
  private readonly responses = new Map<string, number>();
  private malformed = 0;

  request(proto: 'udp' | 'tcp', type: string): void {
    const k = `proto="${proto}",type="${labelValue(type)}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  response(type: string, rcode: string): void {
    const k = `type="${labelValue(type)}",rcode="${rcode}"`;
    this.responses.set(k, (this.responses.get(k) ?? 0) + 1);
  }

  malformedRequest(): void {
    this.malformed++;
  }

  render(): string {
    const lines = [
      '# HELP ordinal_dns_requests_total DNS queries received, by transport and query type.',
      '# TYPE ordinal_dns_requests_total counter',
      ...[...this.requests].map(([k, v]) => `ordinal_dns_requests_total{${k}} ${v}`),
      '# HELP ordinal_dns_responses_total DNS responses sent, by query type and response code.',
      '# TYPE ordinal_dns_responses_total counter',
      ...[...this.responses].map(([k, v]) => `ordinal_dns_responses_total{${k}} ${v}`),
      '# HELP ordinal_dns_malformed_requests_total Messages that could not be decoded as DNS queries.',
      '# TYPE ordinal_dns_malformed_requests_total counter',
      `ordinal_dns_malformed_requests_total ${this.malformed}`,
    ];
    return lines.join('\n') + '\n';
  }
}

// Types come from the wire: keep the label value printable and bounded.
const labelValue = (s: string) => (/^[A-Z0-9_]{1,16}$/.test(s) ? s : 'other');
