// Pod spec defaulting and validation shared by Pods and pod templates (StatefulSet).
// Defaults follow core/v1 SetDefaults_PodSpec/Container/Probe/Volume; validation follows
// pkg/apis/core/validation for the parts users commonly hit, with upstream paths and messages.
import type { Obj } from '../resource.ts';
import { duplicate, forbidden, invalid, notSupported, required } from '../field-errors.ts';
import { type Errs, asArray, asObj, invalidRendered, intOrStringText, isObj, validateNonnegativeField } from '../validation/fields.ts';
import {
  inclusiveRangeError,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  regexError,
} from '../validation/names.ts';
import { validateLabelName, validateLabels } from '../validation/objectmeta.ts';
import { compareQuantity, parseQuantity, quantityFormatError, quantityText } from '../validation/quantity.ts';

// ---------------------------------------------------------------- defaulting

/** Docker-reference tag of an image: 'latest' when neither tag nor digest is given. */
export function imageTag(image: string): string {
  if (!image) return '';
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const hasTag = colon > lastSlash;
  const repo = hasTag ? ref.slice(0, colon) : ref;
  // Only the registry host may contain upper case; anything else is an unparsable reference.
  const first = repo.split('/')[0];
  const path = repo.includes('/') && (/[.:]/.test(first) || first === 'localhost') ? repo.slice(first.length + 1) : repo;
  if (!path || /[A-Z]/.test(path)) return '';
  if (hasTag) return ref.slice(colon + 1);
  return at >= 0 ? '' : 'latest';
}

export function defaultImagePullPolicy(image: string): 'Always' | 'IfNotPresent' {
  return imageTag(image) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbeHandler(h: Obj | undefined): void {
  if (!isObj(h)) return;
  if (isObj(h.httpGet)) {
    if (!h.httpGet.path) h.httpGet.path = '/';
    if (!h.httpGet.scheme) h.httpGet.scheme = 'HTTP';
  }
}

function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  defaultProbeHandler(p);
}

export function defaultContainer(c: Obj): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = defaultImagePullPolicy(typeof c.image === 'string' ? c.image : '');
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  for (const p of asArray(c.ports)) if (isObj(p) && !p.protocol) p.protocol = 'TCP';
  for (const e of asArray(c.env)) {
    const fr = asObj(asObj(e).valueFrom).fieldRef;
    if (isObj(fr) && !fr.apiVersion) fr.apiVersion = 'v1';
  }
  // A Go struct value, so real servers always print it, if only as {}.
  if (!isObj(c.resources)) c.resources = {};
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    defaultProbeHandler(c.lifecycle.postStart);
    defaultProbeHandler(c.lifecycle.preStop);
  }
}

const volumeSourceKeys = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile',
  'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume',
  'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
];

export function defaultVolume(v: Obj): void {
  if (!volumeSourceKeys.some((k) => isObj(v[k]))) v.emptyDir = {};
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    if (isObj(v[k]) && v[k].defaultMode === undefined) v[k].defaultMode = 420;
  }
  if (isObj(v.hostPath) && v.hostPath.type === undefined) v.hostPath.type = '';
  for (const item of asArray(asObj(v.downwardAPI).items)) {
    const fr = asObj(item).fieldRef;
    if (isObj(fr) && !fr.apiVersion) fr.apiVersion = 'v1';
  }
}

/** Defaults of core/v1 PodSpec, applied to pods and pod templates alike. */
export function defaultPodSpec(spec: Obj): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!isObj(spec.securityContext)) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) spec.terminationGracePeriodSeconds = 30;
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  // serviceAccount is the deprecated alias that v1 always serves alongside serviceAccountName.
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  for (const c of [...asArray(spec.containers), ...asArray(spec.initContainers), ...asArray(spec.ephemeralContainers)]) {
    if (isObj(c)) defaultContainer(c);
  }
  for (const v of asArray(spec.volumes)) if (isObj(v)) defaultVolume(v);
}

export function defaultPodTemplate(template: Obj | undefined): void {
  if (!isObj(template)) return;
  if (!isObj(template.spec)) template.spec = {};
  defaultPodSpec(template.spec);
}

// ---------------------------------------------------------------- validation

