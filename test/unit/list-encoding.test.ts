// LIST bodies made of kept per-object encodings: byte for byte what JSON.stringify of the whole
// list gives, metadata found exactly inside an encoding, encodings kept only for listed resources,
// and bodies streamed with backpressure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resources } from '../../src/api/registry.ts';
import type { Obj } from '../../src/api/resource.ts';
import { toTable, partialMetadata } from '../../src/apiserver/table.ts';
import { encodedFor, encodeObject, keptJson, listEncodings, metadataJson, metadataSpan, offerEncoding } from '../../src/apiserver/list/encodings.ts';
import { metadataListBody, objectListBody, tableBody } from '../../src/apiserver/list/bodies.ts';
import { sendJsonPieces } from '../../src/apiserver/list/send.ts';

const pods = resources.find((r) => r.kind === 'Pod' && r.group === '')!;
const now = Date.parse('2025-01-01T12:00:00Z');

function pod(i: number, extra: Obj = {}): Obj {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: `web-${i}`,
      namespace: 'default',
      uid: `uid-${i}`,
      resourceVersion: String(100 + i),
      creationTimestamp: '2025-01-01T11:00:00Z',
      labels: { app: 'web', 'quote"and}brace{': 'x]\\"y' },
      annotations: { note: 'ünïcødé ✓ {"metadata":{}}', emoji: '🙂' },
      managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': {} } } }],
    },
    spec: { nodeName: `node-${i % 3}`, containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase: 'Running', podIP: `10.0.0.${i}`, containerStatuses: [{ name: 'c', ready: true, restartCount: i % 2, state: { running: { startedAt: '2025-01-01T11:00:01Z' } } }] },
    ...extra,
  };
}

const text = (pieces: Iterable<Buffer | string>) => Buffer.concat([...pieces].map((p) => (typeof p === 'string' ? Buffer.from(p) : p))).toString('utf8');

test('metadataSpan finds the top-level metadata value, past strings with braces, escapes and multi-byte characters', () => {
  const cases: Obj[] = [
    pod(1),
    { apiVersion: 'v1', kind: 'X', spec: { metadata: { fake: true } }, metadata: { name: 'a"}{', annotations: { k: '\\"metadata\\":' } } },
    { '"metadata"': 1, metadata: {} },
    { data: '"metadata":{"x":1}', metadata: { name: '🙂' } },
  ];
  for (const obj of cases) {
    const json = JSON.stringify(obj);
    const span = metadataSpan(json);
    assert.ok(span, json);
    assert.equal(json.slice(span[0], span[1]), JSON.stringify(obj.metadata));
  }
  assert.equal(metadataSpan(JSON.stringify({ kind: 'X', spec: { metadata: {} } })), undefined);
  assert.equal(metadataSpan(JSON.stringify({ kind: 'X', metadata: 'not an object' })), undefined);
});

test('a list body is the bytes JSON.stringify gives for the whole list, with or without kept encodings', () => {
  const items = [pod(1), pod(2), pod(3)];
  const envelope = { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7', continue: 'abc', remainingItemCount: 4 } };
  const kept = listEncodings('/registry/test/a/');
  for (const encodedOf of [encodeObject, (o: Obj) => encodedFor(kept, o)]) {
    assert.equal(text(objectListBody(envelope, items, encodedOf)), JSON.stringify({ ...envelope, items }));
    assert.equal(text(objectListBody(envelope, [], encodedOf)), JSON.stringify({ ...envelope, items: [] }));
  }
});

test('a Table body is JSON.stringify of toTable, for each includeObject and table version', () => {
  const items = [pod(1), pod(2), { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'bare' } }];
  const kept = listEncodings('/registry/test/b/');
  for (const include of ['None', 'Metadata', 'Object'] as const) {
    for (const version of ['v1', 'v1beta1']) {
      const opts = { include, version, resourceVersion: '9', continue: 'tok', remaining: 2, now };
      const expected = JSON.stringify(toTable(pods, items, opts));
      assert.equal(text(tableBody(pods, items, opts, (o) => encodedFor(kept, o))), expected, `${include} ${version}`);
      assert.equal(text(tableBody(pods, [], opts, encodeObject)), JSON.stringify(toTable(pods, [], opts)));
    }
  }
});

