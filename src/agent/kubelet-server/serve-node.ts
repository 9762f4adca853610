// The agent's side of joining from another process or machine: start the kubelet server for a
// NodeAgent and make the Node say where it listens, so the API server can reach its pods.
import type { NodeAgent } from '../agent.ts';
import { startKubeletServer, type KubeletServer } from './server.ts';

export interface ServeNodeOptions {
  /** The address to listen on: the node's InternalIP (or 0.0.0.0) so the API server reaches it. */
  host: string;
  /** Default 10250, the kubelet's; 0 picks a free port. */
  port?: number;
  /** The cluster CA: the API server's client certificate must chain to it. */
  caCertPem: string;
  /** The node's serving pair; without one a self-signed pair is made, as the kubelet does. */
  servingCertPem?: string;
  servingKeyPem?: string;
}

/**
 * Starts the node's kubelet server and records its port in the agent's Node status
 * (status.daemonEndpoints.kubeletEndpoint.Port). Call before agent.start() so the Node registers
 * with the right port at once; later works too (the next status update carries it).
 */
export async function serveNode(agent: NodeAgent, opts: ServeNodeOptions): Promise<KubeletServer> {
  const server = await startKubeletServer({
    host: opts.host,
    port: opts.port ?? 10250,
    streaming: agent.streaming,
    // What the runtime really runs, not what the API binds here: the listing a checker can trust.
    listPods: () => agent.runningPods(),
    caCertPem: opts.caCertPem,
    servingCertPem: opts.servingCertPem,
    servingKeyPem: opts.servingKeyPem,
    nodeName: agent.nodeName,
  });
  agent.setKubeletPort(server.port);
  return server;
}
