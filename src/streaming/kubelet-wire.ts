// The wire between the API server and a node's kubelet server (the node agent's HTTPS port, as the
// kubelet's 10250). Both ends import this file, so the paths, query names and framing live once.
//
// Paths and query names are the kubelet's own (/exec/{ns}/{pod}/{uid}/{container}?command=..&input=1,
// /containerLogs/{ns}/{pod}/{container}?follow=true, /portForward/{ns}/{pod}/{uid}, /pods, /healthz),
// so a reader who knows the kubelet recognises them, and the node proxy reaches the same URLs.
// Exec and attach run over one WebSocket framed as v5.channel.k8s.io (first byte = channel); the
// node also closes stdout/stderr with a close frame so the API server knows the output is complete
// before the status arrives. Port-forward is one WebSocket per TCP connection carrying raw bytes.
// Logs are a chunked text/plain GET. A request the node refuses is answered before any upgrade with
// the ApiError's Status JSON and its code, so upstream's errors reach kubectl unchanged.
import { ApiError } from '../apiserver/errors.ts';
import type { ExecOptions, LogOptions, PodRef, StreamOptions } from './types.ts';

export const EXEC_SUBPROTOCOL = 'v5.channel.k8s.io';
export const PORT_FORWARD_SUBPROTOCOL = 'v1.portforward.ordinal';

export const CH_STDIN = 0;
export const CH_STDOUT = 1;
export const CH_STDERR = 2;
export const CH_STATUS = 3;
export const CH_RESIZE = 4;
export const CH_CLOSE = 255;

export function frame(channel: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  body.copy(out, 1);
  return out;
}

const seg = encodeURIComponent;

function streamQuery(opts: StreamOptions, command?: string[]): string {
  const q = new URLSearchParams();
  for (const c of command ?? []) q.append('command', c);
  // The kubelet's names for the streams (the API server's stdin/stdout/stderr become input/output/error).
  if (opts.stdin) q.set('input', '1');
  if (opts.stdout) q.set('output', '1');
  if (opts.stderr) q.set('error', '1');
  if (opts.tty) q.set('tty', '1');
  return q.toString();
}

export function execPath(pod: PodRef, container: string, opts: ExecOptions): string {
  return `/exec/${seg(pod.namespace)}/${seg(pod.name)}/${seg(pod.uid)}/${seg(container)}?${streamQuery(opts, opts.command)}`;
}

export function attachPath(pod: PodRef, container: string, opts: StreamOptions): string {
  return `/attach/${seg(pod.namespace)}/${seg(pod.name)}/${seg(pod.uid)}/${seg(container)}?${streamQuery(opts)}`;
}

export function portForwardPath(pod: PodRef, port: number): string {
  return `/portForward/${seg(pod.namespace)}/${seg(pod.name)}/${seg(pod.uid)}?port=${port}`;
}

export function logsPath(pod: PodRef, opts: LogOptions): string {
  const q = new URLSearchParams();
  if (opts.follow) q.set('follow', 'true');
  if (opts.previous) q.set('previous', 'true');
  if (opts.timestamps) q.set('timestamps', 'true');
  if (opts.tailLines !== undefined) q.set('tailLines', String(opts.tailLines));
  if (opts.sinceSeconds !== undefined) q.set('sinceSeconds', String(opts.sinceSeconds));
  if (opts.sinceTime !== undefined) q.set('sinceTime', opts.sinceTime);
  if (opts.limitBytes !== undefined) q.set('limitBytes', String(opts.limitBytes));
  // The kubelet finds the pod by name; the uid pins the exact instance (a recreated pod of the same name).
  if (pod.uid) q.set('podUID', pod.uid);
  const query = q.toString();
  return `/containerLogs/${seg(pod.namespace)}/${seg(pod.name)}/${seg(opts.container)}${query ? `?${query}` : ''}`;
}

export type KubeletRoute =
  | { kind: 'exec'; pod: PodRef; container: string; opts: ExecOptions }
  | { kind: 'attach'; pod: PodRef; container: string; opts: StreamOptions }
  | { kind: 'portForward'; pod: PodRef; port: number }
  | { kind: 'containerLogs'; namespace: string; name: string; uid?: string; opts: LogOptions }
  | { kind: 'pods' }
  | { kind: 'healthz' };

