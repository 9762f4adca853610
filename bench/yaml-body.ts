// Transient memory of decoding one YAML request body (Content-Type application/yaml or
// application/apply-patch+yaml) with the API server's own decoder (parseBody in
// src/apiserver/handlers.ts), for bodies of the shapes the fuzzer sends and of real manifests, at
// 1 MiB and 3 MiB (upstream's body limit). Each decode runs in a fresh process with ordinal's V8
// flags, so that one measurement's garbage does not lift the next one's baseline. Per decode:
//   - RSS: the peak resident set (VmHWM, reset through /proc/self/clear_refs just before) less the
//     resident set just before;
//   - heap: the most the V8 heap held (the heap size before each GC that ran during the decode, and
//     at its end, from --trace-gc) less what it held before;
//   - CPU and wall time of the decode.
// Medians of --runs runs (default 3). ORDINAL_BENCH_TARGET=/other/checkout measures that checkout's
// decoder instead, so two can be compared run after run.
//   node bench/yaml-body.ts [--runs 3] [--shapes plain-64k,quoted,...] [--sizes 1,3]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ORDINAL_NODE_FLAGS } from '../src/cli/node-flags.ts';

const root = resolve(import.meta.dirname, '..');
const target = resolve(process.env.ORDINAL_BENCH_TARGET ?? root);
const MIB = 2 ** 20;

// ----------------------------------------------------------------------------- bodies

/** A double-quoted YAML/JSON string: what the fuzzer's YAML text holds once mutated. */
const quoted = (s: string) => JSON.stringify(s);

/** Repeats `part(i)` until the next one would pass `size` bytes; `head` and `tail` frame them. */
function fill(size: number, head: string, part: (i: number) => string, tail = ''): string {
  const out = [head];
  let len = Buffer.byteLength(head) + Buffer.byteLength(tail);
  for (let i = 0; ; i++) {
    const p = part(i);
    const n = Buffer.byteLength(p);
    if (len + n > size) break;
    out.push(p);
    len += n;
  }
  out.push(tail);
  return out.join('');
}

const STS = (i: number) => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: `web-${i}`, labels: { app: 'nginx', tier: `t${i % 7}` } },
  spec: {
    serviceName: 'nginx',
    replicas: 2,
    selector: { matchLabels: { app: 'nginx' } },
    template: {
      metadata: { labels: { app: 'nginx' } },
      spec: {
        containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.8', ports: [{ containerPort: 80, name: 'web' }], volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }] }],
      },
    },
    volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
  },
});

/** web.yaml's StatefulSet as block YAML, indented to sit in a List's items. */
function stsBlock(i: number): string {
  return `- apiVersion: apps/v1
  kind: StatefulSet
  metadata:
    name: web-${i}
    labels:
      app: nginx
      tier: t${i % 7}
  spec:
    serviceName: "nginx"
    replicas: 2
    selector:
      matchLabels:
        app: nginx
    template:
      metadata:
        labels:
          app: nginx
      spec:
        containers:
        - name: nginx
          image: registry.k8s.io/nginx-slim:0.8
          ports:
          - containerPort: 80
            name: web
          volumeMounts:
          - name: www
            mountPath: /usr/share/nginx/html
    volumeClaimTemplates:
    - metadata:
        name: www
      spec:
        accessModes: [ "ReadWriteOnce" ]
        resources:
          requests:
            storage: 1Gi
`;
}

const CONFIG_LINES = ['server {', '  listen 80;', '  server_name example.com www.example.com;', '  location / {', '    proxy_pass http://127.0.0.1:8080;', '    proxy_set_header Host $host;', '  }', '}'];

