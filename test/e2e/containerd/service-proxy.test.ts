// Services by ClusterIP with real containers: the node holds its cluster's ClusterIPs and proxies
// them to ready endpoints (TCP and UDP), pods resolve names at the kube-dns ClusterIP answered by
// the node itself, and a pod talks to the API server through https://kubernetes.default.svc with
// its mounted token and CA. Root only; skips with the reason elsewhere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { kubectl, kubectlOk, waitUntil, type Cluster } from '../../integration/harness.ts';
import { realClusterUnavailable, startRealCluster, type RealCluster } from './real-cluster.ts';
import { standardImages } from '../images/build.ts';
import { NET_TOOLS_IMAGE, netToolsImage, netToolsUnavailable } from '../images/net-tools.ts';
import { dummyInterfaceFor } from '../../../src/agent/service-proxy/host-network.ts';
import { parseServiceCidr } from '../../../src/apiserver/service-network.ts';

const skip = realClusterUnavailable() ?? netToolsUnavailable();
const SA = '/var/run/secrets/kubernetes.io/serviceaccount';

const MANIFEST = `
apiVersion: v1
kind: Service
metadata: {name: nginx, labels: {app: nginx}}
spec:
  clusterIP: None
  selector: {app: nginx}
  ports: [{name: web, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: nginx-cip}
spec:
  selector: {app: nginx}
  ports: [{name: http, port: 80, targetPort: web}]
---
apiVersion: v1
kind: Service
metadata: {name: names-udp}
spec:
  selector: {app: nginx}
  ports: [{name: names, port: 5300, protocol: UDP, targetPort: 9999}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: nginx
  replicas: 3
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: nginx
        image: ${NET_TOOLS_IMAGE}
        command: [/usr/local/bin/fg, sh, -c, 'mkdir -p /srv/www && hostname > /srv/www/index.html && (udp-hostname serve 9999 &) && exec httpd -f -p 80 -h /srv/www']
        ports: [{name: web, containerPort: 80}]
        readinessProbe:
          exec: {command: [sh, -c, 'test ! -e /tmp/unready']}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ${NET_TOOLS_IMAGE}
    command: [sleep, '3600']
`;

