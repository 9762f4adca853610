// Objects every cluster has from the start, created idempotently on each start.
import type { Obj } from '../api/resource.ts';
import { findResource } from './request.ts';
import type { ResourceStore } from './resource-store.ts';
import { KUBERNETES_SERVICE_IP } from './admission.ts';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function bootstrap(rs: ResourceStore): Promise<void> {
  const namespaces = findResource('', 'namespaces')!;
  for (const name of SYSTEM_NAMESPACES) {
    if (!rs.find(namespaces, undefined, name)) {
      await rs.create(namespaces, undefined, { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
    }
  }
  const services = findResource('', 'services')!;
  if (!rs.find(services, 'default', 'kubernetes')) {
    const svc: Obj = {
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: KUBERNETES_SERVICE_IP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], type: 'ClusterIP', sessionAffinity: 'None' },
    };
    await rs.create(services, 'default', svc);
  }
}