/** Each shape: a description and a body of at most `size` bytes. */
export const SHAPES: Record<string, { what: string; body: (size: number) => string }> = {
  'plain-64k': {
    what: 'fuzzer: a ConfigMap of 64 KiB plain scalars (its longest pooled string, as yaml.stringify writes it)',
    body: (size) => fill(size, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fz-a\ndata:\n', (i) => `  k${i}: ${'x'.repeat(64 * 1024)}\n`),
  },
  quoted: {
    what: 'fuzzer: one huge double-quoted string (its "huge string" mutation of YAML text)',
    body: (size) => {
      const head = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fz-a\ndata:\n  k: ';
      return head + quoted('x'.repeat(size - head.length - 3)) + '\n';
    },
  },
  'deep-flow': {
    what: "fuzzer: labels nested as deep as the size allows (its 100,000 levels are 0.57 MiB), refused for depth",
    body: (size) => {
      const n = Math.floor((size - 40) / 6);
      return '{"metadata":{"name":"fz-a","labels":' + '{"a":'.repeat(n) + '1' + '}'.repeat(n) + '}}';
    },
  },
  'flow-json': {
    what: 'fuzzer and kubectl: JSON text (a List of StatefulSets), which is YAML; kubectl apply --server-side sends JSON as apply-patch+yaml',
    body: (size) => fill(size, '{"apiVersion":"v1","kind":"List","items":[', (i) => (i ? ',' : '') + JSON.stringify(STS(i)), ']}'),
  },
  'block-list': {
    what: 'manifests: a List of web.yaml StatefulSets in block YAML',
    body: (size) => fill(size, 'apiVersion: v1\nkind: List\nitems:\n', stsBlock),
  },
  'block-literal': {
    what: 'manifests: a ConfigMap of config files as block literal scalars (|)',
    body: (size) => fill(size, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conf\ndata:\n', (i) => `  site-${i}.conf: |\n${CONFIG_LINES.map((l) => '    ' + l + '\n').join('')}`),
  },
};

// ----------------------------------------------------------------------------- one decode (child)

async function child(file: string, type: string, targetRoot: string): Promise<void> {
  const { parseBody } = await import(pathToFileURL(join(targetRoot, 'src/apiserver/handlers.ts')).href);
  const buf = readFileSync(file);
  // Warm the decoder on a small body so that code compiled on first use is not counted.
  parseBody(Buffer.from('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"a": "b"}}'), type);
  const gc = (globalThis as any).gc as () => void;
  gc();
  gc();
  writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current RSS
  const rss0 = status('VmRSS');
  const heap0 = process.memoryUsage().heapUsed;
  console.log(`@begin ${heap0}`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let outcome = 'ok';
  let result: unknown;
  try {
    result = parseBody(buf, type);
  } catch (err) {
    outcome = `error: ${(err as Error).message.slice(0, 100)}`;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const heapEnd = process.memoryUsage().heapUsed;
  const hwm = status('VmHWM');
  console.log(`@end ${heapEnd}`);
  console.log('@result ' + JSON.stringify({ rss: hwm - rss0, heapEnd, ms, cpuMs: (cpu.user + cpu.system) / 1000, outcome, kept: result === undefined ? 0 : 1 }));
}

function status(field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

// ----------------------------------------------------------------------------- the bench (parent)

interface Run {
  rss: number;
  heap: number;
  ms: number;
  cpuMs: number;
  outcome: string;
}

function measure(file: string, type: string): Promise<Run> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [...ORDINAL_NODE_FLAGS, '--expose-gc', '--trace-gc', import.meta.filename, '--child', file, '--type', type, '--target', target], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => {
      const lines = out.split('\n');
      const b = lines.findIndex((l) => l.startsWith('@begin '));
      const e = lines.findIndex((l) => l.startsWith('@end '));
      const r = lines.find((l) => l.startsWith('@result '));
      if (code !== 0 || b < 0 || e < 0 || !r) return rej(new Error(`child exited ${code}:\n${err.slice(-2000)}\n${out.slice(-2000)}`));
      const heap0 = Number(lines[b].slice(7));
      const result = JSON.parse(r.slice(8));
      // "Scavenge 12.3 (14.0) -> 10.1 (15.0) MB": the first figure is the heap used before that GC.
      let peak = result.heapEnd;
      for (const l of lines.slice(b + 1, e)) {
        const m = /: (?:Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Sweep|MinorMS)[^\d]*([\d.]+) \([\d.]+\) ->/.exec(l);
        if (m) peak = Math.max(peak, Number(m[1]) * MIB);
      }
      res({ rss: result.rss, heap: peak - heap0, ms: result.ms, cpuMs: result.cpuMs, outcome: result.outcome });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const mb = (n: number) => (n / MIB).toFixed(1).padStart(7);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, shapes: { type: 'string' }, sizes: { type: 'string' }, type: { type: 'string' } } });
  const runs = Number(values.runs ?? 3);
  const shapes = values.shapes ? values.shapes.split(',') : Object.keys(SHAPES);
  const sizes = (values.sizes ?? '1,3').split(',').map(Number);
  const type = values.type ?? 'application/yaml';
  const dir = mkdtempSync(join(tmpdir(), 'ordinal-yaml-bench-'));
  console.log(`YAML body decoding: parseBody of ${target}, ${type}, node ${process.version} ${ORDINAL_NODE_FLAGS.join(' ')}, medians of ${runs} runs, each in a fresh process`);
  console.log('transient = peak during the decode less the figure just before it');
  console.log(`${'shape'.padEnd(14)} ${'size'.padStart(7)}  ${'RSS MB'.padStart(7)} ${'heap MB'.padStart(7)} ${'cpu ms'.padStart(7)} ${'wall ms'.padStart(7)}  outcome`);
  try {
    for (const shape of shapes) {
      if (!SHAPES[shape]) throw new Error(`unknown shape ${shape}: one of ${Object.keys(SHAPES).join(', ')}`);
      for (const size of sizes) {
        const body = SHAPES[shape].body(Math.round(size * MIB));
        const file = join(dir, `${shape}-${size}`);
        writeFileSync(file, body);
        const rs: Run[] = [];
        for (let i = 0; i < runs; i++) rs.push(await measure(file, type));
        const line = `${shape.padEnd(14)} ${mb(Buffer.byteLength(body))}  ${mb(median(rs.map((r) => r.rss)))} ${mb(median(rs.map((r) => r.heap)))} ${median(rs.map((r) => r.cpuMs)).toFixed(0).padStart(7)} ${median(rs.map((r) => r.ms)).toFixed(0).padStart(7)}  ${rs[0].outcome}`;
        console.log(line);
      }
    }
    console.log('shapes:');
    for (const s of shapes) console.log(`  ${s}: ${SHAPES[s].what}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) {
  const at = (flag: string) => process.argv[process.argv.indexOf(flag) + 1];
  await child(at('--child'), at('--type'), at('--target'));
} else if (import.meta.main) {
  await main();
}
