// kube-controller-manager's "tokencleaner": deletes bootstrap token Secrets once they expire, so
// an expired token's Secret does not linger. (The authenticator refuses expired tokens anyway;
// this only tidies up.) Each token is looked at again when its expiration comes due.
import type { Client } from '../../client/client.ts';
import { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { expiration, SECRET_TYPE, TOKEN_NAMESPACE } from '../../bootstraptoken/token.ts';
import { log } from '../../util/log.ts';

export class TokenCleaner {
  private readonly client: Client;
  private readonly secrets: Informer;
  private readonly queue: WorkQueue;
  private readonly now: () => number;

  constructor(client: Client, opts: { now?: () => number } = {}) {
    this.client = client;
    this.now = opts.now ?? Date.now;
    this.secrets = new Informer(client, client.resource('', 'secrets'), { namespace: TOKEN_NAMESPACE, fieldSelector: `type=${SECRET_TYPE}` });
    this.queue = new WorkQueue((name) => this.sync(name), 1);
    this.secrets.on({ add: (s) => this.queue.add(s.metadata.name), update: (_o, s) => this.queue.add(s.metadata.name) });
  }

  async start(): Promise<void> {
    await this.secrets.start();
  }

  stop(): void {
    this.secrets.stop();
    this.queue.stop();
  }

  private async sync(name: string): Promise<void> {
    const secret = this.secrets.get(TOKEN_NAMESPACE, name);
    if (!secret || secret.metadata.deletionTimestamp) return;
    const { ttlMs, expired } = expiration(secret, this.now());
    if (!expired) {
      // Timers longer than ~24.8 days overflow; a shorter wait just looks again.
      if (ttlMs !== undefined) this.queue.addAfter(name, Math.min(ttlMs + 1, 2 ** 31 - 1));
      return;
    }
    log('info', 'tokencleaner', 'Deleting expired secret', { secret: `${TOKEN_NAMESPACE}/${name}` });
    try {
      await this.client.delete(this.client.resource('', 'secrets'), TOKEN_NAMESPACE, name, { preconditions: { uid: secret.metadata.uid } });
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }
}
