// Non-fatal advice returned in Warning headers, as upstream's pod/pvc warning helpers give it.
import type { Obj } from '../resource.ts';
import { asArray, asObj } from '../validation/fields.ts';

/** A subset of upstream GetWarningsForPodTemplate / GetWarningsForPod. */
export function podSpecWarnings(spec: unknown, path: string): string[] {
  const s = asObj(spec);
  const out: string[] = [];
  if (typeof s.terminationGracePeriodSeconds === 'number' && s.terminationGracePeriodSeconds < 0) {
    out.push(`${path}.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1`);
  }
  asArray(s.containers).forEach((c, i) => {
    const ports = asArray(asObj(c).ports).map(asObj);
    // Upstream warns when the same containerPort/protocol pair is declared twice in one container.
    const seen = new Map<string, number>();
    ports.forEach((p, j) => {
      const key = `${p.containerPort}/${p.protocol ?? 'TCP'}/${p.hostIP ?? ''}/${p.hostPort ?? 0}`;
      const prev = seen.get(key);
      if (prev !== undefined) out.push(`${path}.containers[${i}].ports[${j}]: duplicate port definition with ${path}.containers[${i}].ports[${prev}]`);
      else seen.set(key, j);
    });
  });
  return out;
}

export function podTemplateWarnings(template: unknown, path: string): string[] {
  return podSpecWarnings(asObj(template as Obj).spec, `${path}.spec`);
}
