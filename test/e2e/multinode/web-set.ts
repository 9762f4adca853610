// The tutorial's web StatefulSet as the multi-machine tests run it: one pod per node (required
// anti-affinity by hostname, as the ZooKeeper example spreads its servers), each serving its own
// hostname with busybox httpd, behind the headless Service `nginx` and, when asked, a ClusterIP
// Service `nginx-cip`. Each test picks the parts it exercises.
import type { LanCluster } from './lan-cluster.ts';
import { waitUntil } from './lan-cluster.ts';

export interface WebSetOptions {
  replicas: number;
  /** podManagementPolicy Parallel (else OrderedReady). */
  parallel?: boolean;
  /** Also a ClusterIP Service, nginx-cip, over the same pods. */
  clusterIp?: boolean;
  /** An HTTP readiness probe on port 80, every second. */
  readiness?: boolean;
  /** The tutorial's `www` claim template, mounted where httpd serves from. */
  claim?: boolean;
}

export function webSetManifest(o: WebSetOptions): string {
  const dir = o.claim ? '/usr/share/nginx/html' : '/tmp/www';
  const cip = `---
apiVersion: v1
kind: Service
metadata: { name: nginx-cip }
spec:
  selector: { app: nginx }
  ports: [{ port: 80, targetPort: 80, name: web }]
`;
  return `
apiVersion: v1
kind: Service
metadata: { name: nginx, labels: { app: nginx } }
spec:
  clusterIP: None
  selector: { app: nginx }
  ports: [{ port: 80, name: web }]
${o.clusterIp ? cip : ''}---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: nginx
  replicas: ${o.replicas}
${o.parallel ? '  podManagementPolicy: Parallel\n' : ''}  selector: { matchLabels: { app: nginx } }
  template:
    metadata: { labels: { app: nginx } }
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: { matchLabels: { app: nginx } }
            topologyKey: kubernetes.io/hostname
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.8
        command: [sh, -c, 'mkdir -p ${dir} && hostname > ${dir}/index.html && exec httpd -f -p 80 -h ${dir}']
        ports: [{ containerPort: 80, name: web }]
${o.readiness ? '        readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }\n' : ''}${o.claim ? `        volumeMounts: [{ name: www, mountPath: ${dir} }]
  volumeClaimTemplates:
  - metadata: { name: www }
    spec:
      accessModes: [ReadWriteOnce]
      resources: { requests: { storage: 1Gi } }
` : ''}`;
}

export const isReady = (o: any, status = 'True'): boolean => !!o?.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === status);

/** Waits until the set's `count` pods are all Ready; returns them. */
export async function waitForWebPods(c: LanCluster, count: number, ms: number, diagnose: () => string = () => c.kubectl(['get', 'pods', '-o', 'wide']).stdout): Promise<any[]> {
  const list = () => JSON.parse(c.kubectlOk(['get', 'pods', '-l', 'app=nginx', '-o', 'json'])).items as any[];
  await waitUntil(() => {
    const pods = list();
    return pods.length === count && pods.every((p) => isReady(p));
  }, ms, diagnose);
  return list();
}
