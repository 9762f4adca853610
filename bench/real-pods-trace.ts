// Loaded into the `ordinal up` process by bench/real-pods.ts (NODE_OPTIONS=--import) when
// ORDINAL_POD_TRACE names a file: wraps the containerd runtime's methods, every CRI call and the
// agent's pod status writes with wall-clock timestamps (ms, sub-ms precision), and samples the
// event loop's delay, so the benchmark can say where a pod's start time goes. Changes no
// behaviour: each wrapper calls the original and passes its result or error through.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ContainerdRuntime } from '../src/agent/runtime/containerd.ts';
import { GrpcUnixClient } from '../src/agent/runtime/cri/grpc.ts';
import { InProcessClient } from '../src/client/client.ts';

const file = process.env.ORDINAL_POD_TRACE;

/** Wall-clock ms with the sub-ms resolution of the monotonic clock. */
export const wallMs = () => performance.timeOrigin + performance.now();

/** One traced call: what, for which pod (when the arguments say), when it began and ended. */
export interface TraceRecord {
  kind: 'runtime' | 'cri' | 'status' | 'loop';
  op: string;
  pod?: string;
  /** A container id the call took or returned, to tie startContainer/containerStatus to a pod. */
  id?: string;
  t0: number;
  t1: number;
  ok: boolean;
  /** probe results, status phases, event-loop delay figures */
  note?: string;
}

if (file) {
  let buf: string[] = [];
  const flush = () => {
    if (!buf.length) return;
    appendFileSync(file, buf.join(''));
    buf = [];
  };
  const record = (r: TraceRecord) => buf.push(JSON.stringify(r) + '\n');
  setInterval(flush, 100).unref();
  process.on('exit', flush);

  const wrap = (proto: any, name: string, kind: TraceRecord['kind'], describe: (args: any[], result: any) => Partial<TraceRecord>) => {
    const original = proto[name];
    if (typeof original !== 'function') return;
    proto[name] = async function (this: unknown, ...args: any[]) {
      const t0 = wallMs();
      try {
        const result = await original.apply(this, args);
        record({ kind, op: name, t0, t1: wallMs(), ok: true, ...describe(args, result) });
        return result;
      } catch (err) {
        record({ kind, op: name, t0, t1: wallMs(), ok: false, ...describe(args, undefined), note: String((err as Error)?.message ?? err).slice(0, 200) });
        throw err;
      }
    };
  };

  const podName = (pod: any) => pod?.metadata?.name as string | undefined;
  const rt = ContainerdRuntime.prototype as any;
  wrap(rt, 'runPodSandbox', 'runtime', ([pod], res) => ({ pod: podName(pod), id: res?.sandboxId, note: res?.ip }));
  wrap(rt, 'pullImage', 'runtime', ([image, policy]) => ({ note: `${image} ${policy}` }));
  wrap(rt, 'createContainer', 'runtime', ([, pod], id) => ({ pod: podName(pod), id }));
  wrap(rt, 'startContainer', 'runtime', ([id]) => ({ id }));
  wrap(rt, 'containerStatus', 'runtime', ([id], s) => ({ id, note: s?.state }));
  // A probe answers a boolean or, newer, { ok, output }.
  wrap(rt, 'probe', 'runtime', ([pod, , id, kind, probe], res) => ({ pod: podName(pod), id, note: `${kind} ${probe ? 'defined' : 'none'} ${res === true || res?.ok === true}` }));
  wrap(rt, 'stopContainer', 'runtime', ([id]) => ({ id }));
  wrap(rt, 'stopPodSandbox', 'runtime', ([id]) => ({ id }));
  wrap(rt, 'removePodSandbox', 'runtime', ([id]) => ({ id }));
  wrap(rt, 'listPodSandboxes', 'runtime', () => ({}));
  wrap(rt, 'listContainers', 'runtime', () => ({}));

  wrap(GrpcUnixClient.prototype, 'call', 'cri', ([path]) => ({ op: String(path).slice(String(path).lastIndexOf('/') + 1) }));

  wrap(InProcessClient.prototype, 'update', 'status', ([r, obj, sub], res) => {
    if (sub !== 'status' || r?.plural !== 'pods') return { op: `update ${r?.plural ?? '?'}${sub ? '/' + sub : ''}` };
    const ready = res?.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;
    return { op: 'update pods/status', pod: podName(obj), note: `${res?.status?.phase ?? obj?.status?.phase} ready=${ready}` };
  });

  // The event loop's delay, every second: a busy loop delays every pod's next step.
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  let last = wallMs();
  setInterval(() => {
    const now = wallMs();
    record({ kind: 'loop', op: 'delay', t0: last, t1: now, ok: true, note: `p50=${(h.percentile(50) / 1e6).toFixed(1)} max=${(h.max / 1e6).toFixed(1)} cpu=${JSON.stringify(process.cpuUsage())}` });
    h.reset();
    last = now;
  }, 1000).unref();
}
