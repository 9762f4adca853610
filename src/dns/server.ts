// Cluster DNS: answers the cluster's names over UDP and TCP from informer caches of Namespaces,
// Services, EndpointSlices and Pods. It only ever answers; queries outside the cluster and reverse
// zones are refused, never forwarded. Like every component it talks to the API only through the
// client, so it could serve a real cluster as well.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Client } from '../client/client.ts';
import { Informer } from '../client/informer.ts';
import { DNS_SERVICE_IP } from '../apiserver/admission.ts';
import { log } from '../util/log.ts';
import { ClusterIndex } from './cluster-index.ts';
import { canonical, DEFAULT_ANSWER_CONFIG, type AnswerConfig, type PodsMode } from './answer.ts';
import { encodeWithin, formatError, respond, udpLimit } from './message.ts';
import { DnsMetrics } from './metrics.ts';

export interface ClusterDnsOptions {
  /** Port for both UDP and TCP; 0 picks a free one (read it from `port` after start). */
  port: number;
  /** Listen address; loopback by default. */
  host?: string;
  domain?: string;
  /** Seconds; CoreDNS's default is 5. */
  ttl?: number;
  /** Pod A records `<a-b-c-d>.<ns>.pod.<domain>`: 'verified' answers only for existing pods. */
  pods?: PodsMode;
  endpointPodNames?: boolean;
  /** The cluster DNS Service's address (the zone's NS record). */
  nameserverIP?: string;
}

interface Listener {
  host: string;
  udp: dgram.Socket;
  tcp: net.Server;
}

const SYNC_WAIT_MS = 5000;

/** How long an idle TCP connection may stay open (RFC 7766 suggests seconds, not minutes). */
const TCP_IDLE_MS = 10_000;

export class ClusterDns {
  private readonly client: Client;
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly cfg: AnswerConfig;
  private readonly index = new ClusterIndex();
  private readonly informers: Informer[] = [];
  private readonly metricsData = new DnsMetrics();
  private readonly listeners: Listener[] = [];
  private readonly conns = new Set<net.Socket>();
  private boundPort = 0;

  constructor(client: Client, opts: ClusterDnsOptions) {
    this.client = client;
    this.host = opts.host ?? '127.0.0.1';
    this.requestedPort = opts.port;
    this.cfg = {
      ...DEFAULT_ANSWER_CONFIG,
      domain: canonical(opts.domain ?? DEFAULT_ANSWER_CONFIG.domain),
      ttl: opts.ttl ?? DEFAULT_ANSWER_CONFIG.ttl,
      pods: opts.pods ?? DEFAULT_ANSWER_CONFIG.pods,
      endpointPodNames: opts.endpointPodNames ?? false,
      nameserverIP: opts.nameserverIP ?? DNS_SERVICE_IP,
    };
  }

  /** The port the server listens on (after start). */
  get port(): number {
    return this.boundPort;
  }

  /** A read-only view of what the server knows, for tests and diagnostics. */
  get view(): ClusterIndex {
    return this.index;
  }

