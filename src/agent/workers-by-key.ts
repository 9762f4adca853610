// The pod workers of a node by pod namespace/name. A pod that replaces a force-deleted one of the
// same name must not start while the old one still stops (never two copies of one identity), so
// the agent asks, on every event of every pod, whether another worker holds the name. Nearly
// always a name has one worker: each name keeps a short array, not a Set (a third of the memory,
// and a node keeps one per pod it runs).

/** What the index needs of a worker. */
export interface KeyedWorker {
  readonly key: string;
  isDone(): boolean;
}

export class WorkersByKey<W extends KeyedWorker> {
  private readonly byKey = new Map<string, W[]>();

  add(w: W): void {
    const same = this.byKey.get(w.key);
    if (same) same.push(w);
    else this.byKey.set(w.key, [w]);
  }

  /** Whether another worker of the same name has not finished stopping its pod yet. */
  blocked(w: W): boolean {
    const same = this.byKey.get(w.key);
    if (!same || same.length < 2) return false;
    for (const other of same) if (other !== w && !other.isDone()) return true;
    return false;
  }

  /** Forgets `w`; returns the workers left under its name (successors that may have waited for it). */
  remove(w: W): readonly W[] {
    const same = this.byKey.get(w.key);
    if (!same) return [];
    const i = same.indexOf(w);
    if (i >= 0) same.splice(i, 1);
    if (!same.length) {
      this.byKey.delete(w.key);
      return same;
    }
    // A copy: the caller kicks them, and they may come and go meanwhile.
    return same.slice();
  }
}