test('a metadata-only list is JSON.stringify of PartialObjectMetadataList, including an item without metadata', () => {
  const items: Obj[] = [pod(1), { kind: 'Pod', apiVersion: 'v1' }, pod(2)];
  const envelope = { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '3' } };
  const expected = JSON.stringify({ ...envelope, items: items.map((o) => partialMetadata(o, 'v1')) });
  assert.equal(text(metadataListBody(envelope, items, 'v1', encodeObject)), expected);
});

test('long Table and metadata-only bodies, written in runs of rows, are still the bytes JSON.stringify gives', () => {
  // Enough rows (some with large, multi-byte metadata, some without metadata) for many runs, and
  // a row whose metadata alone is larger than a run.
  const items: Obj[] = Array.from({ length: 600 }, (_, i) =>
    i % 97 === 5 ? { kind: 'Pod', apiVersion: 'v1' } : pod(i, i % 50 === 7 ? { metadata: { ...pod(i).metadata, annotations: { big: `ü${'x'.repeat(40_000)}"}` } } } : {}),
  );
  const kept = listEncodings('/registry/test/runs/');
  for (const include of ['None', 'Metadata', 'Object'] as const) {
    const opts = { include, version: 'v1', resourceVersion: '9', now };
    const pieces = [...tableBody(pods, items, opts, (o) => encodedFor(kept, o))];
    assert.equal(text(pieces), JSON.stringify(toTable(pods, items, opts)), include);
    // Rows go out joined, not one piece (or several) per row.
    if (include !== 'Object') assert.ok(pieces.length < items.length / 4, `${include}: ${pieces.length} pieces`);
  }
  const envelope = { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '3' } };
  const pieces = [...metadataListBody(envelope, items, 'v1', (o) => encodedFor(kept, o))];
  assert.equal(text(pieces), JSON.stringify({ ...envelope, items: items.map((o) => partialMetadata(o, 'v1')) }));
  assert.ok(pieces.length < items.length / 4, `${pieces.length} pieces`);
});

test('encodings are kept per object version, and offered ones only for resources being listed', () => {
  const kept = listEncodings('/registry/test/c/');
  const a = pod(1);
  const first = encodedFor(kept, a);
  assert.equal(encodedFor(kept, a), first, 'the same version is encoded once');
  assert.equal(first.json, JSON.stringify(a));
  const b = pod(1, { status: { phase: 'Failed' } });
  assert.equal(encodedFor(kept, b).json, JSON.stringify(b), 'a new version has its own encoding');
  assert.equal(metadataJson(first), JSON.stringify(a.metadata));
  assert.equal(metadataJson(encodeObject({ kind: 'X' })), undefined);

  const c = pod(5);
  offerEncoding('/registry/test/c/', c, '"offered"');
  assert.equal(encodedFor(kept, c).json, '"offered"');
  assert.equal(keptJson('/registry/test/c/', c), '"offered"');
  assert.equal(keptJson('/registry/test/c/', pod(5)), undefined, 'kept for that very version only');
  const d = pod(6);
  offerEncoding('/registry/test/not-listed/', d, '"offered"');
  assert.equal(keptJson('/registry/test/not-listed/', d), undefined);
  assert.equal(encodedFor(listEncodings('/registry/test/not-listed/'), d).json, JSON.stringify(d));
});

