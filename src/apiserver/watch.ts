// Streams watch events for one resource from the watch cache: history since the requested
// revision, then live changes, filtered by namespace and selectors; objects that enter or leave
// the selection arrive as ADDED and DELETED, as upstream's cacher sends them.
import type { ServerResponse } from 'node:http';
import type { Obj, ResourceDef } from '../api/resource.ts';
import { groupVersion } from '../api/registry.ts';
import { encode, type CacheEvent, type WatchCache } from '../storage/cache.ts';
import { bucketFor } from './resource-store.ts';
import { tableRow, type IncludeObject } from './table.ts';
import { keptJson, offerEncoding } from './list/encodings.ts';
import { ApiError, gone } from './errors.ts';

export interface WatchParams {
  resource: ResourceDef;
  namespace?: string;
  /** Watch a single object (fieldSelector metadata.name=x or a named watch path). */
  filter: (obj: Obj) => boolean;
  /** The indexed field value the filter pins, when it does: only changes with it before or after can match. */
  trigger?: { field: string; value: string };
  resourceVersion?: string;
  sendInitialEvents?: boolean;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  table?: { version: string; include: IncludeObject };
  /** Objects to replay as ADDED when no revision was given (the current state). */
  initial: () => Obj[];
}

/**
 * What a watcher of a selection sees of a change: objects entering the selection are ADDED,
 * leaving it DELETED, changing within it MODIFIED; changes outside it are not seen at all.
 */
export function eventForSelection(e: CacheEvent, filter: (obj: Obj) => boolean): CacheEvent['type'] | undefined {
  const before = e.prevObj !== undefined && filter(e.prevObj);
  if (e.type === 'DELETED') return before ? 'DELETED' : undefined;
  if (filter(e.obj)) return before ? 'MODIFIED' : 'ADDED';
  return before ? 'DELETED' : undefined;
}

/**
 * How often a watch that allows bookmarks gets one (upstream: about once a minute).
 * ORDINAL_WATCH_BOOKMARK_INTERVAL_MS overrides it, so that tests need not wait a minute.
 */
const BOOKMARK_INTERVAL_MS = Number(process.env.ORDINAL_WATCH_BOOKMARK_INTERVAL_MS) || 60_000;
/** A watcher that falls this far behind is closed; its client re-lists, as with upstream's cacher. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/**
 * A watch's resourceVersion: undefined for none or "0" (start from the cache's state). Upstream
 * parses it as a uint64: signs, fractions, exponents and values past 2^64-1 are 400s.
 */
export function watchResourceVersion(v: string | null | undefined): number | undefined {
  if (!v || v === '0') return undefined;
  if (!(/^\d+$/.test(v) && BigInt(v) <= 0xffffffffffffffffn)) throw new ApiError(400, 'BadRequest', `invalid resource version "${v}"`);
  return Number(v);
}

/**
 * The last event frame encoded: the cache hands one change to every watcher of its resource back
 * to back, so one entry lets a hundred watchers send the same bytes instead of each building and
 * UTF-8-encoding its own copy of the frame.
 */
let lastFrame: { obj: Obj; type: string; bytes: Buffer } | undefined;

function sharedFrame(bucket: string, type: string, obj: Obj): Buffer {
  if (lastFrame?.obj === obj && lastFrame.type === type) return lastFrame.bytes;
  // A resource being listed has its objects' encodings at hand (a watch replaying the current
  // state sends each of them); the next LIST needs the encoding of a change (a deleted object's, never).
  let json = keptJson(bucket, obj);
  if (json === undefined) {
    json = encode(obj);
    if (type !== 'DELETED') offerEncoding(bucket, obj, json);
  }
  const bytes = Buffer.from(`{"type":"${type}","object":${json}}\n`);
  lastFrame = { obj, type, bytes };
  return bytes;
}

