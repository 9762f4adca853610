// Developer tool, not used at run time: regenerates descriptors.ts from the protobuf descriptors
// that a Go Kubernetes client (kubectl) carries inside its binary, so the field numbers we decode
// are exactly the ones kubectl encodes with.
//
//   ./node_modules/.bin/node src/apiserver/protobuf/extract-descriptors.ts [path/to/kubectl] > src/apiserver/protobuf/descriptors.ts
//
// gogo-protobuf registers every generated.proto as a gzipped FileDescriptorProto; we find the gzip
// members by their header, inflate them and read the few descriptor fields we need. The gogo
// field options tell which Go fields are values (nullable=false) and which are pointers, which is
// what decides whether a zero on the wire means "set" (see decode.ts).
import { readFileSync, realpathSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { inflateRawSync } from 'node:zlib';
import { readFields, type WireField } from './wire.ts';

/** Proto packages we decode, as the short prefixes used in the table keys. */
const PACKAGES: Record<string, string> = {
  'k8s.io.api.core.v1': 'core/v1',
  'k8s.io.api.apps.v1': 'apps/v1',
  'k8s.io.api.policy.v1': 'policy/v1',
  'k8s.io.api.coordination.v1': 'coordination/v1',
  'k8s.io.api.storage.v1': 'storage/v1',
  'k8s.io.api.discovery.v1': 'discovery/v1',
  'k8s.io.api.autoscaling.v1': 'autoscaling/v1',
  'k8s.io.api.autoscaling.v2': 'autoscaling/v2',
  'k8s.io.api.batch.v1': 'batch/v1',
  'k8s.io.api.rbac.v1': 'rbac/v1',
  'k8s.io.api.networking.v1': 'networking/v1',
  'k8s.io.api.scheduling.v1': 'scheduling/v1',
  'k8s.io.api.events.v1': 'events/v1',
  'k8s.io.api.node.v1': 'node/v1',
  'k8s.io.api.certificates.v1': 'certificates/v1',
  'k8s.io.api.authentication.v1': 'authentication/v1',
  'k8s.io.api.authorization.v1': 'authorization/v1',
  'k8s.io.apimachinery.pkg.apis.meta.v1': 'meta/v1',
  'k8s.io.apimachinery.pkg.runtime': 'runtime',
  'k8s.io.apimachinery.pkg.runtime.schema': 'schema',
  'k8s.io.apimachinery.pkg.util.intstr': 'intstr',
  'k8s.io.apimachinery.pkg.api.resource': 'resource',
};

/** Go fields embedded with `json:",inline"`: their members appear in the parent's JSON object. */
const INLINE = new Set([
  'core/v1.Volume.volumeSource',
  'core/v1.PersistentVolumeSpec.persistentVolumeSource',
  'core/v1.Probe.handler',
  'core/v1.EphemeralContainer.ephemeralContainerCommon',
  'core/v1.ConfigMapEnvSource.localObjectReference',
  'core/v1.ConfigMapKeySelector.localObjectReference',
  'core/v1.ConfigMapProjection.localObjectReference',
  'core/v1.ConfigMapVolumeSource.localObjectReference',
  'core/v1.SecretEnvSource.localObjectReference',
  'core/v1.SecretKeySelector.localObjectReference',
  'core/v1.SecretProjection.localObjectReference',
  'networking/v1.IngressRule.ingressRuleValue',
]);

const SCALAR: Record<number, string> = { 1: 'd', 2: 'f', 3: 'I', 4: 'U', 5: 'i', 6: 'U', 7: 'u', 8: 'b', 9: 's', 12: 'y', 13: 'u', 15: 'i', 16: 'I', 17: 'z', 18: 'Z' };
const TYPE_MESSAGE = 11;
const LABEL_REPEATED = 3;
const GOGO_NULLABLE = 65001;

interface Field {
  name: string;
  num: number;
  repeated: boolean;
  type: number;
  typeName: string;
  nullable: boolean;
}
interface Message {
  key: string;
  fields: Field[];
  mapEntry: boolean;
}

const str = (f: WireField) => (f.v.wire === 2 ? f.v.bytes.toString('utf8') : '');
const num = (f: WireField) => (f.v.wire === 0 ? Number(f.v.value) : 0);

function shortKey(fullName: string): string {
  // '.k8s.io.api.core.v1.Pod.LabelsEntry' → 'core/v1.Pod.LabelsEntry'
  const name = fullName.replace(/^\./, '');
  const pkg = Object.keys(PACKAGES)
    .filter((p) => name.startsWith(p + '.'))
    .sort((a, b) => b.length - a.length)[0];
  return pkg ? `${PACKAGES[pkg]}.${name.slice(pkg.length + 1)}` : name;
}

function readMessage(prefix: string, buf: Buffer, out: Map<string, Message>): void {
  const parts = readFields(buf);
  const name = str(parts.find((p) => p.field === 1)!);
  const key = `${prefix}.${name}`;
  const msg: Message = { key, fields: [], mapEntry: false };
  for (const p of parts) {
    if (p.field === 2 && p.v.wire === 2) {
      const f: Field = { name: '', num: 0, repeated: false, type: 0, typeName: '', nullable: true };
      for (const q of readFields(p.v.bytes)) {
        if (q.field === 1) f.name = str(q);
        else if (q.field === 3) f.num = num(q);
        else if (q.field === 4) f.repeated = num(q) === LABEL_REPEATED;
        else if (q.field === 5) f.type = num(q);
        else if (q.field === 6) f.typeName = shortKey(str(q));
        else if (q.field === 8 && q.v.wire === 2) {
          for (const o of readFields(q.v.bytes)) if (o.field === GOGO_NULLABLE && o.v.wire === 0 && o.v.value === 0n) f.nullable = false;
        }
      }
      msg.fields.push(f);
    } else if (p.field === 3 && p.v.wire === 2) {
      readMessage(key, p.v.bytes, out);
    } else if (p.field === 7 && p.v.wire === 2) {
      for (const o of readFields(p.v.bytes)) if (o.field === 7 && o.v.wire === 0 && o.v.value === 1n) msg.mapEntry = true;
    }
  }
  out.set(key, msg);
}

function extract(binary: string): Map<string, Message> {
  const data = readFileSync(binary);
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);
  const messages = new Map<string, Message>();
  for (let i = data.indexOf(header); i >= 0; i = data.indexOf(header, i + 1)) {
    let file: Buffer;
    try {
      file = inflateRawSync(data.subarray(i + 10, i + 10 + 4_000_000));
    } catch {
      continue;
    }
    let parts: WireField[];
    try {
      parts = readFields(file);
    } catch {
      continue;
    }
    const pkg = parts.find((p) => p.field === 2);
    if (!pkg || !(str(pkg) in PACKAGES)) continue;
    for (const p of parts) if (p.field === 4 && p.v.wire === 2) readMessage(PACKAGES[str(pkg)], p.v.bytes, messages);
  }
  return messages;
}

