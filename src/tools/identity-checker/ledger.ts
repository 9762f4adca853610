// The identity checker's pure core: from what each node's runtime listed (its /pods, sampled over
// time) and what the API said about each pod (creation order, how it was deleted), the lifetimes of
// every pod identity and whether two of them ever overlapped.
//
// Evidence is taken at face value only where it proves something:
// - A node's listing is a snapshot taken at some instant between the request and its answer, so a
//   pod was *surely* running from its first listing's answer to its last listing's request, and
//   *possibly* running from the request of the last listing without it before, to the answer of the
//   first listing without it after (forever, when the node was never heard again: a silent node is
//   assumed to go on running what it ran, as upstream assumes).
// - Two uids of one name can never exist in the API at once, so the older one's deletion precedes
//   the younger one's creation. When the older one's node confirmed the deletion (the agent, like the
//   kubelet, reports every container terminated and only then deletes the object), its runtime had
//   stopped it before the younger one existed: a listing gap cannot hide an overlap there.
// - A deletion the node did not confirm (an operator's `--force --grace-period=0`, pod GC for an
//   out-of-service or deleted node) frees the name while the old copy may still run: overlaps that
//   follow it are upstream's documented risk, reported apart from violations.
// Anything else that may have overlapped fails the check: a safety checker that cannot exclude an
// overlap must not vouch for its absence.

export interface RuntimePod {
  namespace: string;
  name: string;
  uid: string;
}

/** One poll of one node's /pods: a snapshot taken at some instant in [sentAt, receivedAt]. */
export interface NodeSample {
  node: string;
  sentAt: number;
  receivedAt: number;
  /** Absent when the node could not be listed (unreachable, frozen, the API server down). */
  pods?: RuntimePod[];
  error?: string;
}

export type DeletionKind = 'confirmed' | 'forced' | 'unknown';

interface ApiPod {
  uid: string;
  namespace: string;
  name: string;
  nodeName?: string;
  /** Claims that make up the identity as well (StatefulSet claim templates). */
  claims: string[];
  /** Position in the API's history when first seen (resourceVersion), to order uids of one name. */
  firstRv: number;
  /** Lower bound of when it could first run (its creationTimestamp, floored to the second). */
  createdAt?: number;
  deletion?: { at: number; kind: DeletionKind; rv?: number; reason: string };
}

/** A stretch of one uid running on one node's runtime, as the samples show it. */
export interface Lifetime {
  node: string;
  namespace: string;
  name: string;
  uid: string;
  /** Sure: running at every instant of [sureFrom, sureTo] (empty when sureFrom > sureTo). */
  sureFrom: number;
  sureTo: number;
  /** Observed: running at some instants of [seenFrom, seenTo] (the listings' hull). */
  seenFrom: number;
  seenTo: number;
  /** Possibly running over [mayFrom, mayTo]; Infinity while never seen stopped. */
  mayFrom: number;
  mayTo: number;
  /** Indices of the node's successful samples that listed it (same-node comparisons are exact). */
  firstIndex: number;
  lastIndex: number;
  samples: number;
}

export interface Overlap {
  identity: string;
  kind: 'proven' | 'possible';
  a: Lifetime;
  b: Lifetime;
  /** When both may have run, as far as the evidence bounds it. */
  from: number;
  to: number;
  /** The force deletion that explains it, for the forced list. */
  forced?: { uid: string; at: number; reason: string };
  why: string;
}

export interface Verdict {
  ok: boolean;
  violations: Overlap[];
  forced: Overlap[];
  /** Runtimes that listed a pod after its node had confirmed its deletion. */
  resurrections: { lifetime: Lifetime; deletedAt: number }[];
  lifetimes: Lifetime[];
  stats: { samples: number; failedSamples: number; nodes: number; identities: number; forceDeletions: number };
}

