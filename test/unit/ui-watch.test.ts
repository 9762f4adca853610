// The live view's list-then-watch loop (src/ui/static/watch.js) against a scripted fetch: paged
// lists, watching from the list's resourceVersion, bookmarks, resuming after a watch ends,
// listing again after 410 Gone, and refusals reported with the API's message.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';

const { ListWatch }: any = await import(new URL('../../src/ui/static/watch.js', import.meta.url).href);

type Step = { match: RegExp; status?: number; body?: unknown; lines?: unknown[]; hang?: boolean };

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** Answers each request with the next step, which must match its URL; records the URLs. */
function script(steps: Step[]) {
  const urls: string[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  globalThis.fetch = (async (url: string, init: { signal: AbortSignal }) => {
    urls.push(url);
    const step = steps.shift();
    if (!step) throw new Error(`unexpected request ${url}`);
    assert.match(url, step.match);
    if (!steps.length) done();
    if (step.lines || step.hang) {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          // One chunk, and the last line split across a second: lines are reassembled, not chunks parsed.
          const text = (step.lines ?? []).map((l) => JSON.stringify(l) + '\n').join('');
          if (text) {
            controller.enqueue(new TextEncoder().encode(text.slice(0, -10)));
            controller.enqueue(new TextEncoder().encode(text.slice(-10)));
          }
          if (step.hang) init.signal.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
          else controller.close();
        },
      });
      return new Response(stream, { status: step.status ?? 200 });
    }
    return new Response(JSON.stringify(step.body), { status: step.status ?? 200 });
  }) as typeof fetch;
  return { urls, finished };
}

const pod = (name: string, rv: string) => ({ metadata: { namespace: 'd', name, resourceVersion: rv } });

test('lists in pages, watches from the list, follows events, resumes after an end, relists after 410', async () => {
  const { urls, finished } = script([
    { match: /\/pods\?fieldSelector=x%3Dy&limit=500$/, body: { items: [pod('a', '5')], metadata: { continue: 'c1', resourceVersion: '9' } } },
    { match: /continue=c1/, body: { items: [pod('b', '6')], metadata: { resourceVersion: '10' } } },
    { match: /watch=1&resourceVersion=10&allowWatchBookmarks=true/, lines: [{ type: 'ADDED', object: pod('c', '11') }, { type: 'DELETED', object: pod('a', '12') }, { type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } }] },
    // The stream ended (a server timeout): watch again from the bookmark, not from the list.
    { match: /watch=1&resourceVersion=15&/, lines: [{ type: 'MODIFIED', object: pod('b', '16') }, { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 16 (20)' } }] },
    { match: /limit=500$/, body: { items: [pod('z', '30')], metadata: { resourceVersion: '31' } } },
    { match: /watch=1&resourceVersion=31&/, hang: true },
  ]);
  const snapshots: string[] = [];
  const errors: (string | null)[] = [];
  const lw = new ListWatch('/api/v1/namespaces/d/pods', { fieldSelector: 'x=y' }, {
    onChange: () => snapshots.push([...lw.items.keys()].sort().join()),
    onError: (e: string | null) => errors.push(e),
  }).start();
  await finished;
  await new Promise((r) => setTimeout(r, 20));
  lw.stop();
  assert.equal(urls.length, 6);
  assert.ok(urls.every((u) => u.includes('fieldSelector=x%3Dy')), 'every request keeps the selector');
  // Shown once per chunk that completed a change (the bookmark's tail changes nothing; the
  // MODIFIED before the 410 does); after the 410 the relisted state replaces all.
  assert.deepEqual(snapshots, ['d/a,d/b', 'd/b,d/c', 'd/b,d/c', 'd/z']);
  assert.equal(lw.rv, '31');
  assert.deepEqual(errors, [null, null]);
});

test('a refused list reports the Status message and keeps nothing', async () => {
  const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "d"' };
  const { finished } = script([{ match: /limit=500/, status: 403, body: status }]);
  const errors: (string | null)[] = [];
  const lw = new ListWatch('/api/v1/namespaces/d/pods', {}, { onChange: () => {}, onError: (e: string | null) => errors.push(e) }).start();
  await finished;
  await new Promise((r) => setTimeout(r, 20));
  lw.stop();
  assert.deepEqual(errors, [`403 Forbidden: ${status.message}`]);
  assert.equal(lw.synced, false);
  assert.equal(lw.items.size, 0);
});