function typeRef(from: string, to: string): string {
  // Same package → bare name; otherwise the full key.
  const pkgOf = (k: string) => k.slice(0, k.indexOf('.'));
  return pkgOf(from) === pkgOf(to) ? to.slice(to.indexOf('.') + 1) : to;
}

function encodeField(msg: Message, f: Field, all: Map<string, Message>): string {
  const flags = (f.repeated ? '*' : '') + (f.nullable && !f.repeated ? '?' : '') + (INLINE.has(`${msg.key}.${f.name}`) ? '^' : '');
  if (f.type === TYPE_MESSAGE) {
    const target = all.get(f.typeName);
    if (!target) throw new Error(`${msg.key}.${f.name}: unknown type ${f.typeName}`);
    if (target.mapEntry) {
      const k = target.fields.find((x) => x.num === 1)!;
      const v = target.fields.find((x) => x.num === 2)!;
      if (k.type !== 9) throw new Error(`${msg.key}.${f.name}: non-string map key`);
      const value = v.type === TYPE_MESSAGE ? typeRef(msg.key, v.typeName) : SCALAR[v.type];
      return `${f.name}=${f.num}{${value}}`;
    }
    return `${f.name}=${f.num}:${typeRef(msg.key, f.typeName)}${flags}`;
  }
  const code = SCALAR[f.type];
  if (!code) throw new Error(`${msg.key}.${f.name}: unsupported type ${f.type}`);
  return `${f.name}=${f.num}${code}${flags}`;
}

function main(): void {
  const binary = process.argv[2] ?? realpathSync(execFileSync('which', ['kubectl'], { encoding: 'utf8' }).trim());
  const all = extract(binary);
  // Keep what a client can send: top-level kinds (they have ObjectMeta), DeleteOptions, the
  // envelope, and everything they reach.
  const roots = [...all.values()].filter(
    (m) => (m.fields.some((f) => f.name === 'metadata' && f.typeName === 'meta/v1.ObjectMeta') && !m.key.endsWith('List')) || ['meta/v1.DeleteOptions', 'runtime.Unknown'].includes(m.key),
  );
  const keep = new Map<string, Message>();
  const visit = (m: Message) => {
    if (keep.has(m.key) || m.mapEntry) return;
    keep.set(m.key, m);
    for (const f of m.fields) {
      if (f.type !== TYPE_MESSAGE) continue;
      const t = all.get(f.typeName)!;
      if (t.mapEntry) {
        const v = t.fields.find((x) => x.num === 2)!;
        if (v.type === TYPE_MESSAGE) visit(all.get(v.typeName)!);
      } else visit(t);
    }
  };
  roots.forEach(visit);
  const keys = [...keep.keys()].sort();
  const lines = keys.map((k) => `  '${k}': '${keep.get(k)!.fields.map((f) => encodeField(keep.get(k)!, f, all)).join(' ')}',`);
  process.stdout.write(`// Generated by extract-descriptors.ts from the protobuf descriptors embedded in kubectl v1.32
// (k8s.io/api and k8s.io/apimachinery generated.proto). Do not edit by hand; regenerate.
//
// One entry per message: space-separated fields 'jsonName=number<type><flags>', where <type> is
// a scalar code (s string, b bool, i int32, I int64, u uint32, U uint64, z sint32, Z sint64,
// d double, f float, y bytes), ':Message' (bare = same package), or '{value}' for a map with
// string keys. Flags: '*' repeated, '?' a Go pointer (a zero on the wire is a real value),
// '^' embedded inline in the parent's JSON.
export const MESSAGES: Record<string, string> = {
${lines.join('\n')}
};
`);
}

main();
