// The side effects of a StatefulSet plan against the API (upstream's StatefulPodControl): claims
// before pods, retention ownerReferences on claims, identity repairs, deletions — each recorded as
// an Event on the set with upstream's reasons and messages.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import type { EventRecorder } from '../../client/events.ts';
import { ApiError } from '../../apiserver/errors.ts';
import type { Action, ClaimWork } from './control.ts';
import type { ClaimRefUpdate } from './retention.ts';
import { identityMatches, storageMatches, updateIdentity, updateStorage } from './identity.ts';
import { cloneJson } from '../../util/json.ts';
import { stuckPodMessage } from './stuck.ts';

const isCode = (err: unknown, code: number) => err instanceof ApiError && err.code === code;
const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));
const title = (verb: string) => verb[0].toUpperCase() + verb.slice(1);

/** Several failures read as Go's aggregate error: one message alone, or `[a, b]`. */
function aggregate(messages: string[]): Error {
  return new Error(messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`);
}

export class StatefulPodControl {
  private readonly client: Client;
  private readonly recorder: EventRecorder;
  private readonly pods: ResourceDef;
  private readonly claims: ResourceDef;

  constructor(client: Client, recorder: EventRecorder) {
    this.client = client;
    this.recorder = recorder;
    this.pods = client.resource('', 'pods');
    this.claims = client.resource('', 'persistentvolumeclaims');
  }

  /** Carries out one action; throws when it failed (the sync then stops and is retried). */
  async run(set: Obj, action: Action): Promise<void> {
    switch (action.type) {
      case 'deletePod':
        await this.deletePod(set, action.pod, action.why === 'update' || action.why === 'stuck');
        if (action.why === 'stuck') this.recorder.event(set, 'Normal', 'ReplacingStuckPod', stuckPodMessage(set, action.pod));
        return;
      case 'createPod':
        return this.createPod(set, action.pod, action.claims, action.refs, action.conflicts);
      case 'createMissingClaims':
        await this.createClaims(set, action.pod, action.claims);
        await this.fixRefs(set, action.pod, action.refs, action.conflicts, true);
        return;
      case 'updatePod':
        return this.updatePod(set, action.pod, action.desired, action.claims, action.refs, action.conflicts);
      case 'updateClaimRefs':
        return this.fixRefs(set, action.pod, action.refs, action.conflicts, false);
    }
  }

  private async deletePod(set: Obj, pod: Obj, ignoreNotFound: boolean): Promise<void> {
    try {
      await this.client.delete(this.pods, pod.metadata.namespace, pod.metadata.name);
      this.podEvent('delete', set, pod);
    } catch (err) {
      this.podEvent('delete', set, pod, err);
      if (!(ignoreNotFound && isCode(err, 404))) throw err;
    }
  }

  private async createPod(set: Obj, pod: Obj, work: ClaimWork, refs: ClaimRefUpdate[], conflicts: string[]): Promise<void> {
    // The claims are created, and answered (on disk), before the pod, as upstream: a pod is never
    // made for a claim whose creation may still fail. This is why an OrderedReady step with claim
    // templates takes longer than one without (traced: the difference is this commit, the rest of
    // the event-loop turn the store waits for before sending it, and the claim's own API path and
    // watchers), not any timer or batching of the controllers'.
    try {
      await this.createClaims(set, pod, work);
    } catch (err) {
      this.podEvent('create', set, pod, err);
      throw err;
    }
    try {
      await this.client.create(this.pods, set.metadata.namespace, pod);
    } catch (err) {
      // A pod of that name exists (our cache is behind, or a released pod holds the name): retry quietly.
      if (!isCode(err, 409)) this.podEvent('create', set, pod, err);
      throw err;
    }
    await this.fixRefs(set, pod, refs, conflicts, true);
    this.podEvent('create', set, pod);
  }

  /** Creates the claims a pod lacks; a claim being deleted is an error (the pod must not start on it). */
  private async createClaims(set: Obj, pod: Obj, work: ClaimWork): Promise<void> {
    const errs: string[] = [];
    for (const claim of work.create) {
      try {
        await this.client.create(this.claims, set.metadata.namespace, claim);
        this.claimEvent(set, pod, claim);
      } catch (err) {
        errs.push(`failed to create PVC ${claim.metadata.name}: ${errText(err)}`);
        if (!isCode(err, 409)) this.claimEvent(set, pod, claim, err);
      }
    }
    for (const name of work.deleting) errs.push(`pvc ${name} is being deleted`);
    if (errs.length) throw aggregate(errs);
  }

  /** Writes retention ownerReferences; `podEventOnError` reports a failure as FailedUpdate of the pod, as upstream does outside scale-down. */
  private async fixRefs(set: Obj, pod: Obj, refs: ClaimRefUpdate[], conflicts: string[], podEventOnError: boolean): Promise<void> {
    for (const name of conflicts) {
      this.recorder.event(set, 'Warning', 'ConflictingController', `PersistentVolumeClaim ${name} has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim`);
    }
    for (const u of refs) {
      try {
        await this.client.update(this.claims, { ...u.claim, metadata: { ...u.claim.metadata, ownerReferences: u.ownerReferences } });
      } catch (err) {
        const e = new Error(`could not update claim ${u.claim.metadata.name} for delete policy ownerRefs: ${errText(err)}`);
        if (podEventOnError) this.podEvent('update', set, pod, e);
        throw e;
      }
    }
  }

  /** Restores identity and storage of a pod, retrying conflicts against a fresh read. */
  private async updatePod(set: Obj, pod: Obj, desired: Obj, work: ClaimWork, refs: ClaimRefUpdate[], conflicts: string[]): Promise<void> {
    if (work.create.length || work.deleting.length) {
      try {
        await this.createClaims(set, pod, work);
      } catch (err) {
        this.podEvent('update', set, pod, err);
        throw err;
      }
    }
    await this.fixRefs(set, pod, refs, conflicts, true);
    let target = desired;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.update(this.pods, target);
        this.podEvent('update', set, pod);
        return;
      } catch (err) {
        if (!isCode(err, 409) || attempt >= 4) {
          this.podEvent('update', set, pod, err);
          throw err;
        }
        const fresh = cloneJson(await this.client.get(this.pods, pod.metadata.namespace, pod.metadata.name));
        if (!identityMatches(set, fresh)) updateIdentity(set, fresh);
        if (!storageMatches(set, fresh)) updateStorage(set, fresh);
        target = fresh;
      }
    }
  }

  private podEvent(verb: string, set: Obj, pod: Obj, err?: unknown): void {
    if (err === undefined) {
      this.recorder.event(set, 'Normal', `Successful${title(verb)}`, `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } else {
      this.recorder.event(set, 'Warning', `Failed${title(verb)}`, `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errText(err)}`);
    }
  }

  private claimEvent(set: Obj, pod: Obj, claim: Obj, err?: unknown): void {
    const c = claim.metadata.name;
    if (err === undefined) {
      this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${c} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`);
    } else {
      this.recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${c} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errText(err)}`);
    }
  }
}
