// The streaming endpoints (the WebSocket and SPDY servers, exec/attach/port-forward/log
// sessions) and the client of nodes' kubelet servers load with the first request that needs them:
// most starts serve none, and together with the ws package they are a few dozen modules.
import type { KubeletClientCredentials, RemoteNodeStreaming } from './remote-node.ts';
import type { StreamingEndpoints, StreamingOptions } from './index.ts';
import type { ResourceStore } from '../resource-store.ts';
import { lazyModule } from '../../util/lazy-module.ts';

const endpoints = lazyModule<typeof import('./index.ts')>(import.meta.url, './index.ts');
const remoteNode = lazyModule<typeof import('./remote-node.ts')>(import.meta.url, './remote-node.ts');

/** createStreamingEndpoints(opts), made on the first call of one of its methods. */
export function lazyStreamingEndpoints(opts: StreamingOptions): StreamingEndpoints {
  let made: StreamingEndpoints | undefined;
  const get = () => (made ??= endpoints().createStreamingEndpoints(opts));
  return {
    wantsUpgrade: (req) => get().wantsUpgrade(req),
    handleUpgrade: (req, socket, head) => get().handleUpgrade(req, socket, head),
    handleRequest: (req, res, rr, url) => get().handleRequest(req, res, rr, url),
    close: () => made?.close(),
  };
}

/** remoteNodeResolver(resources, credentials), made on its first call. */
export function lazyRemoteNodeResolver(resources: ResourceStore, credentials: KubeletClientCredentials): (nodeName: string) => RemoteNodeStreaming {
  let resolve: ((nodeName: string) => RemoteNodeStreaming) | undefined;
  return (nodeName) => (resolve ??= remoteNode().remoteNodeResolver(resources, credentials))(nodeName);
}
