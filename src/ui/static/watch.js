// List-then-watch against the same origin's API, as client-go's reflector does: list (in pages),
// then watch from the list's resourceVersion, resume from the last one seen when a watch ends,
// and list again after 410 Gone. Every request carries the caller's own credentials (kubectl proxy
// adds them), so what the server refuses is reported, not hidden.
import { errorText } from './model.js';

const PAGE = 500;

export class ListWatch {
  /**
   * @param {string} path  a collection path such as /api/v1/namespaces/default/pods
   * @param {Record<string, string>} params  selectors every request carries (fieldSelector, labelSelector)
   * @param {{ onChange: () => void, onError: (text: string | null) => void, onLive?: (live: boolean) => void }} handlers
   */
  constructor(path, params, handlers) {
    this.path = path;
    this.params = params;
    this.handlers = handlers;
    /** @type {Map<string, any>} by namespace/name */
    this.items = new Map();
    this.synced = false;
    this.stopped = false;
    this.abort = new AbortController();
    this.rv = '';
  }

  start() {
    void this.run();
    return this;
  }

  stop() {
    this.stopped = true;
    this.abort.abort();
  }

  list() {
    return [...this.items.values()];
  }

  async run() {
    let delay = 1000;
    while (!this.stopped) {
      try {
        await this.relist();
        this.handlers.onError(null);
        delay = 1000;
        // Watch until told to list again (410, or an error in the stream).
        while (!this.stopped && (await this.watchOnce())) {}
      } catch (err) {
        if (this.stopped) return;
        this.handlers.onLive?.(false);
        this.handlers.onError(err instanceof RequestError ? err.message : `connection lost: ${err?.message ?? err}`);
        // A refusal does not pass by itself; retry slowly in case a role is granted meanwhile.
        await sleep(err instanceof RequestError && (err.code === 401 || err.code === 403) ? 5_000 : delay, this.abort.signal);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  async relist() {
    const items = new Map();
    let cont = '';
    let rv = '';
    do {
      const q = new URLSearchParams({ ...this.params, limit: String(PAGE) });
      if (cont) q.set('continue', cont);
      const res = await fetch(`${this.path}?${q}`, { headers: { Accept: 'application/json' }, signal: this.abort.signal, cache: 'no-store' });
      const body = await res.text();
      if (!res.ok) throw new RequestError(res.status, errorText(res.status, body));
      const list = JSON.parse(body);
      for (const o of list.items ?? []) items.set(key(o), o);
      cont = list.metadata?.continue ?? '';
      rv = list.metadata?.resourceVersion ?? rv;
    } while (cont);
    this.items = items;
    this.rv = rv;
    this.synced = true;
    this.handlers.onChange();
  }

  /** One watch request; true to watch again from this.rv, false to list again. */
  async watchOnce() {
    const q = new URLSearchParams({ ...this.params, watch: '1', resourceVersion: this.rv, allowWatchBookmarks: 'true' });
    const res = await fetch(`${this.path}?${q}`, { headers: { Accept: 'application/json' }, signal: this.abort.signal, cache: 'no-store' });
    if (res.status === 410) return false;
    if (!res.ok || !res.body) throw new RequestError(res.status, errorText(res.status, await res.text()));
    this.handlers.onLive?.(true);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl;
      let changed = false;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        const ev = JSON.parse(line);
        if (ev.type === 'ERROR') {
          reader.cancel().catch(() => {});
          if (ev.object?.code === 410) return false;
          throw new RequestError(ev.object?.code ?? 500, errorText(ev.object?.code ?? 500, JSON.stringify(ev.object)));
        }
        const obj = ev.object;
        if (obj?.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.items.set(key(obj), obj);
        else if (ev.type === 'DELETED') this.items.delete(key(obj));
        else continue; // BOOKMARK: only the resourceVersion moves
        changed = true;
      }
      if (changed) this.handlers.onChange();
    }
    this.handlers.onLive?.(false);
    return true;
  }
}

export class RequestError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function key(o) {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve(undefined);
      },
      { once: true },
    );
  });
}
