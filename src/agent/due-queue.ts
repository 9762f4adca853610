// Many items each due at its own time, served by one timer. A node looks at each claim its pods
// mount on a jittered, backing-off schedule (volume-expansion.ts); with a timer each, 10,000 claims
// meant 10,000 live timers re-armed at every look. Here an item asks for a window (the jitter the
// caller allows) and is served at a random time in it, taken to the nearest point of a grid no
// coarser than a quarter of the window: items due at about the same time share one wake-up, and
// none is served outside its window.

/** The finest shared grid: windows of a second or more are served on multiples of a quarter second. */
const MIN_SLOT_MS = 250;

/** The grid for a window: a power-of-two multiple of MIN_SLOT_MS, at most a quarter of the window (none below a second). */
export function slotWidthMs(windowMs: number): number {
  if (windowMs < 4 * MIN_SLOT_MS) return 0;
  let width = MIN_SLOT_MS;
  while (width * 8 <= windowMs) width *= 2;
  return width;
}

/**
 * The time an item asking for [fromMs, toMs] is served: the grid point nearest `targetMs` (a time in
 * the window) that lies in the window; `targetMs` itself for a window too narrow for a grid.
 */
export function slotIn(fromMs: number, toMs: number, targetMs: number): number {
  const width = slotWidthMs(toMs - fromMs);
  if (!width) return targetMs;
  const first = Math.ceil(fromMs / width) * width;
  const last = Math.floor(toMs / width) * width;
  return Math.min(last, Math.max(first, Math.round(targetMs / width) * width));
}

/** What a DueQueue schedules: an object that carries its own place in the queue. */
export interface DueItem {
  /** Owned by the queue: the slot the item waits for (SOON for the next microtask), undefined when it waits for none. */
  dueSlot?: number;
}

const SOON = -1;

export class DueQueue<K extends DueItem> {
  private readonly serve: (key: K) => void;
  /**
   * Items by the slot (due time, ms) they were put in. An item rescheduled or cancelled stays in
   * its old slot until that slot's time and is skipped then (its dueSlot no longer names the slot):
   * no per-item bookkeeping beyond its own field.
   */
  private readonly slots = new Map<number, K[]>();
  /** The slots' times in ascending order, so a wake-up visits only the slots it serves (a time may be listed twice). */
  private readonly times: number[] = [];
  /** Items to serve once the caller's synchronous work is done, all in one microtask. */
  private soon: K[] = [];
  private soonQueued = false;
  private timer: NodeJS.Timeout | undefined;
  /** The slot the timer is armed for (Infinity when it is not armed). */
  private armedFor = Infinity;
  private waiting = 0;
  private stopped = false;

  constructor(serve: (key: K) => void) {
    this.serve = serve;
  }

  /**
   * Serves `key` once, at a random time between `fromMs` and `toMs` from now (by default exactly
   * `fromMs`; 0: once the caller's synchronous work is done, without a timer); replaces a time it
   * was waiting for.
   */
  schedule(key: K, fromMs: number, toMs = fromMs): void {
    if (this.stopped) return;
    if (key.dueSlot === undefined) this.waiting++;
    if (toMs <= 0) {
      key.dueSlot = SOON;
      this.soon.push(key);
      if (!this.soonQueued) {
        this.soonQueued = true;
        queueMicrotask(() => this.serveSoon());
      }
      return;
    }
    const now = Date.now();
    const due = slotIn(now + fromMs, now + toMs, now + fromMs + Math.random() * (toMs - fromMs));
    key.dueSlot = due;
    let slot = this.slots.get(due);
    if (!slot) {
      this.slots.set(due, (slot = []));
      insertSorted(this.times, due);
    }
    slot.push(key);
    this.arm(due);
  }

  /** Forgets `key`'s waiting time, if any. */
  cancel(key: K): void {
    if (key.dueSlot === undefined) return;
    key.dueSlot = undefined;
    this.waiting--;
  }

  /** How many items wait (for tests). */
  get size(): number {
    return this.waiting;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const slot of this.slots.values()) for (const key of slot) key.dueSlot = undefined;
    for (const key of this.soon) key.dueSlot = undefined;
    this.slots.clear();
    this.times.length = 0;
    this.soon = [];
    this.waiting = 0;
  }

  /** Arms the timer for `due` unless it already wakes up no later. */
  private arm(due: number): void {
    if (due >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = due;
    this.timer = setTimeout(() => this.wake(due), Math.max(0, due - Date.now()));
  }

  private serveSoon(): void {
    this.soonQueued = false;
    const due = this.soon;
    this.soon = [];
    this.serveSlot(due, SOON);
  }

  private wake(armedFor: number): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    // What the timer was armed for is due even if the clock reads a hair earlier.
    const upTo = Math.max(armedFor, Date.now());
    const times = this.times;
    const due: [number, K[]][] = [];
    let passed = 0;
    while (passed < times.length && times[passed]! <= upTo) {
      const at = times[passed++]!;
      const slot = this.slots.get(at);
      if (!slot) continue;
      this.slots.delete(at);
      due.push([at, slot]);
    }
    times.splice(0, passed);
    if (times.length) this.arm(times[0]!);
    for (const [at, slot] of due) this.serveSlot(slot, at);
  }

  /** Serves the slot's items that still wait for it (not rescheduled or cancelled since). */
  private serveSlot(items: K[], at: number): void {
    for (const key of items) {
      if (this.stopped) return;
      if (key.dueSlot !== at) continue;
      key.dueSlot = undefined;
      this.waiting--;
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