export function serveWatch(res: ServerResponse, cache: WatchCache, p: WatchParams): void {
  const r = p.resource;
  const prefix = p.namespace !== undefined && r.namespaced ? `${bucketFor(r)}${p.namespace}/` : bucketFor(r);
  const startRev = cache.revision();
  let backlog: CacheEvent[] = [];
  const requested = watchResourceVersion(p.resourceVersion);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders?.();
  let headersSent = false;
  let closed = false;
  // The events of one turn (a group commit applies many changes at once) leave in one socket
  // write and TLS record instead of one each.
  let corked = false;
  const uncork = () => {
    if (!corked) return;
    corked = false;
    res.uncork();
  };

  const write = (type: string, obj: Obj | string) => {
    if (closed) return;
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(uncork);
    }
    if (!p.table && typeof obj !== 'string' && !(r.convert && obj.kind === r.kind)) {
      res.write(sharedFrame(bucketFor(r), type, obj));
      if (res.writableLength > MAX_BUFFERED_BYTES) stop();
      return;
    }
    if (r.convert && typeof obj !== 'string' && obj.kind === r.kind) obj = r.convert(obj);
    let payload: string;
    if (p.table && type !== 'BOOKMARK' && type !== 'ERROR' && typeof obj !== 'string') {
      const table: Obj = { kind: 'Table', apiVersion: `meta.k8s.io/${p.table.version}`, metadata: { resourceVersion: obj.metadata?.resourceVersion } };
      if (!headersSent) table.columnDefinitions = r.table.columns;
      table.rows = [tableRow(r, obj, p.table.include, Date.now(), p.table.version)];
      headersSent = true;
      payload = JSON.stringify(table);
    } else {
      payload = typeof obj === 'string' ? obj : encode(obj);
    }
    res.write(`{"type":"${type}","object":${payload}}\n`);
    if (res.writableLength > MAX_BUFFERED_BYTES) stop();
  };

  const deliver = (e: CacheEvent) => {
    if (!e.key.startsWith(prefix)) return;
    const type = eventForSelection(e, p.filter);
    if (type) write(type, e.obj);
  };

  // Subscribe first so that nothing between the snapshot and the live stream is lost.
  let live = false;
  const unsubscribe = cache.subscribe(
    bucketFor(r),
    (e) => {
      if (live) deliver(e);
      else backlog.push(e);
    },
    p.trigger,
  );

  const bookmark = () => {
    const rv = String(cache.revision());
    write('BOOKMARK', `{"kind":"${r.kind}","apiVersion":"${groupVersion(r)}","metadata":{"resourceVersion":"${rv}"}}`);
  };

  const timers: NodeJS.Timeout[] = [];
  function stop() {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    // Chunks written while corked wait in the response; ending first would send the last chunk before them.
    uncork();
    res.end();
  }
  res.on('close', stop);

  if (requested !== undefined && !p.sendInitialEvents) {
    const history = cache.eventsSince(requested);
    if (!history) {
      const err = gone(`too old resource version: ${requested} (${cache.oldestResumable() + 1})`);
      write('ERROR', JSON.stringify(err.toStatus()));
      stop();
      return;
    }
    for (const e of history) if (e.rev <= startRev) deliver(e);
  } else {
    for (const obj of p.initial()) write('ADDED', obj);
    if (p.sendInitialEvents && p.allowBookmarks) {
      write('BOOKMARK', `{"kind":"${r.kind}","apiVersion":"${groupVersion(r)}","metadata":{"resourceVersion":"${startRev}","annotations":{"k8s.io/initial-events-end":"true"}}}`);
    }
  }
  for (const e of backlog) if (e.rev > startRev) deliver(e);
  backlog = [];
  live = true;

  if (p.allowBookmarks) {
    const tick = () => {
      bookmark();
      timers[0] = setTimeout(tick, BOOKMARK_INTERVAL_MS);
    };
    timers.push(setTimeout(tick, BOOKMARK_INTERVAL_MS));
  }
  // Upstream ends watches after a randomized timeout so clients spread their re-lists.
  const timeout = p.timeoutSeconds && p.timeoutSeconds > 0 ? p.timeoutSeconds * 1000 : (1800 + Math.random() * 1800) * 1000;
  timers.push(setTimeout(stop, timeout));
}