const portProtocols = ['SCTP', 'TCP', 'UDP'];

export function validateDNS1123Label(value: string, field: string): Errs {
  return isDNS1123Label(value).map((m) => invalid(field, value, m));
}

export function validateDNS1123Subdomain(value: string, field: string): Errs {
  return isDNS1123Subdomain(value).map((m) => invalid(field, value, m));
}

/** A port given as a number or an IANA name (probe ports, service targetPort). */
export function validatePortNumOrName(port: unknown, field: string): Errs {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalid(field, port, m));
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalid(field, port, m));
  return [invalidRendered(field, intOrStringText(port), 'must be an integer or a string')];
}

const envVarNameFmt = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const envVarNameMsg = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";

function isEnvVarName(name: string): string[] {
  const errs: string[] = [];
  if (!new RegExp(`^${envVarNameFmt}$`).test(name)) errs.push(regexError(envVarNameMsg, envVarNameFmt, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1'));
  if (name === '.') errs.push("must not be '.'");
  else if (name === '..') errs.push("must not be '..'");
  else if (name.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

function validateVolumeSource(v: Obj, path: string): Errs {
  const errs: Errs = [];
  const present = volumeSourceKeys.filter((k) => isObj(v[k]));
  if (present.length === 0) return [required(path, 'must specify a volume type')];
  for (const k of present.slice(1)) errs.push(forbidden(`${path}.${k}`, 'may not specify more than 1 volume type'));
  const s = v[present[0]];
  switch (present[0]) {
    case 'hostPath':
      if (!s.path) errs.push(required(`${path}.hostPath.path`));
      break;
    case 'secret':
      if (!s.secretName) errs.push(required(`${path}.secret.secretName`));
      break;
    case 'configMap':
      if (!s.name) errs.push(required(`${path}.configMap.name`));
      break;
    case 'persistentVolumeClaim':
      if (!s.claimName) errs.push(required(`${path}.persistentVolumeClaim.claimName`));
      break;
    case 'nfs':
      if (!s.server) errs.push(required(`${path}.nfs.server`));
      if (!s.path) errs.push(required(`${path}.nfs.path`));
      break;
  }
  return errs;
}

/** Returns the errors and the set of volume names that are valid (for volumeMount lookups). */
export function validateVolumes(volumes: unknown, path: string): { errs: Errs; names: Set<string> } {
  const errs: Errs = [];
  const names = new Set<string>();
  asArray(volumes).forEach((raw, i) => {
    const v = asObj(raw);
    const p = `${path}[${i}]`;
    const el = validateVolumeSource(v, p);
    const name = typeof v.name === 'string' ? v.name : '';
    if (!name) el.push(required(`${p}.name`));
    else el.push(...validateDNS1123Label(name, `${p}.name`));
    if (names.has(name)) el.push(duplicate(`${p}.name`, name));
    if (el.length === 0) names.add(name);
    else errs.push(...el);
  });
  return { errs, names };
}

function validateContainerPorts(ports: unknown, path: string): Errs {
  const errs: Errs = [];
  const names = new Set<string>();
  asArray(ports).forEach((raw, i) => {
    const port = asObj(raw);
    const p = `${path}[${i}]`;
    if (port.name) {
      const msgs = isValidPortName(String(port.name));
      if (msgs.length) for (const m of msgs) errs.push(invalid(`${p}.name`, port.name, m));
      else if (names.has(port.name)) errs.push(duplicate(`${p}.name`, port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(`${p}.containerPort`));
    else for (const m of isValidPortNum(port.containerPort)) errs.push(invalid(`${p}.containerPort`, port.containerPort, m));
    if (port.hostPort) for (const m of isValidPortNum(port.hostPort)) errs.push(invalid(`${p}.hostPort`, port.hostPort, m));
    if (!port.protocol) errs.push(required(`${p}.protocol`));
    else if (!portProtocols.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, portProtocols));
  });
  return errs;
}

function validateEnv(env: unknown, path: string): Errs {
  const errs: Errs = [];
  asArray(env).forEach((raw, i) => {
    const e = asObj(raw);
    const p = `${path}[${i}]`;
    if (!e.name) errs.push(required(`${p}.name`));
    else for (const m of isEnvVarName(String(e.name))) errs.push(invalid(`${p}.name`, e.name, m));
    if (isObj(e.valueFrom) && e.value) {
      errs.push(invalid(`${p}.valueFrom`, '', "may not be specified when `value` is not empty"));
    }
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, volumes: Set<string>, path: string): Errs {
  const errs: Errs = [];
  const mountPoints = new Set<string>();
  asArray(mounts).forEach((raw, i) => {
    const m = asObj(raw);
    const p = `${path}[${i}]`;
    const name = typeof m.name === 'string' ? m.name : '';
    if (!name) errs.push(required(`${p}.name`));
    if (!volumes.has(name)) errs.push({ type: 'FieldValueNotFound', field: `${p}.name`, badValue: name });
    const mountPath = typeof m.mountPath === 'string' ? m.mountPath : '';
    if (!mountPath) errs.push(required(`${p}.mountPath`));
    if (mountPoints.has(mountPath)) errs.push(invalid(`${p}.mountPath`, mountPath, 'must be unique'));
    mountPoints.add(mountPath);
  });
  return errs;
}

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);

function validateResourceRequirements(resources: unknown, path: string): Errs {
  const errs: Errs = [];
  const r = asObj(resources);
  const limits = asObj(r.limits);
  const requests = asObj(r.requests);
  const checkEntry = (name: string, value: unknown, p: string) => {
    if (!name.includes('/') && !standardContainerResources.has(name) && !name.startsWith('hugepages-')) {
      errs.push(invalid(p, name, 'must be a standard resource for containers'));
    } else if (name.includes('/')) {
      for (const m of isQualifiedName(name)) errs.push(invalid(p, name, m));
    }
    const q = parseQuantity(value);
    if (!q) errs.push(invalid(p, quantityText(value), quantityFormatError));
    else if (q.num < 0n) errs.push(invalid(p, quantityText(value), 'must be greater than or equal to 0'));
  };
  for (const [name, value] of Object.entries(limits)) checkEntry(name, value, `${path}.limits[${name}]`);
  for (const [name, value] of Object.entries(requests)) {
    checkEntry(name, value, `${path}.requests[${name}]`);
    if (name in limits) {
      const rq = parseQuantity(value);
      const lq = parseQuantity(limits[name]);
      if (rq && lq && compareQuantity(rq, lq) > 0) {
        errs.push(invalid(`${path}.requests`, quantityText(value), `must be less than or equal to ${name} limit of ${quantityText(limits[name])}`));
      }
    }
  }
  return errs;
}

/**
 * A probe's or lifecycle hook's handler: exactly one kind. Lifecycle handlers have no grpc and
 * probes no sleep (upstream's handlerFromLifecycle / handlerFromProbe); a sleep may not be longer
 * than the pod's terminationGracePeriodSeconds, nor 0 (PodLifecycleSleepActionAllowZero is off in 1.32).
 */
function validateHandler(h: Obj, path: string, hook?: { gracePeriod: unknown }): Errs {
  const errs: Errs = [];
  const kinds = (hook ? ['exec', 'httpGet', 'tcpSocket', 'sleep'] : ['exec', 'httpGet', 'tcpSocket', 'grpc']).filter((k) => isObj(h[k]));
  if (kinds.length === 0) return [required(path, 'must specify a handler type')];
  for (const k of kinds.slice(1)) errs.push(forbidden(`${path}.${k}`, 'may not specify more than 1 handler type'));
  const k = kinds[0];
  const v = h[k];
  if (k === 'exec' && asArray(v.command).length === 0) errs.push(required(`${path}.exec.command`));
  if (k === 'httpGet') {
    if (!v.path) errs.push(required(`${path}.httpGet.path`));
    errs.push(...validatePortNumOrName(v.port, `${path}.httpGet.port`));
    if (v.scheme && !['HTTP', 'HTTPS'].includes(v.scheme)) errs.push(notSupported(`${path}.httpGet.scheme`, v.scheme, ['HTTP', 'HTTPS']));
  }
  if (k === 'tcpSocket') errs.push(...validatePortNumOrName(v.port, `${path}.tcpSocket.port`));
  if (k === 'grpc') for (const m of isValidPortNum(v.port)) errs.push(invalid(`${path}.grpc.port`, v.port, m));
  if (k === 'sleep' && typeof hook?.gracePeriod === 'number') {
    const seconds = typeof v.seconds === 'number' ? v.seconds : 0;
    if (seconds <= 0 || seconds > hook.gracePeriod) {
      errs.push(invalid(`${path}.sleep`, seconds, `must be greater than 0 and less than terminationGracePeriodSeconds (${hook.gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`));
    }
  }
  return errs;
}

function validateLifecycle(lifecycle: unknown, gracePeriod: unknown, path: string): Errs {
  if (!isObj(lifecycle)) return [];
  const errs: Errs = [];
  for (const k of ['postStart', 'preStop']) if (isObj(lifecycle[k])) errs.push(...validateHandler(lifecycle[k], `${path}.${k}`, { gracePeriod }));
  return errs;
}

function validateProbe(probe: unknown, path: string, kind: 'liveness' | 'readiness' | 'startup'): Errs {
  if (!isObj(probe)) return [];
  const errs = validateHandler(probe, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...validateNonnegativeField(probe[f], `${path}.${f}`));
  }
  if (typeof probe.terminationGracePeriodSeconds === 'number') {
    if (kind === 'readiness') errs.push(invalid(`${path}.terminationGracePeriodSeconds`, probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
    else if (probe.terminationGracePeriodSeconds <= 0) errs.push(invalid(`${path}.terminationGracePeriodSeconds`, probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  if (kind !== 'readiness' && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    errs.push(invalid(`${path}.successThreshold`, probe.successThreshold, 'must be 1'));
  }
  return errs;
}

function validateContainerCommon(c: Obj, volumes: Set<string>, path: string): Errs {
  const errs: Errs = [];
  const name = typeof c.name === 'string' ? c.name : '';
  if (!name) errs.push(required(`${path}.name`));
  else errs.push(...validateDNS1123Label(name, `${path}.name`));
  if (!c.image) errs.push(required(`${path}.image`));
  switch (c.terminationMessagePolicy) {
    case 'File':
    case 'FallbackToLogsOnError':
      break;
    case undefined:
    case '':
      errs.push(required(`${path}.terminationMessagePolicy`));
      break;
    default:
      errs.push(notSupported(`${path}.terminationMessagePolicy`, c.terminationMessagePolicy, ['File', 'FallbackToLogsOnError']));
  }
  errs.push(...validateContainerPorts(c.ports, `${path}.ports`));
  errs.push(...validateEnv(c.env, `${path}.env`));
  errs.push(...validateVolumeMounts(c.volumeMounts, volumes, `${path}.volumeMounts`));
  switch (c.imagePullPolicy) {
    case 'Always':
    case 'IfNotPresent':
    case 'Never':
      break;
    case undefined:
    case '':
      errs.push(required(`${path}.imagePullPolicy`));
      break;
    default:
      errs.push(notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']));
  }
  errs.push(...validateResourceRequirements(c.resources, `${path}.resources`));
  return errs;
}

function validateContainers(containers: unknown, volumes: Set<string>, path: string, gracePeriod?: unknown): Errs {
  const list = asArray(containers);
  if (list.length === 0) return [required(path)];
  const errs: Errs = [];
  const names = new Set<string>();
  list.forEach((raw, i) => {
    const c = asObj(raw);
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, p));
    if (names.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
    else names.add(c.name);
    errs.push(...validateLifecycle(c.lifecycle, gracePeriod, `${p}.lifecycle`));
    errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, 'liveness'));
    errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, 'readiness'));
    errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, 'startup'));
    if (c.restartPolicy !== undefined) errs.push(forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
  });
  return errs;
}

function validateInitContainers(containers: unknown, regular: unknown, volumes: Set<string>, path: string, gracePeriod?: unknown): Errs {
  const errs: Errs = [];
  const names = new Set<string>(asArray(regular).map((c) => asObj(c).name));
  asArray(containers).forEach((raw, i) => {
    const c = asObj(raw);
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, p));
    if (names.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
    else names.add(c.name);
    if (c.restartPolicy !== undefined && c.restartPolicy !== 'Always') {
      errs.push(notSupported(`${p}.restartPolicy`, c.restartPolicy, ['Always']));
    }
    if (c.restartPolicy !== 'Always') {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (c[f] !== undefined) errs.push(forbidden(`${p}.${f}`, `may not be set for init containers without restartPolicy=Always`));
      }
    } else {
      errs.push(...validateLifecycle(c.lifecycle, gracePeriod, `${p}.lifecycle`));
      errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, 'liveness'));
      errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, 'readiness'));
      errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, 'startup'));
    }
  });
  return errs;
}