  async start(): Promise<void> {
    const ix = this.index;
    const watch = (plural: string, group: string, set: (o: any) => void, del: (o: any) => void) => {
      const inf = new Informer(this.client, this.client.resource(group, plural));
      inf.on({ add: set, update: (_old, o) => set(o), delete: del });
      this.informers.push(inf);
      return inf;
    };
    watch('namespaces', '', (o) => ix.setNamespace(o.metadata.name, true), (o) => ix.setNamespace(o.metadata.name, false));
    watch('services', '', (o) => ix.setService(o), (o) => ix.deleteService(o));
    watch('endpointslices', 'discovery.k8s.io', (o) => ix.setSlice(o), (o) => ix.deleteSlice(o));
    // Pods are read only to verify pod names, as CoreDNS watches them only for `pods verified`:
    // a DNS running with a node's credentials (pods insecure) needs no cluster-wide pod list.
    if (this.cfg.pods === 'verified') watch('pods', '', (o) => ix.setPod(o), (o) => ix.deletePod(o));
    await Promise.all(this.informers.map((i) => i.start()));
    // As CoreDNS, wait a while for the caches, then serve anyway: until they have synced a name
    // not found gets SERVFAIL (try again) rather than NXDOMAIN.
    const synced = Promise.all(this.informers.map((i) => i.waitForSync())).then(() => {
      ix.synced = true;
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([synced, new Promise<void>((r) => (timer = setTimeout(r, SYNC_WAIT_MS)))]);
    clearTimeout(timer);
    if (!ix.synced) log('warn', 'dns', 'starting before the API caches have synced');
    try {
      await this.listen();
    } catch (err) {
      this.stop();
      throw err;
    }
    log('info', 'dns', 'cluster DNS serving', { address: `${this.host}:${this.boundPort}`, domain: this.cfg.domain, transports: 'udp,tcp' });
  }

  stop(): void {
    for (const i of this.informers) i.stop();
    for (const l of this.listeners.splice(0)) {
      l.udp.close();
      l.tcp.close();
    }
    for (const c of this.conns) c.destroy();
    this.conns.clear();
  }

  /** Prometheus text for the query counters. */
  metrics(): string {
    return this.metricsData.render();
  }

  /** The encoded response to one raw query, or null when none is due (also used by tests). */
  handle(raw: Buffer, proto: 'udp' | 'tcp'): Buffer | null {
    let query;
    try {
      query = dnsPacket.decode(raw);
    } catch {
      this.metricsData.malformedRequest();
      return formatError(raw);
    }
    const res = respond(this.index, query, this.cfg);
    if (!res) return null;
    this.metricsData.request(proto, res.qtype);
    this.metricsData.response(res.qtype, res.rcode);
    // TCP messages carry a 16-bit length: anything bigger still has to be cut.
    return encodeWithin(res.packet, proto === 'udp' ? udpLimit(query) : 65535);
  }

  private async listen(): Promise<void> {
    // UDP and TCP share one port number: bind UDP first (port 0 picks one), then TCP on it; retry
    // a few times when the picked port happens to be taken for TCP.
    for (let attempt = 0; ; attempt++) {
      try {
        this.listeners.push(await this.bindBoth(this.host, this.requestedPort));
        return;
      } catch (err) {
        if (this.requestedPort === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
        throw listenError(err, this.host, this.requestedPort);
      }
    }
  }

  /**
   * Serves on one more address, on the same port: for example the pod network's gateway once the
   * container runtime has made the bridge, so pods reach DNS without leaving their network.
   */
  /** Also answers on host:port (default: the loopback listener's port). */
  async listenOn(host: string, port = this.boundPort): Promise<void> {
    if (!this.boundPort || port === undefined) throw new Error('cluster DNS is not started');
    if (this.listeners.some((l) => l.host === host)) return;
    const keep = this.boundPort;
    try {
      this.listeners.push(await this.bindBoth(host, port));
    } catch (err) {
      throw listenError(err, host, port);
    } finally {
      this.boundPort = keep;
    }
    log('info', 'dns', 'cluster DNS serving', { address: `${host}:${port}` });
  }

  private async bindBoth(host: string, port: number): Promise<Listener> {
    const udp = await bindUdp(host, port);
    const bound = udp.address().port;
    let tcp: net.Server;
    try {
      tcp = await listenTcp(host, bound, (sock) => this.serveTcp(sock));
    } catch (err) {
      udp.close();
      throw err;
    }
    udp.on('message', (msg, rinfo) => {
      const out = this.safeHandle(msg, 'udp');
      if (out) udp.send(out, rinfo.port, rinfo.address);
    });
    this.boundPort = bound;
    return { host, udp, tcp };
  }

  private safeHandle(msg: Buffer, proto: 'udp' | 'tcp'): Buffer | null {
    try {
      return this.handle(msg, proto);
    } catch (err) {
      log('warn', 'dns', 'query failed', { error: String(err) });
      return null;
    }
  }

  // DNS over TCP: each message is prefixed with its length; a connection may carry many.
  private serveTcp(sock: net.Socket): void {
    this.conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const out = this.safeHandle(msg, 'tcp');
        if (!out) continue;
        const frame = Buffer.alloc(2 + out.length);
        frame.writeUInt16BE(out.length, 0);
        out.copy(frame, 2);
        sock.write(frame);
      }
    });
  }
}

function listenError(err: unknown, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied (ports below 1024 need root)' : String(err);
  return new Error(`cluster DNS cannot listen on ${host}:${port}: ${why}; choose another port with --dns-port`);
}

function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind(port, host, () => {
      s.off('error', reject);
      s.on('error', (err) => log('warn', 'dns', 'udp socket error', { error: String(err) }));
      resolve(s);
    });
  });
}

function listenTcp(host: string, port: number, onConn: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer(onConn);
    srv.once('error', reject);
    srv.listen(port, host, () => {
      srv.off('error', reject);
      resolve(srv);
    });
  });
}

/**
 * The DNS port `ordinal up` should use by default: 53 when running as root (so `dig @127.0.0.1`
 * and pods work without a port), else an unprivileged one.
 */
export function defaultDnsPort(): number {
  return process.getuid?.() === 0 ? 53 : 10053;
}
