// The listeners on ClusterIP:port. TCP: each accepted connection is joined to a new connection to
// a backend (the next one is tried when a backend refuses, as kube-proxy's userspace mode did).
// UDP: each client address gets its own socket towards its backend, and replies go back to the
// client from the ClusterIP:port it wrote to; a session ends after UDP_IDLE_MS without traffic (the
// kernel's conntrack timeout for UDP, which iptables-mode services live by).
import dgram from 'node:dgram';
import net from 'node:net';
import { log } from '../../util/log.ts';
import { Balancer } from './balancer.ts';
import type { Backend, ListenerPlan } from './plan.ts';

export const UDP_IDLE_MS = 30_000;
const CONNECT_TIMEOUT_MS = 5_000;

export interface Forwarder {
  readonly plan: ListenerPlan;
  /** New backends or affinity for the same ClusterIP:port; running sessions keep theirs. */
  update(plan: ListenerPlan): void;
  close(): void;
}

/**
 * Which local address a connection to a backend leaves from. Pods on other nodes only have routes
 * to the cluster's pod range (no default route), so the node must reach them from its address on
 * the pod network, its bridge's, for their answers to find the way back (host-gw routes).
 */
export type SourceFor = (backendHost: string) => string | undefined;

export async function openForwarder(plan: ListenerPlan, sourceFor: SourceFor = () => undefined): Promise<Forwarder> {
  return plan.protocol === 'TCP' ? TcpForwarder.open(plan, sourceFor) : UdpForwarder.open(plan, sourceFor);
}

class TcpForwarder implements Forwarder {
  plan: ListenerPlan;
  private readonly server: net.Server;
  private readonly balancer: Balancer;
  private readonly sockets = new Set<net.Socket>();

  private readonly sourceFor: SourceFor;

  private constructor(plan: ListenerPlan, server: net.Server, sourceFor: SourceFor) {
    this.plan = plan;
    this.server = server;
    this.sourceFor = sourceFor;
    this.balancer = new Balancer(plan.backends, plan.affinitySeconds);
    server.on('connection', (s) => this.accept(s));
    server.on('error', (err) => log('warn', 'service-proxy', 'listener error', { listener: plan.key, error: String(err) }));
  }

  static open(plan: ListenerPlan, sourceFor: SourceFor): Promise<TcpForwarder> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
      server.once('error', reject);
      server.listen({ host: plan.ip, port: plan.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve(new TcpForwarder(plan, server, sourceFor));
      });
    });
  }

  update(plan: ListenerPlan): void {
    this.plan = plan;
    this.balancer.update(plan.backends, plan.affinitySeconds);
  }

  close(): void {
    this.server.close();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
  }

  private accept(client: net.Socket): void {
    this.track(client);
    const clientIP = client.remoteAddress ?? '';
    const candidates = this.balancer.pick(clientIP, Date.now());
    const attempt = (i: number) => {
      if (client.destroyed) return;
      const backend = candidates[i];
      if (!backend) {
        // Every backend refused: the client sees its connection reset.
        client.resetAndDestroy();
        return;
      }
      const localAddress = this.sourceFor(backend.host);
      const upstream = net.connect({ host: backend.host, port: backend.port, allowHalfOpen: true, ...(localAddress ? { localAddress } : {}) });
      this.track(upstream);
      upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error('connect timeout')));
      const failed = (err: Error) => {
        this.balancer.failed(backend, Date.now());
        log('debug', 'service-proxy', 'backend failed, trying the next', { service: this.plan.service, backend: `${backend.host}:${backend.port}`, error: err.message });
        attempt(i + 1);
      };
      upstream.once('error', failed);
      upstream.once('connect', () => {
        upstream.off('error', failed);
        upstream.setTimeout(0);
        this.balancer.settled(clientIP, backend, Date.now());
        join(client, upstream);
      });
    };
    attempt(0);
  }
}

/** Both directions, half-closes passed on; a reset on one side resets the other. */
function join(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  a.on('error', () => b.resetAndDestroy());
  b.on('error', () => a.resetAndDestroy());
  a.on('close', () => b.destroySoon());
  b.on('close', () => a.destroySoon());
  a.resume();
}

interface UdpSession {
  socket: dgram.Socket;
  backend: Backend;
  timer?: NodeJS.Timeout;
}

class UdpForwarder implements Forwarder {
  plan: ListenerPlan;
  private readonly socket: dgram.Socket;
  private readonly balancer: Balancer;
  private readonly sessions = new Map<string, UdpSession>();

  private readonly sourceFor: SourceFor;

  private constructor(plan: ListenerPlan, socket: dgram.Socket, sourceFor: SourceFor) {
    this.sourceFor = sourceFor;
    this.plan = plan;
    this.socket = socket;
    this.balancer = new Balancer(plan.backends, plan.affinitySeconds);
    socket.on('message', (msg, rinfo) => this.fromClient(msg, rinfo));
    socket.on('error', (err) => log('warn', 'service-proxy', 'listener error', { listener: plan.key, error: String(err) }));
  }

  static open(plan: ListenerPlan, sourceFor: SourceFor): Promise<UdpForwarder> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', reject);
      socket.bind({ address: plan.ip, port: plan.port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve(new UdpForwarder(plan, socket, sourceFor));
      });
    });
  }

  update(plan: ListenerPlan): void {
    this.plan = plan;
    this.balancer.update(plan.backends, plan.affinitySeconds);
  }

  close(): void {
    this.socket.close();
    for (const s of this.sessions.values()) this.endSession(s);
    this.sessions.clear();
  }

  private endSession(s: UdpSession): void {
    clearTimeout(s.timer);
    try {
      s.socket.close();
    } catch {
      // already closed
    }
  }

  private fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    let session = this.sessions.get(key);
    if (!session) {
      const backend = this.balancer.pick(rinfo.address, Date.now())[0];
      if (!backend) return;
      const socket = dgram.createSocket('udp4');
      // Sends made while the bind is under way are queued by dgram.
      const localAddress = this.sourceFor(backend.host);
      if (localAddress) socket.bind({ address: localAddress, port: 0 });
      const s: UdpSession = { socket, backend };
      socket.on('message', (reply, from) => {
        // Only the backend's answers go back to the client.
        if (from.address !== backend.host || from.port !== backend.port) return;
        this.socket.send(reply, rinfo.port, rinfo.address);
        this.touch(key);
      });
      socket.on('error', () => {
        if (this.sessions.get(key) === s) this.sessions.delete(key);
        this.endSession(s);
      });
      this.sessions.set(key, (session = s));
    }
    this.touch(key);
    session.socket.send(msg, session.backend.port, session.backend.host);
  }

  private touch(key: string): void {
    const s = this.sessions.get(key);
    if (!s) return;
    clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      if (this.sessions.get(key) === s) this.sessions.delete(key);
      this.endSession(s);
    }, UDP_IDLE_MS);
    s.timer.unref();
  }
}
