// The authorizer chain on its own, without the rest of a cluster, so that its cost can be seen
// apart from the noise of a shared machine: the default policy (as `ordinal up` reconciles it) and
// the questions a Parallel 0 → N StatefulSet scale-up asks of it, in the order the in-process
// components ask them (controllers as their service accounts, the scheduler, each node agent as
// its node), replayed against the chain of each checkout given, alternately.
//   node bench/authz-decisions.ts [--roots /work/wt-authz-base,/work/wt-authz] [--pods 1000] [--rounds 7]
// Prints µs per decision (median over rounds) per checkout.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const here = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { roots: { type: 'string' }, pods: { type: 'string' }, rounds: { type: 'string' } } });
const ROOTS = (values.roots ?? here).split(',').map((r) => resolve(r));
const PODS = Number(values.pods ?? 1000);
const ROUNDS = Number(values.rounds ?? 7);

type Attrs = Record<string, any>;
const sa = (name: string) => ({ user: `system:serviceaccount:kube-system:${name}`, groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] });
const node = (i: number) => ({ user: `system:node:node-${i}`, groups: ['system:nodes', 'system:authenticated'] });
const SCHEDULER = { user: 'system:kube-scheduler', groups: ['system:authenticated'] };

function ask(user: object, verb: string, group: string, resource: string, name = '', subresource = '', namespace = 'default'): Attrs {
  return { user, verb, resourceRequest: true, path: '', namespace, apiGroup: group, apiVersion: 'v1', resource, subresource, name };
}

/** The questions of one scale-up, pod by pod, as the components ask them. */
function workload(n: number, prefix: string): Attrs[] {
  const out: Attrs[] = [];
  const sts = sa('statefulset-controller');
  const pv = sa('persistent-volume-binder');
  const ep = sa('endpoint-controller');
  const eps = sa('endpointslice-controller');
  for (let i = 0; i < n; i++) {
    const pod = `${prefix}web-${i}`;
    const claim = `www-${prefix}web-${i}`;
    const nd = node(i % 10);
    out.push(ask(sts, 'create', '', 'persistentvolumeclaims'));
    out.push(ask(sts, 'create', '', 'pods'));
    out.push(ask(sts, 'create', '', 'events'));
    out.push(ask(pv, 'create', '', 'persistentvolumes', '', '', ''));
    out.push(ask(pv, 'update', '', 'persistentvolumeclaims', claim));
    out.push(ask(pv, 'update', '', 'persistentvolumeclaims', claim, 'status'));
    out.push(ask(pv, 'update', '', 'persistentvolumes', `pvc-${prefix}${i}`, 'status', ''));
    out.push(ask(SCHEDULER, 'create', '', 'pods', pod, 'binding'));
    out.push(ask(SCHEDULER, 'create', 'events.k8s.io', 'events'));
    out.push(ask(nd, 'get', '', 'persistentvolumeclaims', claim));
    out.push(ask(nd, 'patch', '', 'pods', pod, 'status'));
    out.push(ask(nd, 'patch', '', 'pods', pod, 'status'));
    out.push(ask(nd, 'create', '', 'events'));
    out.push(ask(sts, 'update', 'apps', 'statefulsets', 'web', 'status'));
    out.push(ask(ep, 'update', '', 'endpoints', 'web'));
    out.push(ask(eps, 'update', 'discovery.k8s.io', 'endpointslices', 'web-abcde'));
  }
  return out;
}

/** The pods bound to their nodes, with their claims, as the Node authorizer's graph sees them during the scale-up. */
function bindPods(chain: any, n: number, prefix: string) {
  for (let i = 0; i < n; i++) {
    chain.graph.setPod({ metadata: { name: `${prefix}web-${i}`, namespace: 'default', uid: `${prefix}u${i}` }, spec: { nodeName: `node-${i % 10}`, volumes: [{ name: 'www', persistentVolumeClaim: { claimName: `www-${prefix}web-${i}` } }] } });
  }
}

async function chainOf(root: string) {
  const m = (p: string) => import(join(root, 'src/apiserver/authorization', p));
  const { bootstrapPolicy } = await m('bootstrap-policy.ts');
  const { RbacAuthorizer, memorySource } = await m('rbac.ts');
  const { AuthorizerChain } = await m('chain.ts');
  const { NodeAuthorizer } = await m('node/authorizer.ts');
  const p = bootstrapPolicy();
  const rbac = new RbacAuthorizer(memorySource([...p.clusterRoles, ...p.clusterRoleBindings, ...p.roles, ...p.roleBindings]));
  const nodeAuthz = new NodeAuthorizer();
  return { chain: new AuthorizerChain([nodeAuthz, rbac]), graph: nodeAuthz.graph };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const chains = await Promise.all(ROOTS.map((r) => chainOf(r)));
  let questions: Attrs[] = [];
  const times: number[][] = ROOTS.map(() => []);
  const allowed = ROOTS.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    // New names every round: as in a real scale-up, no two rounds ask about the same objects.
    const prefix = `r${round}-`;
    questions = workload(PODS, prefix);
    for (const c of chains) bindPods(c, PODS, prefix);
    for (let k = 0; k < ROOTS.length; k++) {
      allowed[k] = 0;
      const chain = chains[k]!.chain;
      const t0 = process.cpuUsage();
      for (const q of questions) if (chain.authorize(q).decision === 'Allow') allowed[k]!++;
      const used = process.cpuUsage(t0);
      times[k]!.push(((used.user + used.system) / questions.length));
    }
  }
  console.log(`authz-decisions: ${questions.length} questions (Parallel 0 → ${PODS}, 10 nodes), ${ROUNDS} rounds, CPU µs per decision`);
  ROOTS.forEach((r, k) => console.log(`  ${r}: median ${median(times[k]!).toFixed(3)} µs (${times[k]!.map((t) => t.toFixed(3)).join(', ')}); ${allowed[k]} of ${questions.length} allowed`));
}

await main();
