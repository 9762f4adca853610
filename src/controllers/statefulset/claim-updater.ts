// The effects of claim-update.ts: raising the requests of one ordinal's claims, with the events
// upstream's pod control records for claims ("update Claim x Pod y in StatefulSet z success").
import type { Obj, ResourceDef } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import type { EventRecorder } from '../../client/events.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { log } from '../../util/log.ts';
import { grownClaim, planClaimUpdate } from './claim-update.ts';

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class ClaimUpdater {
  private readonly client: Client;
  private readonly recorder: EventRecorder;
  private readonly claims: ResourceDef;

  constructor(client: Client, recorder: EventRecorder) {
    this.client = client;
    this.recorder = recorder;
    this.claims = client.resource('', 'persistentvolumeclaims');
  }

  /**
   * Takes the set's next claim step. A refused update (a class without allowVolumeExpansion, a
   * conflict) is returned, for the sync to fail and be retried with back-off, as a failed pod
   * update is: the growth stays blocked at that ordinal until the claim can grow.
   */
  async sync(set: Obj, pods: Obj[], claimNamed: (name: string) => Obj | undefined): Promise<unknown> {
    const step = planClaimUpdate(set, claimNamed, pods);
    if (step.kind === 'wait') {
      log('debug', 'statefulset-controller', 'waiting for claims to expand', { statefulset: `${set.metadata.namespace}/${set.metadata.name}`, claims: step.claims });
      return undefined;
    }
    if (step.kind !== 'grow') return undefined;
    for (const { claim, storage } of step.claims) {
      const name: string = claim.metadata.name;
      try {
        await this.client.update(this.claims, grownClaim(claim, storage));
        this.recorder.event(set, 'Normal', 'SuccessfulUpdate', `update Claim ${name} Pod ${step.pod} in StatefulSet ${set.metadata.name} success`);
        log('info', 'statefulset-controller', 'growing claim', { statefulset: `${set.metadata.namespace}/${set.metadata.name}`, claim: name, storage });
      } catch (err) {
        // A stale cache (409) or a claim just deleted (404) is retried quietly; a refusal is reported.
        if (err instanceof ApiError && err.code === 404) continue;
        if (err instanceof ApiError && err.code === 409) return err;
        this.recorder.event(set, 'Warning', 'FailedUpdate', `update Claim ${name} for Pod ${step.pod} in StatefulSet ${set.metadata.name} failed error: ${errText(err)}`);
        return err;
      }
    }
    return undefined;
  }
}
