// Content negotiation: kubectl asks for server-side Tables (meta.k8s.io) to print `get` output.

export interface Negotiated {
  /** 'v1' or 'v1beta1' when a Table was asked for. */
  table?: 'v1' | 'v1beta1';
  partialMetadata?: 'v1' | 'v1beta1';
}

export function negotiate(accept: string | undefined): Negotiated {
  if (!accept) return {};
  for (const part of accept.split(',')) {
    const params = new Map<string, string>();
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    if (type !== 'application/json' && type !== '*/*') continue;
    for (const p of rest) {
      const [k, v] = p.split('=');
      params.set(k.trim(), (v ?? '').trim());
    }
    const as = params.get('as');
    if (!as) return {};
    if (params.get('g') !== 'meta.k8s.io') continue;
    const v = params.get('v') === 'v1beta1' ? 'v1beta1' : params.get('v') === 'v1' ? 'v1' : undefined;
    if (!v) continue;
    if (as === 'Table') return { table: v };
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { partialMetadata: v };
  }
  return {};
}