/** A server answering every request with sendJsonPieces over `pieces()`, and counting pieces taken. */
async function withServer(pieces: () => Iterable<Buffer>, fn: (port: number) => Promise<void>): Promise<void> {
  const server = http.createServer((_req, res) => void sendJsonPieces(res, 200, pieces()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

function get(port: number, onResponse: (res: http.IncomingMessage) => void): void {
  http.get({ host: '127.0.0.1', port, path: '/' }, onResponse);
}

test('a small body goes out whole with a Content-Length', async () => {
  await withServer(
    () => [Buffer.from('{"a":'), Buffer.from('1}')],
    (port) =>
      new Promise((done) =>
        get(port, (res) => {
          assert.equal(res.headers['content-length'], '7');
          assert.equal(res.headers['content-type'], 'application/json');
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => {
            assert.equal(body, '{"a":1}');
            done();
          });
        }),
      ),
  );
});

test('a large body is streamed: pieces are taken as the client reads, not all at once', async () => {
  const piece = Buffer.alloc(64 * 1024, 'x');
  const count = 1000; // 64 MiB: far beyond what the sockets buffer
  let taken = 0;
  function* pieces() {
    for (let i = 0; i < count; i++) {
      taken++;
      yield piece;
    }
  }
  await withServer(pieces, (port) =>
    new Promise((done, fail) =>
      get(port, (res) => {
        assert.equal(res.headers['transfer-encoding'], 'chunked');
        res.pause();
        setTimeout(() => {
          try {
            assert.ok(taken < count / 2, `a paused client held back the body (${taken} of ${count} pieces taken)`);
          } catch (err) {
            fail(err);
            return;
          }
          let bytes = 0;
          res.on('data', (d: Buffer) => (bytes += d.length));
          res.on('end', () => {
            assert.equal(bytes, count * piece.length);
            assert.equal(taken, count);
            done();
          });
          res.resume();
        }, 300);
      }),
    ),
  );
});

test('streamed bodies arrive intact: text and byte pieces, a piece larger than a chunk, reused chunks under concurrent slow readers, and a write wrapper', async () => {
  const big = Buffer.alloc(300 * 1024, 'b');
  const pieces = (): (Buffer | string)[] => {
    const out: (Buffer | string)[] = [];
    for (let i = 0; i < 3000; i++) out.push(i % 2 ? `[${i}:ü✓]` : Buffer.from(`<${i}:${'y'.repeat(i % 700)}>`));
    out.splice(1500, 0, big);
    out.splice(2500, 0, 'é'.repeat(100 * 1024));
    return out;
  };
  const expected = Buffer.concat(pieces().map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  let wrapped = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/wrapped') {
      // As the audit log does: a write that keeps what it is handed.
      const kept: Buffer[] = [];
      const write = res.write.bind(res) as (...a: unknown[]) => boolean;
      res.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
        kept.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        return write(chunk, ...rest);
      }) as typeof res.write;
      res.on('finish', () => {
        assert.ok(Buffer.concat(kept).equals(expected.subarray(0, Buffer.concat(kept).length)), 'chunks handed to a wrapper never change');
        wrapped++;
      });
    }
    void sendJsonPieces(res, 200, pieces());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const fetchBody = (path: string, slow: boolean) =>
    new Promise<Buffer>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port, path }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => {
            chunks.push(d);
            if (slow) {
              res.pause();
              setTimeout(() => res.resume(), 1);
            }
          });
          res.on('end', () => resolve(Buffer.concat(chunks)));
          res.on('error', reject);
        })
        .on('error', reject),
    );
  try {
    const bodies = await Promise.all([fetchBody('/', true), fetchBody('/', false), fetchBody('/', true), fetchBody('/wrapped', true)]);
    for (const b of bodies) assert.ok(b.equals(expected), `body of ${b.length} bytes, expected ${expected.length}`);
    assert.equal(wrapped, 1);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('a resource no LIST asks for keeps its encodings for one to two idle periods, then loses them', async () => {
  process.env.ORDINAL_LIST_ENCODINGS_IDLE_MS = '40';
  // A module instance of its own, reading the short period.
  const specifier = '../../src/apiserver/list/encodings.ts?idle';
  const m = (await import(specifier)) as typeof import('../../src/apiserver/list/encodings.ts');
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const idle = pod(1);
  const busy = pod(2);
  m.encodedFor(m.listEncodings('/registry/test/idle/'), idle);
  m.encodedFor(m.listEncodings('/registry/test/busy/'), busy);
  for (let i = 0; i < 10; i++) {
    await sleep(20);
    m.listEncodings('/registry/test/busy/');
  }
  assert.equal(m.keptJson('/registry/test/idle/', idle), undefined, 'dropped after 200 ms unlisted');
  assert.equal(m.keptJson('/registry/test/busy/', busy), JSON.stringify(busy), 'kept while listed');
  await sleep(200);
  assert.equal(m.keptJson('/registry/test/busy/', busy), undefined);
});
