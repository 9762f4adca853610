// Just enough protobuf writing to frame bodies as kubectl does ('k8s\0' + runtime.Unknown), so
// the fuzzer reaches the server's protobuf decoder with well-formed, mutated and broken bodies.
function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

export function bytesField(field: number, value: Buffer | string): Buffer {
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([varint((field << 3) | 2), varint(b.length), b]);
}

export function varintField(field: number, n: number): Buffer {
  return Buffer.concat([varint(field << 3), varint(n)]);
}

/** The Kubernetes envelope around an object's own message bytes. */
export function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([bytesField(1, apiVersion), bytesField(2, kind)]);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), bytesField(1, typeMeta), bytesField(2, raw)]);
}

/** A ConfigMap's message (metadata=1 {name=1, namespace=3, labels=11}, data=2 map). */
export function configMapMessage(name: string, data: Record<string, string>, labels: Record<string, string> = {}): Buffer {
  const entry = (field: number, k: string, v: string) => bytesField(field, Buffer.concat([bytesField(1, k), bytesField(2, v)]));
  const meta = Buffer.concat([bytesField(1, name), ...Object.entries(labels).map(([k, v]) => entry(11, k, v))]);
  return Buffer.concat([bytesField(1, meta), ...Object.entries(data).map(([k, v]) => entry(2, k, v))]);
}
