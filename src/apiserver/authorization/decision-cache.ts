// A cache of authorization answers for one policy generation. Every in-process component call and
// every HTTP request is authorized, and most of them repeat the same question with only the object
// name changing (a controller updating pod after pod), so answers are kept per identity and per
// request attributes *without* the name: what is cached is the ordered list of grants that could
// apply, each with the names it is limited to, and the name is matched against that short list.
//
// The cache does not watch anything itself: its owner bumps the generation whenever the policy
// behind the answers changes (any Role, ClusterRole or binding), and every lookup made under an
// older generation starts from empty. Pure (no I/O), so it is unit-tested directly.
import type { RequestUser } from '../../api/resource.ts';
import type { Attributes, AuthorizationResult } from './types.ts';

/** One grant that covers the request's verb and resource: it applies to any name, or only to `names`. */
export interface Grant {
  names?: ReadonlySet<string>;
  result: AuthorizationResult;
}

/** What an authorizer says about one name-less question: the first grant whose names match wins, else `otherwise`. */
export interface CachedAnswer {
  grants: Grant[];
  otherwise: AuthorizationResult;
}

/** Bound on cached answers: past it everything is dropped and rebuilt on demand (hostile clients can ask about endless paths). */
export const MAX_ANSWERS = 20_000;

export function answerFor(answer: CachedAnswer, name: string): AuthorizationResult {
  for (const g of answer.grants) if (!g.names || g.names.has(name)) return g.result;
  return answer.otherwise;
}

/** The identity part of the key: who asks, with every group (the order of groups does not change a decision, but keeping it is cheaper than sorting). */
export function identityKey(u: RequestUser): string {
  return u.groups.length ? `${u.user}\u0000${u.groups.join('\u0001')}` : u.user;
}

/** The request part of the key, everything but the name. */
export function questionKey(a: Attributes): string {
  return a.resourceRequest ? `r\u0000${a.verb}\u0000${a.namespace}\u0000${a.apiGroup}\u0000${a.resource}\u0000${a.subresource}` : `n\u0000${a.verb}\u0000${a.path}`;
}

export class DecisionCache {
  private generation = 0;
  private seen = 0;
  private size = 0;
  /** The same identity object (an in-process component's, a connection's) finds its answers without building a key. */
  private byObject = new WeakMap<RequestUser, Map<string, CachedAnswer>>();
  private byKey = new Map<string, Map<string, CachedAnswer>>();

  /** The policy changed: answers from before are no longer valid. */
  invalidate(): void {
    this.generation++;
  }

  get currentGeneration(): number {
    return this.generation;
  }

  /** The cached answer for the request, or the one `compute` gives (then cached). */
  lookup(a: Attributes, compute: () => CachedAnswer): AuthorizationResult {
    if (this.seen !== this.generation || this.size >= MAX_ANSWERS) this.clear();
    const answers = this.answersOf(a.user);
    const q = questionKey(a);
    let answer = answers.get(q);
    if (!answer) {
      answer = compute();
      answers.set(q, answer);
      this.size++;
    }
    return answerFor(answer, a.name);
  }

  private answersOf(u: RequestUser): Map<string, CachedAnswer> {
    let answers = this.byObject.get(u);
    if (answers) return answers;
    const k = identityKey(u);
    answers = this.byKey.get(k);
    if (!answers) this.byKey.set(k, (answers = new Map()));
    this.byObject.set(u, answers);
    return answers;
  }

  private clear(): void {
    this.seen = this.generation;
    this.size = 0;
    this.byObject = new WeakMap();
    this.byKey = new Map();
  }
}
