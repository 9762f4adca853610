// Objects every cluster has from the start, created idempotently on each start.
import { findResource } from './request.ts';
import { ApiError } from './errors.ts';
import type { ResourceStore } from './resource-store.ts';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export function ignoreAlreadyExists(err: unknown): void {
  if (!(err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists')) throw err;
}

export async function bootstrap(rs: ResourceStore): Promise<void> {
  const namespaces = findResource('', 'namespaces')!;
  // All at once, so that the store commits them together: one durable write on a first start, not four.
  await Promise.all(
    SYSTEM_NAMESPACES.filter((name) => !rs.find(namespaces, undefined, name)).map((name) =>
      // typed: objects built here, as a compiled client's, have no body for decoding's checks to look at.
      // Another API server sharing the store may create it at the same moment.
      rs.create(namespaces, undefined, { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } }, { typed: true }).catch(ignoreAlreadyExists),
    ),
  );
  // The cluster's own Services come once the server listens (their ports depend on it): cluster-services.ts.
}