export function validateRestartPolicy(policy: unknown, path: string): Errs {
  switch (policy) {
    case 'Always':
    case 'OnFailure':
    case 'Never':
      return [];
    case undefined:
    case '':
      return [required(path)];
    default:
      return [notSupported(path, policy, ['Always', 'OnFailure', 'Never'])];
  }
}

function validateDNSPolicy(policy: unknown, path: string): Errs {
  switch (policy) {
    case 'ClusterFirstWithHostNet':
    case 'ClusterFirst':
    case 'Default':
    case 'None':
      return [];
    case undefined:
    case '':
      return [required(path)];
    default:
      return [notSupported(path, policy, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'])];
  }
}

export function validateTolerations(tolerations: unknown, path: string): Errs {
  const errs: Errs = [];
  asArray(tolerations).forEach((raw, i) => {
    const t = asObj(raw);
    const p = `${path}[${i}]`;
    const key = typeof t.key === 'string' ? t.key : '';
    if (key) errs.push(...validateLabelName(key, `${p}.key`));
    if (!key && t.operator !== 'Exists') {
      errs.push(invalid(`${p}.operator`, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute') {
      errs.push(invalid(`${p}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (t.operator) {
      case 'Equal':
      case '':
      case undefined: {
        const msgs = isValidLabelValue(String(t.value ?? ''));
        if (msgs.length) errs.push(invalid(`${p}.operator`, t.value ?? '', msgs.join(';')));
        break;
      }
      case 'Exists':
        if (t.value) errs.push(invalid(`${p}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(`${p}.operator`, t.operator, ['Equal', 'Exists']));
    }
    if (t.effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) {
      errs.push(notSupported(`${p}.effect`, t.effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    }
  });
  return errs;
}

/** Upstream ValidatePodSpec, restricted to the rules listed in this module. */
export function validatePodSpec(spec: unknown, path: string): Errs {
  const s = asObj(spec);
  const { errs: volErrs, names } = validateVolumes(s.volumes, `${path}.volumes`);
  const errs: Errs = [...volErrs];
  errs.push(...validateContainers(s.containers, names, `${path}.containers`, s.terminationGracePeriodSeconds));
  errs.push(...validateInitContainers(s.initContainers, s.containers, names, `${path}.initContainers`, s.terminationGracePeriodSeconds));
  errs.push(...validateRestartPolicy(s.restartPolicy, `${path}.restartPolicy`));
  errs.push(...validateDNSPolicy(s.dnsPolicy, `${path}.dnsPolicy`));
  if (s.dnsPolicy === 'None' && !isObj(s.dnsConfig)) errs.push(required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  errs.push(...validateLabels(s.nodeSelector, `${path}.nodeSelector`));
  if (s.serviceAccountName) errs.push(...validateDNS1123Subdomain(String(s.serviceAccountName), `${path}.serviceAccountName`));
  if (s.nodeName) errs.push(...validateDNS1123Subdomain(String(s.nodeName), `${path}.nodeName`));
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds !== null) {
    const v = s.activeDeadlineSeconds;
    if (typeof v !== 'number' || v < 1 || v > 2147483647) errs.push(invalid(`${path}.activeDeadlineSeconds`, v, inclusiveRangeError(1, 2147483647)));
  }
  if (s.hostname) errs.push(...validateDNS1123Label(String(s.hostname), `${path}.hostname`));
  if (s.subdomain) errs.push(...validateDNS1123Label(String(s.subdomain), `${path}.subdomain`));
  errs.push(...validateTolerations(s.tolerations, `${path}.tolerations`));
  return errs;
}
