// NetworkPolicy, Ingress, IngressClass and HorizontalPodAutoscaler with the real kubectl: a
// chart-like bundle applies, tables show upstream's columns, bad objects get upstream's field
// errors, and creating one says (as a Warning) that this cluster does not act on it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, fixture, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

const json = async (args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json']));
const header = (table: string) => table.split('\n')[0].trim().split(/\s{2,}/);

test('a chart-like bundle applies, with one warning per kind that is stored but not acted on', async () => {
  const first = await kubectl(c, ['apply', '-f', fixture('chart-bundle.yaml')]);
  assert.equal(first.code, 0, first.stderr);
  for (const line of ['service/db created', 'statefulset.apps/db created', 'networkpolicy.networking.k8s.io/db-allow-app created',
    'ingressclass.networking.k8s.io/nginx created', 'ingress.networking.k8s.io/db-admin created', 'horizontalpodautoscaler.autoscaling/db created',
    'poddisruptionbudget.policy/db created']) assert.ok(first.stdout.includes(line), `${line}\n${first.stdout}`);
  const warnings = first.stderr.split('\n').filter((l) => l.startsWith('Warning: '));
  assert.deepEqual(warnings, [
    'Warning: networking.k8s.io/v1 NetworkPolicy is stored but not enforced by this cluster: all pod traffic stays allowed',
    'Warning: networking.k8s.io/v1 Ingress is stored but not served by this cluster: it runs no ingress controller',
    'Warning: autoscaling/v2 HorizontalPodAutoscaler is stored but not acted on by this cluster: it has no metrics server, so replicas are not changed',
  ]);
  // Applying again changes nothing and warns of nothing: the warning is for creation.
  const again = await kubectl(c, ['apply', '-f', fixture('chart-bundle.yaml')]);
  assert.equal(again.code, 0, again.stderr);
  // kubectl's three-way patch replaces the policy's atomic ingress list (the server defaulted its
  // port protocol), as it does against upstream, so the policy reads "configured"; nothing changes.
  assert.match(again.stdout, /networkpolicy.networking.k8s.io\/db-allow-app (unchanged|configured)/);
  assert.equal((await json(['get', 'netpol', 'db-allow-app'])).metadata.generation, 1);
  assert.match(again.stdout, /horizontalpodautoscaler.autoscaling\/db unchanged/);
  assert.doesNotMatch(again.stderr, /Warning/);
});

test('tables show upstream columns; short names and discovery work', async () => {
  const np = await kubectlOk(c, ['get', 'netpol']);
  assert.deepEqual(header(np), ['NAME', 'POD-SELECTOR', 'AGE']);
  assert.match(np, /\ndb-allow-app\s+app=db\s+\d+s\n/);
  const ing = await kubectlOk(c, ['get', 'ing']);
  assert.deepEqual(header(ing), ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']);
  assert.match(ing, /\ndb-admin\s+nginx\s+admin\.example\.com\s+80, 443\s+\d+s\n/);
  const ic = await kubectlOk(c, ['get', 'ingressclass']);
  assert.deepEqual(header(ic), ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE']);
  assert.match(ic, /\nnginx\s+k8s\.io\/ingress-nginx\s+<none>\s+\d+s\n/);
  const hpa = await kubectlOk(c, ['get', 'hpa']);
  assert.deepEqual(header(hpa), ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
  assert.match(hpa, /\ndb\s+StatefulSet\/db\s+cpu: <unknown>\/70%\s+2\s+5\s+0\s+\d+s\n/);
  // HPAs are in the "all" category as upstream's are; the network kinds are not.
  const all = await kubectlOk(c, ['get', 'all']);
  assert.match(all, /horizontalpodautoscaler\.autoscaling\/db/);
  assert.doesNotMatch(all, /networkpolicy|ingress\./);
  const resources = await kubectlOk(c, ['api-resources', '--api-group=networking.k8s.io']);
  assert.match(resources, /ingressclasses\s+networking\.k8s\.io\/v1\s+false\s+IngressClass/);
  assert.match(resources, /ingresses\s+ing\s+networking\.k8s\.io\/v1\s+true\s+Ingress/);
  assert.match(resources, /networkpolicies\s+netpol\s+networking\.k8s\.io\/v1\s+true\s+NetworkPolicy/);
  assert.match(await kubectlOk(c, ['api-resources', '--api-group=autoscaling']), /horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler/);
  assert.match(await kubectlOk(c, ['explain', 'networkpolicy.spec.ingress.from.ipBlock']), /cidr\s+<string> -required-/);
});

test('defaults as upstream: policyTypes, port protocol, HPA minReplicas, CPU target and behavior; HPA status stays empty', async () => {
  const np = await json(['get', 'netpol', 'db-allow-app']);
  assert.deepEqual(np.spec.policyTypes, ['Ingress']);
  assert.deepEqual(np.spec.ingress[0].ports, [{ port: 5432, protocol: 'TCP' }]);
  await kubectlOk(c, ['apply', '-f', '-'], { input: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-only}
spec:
  podSelector: {}
  egress: [{to: [{namespaceSelector: {}}]}]
` });
  assert.deepEqual((await json(['get', 'netpol', 'egress-only'])).spec.policyTypes, ['Ingress', 'Egress']);
  assert.match(await kubectlOk(c, ['get', 'netpol', 'egress-only']), /\negress-only\s+<none>\s+/);

  await kubectlOk(c, ['apply', '-f', '-'], { input: `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 4
  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}
` });
  const hpa = await json(['get', 'hpa', 'web']);
  assert.equal(hpa.spec.minReplicas, 1);
  assert.deepEqual(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.deepEqual(hpa.spec.behavior.scaleDown, { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
  assert.deepEqual(hpa.spec.behavior.scaleUp.policies, [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }]);
  assert.deepEqual(hpa.status, { desiredReplicas: 0 });
  assert.match(await kubectlOk(c, ['get', 'hpa', 'web']), /\nweb\s+Deployment\/web\s+cpu: <unknown>\/80%\s+1\s+4\s+0\s+/);
});

test('invalid objects are refused with upstream field paths and messages', async () => {
  const np = await kubectl(c, ['apply', '-f', '-'], { input: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad}
spec:
  podSelector: {}
  policyTypes: [Ingress, Sideways]
  ingress:
  - from: [{}]
    ports: [{port: 80, endPort: 70, protocol: ICMP}]
  - from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}, podSelector: {}}, {ipBlock: {cidr: 10.0.0/16}}]
` });
  assert.notEqual(np.code, 0);
  assert.match(np.stderr, /The NetworkPolicy "bad" is invalid: /);
  for (const line of [
    '* spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
    '* spec.ingress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port`',
    '* spec.ingress[0].from[0]: Required value: must specify a peer',
    '* spec.ingress[1].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`',
    '* spec.ingress[1].from[0]: Forbidden: may not specify both ipBlock and another peer',
    '* spec.ingress[1].from[1].ipBlock.cidr: Invalid value: "10.0.0/16": not a valid CIDR',
    '* spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
  ]) assert.ok(np.stderr.includes(line), `${line}\n${np.stderr}`);

  const ing = await kubectl(c, ['apply', '-f', '-'], { input: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bad}
spec:
  rules:
  - host: 10.0.0.1
    http:
      paths:
      - {path: foo, pathType: Exact, backend: {service: {name: web}}}
      - {path: /a/.., pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /a, pathType: Regex, backend: {service: {name: web, port: {number: 80}}}}
` });
  assert.notEqual(ing.code, 0);
  for (const line of [
    '* spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
    '* spec.rules[0].http.paths[0].path: Invalid value: "foo": must be an absolute path',
    '* spec.rules[0].http.paths[0].backend: Required value: port name or number is required',
    "* spec.rules[0].http.paths[1].path: Invalid value: \"/a/..\": cannot end with '/..'",
    '* spec.rules[0].http.paths[2].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
  ]) assert.ok(ing.stderr.includes(line), `${line}\n${ing.stderr}`);
  const empty = await kubectl(c, ['create', '-f', '-'], { input: '{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"empty"},"spec":{}}' });
  assert.match(empty.stderr, /spec: Invalid value: \[\]networking.IngressRule\(nil\): either `defaultBackend` or `rules` must be specified/);

  const ic = await kubectl(c, ['apply', '-f', '-'], { input: `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: bad}
spec:
  controller: nginx
  parameters: {kind: Config, name: c, scope: Namespace}
` });
  assert.match(ic.stderr, /spec.controller: Invalid value: "nginx": must be a domain-prefixed path \(such as "acme.io\/foo"\)/);
  assert.match(ic.stderr, /spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'/);

  const hpa = await kubectl(c, ['apply', '-f', '-'], { input: `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: bad}
spec:
  scaleTargetRef: {kind: Deployment, name: web}
  minReplicas: 0
  maxReplicas: 0
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization}}
  - type: Pods
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior: {scaleUp: {policies: [{type: Pods, value: 0, periodSeconds: 3600}]}}
` });
  assert.notEqual(hpa.code, 0);
  for (const line of [
    '* spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
    '* spec.maxReplicas: Invalid value: 0: must be greater than 0',
    '* spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
    '* spec.metrics[1].pods: Required value: must populate information for the given metric source',
    '* spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
    '* spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 3600: must be less than or equal to 1800',
  ]) assert.ok(hpa.stderr.includes(line), `${line}\n${hpa.stderr}`);
  // Nothing of the refused objects was stored.
  assert.match((await kubectl(c, ['get', 'netpol,ing,ingressclass,hpa', 'bad'])).stderr, /NotFound|not found/);
});

test('the deprecated ingress-class annotation warns as upstream, and must agree with ingressClassName', async () => {
  const manifest = (cls: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: legacy, annotations: {kubernetes.io/ingress.class: ${cls}}}
spec:
  ingressClassName: nginx
  defaultBackend: {service: {name: db, port: {number: 5432}}}
`;
  const mismatch = await kubectl(c, ['apply', '-f', '-'], { input: manifest('traefik') });
  assert.match(mismatch.stderr, /annotations.kubernetes.io\/ingress.class: Invalid value: "traefik": must match `ingressClassName` when both are specified/);
  const ok = await kubectl(c, ['apply', '-f', '-'], { input: manifest('nginx') });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /Warning: annotation "kubernetes.io\/ingress.class" is deprecated, please use 'spec.ingressClassName' instead/);
  assert.match(await kubectlOk(c, ['get', 'ing', 'legacy']), /\nlegacy\s+nginx\s+\*\s+80\s+/);
});
