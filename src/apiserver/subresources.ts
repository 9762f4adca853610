// Subresources: status (spec-preserving writes), scale (autoscaling/v1 Scale view of a set),
// binding (scheduler assigns a node), eviction (policy-aware delete) and a service account's
// token (TokenRequest).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Obj, RequestUser, ResourceDef } from '../api/resource.ts';
import { formatLabelSelector } from './filter.ts';
import { ApiError, badRequest, conflict, methodNotSupported, notFound, unsupportedMediaType } from './errors.ts';
import { readBody, sendJson } from './http.ts';
import type { ResourceRequest } from './request.ts';
import type { ResourceStore } from './resource-store.ts';
import { CUSTOM_PATCH_TYPES, fieldManagerOf, forbidForce, mediaType, parseBody, readObject } from './handlers.ts';
import { validateApplyOptions } from './fieldmanager/index.ts';
import { customScale, setCustomReplicas } from '../apiextensions/scale.ts';
import { applyPatch, PATCH_TYPES } from './patching.ts';
import { findResource } from './request.ts';
import { cloneJson } from '../util/json.ts';
import { createTokenRequest } from './serviceaccount-token.ts';
import { decideEviction } from './eviction.ts';
import { selectsPod } from '../controllers/disruption/plan.ts';

export async function handleSubresource(req: IncomingMessage, res: ServerResponse, rr: ResourceRequest, url: URL, rs: ResourceStore, user?: RequestUser): Promise<void> {
  const r = rr.resource;
  const sub = rr.subresource!;
  const name = rr.name!;
  const ns = rr.namespace;
  const method = req.method ?? 'GET';
  const q = url.searchParams;
  const opts = { dryRun: q.get('dryRun') === 'All', fieldValidation: q.get('fieldValidation') ?? undefined, warnings: [] as string[], user, fieldManager: fieldManagerOf(req, q) };
  if (!r.subresources.includes(sub as never)) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

  // A CSR's approval is written like status, under its own update rules (the kind's strategy).
  if (sub === 'status' || sub === 'approval') {
    const out = (o: Obj) => (r.convert ? r.convert(o) : o);
    if (method === 'GET') return sendJson(res, 200, out(rs.get(r, ns, name)));
    if (method === 'PUT') return sendJson(res, 200, out(await rs.update(r, ns, name, await readObject(req), opts, sub)));
    if (method === 'PATCH') {
      const type = mediaType(req.headers['content-type']);
      if (r.custom && type === 'application/strategic-merge-patch+json') throw unsupportedMediaType(CUSTOM_PATCH_TYPES);
      if (type === 'application/apply-patch+yaml') {
        validateApplyOptions(q.get('fieldManager'));
        const config = parseBody(await readBody(req), type);
        return sendJson(res, 200, out((await rs.apply(r, ns, name, config, { ...opts, force: q.get('force') === 'true' }, sub)).obj));
      }
      forbidForce(q);
      if (!PATCH_TYPES.includes(type)) throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`);
      const patch = parseBody(await readBody(req), 'application/json');
      return sendJson(res, 200, out(await rs.patch(r, ns, name, type, patch, opts, sub)));
    }
  }
  if (sub === 'finalize' && method === 'PUT') {
    // Only spec.finalizers changes through /finalize; the namespace goes once nothing holds it.
    const body = await readObject(req);
    const current = rs.get(r, ns, name);
    if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict({ group: '', resource: 'namespaces' }, name);
    const finalizers: string[] = body.spec?.finalizers ?? [];
    return sendJson(res, 200, await rs.finalizeNamespace(r, name, finalizers, opts.dryRun));
  }
  if (sub === 'scale') {
    const cs = r.custom?.scale;
    const toScale = (o: Obj) => (cs ? customScale(o, cs) : builtInScale(o));
    if (method === 'GET') return sendJson(res, 200, toScale(rs.get(r, ns, name)));
    if (method === 'PUT' || method === 'PATCH') {
      // The body is read once; a patch is applied afresh to the latest object on each attempt.
      const body: Obj = method === 'PUT' ? await readObject(req) : (parseBody(await readBody(req), 'application/json') as Obj);
      const patchType = mediaType(req.headers['content-type']);
      for (let attempt = 0; ; attempt++) {
        const current = rs.get(r, ns, name);
        const scale: Obj = method === 'PUT' ? body : applyPatch(patchType, toScale(current), body, scaleResource);
        const replicas = scale.spec?.replicas;
        if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0)) {
          throw new ApiError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`, {
            name, group: 'autoscaling', kind: 'Scale', causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${replicas}: must be greater than or equal to 0`, field: 'spec.replicas' }],
          });
        }
        const rv = scale.metadata?.resourceVersion;
        if (rv && rv !== current.metadata.resourceVersion) throw conflict({ group: r.group, resource: r.plural }, name);
        const next = cloneJson(current);
        if (cs) setCustomReplicas(next, cs, replicas ?? 0);
        else next.spec.replicas = replicas ?? 0;
        try {
          const updated = await rs.update(r, ns, name, next, { ...opts, fieldValidation: 'Ignore' });
          return sendJson(res, 200, toScale(updated));
        } catch (err) {
          // A concurrent write between our read and update. A PUT with a resourceVersion, or a patch that
          // sets one, is a precondition: re-checked on the next attempt (a patch), or final (a PUT).
          if (err instanceof ApiError && err.code === 409 && (method === 'PATCH' || !rv) && attempt < 5) {
            await rs.catchUp();
            continue;
          }
          throw err;
        }
      }
    }
  }
  if (sub === 'binding' && method === 'POST') {
    const binding = await readObject(req);
    const target = binding.target?.name;
    if (!target) throw badRequest('Binding target must name a node');
    await rs.bind(r, ns!, name, target, binding.metadata?.uid, opts.dryRun);
    return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }
  if (sub === 'eviction' && method === 'POST') {
    const eviction = await readObject(req);
    const del = eviction.deleteOptions ?? {};
    if (user) rs.runWriteChecks({ operation: 'create', kind: r.kind, group: r.group, subresource: 'eviction', name, namespace: ns, obj: eviction, old: rs.find(r, ns, name), user });
    const pdbs = findResource('policy', 'poddisruptionbudgets')!;
    // Charging a budget is a guarded write: when it loses a race with another eviction or the
    // disruption controller, the decision is made again on the newer budget.
    for (let attempt = 0; ; attempt++) {
      const pod = rs.find(r, ns, name);
      if (!pod) throw notFound({ group: '', resource: 'pods' }, name);
      const budgets = rs.list(pdbs, ns).map((c) => c.obj).filter((pdb) => selectsPod(pdb, pod));
      const decision = decideEviction(pod, budgets, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
      if (decision.kind === 'refuse') throw decision.error;
      if (decision.kind === 'charge' && !opts.dryRun) {
        const { pdb, status } = decision;
        try {
          await rs.update(pdbs, ns, pdb.metadata.name, { ...pdb, status }, {}, 'status');
        } catch (err) {
          if (err instanceof ApiError && err.code === 409 && attempt < 5) {
            // Decide again once the cache holds the version that won.
            await rs.catchUp();
            continue;
          }
          throw err;
        }
      }
      break;
    }
    await rs.delete(r, ns, name, { gracePeriodSeconds: del.gracePeriodSeconds, preconditions: del.preconditions, dryRun: opts.dryRun });
    return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }
  if (sub === 'token' && method === 'POST') {
    const request = await readObject(req);
    if (user) rs.runWriteChecks({ operation: 'create', kind: r.kind, group: r.group, subresource: 'token', name, namespace: ns, obj: request, user });
    return sendJson(res, 201, createTokenRequest(rs, ns!, name, request));
  }
  throw methodNotSupported({ group: r.group, resource: `${r.plural}/${sub}` }, method);
}

/** The Scale document for the patch engine: it has no merge keys, so strategic patches act as merge patches. */
const scaleResource = { schema: 'io.k8s.api.autoscaling.v1.Scale' } as ResourceDef;

function builtInScale(obj: Obj): Obj {
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, selector: formatLabelSelector(obj.spec?.selector) },
  };
}
