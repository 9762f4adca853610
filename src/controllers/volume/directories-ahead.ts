// Directories made ahead of their provisioning sync.
//
// Provisioning a claim is a chain of round trips made by one of the claim queue's workers: the
// volume's directory (a trip to the helper thread), then the volume's create, the volume's phase,
// the claim's bind and the claim's phase (a store commit each). In a burst the claims wait in the
// queue for a worker far longer than the chain takes, so the directory is started as soon as the
// scheduler's choice of node shows that the claim will be provisioned there: by the time a worker
// takes the claim, it exists, and the chain is one round trip shorter. Directories asked for
// together also go to the helper in one batch. The volume is still created only once its
// directory exists, and a directory made for a volume that is then not created is removed.
export interface Maker {
  make(path: string): Promise<void>;
}

export class DirectoriesAhead {
  private readonly maker: Maker;
  private readonly remove: (path: string) => Promise<void>;
  /** By volume name: the directory started for it, and its making. */
  private readonly started = new Map<string, { path: string; made: Promise<void> }>();

  constructor(maker: Maker, remove: (path: string) => Promise<void>) {
    this.maker = maker;
    this.remove = remove;
  }

  has(name: string): boolean {
    return this.started.has(name);
  }

  /** Starts making the directory of volume `name`; a failure is left for `take` to meet again. */
  start(name: string, path: string): void {
    if (this.started.has(name)) return;
    const made = this.maker.make(path);
    made.catch(() => {});
    this.started.set(name, { path, made });
  }

  /** Resolves once the directory of volume `name` exists at `path`: the one made ahead, or one made now. */
  async take(name: string, path: string): Promise<void> {
    const ahead = this.started.get(name);
    this.started.delete(name);
    if (ahead && ahead.path === path) {
      try {
        await ahead.made;
        return;
      } catch {
        // Tried once more below, where its error reaches the caller.
      }
    } else if (ahead) {
      // Made for a placement that changed since: not this volume's directory.
      this.discard(ahead);
    }
    await this.maker.make(path);
  }

  /** The volume will not be created after all (its claim is gone, or bound elsewhere). */
  drop(name: string): void {
    const ahead = this.started.get(name);
    if (!ahead) return;
    this.started.delete(name);
    this.discard(ahead);
  }

  private discard(ahead: { path: string; made: Promise<void> }): void {
    ahead.made.then(
      () => this.remove(ahead.path).catch(() => {}),
      () => {},
    );
  }
}
