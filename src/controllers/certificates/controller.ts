// kube-controller-manager's "csrapproving" and "csrsigning" controllers: informers and a queue
// around the pure decisions in approve.ts and sign.ts.
import { X509Certificate } from 'node:crypto';
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { loadIssuer, type Issuer } from '../../apiserver/pki.ts';
import { parseCsrDetails, type CsrDetails } from '../../certificates/csr.ts';
import { bytesField } from '../../api/kinds/certificates.ts';
import { log } from '../../util/log.ts';
import { approval, isDecided } from './approve.ts';
import { DEFAULT_SIGNING_DURATION_MS, certificateDuration, failedCondition, issueCertificate, signerRefusal, validity, wantsSigning } from './sign.ts';

const stamp = () => new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** A CSR informer whose changes queue the request's name for `sync`. */
abstract class CsrController {
  protected readonly client: Client;
  protected readonly csrs: Informer;
  private readonly queue: WorkQueue;

  constructor(client: Client) {
    this.client = client;
    this.csrs = new Informer(client, client.resource('certificates.k8s.io', 'certificatesigningrequests'));
    this.queue = new WorkQueue((name) => this.syncName(name), 2);
    this.csrs.on({ add: (c) => this.queue.add(c.metadata.name), update: (_o, c) => this.queue.add(c.metadata.name) });
  }

  async start(): Promise<void> {
    await this.csrs.start();
  }

  stop(): void {
    this.csrs.stop();
    this.queue.stop();
  }

  private async syncName(name: string): Promise<void> {
    const csr = this.csrs.get(undefined, name);
    if (!csr) return;
    let request: CsrDetails;
    try {
      request = parseCsrDetails(bytesField(csr.spec?.request).toString('latin1'));
    } catch {
      return; // validation admits only parseable requests; an old bad one is left alone
    }
    try {
      await this.sync(structuredClone(csr), request);
    } catch (err) {
      // A newer version or a deleted request: its own event brings it back.
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }

  protected abstract sync(csr: Obj, request: CsrDetails): Promise<void>;

  protected get resource() {
    return this.client.resource('certificates.k8s.io', 'certificatesigningrequests');
  }
}

export class CsrApprovingController extends CsrController {
  protected async sync(csr: Obj, request: CsrDetails): Promise<void> {
    if (isDecided(csr)) return;
    const condition = await approval(csr, request, async (spec) => (await this.client.subjectAccessReview(spec)).allowed === true);
    if (!condition) return;
    csr.status = { ...(csr.status ?? {}), conditions: [...(csr.status?.conditions ?? []), condition] };
    await this.client.update(this.resource, csr, 'approval');
    log('info', 'csrapproving', 'approved', { csr: csr.metadata.name, message: condition.message });
  }
}

export interface SigningOptions {
  caCertPem: string;
  caKeyPem: string;
  /** --cluster-signing-duration: the longest certificate issued. */
  durationMs?: number;
}

export class CsrSigningController extends CsrController {
  private readonly ca: Issuer;
  private readonly caNotAfter: number;
  private readonly durationMs: number;

  constructor(client: Client, opts: SigningOptions) {
    super(client);
    this.ca = loadIssuer(opts.caCertPem, opts.caKeyPem);
    this.caNotAfter = new X509Certificate(opts.caCertPem).validToDate.getTime();
    this.durationMs = opts.durationMs ?? DEFAULT_SIGNING_DURATION_MS;
  }

  protected async sync(csr: Obj, request: CsrDetails): Promise<void> {
    if (!wantsSigning(csr)) return;
    const usages: string[] = csr.spec.usages ?? [];
    const refusal = signerRefusal(csr.spec.signerName, request, usages);
    if (refusal) {
      csr.status = { ...(csr.status ?? {}), conditions: [...(csr.status?.conditions ?? []), failedCondition(refusal, stamp())] };
      await this.client.update(this.resource, csr, 'status');
      log('info', 'csrsigning', 'refused', { csr: csr.metadata.name, reason: refusal });
      return;
    }
    const ttl = certificateDuration(csr.spec.expirationSeconds, this.durationMs);
    const pem = issueCertificate(this.ca, request, usages, validity(Date.now(), ttl, this.caNotAfter));
    csr.status = { ...(csr.status ?? {}), certificate: Buffer.from(pem).toString('base64') };
    await this.client.update(this.resource, csr, 'status');
    log('info', 'csrsigning', 'signed', { csr: csr.metadata.name, signer: csr.spec.signerName });
  }
}