describe('Services by ClusterIP on a real node', { skip: skip ? `real containers: ${skip}` : false, timeout: 240_000 }, () => {
  let real: RealCluster;
  let c: Cluster;
  let ok = true;
  const ip = async (ns: string, name: string) => (await kubectlOk(c, ['get', 'svc', '-n', ns, name, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  const sh = async (script: string) => kubectlOk(c, ['exec', 'client', '--', 'sh', '-c', script]);
  /** Hostnames answering n fetches of url from the client pod (one wget per fetch: a new connection each). */
  const fetchHosts = async (url: string, n: number) =>
    (await sh(`for i in $(seq 1 ${n}); do timeout 5 wget -q -O - ${url} || echo FAILED; done`)).trim().split('\n');

  before(async () => {
    real = await startRealCluster({ images: [...standardImages(), netToolsImage()] });
    c = real.cluster;
    await kubectlOk(c, ['apply', '-f', '-'], { input: MANIFEST });
    await waitUntil(
      async () => {
        const r = await kubectl(c, ['get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}']);
        return ['web-0', 'web-1', 'web-2', 'client'].every((p) => r.stdout.includes(`${p}=True`));
      },
      90_000,
      () => `pods Ready:\n${c.logs().slice(-3000)}`,
    );
  });

  after(async () => {
    if (!real) return;
    if (!ok) real.dumpLogs();
    const dummy = dummyInterfaceFor(real.net.bridge);
    await real.stop();
    // Nothing of the node's service network is left behind.
    assert.throws(() => execFileSync('ip', ['link', 'show', 'dev', dummy], { stdio: 'pipe' }));
    assert.equal(execFileSync('ip', ['route', 'show', real.net.serviceCIDR], { encoding: 'utf8' }).trim(), '');
  });

  const step = (name: string, fn: () => Promise<void>) =>
    it(name, { timeout: 60_000 }, async () => {
      try {
        await fn();
      } catch (err) {
        ok = false;
        throw err;
      }
    });

  step('the node holds ClusterIPs on its dummy interface and blackholes the rest of the service CIDR', async () => {
    const net = parseServiceCidr(real.net.serviceCIDR);
    const dummy = dummyInterfaceFor(real.net.bridge);
    const held = execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', dummy], { encoding: 'utf8' });
    for (const a of [net.kubernetesIP, net.dnsIP, await ip('default', 'nginx-cip'), await ip('default', 'names-udp')]) assert.match(held, new RegExp(`inet ${a.replace(/\./g, '\\.')}/32`));
    assert.match(execFileSync('ip', ['route', 'show', 'type', 'blackhole'], { encoding: 'utf8' }), new RegExp(`blackhole ${net.cidr.replace(/\./g, '\\.')}`));
    // kube-dns and the kubernetes Service as upstream has them.
    assert.equal(await ip('kube-system', 'kube-dns'), net.dnsIP);
    assert.equal(await ip('default', 'kubernetes'), net.kubernetesIP);
    const eps = JSON.parse(await kubectlOk(c, ['get', 'endpoints', 'kubernetes', '-o', 'json']));
    assert.equal(eps.subsets[0].ports[0].port, Number(new URL(c.url).port));
    assert.doesNotMatch(eps.subsets[0].addresses[0].ip, /^127\./);
  });

  step('a ClusterIP Service balances over the ready pods, by address and by name', async () => {
    const cip = await ip('default', 'nginx-cip');
    const hosts = await fetchHosts(`http://${cip}/`, 9);
    assert.deepEqual([...new Set(hosts)].sort(), ['web-0', 'web-1', 'web-2'], hosts.join(','));
    const byName = await fetchHosts('http://nginx-cip.default.svc.cluster.local/', 6);
    assert.deepEqual([...new Set(byName)].sort(), ['web-0', 'web-1', 'web-2'], byName.join(','));
    // The search path of the pod's resolv.conf, as the tutorials use short names.
    assert.ok((await fetchHosts('http://nginx-cip/', 1))[0]!.startsWith('web-'));
  });

  step('a pod that is not ready gets no traffic', async () => {
    await kubectlOk(c, ['exec', 'web-2', '--', 'touch', '/tmp/unready']);
    await waitUntil(
      async () => (await kubectl(c, ['get', 'pod', 'web-2', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'False',
      20_000,
      () => 'web-2 NotReady',
    );
    // The proxy follows the EndpointSlice; give it the moment the slice takes to change.
    await waitUntil(async () => {
      const slices = JSON.parse(await kubectlOk(c, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=nginx-cip', '-o', 'json']));
      const eps = slices.items.flatMap((s: { endpoints?: unknown[] }) => s.endpoints ?? []) as { targetRef?: { name: string }; conditions?: { ready?: boolean } }[];
      return eps.some((e) => e.targetRef?.name === 'web-2' && e.conditions?.ready === false);
    }, 20_000, () => 'web-2 not ready in the EndpointSlice');
    await new Promise((r) => setTimeout(r, 500));
    const hosts = await fetchHosts(`http://${await ip('default', 'nginx-cip')}/`, 8);
    assert.deepEqual([...new Set(hosts)].sort(), ['web-0', 'web-1'], hosts.join(','));
  });

  step('a UDP Service answers from its ready pods', async () => {
    const uip = await ip('default', 'names-udp');
    // Each ask comes from a new source port: a new session, balanced anew.
    const hosts = (await sh(`for i in $(seq 1 6); do udp-hostname ask ${uip} 5300 || echo FAILED; done`)).trim().split('\n');
    assert.deepEqual([...new Set(hosts)].sort(), ['web-0', 'web-1'], hosts.join(','));
  });

  step('cluster DNS answers at the kube-dns ClusterIP, which is the pods\' nameserver', async () => {
    const dnsIP = parseServiceCidr(real.net.serviceCIDR).dnsIP;
    assert.match(await sh('cat /etc/resolv.conf'), new RegExp(`^nameserver ${dnsIP.replace(/\./g, '\\.')}$`, 'm'));
    const out = await sh(`nslookup nginx-cip.default.svc.cluster.local ${dnsIP}`);
    assert.match(out, new RegExp(`Address:? ${(await ip('default', 'nginx-cip')).replace(/\./g, '\\.')}`));
    assert.match(await sh(`nslookup web-0.nginx.default.svc.cluster.local ${dnsIP}`), /Address:? 10\.244\./);
    // kube-dns's metrics port, as CoreDNS serves it.
    assert.match(await sh(`timeout 5 wget -q -O - http://${dnsIP}:9153/metrics`), /ordinal_dns_requests_total\{proto="udp",type="A"\} [1-9]/);
  });

  step('a pod lists pods through https://kubernetes.default.svc with its token and CA', async () => {
    const curl = (url: string) =>
      sh(`/usr/bin/curl -sS --fail-with-body --cacert ${SA}/ca.crt -H "Authorization: Bearer $(cat ${SA}/token)" ${url}`);
    // The account holds nothing by default (RBAC): refused with upstream's message, then granted view.
    const refused = await kubectl(c, ['exec', 'client', '--', 'sh', '-c', `/usr/bin/curl -sS --cacert ${SA}/ca.crt -H "Authorization: Bearer $(cat ${SA}/token)" https://kubernetes.default.svc/api/v1/namespaces/default/pods`]);
    assert.match(refused.stdout, /pods is forbidden: User \\"system:serviceaccount:default:default\\" cannot list resource \\"pods\\" in API group \\"\\" in the namespace \\"default\\"/);
    await kubectlOk(c, ['create', 'rolebinding', 'default-view', '--clusterrole=view', '--serviceaccount=default:default']);
    const list = JSON.parse(await curl(`https://kubernetes.default.svc/api/v1/namespaces/$(cat ${SA}/namespace)/pods`));
    // view does not include Secrets.
    const secrets = await kubectl(c, ['exec', 'client', '--', 'sh', '-c', `/usr/bin/curl -sS --cacert ${SA}/ca.crt -H "Authorization: Bearer $(cat ${SA}/token)" https://kubernetes.default.svc/api/v1/namespaces/default/secrets`]);
    assert.match(secrets.stdout, /"code":\s*403/);
    assert.equal(list.kind, 'PodList');
    assert.ok(list.items.some((p: { metadata: { name: string } }) => p.metadata.name === 'web-0'));
    // As an in-cluster client finds the server: the Service variables, by address (the certificate names the ClusterIP).
    const env = await sh('echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT');
    assert.equal(env.trim(), `${parseServiceCidr(real.net.serviceCIDR).kubernetesIP}:443`);
    const who = JSON.parse(
      await sh(
        `/usr/bin/curl -sS --fail-with-body --cacert ${SA}/ca.crt -H "Authorization: Bearer $(cat ${SA}/token)" -H 'Content-Type: application/json' ` +
          `-d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/apis/authentication.k8s.io/v1/selfsubjectreviews`,
      ),
    );
    assert.equal(who.status.userInfo.username, 'system:serviceaccount:default:default');
    // A wrong CA is refused: the certificate really is verified.
    const bad = await kubectl(c, ['exec', 'client', '--', 'sh', '-c', '/usr/bin/curl -sS --cacert /etc/passwd https://kubernetes.default.svc/version']);
    assert.notEqual(bad.code, 0);
  });
});
