// A deliberately tiny CRI (runtime.v1) client for probing containerd from
// tests without dependencies: gRPC over HTTP/2 on the unix socket (node:http2)
// and hand-encoded protobuf for the handful of messages used here. Field
// numbers follow k8s.io/cri-api pkg/apis/runtime/v1/api.proto. It is a probe,
// not the node agent's runtime: that one should cover the whole API.

import http2 from 'node:http2';
import net from 'node:net';

// --- protobuf wire encoding -----------------------------------------------------

type Field = number | bigint | boolean | string | Uint8Array | Msg | undefined;
/** A message as [fieldNumber, value] pairs; arrays repeat a field, Msg nests, Record makes a map<string,string>. */
export type Msg = Array<[number, Field | Field[] | Record<string, string>]>;

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function lenDelimited(field: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([...varint(BigInt((field << 3) | 2)), ...varint(BigInt(bytes.length))]), bytes]);
}

export function encode(msg: Msg): Buffer {
  const parts: Buffer[] = [];
  const one = (f: number, v: Field) => {
    if (v === undefined) return;
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') {
      const n = typeof v === 'boolean' ? (v ? 1n : 0n) : BigInt(v);
      if (n !== 0n) parts.push(Buffer.from([...varint(BigInt(f << 3)), ...varint(n)]));
    } else if (typeof v === 'string') {
      if (v !== '') parts.push(lenDelimited(f, Buffer.from(v)));
    } else if (v instanceof Uint8Array) {
      parts.push(lenDelimited(f, v));
    } else {
      parts.push(lenDelimited(f, encode(v)));
    }
  };
  for (const [f, v] of msg) {
    // a Msg is a list of [number, value] pairs; a list whose items are Msgs (or scalars) repeats the field
    const repeated = Array.isArray(v) && (v.length === 0 || !Array.isArray(v[0]) || Array.isArray((v[0] as unknown[])[0]));
    if (repeated) {
      for (const item of v as Field[]) one(f, item);
    } else if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
      for (const [k, val] of Object.entries(v as Record<string, string>)) one(f, [[1, k], [2, val]]);
    } else {
      one(f, v as Field);
    }
  }
  return Buffer.concat(parts);
}

/** Decodes one level: field number -> values (bigint for varints, Buffer for length-delimited, fixed as Buffer). */
export function decode(buf: Buffer): Map<number, Array<bigint | Buffer>> {
  const out = new Map<number, Array<bigint | Buffer>>();
  let i = 0;
  const readVarint = () => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(readVarint());
    const f = key >> 3;
    const wire = key & 7;
    let val: bigint | Buffer;
    if (wire === 0) val = readVarint();
    else if (wire === 2) {
      const len = Number(readVarint());
      val = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 1) {
      val = buf.subarray(i, i + 8);
      i += 8;
    } else if (wire === 5) {
      val = buf.subarray(i, i + 4);
      i += 4;
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
    const list = out.get(f) ?? [];
    list.push(val);
    out.set(f, list);
  }
  return out;
}

const str = (m: Map<number, Array<bigint | Buffer>>, f: number) => {
  const v = m.get(f)?.[0];
  return Buffer.isBuffer(v) ? v.toString('utf8') : '';
};
const num = (m: Map<number, Array<bigint | Buffer>>, f: number) => {
  const v = m.get(f)?.[0];
  return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : 0;
};
const sub = (m: Map<number, Array<bigint | Buffer>>, f: number) => {
  const v = m.get(f)?.[0];
  return decode(Buffer.isBuffer(v) ? v : Buffer.alloc(0));
};

// --- gRPC framing ---------------------------------------------------------------

export class GrpcError extends Error {
  code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

export class CriClient {
  session: http2.ClientHttp2Session;

  constructor(socket: string) {
    this.session = http2.connect('http://localhost', { createConnection: () => net.connect(socket) });
    this.session.on('error', () => {}); // surfaced per call instead
  }

  close(): void {
    this.session.close();
  }

