// Many keys each due at its own time, served by one timer. A node looks at each claim its pods
// mount on a jittered, backing-off schedule (volume-expansion.ts); with a timer each, 10,000 claims
// meant 10,000 live timers re-armed at every look. Here a due time is rounded up to a slot no wider
// than an eighth of its delay (well inside the ±25 % jitter the callers add), so keys due together
// share one wake-up, and a key is never served before the time it asked for.

/** The narrowest slot: delays of up to 2 s are served within a quarter of a second of their time. */
const MIN_SLOT_MS = 250;

/** The slot width for a delay: a power-of-two multiple of MIN_SLOT_MS, at most an eighth of the delay. */
export function slotWidthMs(delayMs: number): number {
  let width = MIN_SLOT_MS;
  while (width * 16 <= delayMs) width *= 2;
  return width;
}

/** The time a key asked for at `atMs` is served: rounded up to its slot (slots of all widths share one grid). */
export function slotDueMs(atMs: number, delayMs: number): number {
  const width = slotWidthMs(delayMs);
  return Math.ceil(atMs / width) * width;
}

export class DueQueue<K> {
  private readonly serve: (key: K) => void;
  /** Keys by the slot (due time, ms) they wait in. */
  private readonly slots = new Map<number, Set<K>>();
  /**
   * The slots' times in ascending order, so a wake-up visits only the slots it serves. A slot
   * emptied by cancel() stays listed until its time (skipped then), and one made again is listed twice.
   */
  private readonly times: number[] = [];
  /** Each waiting key's slot. */
  private readonly dueOf = new Map<K, number>();
  /** Keys to serve as soon as possible, all in one wake-up. */
  private readonly soon = new Set<K>();
  private timer: NodeJS.Timeout | undefined;
  /** The slot the timer is armed for (Infinity when it is not armed). */
  private armedFor = Infinity;
  private stopped = false;

  constructor(serve: (key: K) => void) {
    this.serve = serve;
  }

  /** Serves `key` once, `delayMs` from now (0: in the next wake-up); replaces a time it was waiting for. */
  schedule(key: K, delayMs: number): void {
    if (this.stopped) return;
    this.cancel(key);
    if (delayMs <= 0) {
      this.soon.add(key);
      this.arm(-Infinity);
      return;
    }
    const due = slotDueMs(Date.now() + delayMs, delayMs);
    let slot = this.slots.get(due);
    if (!slot) {
      this.slots.set(due, (slot = new Set()));
      insertSorted(this.times, due);
    }
    slot.add(key);
    this.dueOf.set(key, due);
    this.arm(due);
  }

  /** Forgets `key`'s waiting time, if any. */
  cancel(key: K): void {
    if (this.soon.delete(key)) return;
    const due = this.dueOf.get(key);
    if (due === undefined) return;
    this.dueOf.delete(key);
    const slot = this.slots.get(due);
    slot?.delete(key);
    // The timer may stay armed for an emptied slot: waking up to nothing is cheaper than re-arming.
    if (slot?.size === 0) this.slots.delete(due);
  }

  /** How many keys wait (for tests). */
  get size(): number {
    return this.soon.size + this.dueOf.size;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.slots.clear();
    this.times.length = 0;
    this.dueOf.clear();
    this.soon.clear();
  }

  /** Arms the timer for `due` (-Infinity: at once) unless it already wakes up no later. */
  private arm(due: number): void {
    if (due >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = due;
    this.timer = setTimeout(() => this.wake(due), due === -Infinity ? 0 : Math.max(0, due - Date.now()));
  }

  private wake(armedFor: number): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    // What the timer was armed for is due even if the clock reads a hair earlier.
    const upTo = Math.max(armedFor, Date.now());
    const due: K[] = [...this.soon];
    this.soon.clear();
    const times = this.times;
    let served = 0;
    while (served < times.length && times[served]! <= upTo) {
      const at = times[served++]!;
      const slot = this.slots.get(at);
      if (!slot) continue;
      this.slots.delete(at);
      for (const key of slot) {
        this.dueOf.delete(key);
        due.push(key);
      }
    }
    times.splice(0, served);
    if (times.length) this.arm(times[0]!);
    for (const key of due) {
      if (this.stopped) return;
      this.serve(key);
    }
  }
}

/** Inserts `t` into the ascending array `times` (binary search; new slots are mostly the latest). */
function insertSorted(times: number[], t: number): void {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  if (lo === times.length) times.push(t);
  else times.splice(lo, 0, t);
}