/** How the API deleted a pod, from the last state the DELETE event carried. */
export function deletionKind(pod: { metadata?: any; spec?: any; status?: any }): { kind: DeletionKind; reason: string } {
  const statuses: any[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  // The node's own final delete comes only after it reported every container terminated.
  if (statuses.length > 0 && statuses.every((s) => s.state?.terminated)) return { kind: 'confirmed', reason: 'its node reported every container terminated' };
  if (!pod.spec?.nodeName) return { kind: 'confirmed', reason: 'never bound to a node' };
  const grace = pod.metadata?.deletionGracePeriodSeconds;
  return { kind: 'forced', reason: `deleted (grace ${grace ?? 'default'}) before node ${pod.spec.nodeName} confirmed its containers stopped` };
}

/**
 * Claims that are part of a pod's identity: those its StatefulSet's claim templates name
 * (`<template>-<set>-<ordinal>`). Other claims (a volume the template shares by design) are not.
 */
export function identityClaims(pod: any): string[] {
  const set = (pod.metadata?.ownerReferences ?? []).find((o: any) => o.kind === 'StatefulSet' && o.controller)?.name;
  if (!set) return [];
  const pattern = new RegExp(`-${set.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+$`);
  return (pod.spec?.volumes ?? [])
    .map((v: any) => v.persistentVolumeClaim?.claimName as string | undefined)
    .filter((c: string | undefined): c is string => !!c && pattern.test(c));
}

const rvNumber = (rv: string | undefined) => (rv && /^\d+$/.test(rv) ? Number(rv) : Number.MAX_SAFE_INTEGER);

export class IdentityLedger {
  private readonly samplesByNode = new Map<string, NodeSample[]>();
  private readonly pods = new Map<string, ApiPod>();
  private sampleCount = 0;
  private failedCount = 0;

  /** Records one node listing (in any order; they are sorted by time). */
  addSample(s: NodeSample): void {
    this.sampleCount++;
    if (!s.pods) this.failedCount++;
    const list = this.samplesByNode.get(s.node) ?? [];
    list.push(s);
    this.samplesByNode.set(s.node, list);
  }

  /** A pod as the API shows it now (list or ADDED/MODIFIED). */
  observePod(pod: any): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const known = this.pods.get(uid);
    const rv = rvNumber(pod.metadata.resourceVersion);
    if (known) {
      known.nodeName ??= pod.spec?.nodeName;
      known.firstRv = Math.min(known.firstRv, rv);
      if (!known.claims.length) known.claims = identityClaims(pod);
      return;
    }
    const created = Date.parse(pod.metadata.creationTimestamp ?? '');
    this.pods.set(uid, {
      uid,
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name,
      nodeName: pod.spec?.nodeName,
      claims: identityClaims(pod),
      firstRv: rv,
      createdAt: Number.isFinite(created) ? created : undefined,
    });
  }

  /** A DELETED event, observed at `at`. */
  observeDeleted(pod: any, at: number): void {
    this.observePod(pod);
    const p = this.pods.get(pod.metadata.uid)!;
    if (p.deletion) return;
    const { kind, reason } = deletionKind(pod);
    p.deletion = { at, kind, reason, rv: rvNumber(pod.metadata.resourceVersion) };
  }

  /** A pod that disappeared while the watch was away (found missing by a re-list): how is unknown. */
  observeVanished(uid: string, at: number): void {
    const p = this.pods.get(uid);
    if (p && !p.deletion) p.deletion = { at, kind: 'unknown', reason: 'deleted while the checker could not watch' };
  }

  /** Uids the API still shows, for a re-list to find the vanished ones. */
  liveUids(): string[] {
    return [...this.pods.values()].filter((p) => !p.deletion).map((p) => p.uid);
  }

  forceDeletions(): { uid: string; namespace: string; name: string; at: number; reason: string }[] {
    return [...this.pods.values()].filter((p) => p.deletion?.kind === 'forced').map((p) => ({ uid: p.uid, namespace: p.namespace, name: p.name, at: p.deletion!.at, reason: p.deletion!.reason }));
  }

  lifetimes(): Lifetime[] {
    const out: Lifetime[] = [];
    for (const [node, raw] of this.samplesByNode) {
      const samples = [...raw].sort((a, b) => a.sentAt - b.sentAt);
      const open = new Map<string, Lifetime>();
      let prevOk: NodeSample | undefined;
      let okIndex = 0;
      for (const s of samples) {
        if (!s.pods) continue;
        const present = new Set<string>();
        for (const p of s.pods) {
          present.add(p.uid);
          const l = open.get(p.uid);
          if (l) {
            l.sureTo = s.sentAt;
            l.seenTo = s.receivedAt;
            l.lastIndex = okIndex;
            l.samples++;
          } else {
            const api = this.pods.get(p.uid);
            // It cannot have run before its object existed (creationTimestamp has whole seconds).
            const notBefore = api?.createdAt !== undefined ? Math.floor(api.createdAt / 1000) * 1000 : -Infinity;
            open.set(p.uid, {
              node,
              namespace: p.namespace,
              name: p.name,
              uid: p.uid,
              sureFrom: s.receivedAt,
              sureTo: s.sentAt,
              seenFrom: s.sentAt,
              seenTo: s.receivedAt,
              mayFrom: Math.max(prevOk ? prevOk.sentAt : -Infinity, notBefore),
              mayTo: Infinity,
              firstIndex: okIndex,
              lastIndex: okIndex,
              samples: 1,
            });
          }
        }
        for (const [uid, l] of open) {
          if (present.has(uid)) continue;
          l.mayTo = s.receivedAt;
          out.push(l);
          open.delete(uid);
        }
        prevOk = s;
        okIndex++;
      }
      out.push(...open.values());
    }
    // A confirmed deletion bounds a copy the node was not heard from again: it had stopped by then.
    for (const l of out) {
      const d = this.pods.get(l.uid)?.deletion;
      if (d?.kind === 'confirmed' && l.mayTo > d.at && l.sureTo <= d.at) l.mayTo = Math.max(d.at, l.seenTo);
    }
    return out.sort((a, b) => a.seenFrom - b.seenFrom || a.node.localeCompare(b.node));
  }

  /** The identities a lifetime belongs to: its name, and its claims. */
  private identitiesOf(l: Lifetime): string[] {
    const claims = this.pods.get(l.uid)?.claims ?? [];
    return [`pod ${l.namespace}/${l.name}`, ...claims.map((c) => `claim ${l.namespace}/${c}`)];
  }

  verdict(): Verdict {
    const lifetimes = this.lifetimes();
    const byIdentity = new Map<string, Lifetime[]>();
    for (const l of lifetimes) {
      for (const id of this.identitiesOf(l)) byIdentity.set(id, [...(byIdentity.get(id) ?? []), l]);
    }
    const violations: Overlap[] = [];
    const forced: Overlap[] = [];
    // A pair of lifetimes sharing several identities (a pod and its claims) is one overlap.
    const pairs = new Map<string, Overlap>();
    const key = (l: Lifetime) => `${l.node}|${l.uid}|${l.firstIndex}`;
    for (const [identity, list] of byIdentity) {
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const pair = [key(list[i]!), key(list[j]!)].sort().join(' ');
          const seen = pairs.get(pair);
          if (seen) {
            seen.identity += `, ${identity}`;
            continue;
          }
          const o = this.compare(identity, list[i]!, list[j]!);
          if (!o) continue;
          pairs.set(pair, o);
          (o.forced ? forced : violations).push(o);
        }
      }
    }
    const resurrections: Verdict['resurrections'] = [];
    for (const l of lifetimes) {
      const d = this.pods.get(l.uid)?.deletion;
      if (d?.kind === 'confirmed' && l.sureTo > d.at) resurrections.push({ lifetime: l, deletedAt: d.at });
    }
    return {
      ok: violations.length === 0 && resurrections.length === 0,
      violations,
      forced,
      resurrections,
      lifetimes,
      stats: {
        samples: this.sampleCount,
        failedSamples: this.failedCount,
        nodes: this.samplesByNode.size,
        identities: byIdentity.size,
        forceDeletions: this.forceDeletions().length,
      },
    };
  }

  private compare(identity: string, a: Lifetime, b: Lifetime): Overlap | undefined {
    if (a.node === b.node && a.uid === b.uid) return undefined; // one copy, stopped and started again
    let kind: Overlap['kind'];
    let from: number;
    let to: number;
    if (a.node === b.node) {
      // One runtime's listings are snapshots in order: both listed by one of them, or never together.
      if (Math.max(a.firstIndex, b.firstIndex) > Math.min(a.lastIndex, b.lastIndex)) return undefined;
      kind = 'proven';
      from = Math.max(a.seenFrom, b.seenFrom);
      to = Math.min(a.seenTo, b.seenTo);
    } else {
      const sureFrom = Math.max(a.sureFrom, b.sureFrom);
      const sureTo = Math.min(a.sureTo, b.sureTo);
      if (sureFrom <= sureTo) {
        kind = 'proven';
        from = sureFrom;
        to = sureTo;
      } else {
        // One possibly running while the other was seen running.
        const ab = intersect([a.mayFrom, a.mayTo], [b.seenFrom, b.seenTo]);
        const ba = intersect([b.mayFrom, b.mayTo], [a.seenFrom, a.seenTo]);
        const hit = ab ?? ba;
        if (!hit) return undefined;
        kind = 'possible';
        [from, to] = hit;
      }
    }
    const pa = this.pods.get(a.uid);
    const pb = this.pods.get(b.uid);
    // The older uid of one name was deleted before the younger was created.
    const [older, younger] = pa && pb && pa.firstRv > pb.firstRv ? [pb, pa] : [pa, pb];
    const sameName = a.name === b.name && a.namespace === b.namespace && a.uid !== b.uid;
    if (kind === 'possible' && sameName && older?.deletion?.kind === 'confirmed' && younger) {
      return undefined; // its node stopped it before the name could be taken again
    }
    const overlap: Overlap = {
      identity,
      kind,
      a,
      b,
      from,
      to,
      why: kind === 'proven' ? 'both listed as running at once' : 'one may still have run (its node was not heard from, or not yet seen without it) while the other ran',
    };
    if (sameName && older?.deletion?.kind === 'forced') overlap.forced = { uid: older.uid, at: older.deletion.at, reason: older.deletion.reason };
    return overlap;
  }
}