  call(service: 'runtime.v1.RuntimeService' | 'runtime.v1.ImageService', method: string, body: Msg, timeoutMs = 120_000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const payload = encode(body);
      const frame = Buffer.alloc(5 + payload.length);
      frame.writeUInt32BE(payload.length, 1);
      payload.copy(frame, 5);
      const req = this.session.request({
        ':method': 'POST',
        ':path': `/${service}/${method}`,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${timeoutMs}m`,
      });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      const take = (h: http2.IncomingHttpHeaders) => {
        if (h['grpc-status'] !== undefined) {
          status = String(h['grpc-status']);
          message = decodeURIComponent(String(h['grpc-message'] ?? ''));
        }
      };
      req.on('response', take); // a trailers-only answer (errors) puts the status here
      req.on('trailers', take);
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('error', reject);
      req.on('end', () => {
        if (status !== undefined && status !== '0') return reject(new GrpcError(Number(status), `${method}: ${message} (grpc status ${status})`));
        const all = Buffer.concat(chunks);
        if (all.length < 5) return resolve(Buffer.alloc(0));
        resolve(all.subarray(5, 5 + all.readUInt32BE(1)));
      });
      req.end(frame);
    });
  }

  private rt(method: string, body: Msg, timeoutMs?: number) {
    return this.call('runtime.v1.RuntimeService', method, body, timeoutMs);
  }

  async version(): Promise<{ runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }> {
    const m = decode(await this.rt('Version', [[1, 'v1']]));
    return { runtimeName: str(m, 2), runtimeVersion: str(m, 3), runtimeApiVersion: str(m, 4) };
  }

  /** Runtime conditions (RuntimeReady, NetworkReady) with reason/message when false. */
  async status(): Promise<Array<{ type: string; status: boolean; reason: string; message: string }>> {
    const m = decode(await this.rt('Status', []));
    return (sub(m, 1).get(1) ?? []).map((c) => {
      const cm = decode(c as Buffer);
      return { type: str(cm, 1), status: num(cm, 2) === 1, reason: str(cm, 3), message: str(cm, 4) };
    });
  }

  async runPodSandbox(config: Msg): Promise<string> {
    return str(decode(await this.rt('RunPodSandbox', [[1, config]])), 1);
  }

  async podSandboxStatus(id: string): Promise<{ state: 'READY' | 'NOTREADY'; ip: string }> {
    const s = sub(decode(await this.rt('PodSandboxStatus', [[1, id]])), 1);
    return { state: num(s, 3) === 0 ? 'READY' : 'NOTREADY', ip: str(sub(s, 5), 1) };
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.rt('StopPodSandbox', [[1, id]]);
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.rt('RemovePodSandbox', [[1, id]]);
  }

  async createContainer(sandboxId: string, config: Msg, sandboxConfig: Msg): Promise<string> {
    return str(decode(await this.rt('CreateContainer', [[1, sandboxId], [2, config], [3, sandboxConfig]])), 1);
  }

  async startContainer(id: string): Promise<void> {
    await this.rt('StartContainer', [[1, id]]);
  }

  async stopContainer(id: string, timeoutSec: number): Promise<void> {
    await this.rt('StopContainer', [[1, id], [2, timeoutSec]], (timeoutSec + 30) * 1000);
  }

  async containerStatus(id: string): Promise<{ state: string; exitCode: number; reason: string; message: string; startedAt: number; finishedAt: number }> {
    const s = sub(decode(await this.rt('ContainerStatus', [[1, id]])), 1);
    const states = ['CREATED', 'RUNNING', 'EXITED', 'UNKNOWN'];
    return { state: states[num(s, 3)] ?? 'UNKNOWN', startedAt: num(s, 5), finishedAt: num(s, 6), exitCode: num(s, 7), reason: str(s, 10), message: str(s, 11) };
  }

  async execSync(id: string, cmd: string[], timeoutSec = 10): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    const m = decode(await this.rt('ExecSync', [[1, id], [2, cmd], [3, timeoutSec]], (timeoutSec + 10) * 1000));
    return { stdout: str(m, 1), stderr: str(m, 2), exitCode: num(m, 3) };
  }

  /** The image's id when present, '' when not (CRI answers "not present" with an empty image). */
  async imageStatus(ref: string): Promise<string> {
    const m = decode(await this.call('runtime.v1.ImageService', 'ImageStatus', [[1, [[1, ref]]]]));
    return str(sub(m, 1), 1);
  }
}

// --- message builders for the probe ---------------------------------------------

export function sandboxConfig(o: { name: string; namespace: string; uid: string; attempt?: number; logDir: string; dnsServers?: string[]; searches?: string[] }): Msg {
  return [
    [1, [[1, o.name], [2, o.uid], [3, o.namespace], [4, o.attempt ?? 0]]],
    [2, o.name], // hostname = pod name
    [3, o.logDir],
    [4, [[1, o.dnsServers ?? []], [2, o.searches ?? []], [3, ['ndots:5']]]],
    [6, { 'io.kubernetes.pod.name': o.name, 'io.kubernetes.pod.namespace': o.namespace, 'io.kubernetes.pod.uid': o.uid }],
    // pod-scoped network and IPC, container-scoped PID (what the kubelet asks for v1 pods)
    [8, [[2, [[1, [[1, 0], [2, 1], [3, 0]]]]]]],
  ];
}

export function containerConfig(o: {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  mounts?: Array<{ containerPath: string; hostPath: string; readonly?: boolean }>;
  logPath: string;
  memoryLimitBytes?: number;
  runAsUser?: number;
}): Msg {
  const linuxResources: Msg = o.memoryLimitBytes ? [[4, o.memoryLimitBytes]] : [];
  const security: Msg = [[3, [[1, 0], [2, 1], [3, 0]]]];
  if (o.runAsUser !== undefined) security.push([5, [[1, o.runAsUser]]]);
  return [
    [1, [[1, o.name], [2, 0]]],
    [2, [[1, o.image]]],
    [3, o.command ?? []],
    [4, o.args ?? []],
    [6, Object.entries(o.env ?? {}).map(([k, v]): Msg => [[1, k], [2, v]])],
    [7, (o.mounts ?? []).map((m): Msg => [[1, m.containerPath], [2, m.hostPath], [3, m.readonly ?? false]])],
    [11, o.logPath],
    [15, [[1, linuxResources], [2, security]]],
  ];
}
