// A simulated node agent in its own process, logged in with a cluster's admin kubeconfig, so a test
// can freeze it (SIGSTOP) or kill it apart from the server: `node sim-agent-child.ts KUBECONFIG
// NODE POD_CIDR INTERNAL_IP`. Prints "agent ready" once its node is registered.
import { readFileSync } from 'node:fs';
import { HttpClient } from '../../src/client/http-client.ts';
import { NodeAgent } from '../../src/agent/agent.ts';
import { SimRuntime } from '../../src/agent/runtime/sim.ts';

const [kubeconfig, nodeName, podCIDR, internalIP] = process.argv.slice(2);
const text = readFileSync(kubeconfig!, 'utf8');
const field = (name: string) => Buffer.from(new RegExp(`${name}: (\\S+)`).exec(text)![1]!, 'base64').toString('utf8');
const server = JSON.parse(/server: (".*")/.exec(text)![1]!);
const client = new HttpClient({
  servers: [server],
  caCertPem: field('certificate-authority-data'),
  credentials: { certPem: field('client-certificate-data'), keyPem: field('client-key-data') },
  userAgent: `sim-agent/${nodeName}`,
});
// Renewals well inside the tests' short grace periods, as the kubelet's 10 s are inside the default 50 s.
const agent = new NodeAgent(client, { nodeName: nodeName!, runtime: new SimRuntime({ startDelayMs: 0 }), podCIDR, internalIP: internalIP!, leaseRenewMs: 1000, nodeStatusReportMs: 2000 });
await agent.start();
process.stdout.write('agent ready\n');
process.on('SIGTERM', () => {
  agent.stop();
  client.close();
  process.exit(0);
});
