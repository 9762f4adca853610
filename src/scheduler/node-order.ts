// The scheduler's nodes kept in spread order (fewest pods, then lowest utilisation, then name: the
// tail of compareScores), so that a pod whose score is decided by spreading alone can take the
// first node in this order that passes the filters, instead of filtering and scoring every node.
// With 100 nodes that was 100 filter runs and 100 scores per pod; now it is usually one of each.
//
// A node moves in the order only when its books change (a pod booked or removed there) or its node
// object is replaced: the books tell the order so (NodeBooks.onSpreadChange), and the order puts
// the moved ones back in place before it is next read.
import type { NodeBooks } from './node-books.ts';
import type { NodeState } from './filters.ts';
import { compareSpread, spreadInto, type SpreadScore } from './score.ts';

interface Placed extends SpreadScore {
  readonly books: NodeBooks;
}

export class NodeOrder {
  /** Sorted by compareSpread on the scores recorded in each entry. */
  private placed: Placed[] = [];
  private readonly byBooks = new Map<NodeBooks, Placed>();
  /** Books whose recorded score may be stale: they are put back in place before the next read. */
  private readonly moved = new Set<NodeBooks>();
  private readonly listener = (books: NodeBooks) => {
    if (this.byBooks.has(books)) this.moved.add(books);
  };

  /** From now on, orders exactly `books` (the scheduler's node list changed). */
  reset(books: readonly NodeBooks[]): void {
    for (const p of this.placed) if (p.books.onSpreadChange === this.listener) p.books.onSpreadChange = undefined;
    this.byBooks.clear();
    this.moved.clear();
    this.placed = books.map((b) => {
      const p: Placed = spreadInto({ books: b, name: '', pods: 0, utilisation: 0 }, b);
      this.byBooks.set(b, p);
      b.onSpreadChange = this.listener;
      return p;
    });
    this.placed.sort(compareSpread);
  }

  /** The first node, in spread order, that `accept` takes; undefined when it takes none. */
  first(accept: (node: NodeState) => boolean): NodeState | undefined {
    if (this.moved.size) this.settle();
    for (const p of this.placed) if (accept(p.books)) return p.books;
    return undefined;
  }

  /** The nodes in spread order (for tests and diagnostics: first() is what decisions use). */
  ordered(): NodeState[] {
    if (this.moved.size) this.settle();
    return this.placed.map((p) => p.books);
  }

  private settle(): void {
    // Many moved at once (a relist, a node's pods all going): sorting afresh is simpler and no slower.
    if (this.moved.size * 4 > this.placed.length) return this.resort();
    for (const books of this.moved) {
      const p = this.byBooks.get(books)!;
      // The array is sorted by the recorded scores, p's included, and names are unique: p is found exactly.
      const at = lowerBound(this.placed, p);
      if (this.placed[at] !== p) return this.resort();
      this.placed.splice(at, 1);
      spreadInto(p, books);
      this.placed.splice(lowerBound(this.placed, p), 0, p);
    }
    this.moved.clear();
  }

  private resort(): void {
    for (const p of this.placed) spreadInto(p, p.books);
    this.placed.sort(compareSpread);
    this.moved.clear();
  }
}

/** The first index whose entry does not sort before `p`. */
function lowerBound(list: readonly Placed[], p: SpreadScore): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareSpread(list[mid]!, p) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
