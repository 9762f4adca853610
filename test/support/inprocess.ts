// An API server in this process, on a free port with a temporary SQLite store, and an in-process
// client to it: for testing controllers, the scheduler and the node agent without `ordinal up`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite.ts';
import { ensurePki, writeKubeconfig } from '../../src/apiserver/pki.ts';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.ts';
import { InProcessClient } from '../../src/client/client.ts';
import { ServiceAccountsController } from '../../src/controllers/serviceaccount/controller.ts';

export interface TestApi {
  api: ApiServer;
  client: InProcessClient;
  dataDir: string;
  kubeconfig: string;
  close(): Promise<void>;
}

export async function startTestApi(): Promise<TestApi> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ordinal-inproc-'));
  const store = new SqliteStore(join(dataDir, 'state.db'));
  const pki = await ensurePki(dataDir, { hosts: ['127.0.0.1'] });
  const api = await startApiServer({ store, pki, port: 0 });
  const kubeconfig = join(dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: api.url, pki });
  const client = new InProcessClient(api.resources);
  // Pods are admitted only once their namespace's service account exists, as upstream: its
  // controller runs here as kube-controller-manager would.
  const serviceAccounts = new ServiceAccountsController(client);
  await serviceAccounts.start();
  return {
    api,
    client,
    dataDir,
    kubeconfig,
    async close() {
      serviceAccounts.stop();
      await api.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
