// The workload controllers under kube-controller-manager's names, for the CONTROLLERS table of
// src/cli/components.ts.
import type { Client } from '../../client/client.ts';
import { ReplicaSetController } from '../replicaset/controller.ts';
import { DeploymentController } from '../deployment/controller.ts';
import { JobController } from '../job/controller.ts';
import { CronJobController } from '../cronjob/controller.ts';
import { DaemonSetController } from '../daemonset/controller.ts';
import { TtlAfterFinishedController } from '../job/ttl.ts';

export interface WorkloadComponent {
  start(): Promise<void>;
  stop(): void;
}

export const WORKLOAD_CONTROLLERS: Record<string, (client: Client) => WorkloadComponent> = {
  deployment: (client) => new DeploymentController(client),
  replicaset: (client) => new ReplicaSetController(client),
  job: (client) => new JobController(client),
  cronjob: (client) => new CronJobController(client),
  daemonset: (client) => new DaemonSetController(client),
  'ttl-after-finished': (client) => new TtlAfterFinishedController(client),
};
