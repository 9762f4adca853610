// The warning returned (as a Warning header, which kubectl prints as "Warning: ...") when a kind
// is created that this cluster stores but has no component to act on. The wording follows the
// shape of upstream's own API warnings ("<group/version> <Kind> is ..."), so users and tools that
// already grep for those read it the same way.

const what: Record<string, string> = {
  NetworkPolicy: 'networking.k8s.io/v1 NetworkPolicy is stored but not enforced by this cluster: all pod traffic stays allowed',
  Ingress: 'networking.k8s.io/v1 Ingress is stored but not served by this cluster: it runs no ingress controller',
  HorizontalPodAutoscaler: 'autoscaling/v2 HorizontalPodAutoscaler is stored but not acted on by this cluster: it has no metrics server, so replicas are not changed',
};

export function notEnforcedWarning(kind: keyof typeof what & string): string {
  return what[kind];
}
