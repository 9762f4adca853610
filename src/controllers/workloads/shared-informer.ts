// One pods (or other) informer shared by the workload controllers of a process, as client-go's
// shared informer factory: each watch delivers every pod event once per watcher, so four
// controllers on one informer cost one watcher, not four, on the StatefulSet hot path.
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer, type Handlers } from '../../client/informer.ts';

interface Entry {
  informer: Informer;
  started?: Promise<void>;
  users: number;
}

const byClient = new WeakMap<Client, Map<string, Entry>>();

export interface SharedInformer {
  readonly informer: Informer;
  /** Registers handlers; on an informer that already listed, the handler first hears every object as added. */
  on(h: Handlers): void;
  get(namespace: string | undefined, name: string): Obj | undefined;
  list(namespace?: string): Obj[];
  hasSynced(): boolean;
  start(): Promise<void>;
  stop(): void;
}

export function sharedInformer(client: Client, group: string, plural: string): SharedInformer {
  let entries = byClient.get(client);
  if (!entries) byClient.set(client, (entries = new Map()));
  const key = `${group}/${plural}`;
  let e = entries.get(key);
  if (!e) entries.set(key, (e = { informer: new Informer(client, client.resource(group, plural)), users: 0 }));
  const entry = e;
  const map = entries;
  entry.users++;
  let stopped = false;
  return {
    informer: entry.informer,
    on(h) {
      entry.informer.on(h);
      if (entry.informer.hasSynced()) for (const o of entry.informer.list()) h.add?.(o);
    },
    get: (ns, name) => entry.informer.get(ns, name),
    list: (ns) => entry.informer.list(ns),
    hasSynced: () => entry.informer.hasSynced(),
    start() {
      entry.started ??= entry.informer.start();
      return entry.started;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (--entry.users === 0) {
        entry.informer.stop();
        map.delete(key);
      }
    },
  };
}
