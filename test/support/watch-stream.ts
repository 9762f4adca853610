// Checks a watch stream as a client saw it (kubectl get -w --output-watch-events): every event is
// (type, name, resourceVersion). A consistent stream never goes back or repeats for one object, and
// replaying it gives the state a LIST gives afterwards.

/** kubectl's -o jsonpath for one line per event. */
export const WATCH_JSONPATH = '{.type} {.object.metadata.name} {.object.metadata.resourceVersion}{"\\n"}';

export interface WatchEvent {
  type: string;
  name: string;
  rv: string;
}

/** Complete lines only: a line still being written is left for later. */
export function parseWatchLines(out: string): WatchEvent[] {
  const done = out.slice(0, out.lastIndexOf('\n') + 1);
  return done
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [type = '', name = '', rv = ''] = l.trim().split(/\s+/);
      return { type, name, rv };
    });
}

export interface WatchVerdict {
  events: number;
  /** Events out of order, repeated, of unknown type or on objects the stream had not shown. */
  errors: string[];
  /** Where the replayed stream differs from the LIST (name: stream rv vs listed rv). */
  final: string[];
}

/** `listed`: name → resourceVersion of a LIST taken after the stream's last event of interest. */
export function checkWatchStream(events: WatchEvent[], listed: Map<string, string>): WatchVerdict {
  const errors: string[] = [];
  const last = new Map<string, bigint>();
  const state = new Map<string, string>();
  events.forEach((e, i) => {
    const at = `#${i} ${e.type} ${e.name} ${e.rv}`;
    if (!/^\d+$/.test(e.rv)) return void errors.push(`${at}: not a resourceVersion`);
    const rv = BigInt(e.rv);
    const prev = last.get(e.name);
    if (prev !== undefined && rv <= prev) errors.push(`${at}: not after ${prev} for ${e.name}${rv === prev ? ' (delivered twice)' : ''}`);
    last.set(e.name, rv);
    if (e.type === 'ADDED') {
      if (state.has(e.name)) errors.push(`${at}: ADDED while the stream still had it`);
      state.set(e.name, e.rv);
    } else if (e.type === 'MODIFIED') {
      if (!state.has(e.name)) errors.push(`${at}: MODIFIED before it was ADDED`);
      state.set(e.name, e.rv);
    } else if (e.type === 'DELETED') {
      if (!state.has(e.name)) errors.push(`${at}: DELETED before it was ADDED`);
      state.delete(e.name);
    } else errors.push(`${at}: unexpected event type`);
  });
  const final: string[] = [];
  for (const name of new Set([...state.keys(), ...listed.keys()])) {
    const s = state.get(name);
    const l = listed.get(name);
    if (s !== l) final.push(`${name}: stream ${s ?? 'absent'}, LIST ${l ?? 'absent'}`);
  }
  return { events: events.length, errors, final: final.sort() };
}
