// The Docker-links style variables the kubelet gives every container for Services: those of the
// pod's namespace (unless enableServiceLinks is false) and always the API server's own
// `default/kubernetes`, which is how in-cluster clients find the API (KUBERNETES_SERVICE_HOST and
// KUBERNETES_SERVICE_PORT). Only Services with a ClusterIP count; a Service of the pod's
// namespace wins over the master Service of the same name.
import type { Obj } from '../api/resource.ts';

const envName = (s: string) => s.toUpperCase().replace(/-/g, '_');

/** The Services whose variables a pod gets, as the kubelet picks them. */
export function servicesForPod(services: Obj[], podNamespace: string, enableServiceLinks = true): Obj[] {
  const byName = new Map<string, Obj>();
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const name: string = svc.metadata.name;
    if (svc.metadata.namespace === 'default' && name === 'kubernetes') {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (svc.metadata.namespace === podNamespace && enableServiceLinks) {
      byName.set(name, svc);
    }
  }
  return [...byName.values()];
}

/** The variables of these Services (FOO_SERVICE_HOST, FOO_SERVICE_PORT[_NAME], FOO_PORT[_80_TCP[_PROTO|_PORT|_ADDR]]). */
export function serviceEnv(services: Obj[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const svc of services) {
    const name = envName(svc.metadata.name);
    const ip: string = svc.spec.clusterIP;
    const ports: Obj[] = svc.spec?.ports ?? [];
    env[`${name}_SERVICE_HOST`] = ip;
    if (ports[0]) env[`${name}_SERVICE_PORT`] = String(ports[0].port);
    for (const p of ports) if (p.name) env[`${name}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
    const host = ip.includes(':') ? `[${ip}]` : ip;
    ports.forEach((p, i) => {
      const proto = String(p.protocol ?? 'TCP').toLowerCase();
      const url = `${proto}://${host}:${p.port}`;
      if (i === 0) env[`${name}_PORT`] = url;
      const prefix = `${name}_PORT_${p.port}_${proto.toUpperCase()}`;
      env[prefix] = url;
      env[`${prefix}_PROTO`] = proto;
      env[`${prefix}_PORT`] = String(p.port);
      env[`${prefix}_ADDR`] = ip;
    });
  }
  return env;
}