function intersect(x: [number, number], y: [number, number]): [number, number] | undefined {
  const from = Math.max(x[0], y[0]);
  const to = Math.min(x[1], y[1]);
  return from <= to ? [from, to] : undefined;
}

const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString().slice(11, 23) : t > 0 ? 'never seen stopped' : 'before the first listing');

/** A human-readable account of a verdict. */
export function formatVerdict(v: Verdict): string {
  const lines: string[] = [];
  const life = (l: Lifetime) => `${l.namespace}/${l.name} uid ${l.uid.slice(0, 8)} on ${l.node} (seen ${iso(l.seenFrom)}–${iso(l.seenTo)}, may have run until ${iso(l.mayTo)})`;
  lines.push(
    `identity check: ${v.ok ? 'OK' : 'FAILED'}; ${v.stats.samples} node listings (${v.stats.failedSamples} failed) of ${v.stats.nodes} nodes, ${v.lifetimes.length} lifetimes, ${v.stats.identities} identities, ${v.stats.forceDeletions} force deletions`,
  );
  for (const o of v.violations) lines.push(`VIOLATION (${o.kind}) ${o.identity}: ${life(o.a)} and ${life(o.b)} overlap ${iso(o.from)}–${iso(o.to)}: ${o.why}`);
  for (const r of v.resurrections) lines.push(`VIOLATION ${life(r.lifetime)} was listed after its node confirmed its deletion at ${iso(r.deletedAt)}`);
  for (const o of v.forced) lines.push(`forced overlap (${o.kind}) ${o.identity}: ${life(o.a)} and ${life(o.b)}, ${iso(o.from)}–${iso(o.to)}, after the force deletion of uid ${o.forced!.uid.slice(0, 8)} at ${iso(o.forced!.at)} (${o.forced!.reason}): upstream's documented risk`);
  return lines.join('\n');
}
