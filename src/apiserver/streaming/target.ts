// What a streaming request (pods/exec, attach, portforward, log) addresses and asks for: the pod,
// the container, the node, and the options from the query string, validated as upstream's pod
// registry does (pkg/registry/core/pod: streamLocation, LogLocation, validateContainer) before any
// byte reaches the node. Pure functions: they throw ApiErrors, the transports render them.
import type { Obj } from '../../api/resource.ts';
import { invalid as invalidField, forbidden as forbiddenField, type FieldError } from '../../api/field-errors.ts';
import type { ExecOptions, LogOptions, PodRef, StreamOptions } from '../../streaming/types.ts';
import { ApiError, badRequest, invalid } from '../errors.ts';
import type { ResourceRequest } from '../request.ts';

export const STREAMING_SUBRESOURCES = ['exec', 'attach', 'portforward', 'log'] as const;
export type StreamingSubresource = (typeof STREAMING_SUBRESOURCES)[number];

/** A request for one of the pod streaming subresources (these are not in the generic registry). */
export function streamingSubresource(rr: ResourceRequest): StreamingSubresource | undefined {
  if (rr.resource.group !== '' || rr.resource.plural !== 'pods' || rr.name === undefined || rr.namespace === undefined) return undefined;
  return (STREAMING_SUBRESOURCES as readonly string[]).includes(rr.subresource ?? '') ? (rr.subresource as StreamingSubresource) : undefined;
}

export function podRef(pod: Obj): PodRef {
  return { namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
}

/** All container names in upstream's visiting order: init containers, containers, ephemeral containers. */
export function containerNames(pod: Obj): string[] {
  const s = pod.spec ?? {};
  return [...(s.initContainers ?? []), ...(s.containers ?? []), ...(s.ephemeralContainers ?? [])].map((c: Obj) => c.name);
}

/** The container a request means: the named one (which must exist), or the only one. */
export function resolveContainer(pod: Obj, requested: string | null | undefined): string {
  const name = pod.metadata.name;
  if (!requested) {
    const containers: Obj[] = pod.spec?.containers ?? [];
    if (containers.length === 1) return containers[0].name;
    if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    // Go prints a []string as [a b].
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containerNames(pod).join(' ')}]`);
  }
  if (!containerNames(pod).includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/** The node a streaming request goes to; upstream refuses pods not yet scheduled. */
export function assignedNode(pod: Obj): string {
  const node = pod.spec?.nodeName;
  if (!node) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  return node;
}

/**
 * Upstream's kubectl refuses this before connecting; the server checks it too so that other
 * clients get the same answer instead of a runtime error from a stopped container.
 */
export function assertNotCompleted(pod: Obj): void {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
}

/** Query booleans as Go's strconv.ParseBool reads them (kubectl sends true/false, the kubelet's URLs 1). */
export function parseBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '') return false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw badRequest(`strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

function parseInteger(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/**
 * Which standard streams an exec or attach wants. As the kubelet does, a TTY carries stderr on
 * stdout, so stderr is dropped when tty is set; at least one stream is required.
 */
export function parseStreamOptions(q: URLSearchParams): StreamOptions {
  const tty = parseBool(q, 'tty');
  const opts = { stdin: parseBool(q, 'stdin'), stdout: parseBool(q, 'stdout'), stderr: parseBool(q, 'stderr') && !tty, tty };
  if (!opts.stdin && !opts.stdout && !opts.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return opts;
}

export function parseExecOptions(q: URLSearchParams): ExecOptions {
  const command = q.getAll('command');
  const opts = parseStreamOptions(q);
  if (command.length === 0) throw badRequest('you must specify at least one command for the container');
  return { ...opts, command };
}

/** pods/log options, validated as upstream's ValidatePodLogOptions (422 PodLogOptions "<pod>" is invalid). */
export function parseLogOptions(q: URLSearchParams, podName: string): Omit<LogOptions, 'container'> {
  const tailLines = parseInteger(q, 'tailLines');
  const limitBytes = parseInteger(q, 'limitBytes');
  const sinceSeconds = parseInteger(q, 'sinceSeconds');
  const sinceTimeRaw = q.get('sinceTime') || undefined;
  let sinceTime: string | undefined;
  if (sinceTimeRaw !== undefined) {
    const t = Date.parse(sinceTimeRaw);
    if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(sinceTimeRaw)) {
      throw badRequest(`parsing time ${JSON.stringify(sinceTimeRaw)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(sinceTimeRaw)} as RFC 3339`);
    }
    sinceTime = sinceTimeRaw;
  }
  const errs: FieldError[] = [];
  if (tailLines !== undefined && tailLines < 0) errs.push(invalidField('tailLines', tailLines, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1) errs.push(invalidField('limitBytes', limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime !== undefined) errs.push(forbiddenField('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  else if (sinceSeconds !== undefined && sinceSeconds < 1) errs.push(invalidField('sinceSeconds', sinceSeconds, 'must be greater than 0'));
  if (errs.length) throw invalid('PodLogOptions', '', podName, errs);
  parseBool(q, 'insecureSkipTLSVerifyBackend'); // accepted and meaningless here: there is no backend TLS hop
  const opts: Omit<LogOptions, 'container'> = { follow: parseBool(q, 'follow'), previous: parseBool(q, 'previous'), timestamps: parseBool(q, 'timestamps') };
  if (tailLines !== undefined) opts.tailLines = tailLines;
  if (limitBytes !== undefined) opts.limitBytes = limitBytes;
  if (sinceSeconds !== undefined) opts.sinceSeconds = sinceSeconds;
  if (sinceTime !== undefined) opts.sinceTime = sinceTime;
  return opts;
}

/** The node agent for a node, or the error a client sees when the API server cannot reach it. */
export function nodeUnavailable(nodeName: string): ApiError {
  return new ApiError(503, 'ServiceUnavailable', `error dialing backend: no node agent is serving node ${nodeName}`);
}

/**
 * A failure of the API server itself on the way to a node (the node cannot be reached, has no
 * address). Upstream answers these with a Status (an empty reason when the error is not an API
 * one: kubectl shows "Error from server: <message>"), where the node's own refusals of an upgrade
 * pass through as the node wrote them.
 */
export class ProxyError extends ApiError {
  override toStatus(): Record<string, unknown> {
    const s = super.toStatus();
    if (!s.reason) delete s.reason;
    return s;
  }
}
