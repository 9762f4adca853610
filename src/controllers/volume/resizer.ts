// The effects of resize-plan.ts: one step per call, each written with the object's
// resourceVersion so a stale cache loses (409) and the claim is simply synced again.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { EventRecorder } from '../../client/events.ts';
import { nowTimestamp } from '../../util/timestamp.ts';
import { log } from '../../util/log.ts';
import { EXPAND_CONTROLLER_COMPONENT, RESIZER_COMPONENT, planResize, type ResizeEvent } from './resize-plan.ts';

export class VolumeResizer {
  private readonly client: Client;
  private readonly pvcs: ResourceDef;
  private readonly pvs: ResourceDef;
  private readonly recorders: Record<string, EventRecorder>;

  constructor(client: Client) {
    this.client = client;
    this.pvcs = client.resource('', 'persistentvolumeclaims');
    this.pvs = client.resource('', 'persistentvolumes');
    this.recorders = {
      [EXPAND_CONTROLLER_COMPONENT]: new EventRecorder(client, EXPAND_CONTROLLER_COMPONENT),
      [RESIZER_COMPONENT]: new EventRecorder(client, RESIZER_COMPONENT),
    };
  }

  /**
   * Takes the next resize step for a bound claim and its volume; returns the objects written (for
   * the caller's caches), or nothing when there was nothing to do.
   */
  async step(claim: Obj, volume: Obj | undefined): Promise<{ claim?: Obj; volume?: Obj } | undefined> {
    const step = planResize(claim, volume, nowTimestamp);
    switch (step.kind) {
      case 'none':
        return undefined;
      case 'markResizing':
      case 'markNodePending': {
        const updated = await this.client.update(this.pvcs, { ...claim, status: step.status }, 'status');
        this.record(updated, step.events);
        log('info', 'volume-resizer', step.kind === 'markResizing' ? 'resizing volume' : 'volume grown, node to finish', {
          claim: `${claim.metadata.namespace}/${claim.metadata.name}`,
          volume: volume?.metadata.name,
          size: claim.spec?.resources?.requests?.storage,
        });
        return { claim: updated };
      }
      case 'expandVolume':
        return { volume: await this.client.update(this.pvs, step.volume) };
    }
  }

  private record(claim: Obj, events: ResizeEvent[]): void {
    for (const e of events) this.recorders[e.component]?.event(claim, e.type, e.reason, e.message);
  }
}