const isTrue = (v: string | null) => v !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw new ApiError(400, 'BadRequest', `strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** What a request to the kubelet server asks for; undefined for a path it does not serve (404). */
export function parseKubeletPath(pathname: string, q: URLSearchParams): KubeletRoute | undefined {
  const parts = pathname.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  const [head] = parts;
  if (parts.length === 1 && head === 'pods') return { kind: 'pods' };
  if (parts.length === 1 && head === 'healthz') return { kind: 'healthz' };
  if ((head === 'exec' || head === 'attach') && (parts.length === 5 || parts.length === 4)) {
    // As the kubelet: /{ns}/{pod}/{uid}/{container} or /{ns}/{pod}/{container}.
    const [, namespace, name] = parts as [string, string, string];
    const uid = parts.length === 5 ? parts[3]! : '';
    const container = parts[parts.length - 1]!;
    const tty = isTrue(q.get('tty'));
    const opts: StreamOptions = { stdin: isTrue(q.get('input')), stdout: isTrue(q.get('output')), stderr: isTrue(q.get('error')) && !tty, tty };
    const pod = { namespace, name, uid };
    if (head === 'attach') return { kind: 'attach', pod, container, opts };
    return { kind: 'exec', pod, container, opts: { ...opts, command: q.getAll('command') } };
  }
  if (head === 'portForward' && (parts.length === 4 || parts.length === 3)) {
    const port = intParam(q, 'port');
    if (port === undefined || port < 1 || port > 65535) throw new ApiError(400, 'BadRequest', `invalid port: ${q.get('port') ?? ''}`);
    return { kind: 'portForward', pod: { namespace: parts[1]!, name: parts[2]!, uid: parts[3] ?? '' }, port };
  }
  if (head === 'containerLogs' && parts.length === 4) {
    const opts: LogOptions = { container: parts[3]!, follow: isTrue(q.get('follow')), previous: isTrue(q.get('previous')), timestamps: isTrue(q.get('timestamps')) };
    const tailLines = intParam(q, 'tailLines');
    const sinceSeconds = intParam(q, 'sinceSeconds');
    const limitBytes = intParam(q, 'limitBytes');
    if (tailLines !== undefined) opts.tailLines = tailLines;
    if (sinceSeconds !== undefined) opts.sinceSeconds = sinceSeconds;
    if (limitBytes !== undefined) opts.limitBytes = limitBytes;
    const sinceTime = q.get('sinceTime');
    if (sinceTime) opts.sinceTime = sinceTime;
    return { kind: 'containerLogs', namespace: parts[1]!, name: parts[2]!, uid: q.get('podUID') || undefined, opts };
  }
  return undefined;
}

/** The body a node answers a refused request with (Status JSON for ApiErrors, as the API server would write them). */
export function errorBody(err: ApiError): string {
  return JSON.stringify(err.toStatus());
}

/**
 * The ApiError behind a node's refusal: its Status when the body is one (our kubelet server), else
 * the body's text with the HTTP code (the kubelet's plain "Unauthorized", "Forbidden (...)").
 */
export function errorFromResponse(code: number, body: string): ApiError {
  try {
    const s = JSON.parse(body);
    if (s && s.kind === 'Status' && typeof s.message === 'string') return new ApiError(Number(s.code) || code, String(s.reason ?? ''), s.message, s.details);
  } catch {
    // not JSON: plain text below
  }
  const reason = code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : code === 404 ? 'NotFound' : 'InternalError';
  return new ApiError(code, reason, body.trim() || `the node answered ${code}`);
}

/** The exit code a session's final Status means, or undefined when it is a failure of another kind. */
export function exitCodeOf(status: Record<string, any>): number | undefined {
  if (status.status === 'Success') return 0;
  if (status.reason !== 'NonZeroExitCode') return undefined;
  const cause = (status.details?.causes ?? []).find((c: Record<string, unknown>) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : undefined;
}
