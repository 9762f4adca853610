// The live view's page: which watches run for the chosen view and namespace, and the rendering of
// what they hold. State lives in the URL (?view=&namespace=), so a view can be linked and reloaded.
import { ListWatch } from './watch.js';
import { nodeView, shortAge, statefulSetView } from './model.js';

// Served at <prefix>/ui/ (kubectl proxy's --api-prefix, "/" by default): the API is at <prefix>/api.
const PREFIX = location.pathname.replace(/\/ui(\/.*)?$/, '');
const ALL = '*';

const params = new URLSearchParams(location.search);
const state = {
  view: params.get('view') === 'nodes' ? 'nodes' : 'statefulsets',
  namespace: params.get('namespace') || 'default',
  /** @type {Record<string, ListWatch>} */
  watches: {},
  /** @type {Record<string, string>} errors by resource */
  errors: {},
  live: {},
  mayListAll: false,
  namespaces: /** @type {ListWatch | undefined} */ (undefined),
};

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function collection(group, resource, namespace) {
  const base = group ? `${PREFIX}/apis/${group}` : `${PREFIX}/api/v1`;
  return namespace === ALL ? `${base}/${resource}` : `${base}/namespaces/${encodeURIComponent(namespace)}/${resource}`;
}

function watch(name, path, query = {}) {
  state.watches[name] = new ListWatch(path, query, {
    onChange: scheduleRender,
    onError: (text) => {
      if (text) state.errors[name] = text;
      else delete state.errors[name];
      scheduleRender();
    },
    onLive: (live) => {
      state.live[name] = live;
      scheduleRender();
    },
  }).start();
}

/** The watches a view needs: only those, so a narrow role sees exactly what it may. */
function startWatches() {
  for (const w of Object.values(state.watches)) w.stop();
  state.watches = {};
  state.errors = {};
  state.live = {};
  const ns = state.namespace;
  if (state.view === 'statefulsets') {
    watch('statefulsets', collection('apps/v1', 'statefulsets', ns));
    watch('pods', collection('', 'pods', ns));
    watch('persistentvolumeclaims', collection('', 'persistentvolumeclaims', ns));
    // Only the sets' events: a busy namespace's pod events would dwarf them.
    watch('events', collection('', 'events', ns), { fieldSelector: 'involvedObject.kind=StatefulSet' });
  } else {
    watch('nodes', `${PREFIX}/api/v1/nodes`);
    watch('pods', collection('', 'pods', ns));
  }
  scheduleRender();
}

let pending = false;
function scheduleRender() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
}

function render() {
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.getAttribute('data-view') === state.view);
  const names = Object.keys(state.watches);
  const live = names.length > 0 && names.every((n) => state.live[n]);
  $('live').dataset.live = String(live);
  $('live').textContent = live ? 'live' : 'not live';
  $('errors').innerHTML = Object.entries(state.errors)
    .map(([r, text]) => `<div class="error" data-resource="${esc(r)}">${esc(r)}: ${esc(text)}</div>`)
    .join('');
  renderNamespaces();
  $('view').innerHTML = state.view === 'statefulsets' ? renderSets() : renderNodes();
}

function items(name) {
  return state.watches[name]?.list() ?? [];
}

function synced(name) {
  return Boolean(state.watches[name]?.synced);
}

function renderSets() {
  if (!synced('statefulsets')) return state.errors.statefulsets ? '' : '<p class="muted">Listing StatefulSets…</p>';
  const sets = items('statefulsets').sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  if (!sets.length) return `<p class="muted">No StatefulSets ${state.namespace === ALL ? 'in any namespace' : `in namespace ${esc(state.namespace)}`}.</p>`;
  const pods = items('pods');
  const claims = items('persistentvolumeclaims');
  const events = items('events');
  const now = Date.now();
  return sets.map((s) => renderSet(statefulSetView(s, pods, claims, events), now)).join('');
}

function meter(kind, label, n, of) {
  const pct = of > 0 ? Math.min(100, Math.round((100 * n) / of)) : 0;
  return `<span data-count="${kind}">${label} ${n}/${of}<span class="meter ${kind}"><i style="width:${pct}%"></i></span></span>`;
}

function renderSet(v, now) {
  const p = v.progress;
  const strategy = v.strategy === 'RollingUpdate' ? `RollingUpdate${v.partition ? ` · partition ${v.partition}` : ''}` : v.strategy;
  const revs =
    v.currentRevision === v.updateRevision
      ? `<span class="rev current" title="current and update revision">${esc(v.currentRevision)}</span>`
      : `<span class="rev current" title="current revision">${esc(v.currentRevision)}</span> → <span class="rev update" title="update revision">${esc(v.updateRevision)}</span>`;
  const cells = [];
  let lineDrawn = false;
  for (const c of v.cells) {
    if (v.partitionBefore !== null && c.ordinal === v.partitionBefore) {
      cells.push(partitionLine(v.partitionBefore));
      lineDrawn = true;
    }
    cells.push(renderCell(c));
  }
  if (v.partitionBefore !== null && !lineDrawn) cells.push(partitionLine(v.partitionBefore));
  const events = v.events.length
    ? `<ul class="events">${v.events
        .map((e) => `<li class="${esc(e.type)}">${esc(shortAge(e.time, now))} ${esc(e.type)} <b>${esc(e.reason)}</b> ${esc(e.message)}${e.count > 1 ? ` (×${e.count})` : ''}</li>`)
        .join('')}</ul>`
    : '';
  return `<section class="set" data-set="${esc(v.name)}" data-namespace="${esc(v.namespace)}">
  <div class="set-head">
    <h2>${esc(v.name)} <small>${esc(v.namespace)}</small></h2>
    <span class="muted">${esc(v.podManagementPolicy)} · ${esc(strategy)}${v.observed ? '' : ' · not yet observed'}</span>
    <span class="progress" data-replicas="${v.replicas}">${meter('ready', 'ready', p.ready, v.replicas)}${meter('current', 'current', p.current, v.replicas)}${meter('updated', 'updated', p.updated, v.replicas)}</span>
    <span>${revs}</span>
  </div>
  <div class="ordinals">${cells.join('')}</div>
  ${events}
</section>`;
}

function partitionLine(ordinal) {
  return `<div class="partition" data-partition="${ordinal}" data-label="partition ${ordinal}" title="ordinals below ${ordinal} keep the current revision"></div>`;
}

function renderCell(c) {
  const dot = !c.exists ? 'gone' : c.terminating ? 'gone' : c.ready ? 'ready' : c.phase === 'Failed' ? 'bad' : '';
  const claims = c.claims.map((cl) => `<li data-claim="${esc(cl.name)}">⛁ ${esc(cl.name)} <b>${esc(cl.phase)}</b></li>`).join('');
  return `<div class="cell" data-pod="${esc(c.name)}" data-ordinal="${c.ordinal}" data-exists="${c.exists}" data-wanted="${c.wanted}" data-ready="${c.ready}" data-status="${esc(c.status)}" data-revision="${esc(c.revision)}" data-revision-role="${c.revisionRole}">
  <div class="rev-bar"></div>
  <div class="pod-name">${esc(c.name)}</div>
  <div class="status"><span class="dot ${dot}"></span>${esc(c.status)}${c.exists ? ` ${esc(c.readyText)}` : ''}</div>
  <div class="rev-label" title="controller-revision-hash">${esc(c.revision || '—')}</div>
  <div class="pod-node" title="node">${c.node ? `▣ ${esc(c.node)}` : '<span class="muted">unscheduled</span>'}</div>
  <ul>${claims}</ul>
</div>`;
}

function renderNodes() {
  if (!synced('nodes')) return state.errors.nodes ? '' : '<p class="muted">Listing nodes…</p>';
  const nodes = items('nodes').sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, 'en', { numeric: true }));
  if (!nodes.length) return '<p class="muted">No nodes.</p>';
  const pods = items('pods');
  const scope = state.namespace === ALL ? 'pods in all namespaces' : `pods in namespace ${esc(state.namespace)}`;
  return nodes
    .map((n) => {
      const v = nodeView(n, pods);
      const ready = v.ready === 'True' ? '<span class="badge ready">Ready</span>' : `<span class="badge notready" title="${esc(v.readyReason)}">${v.ready === 'False' ? 'NotReady' : 'Unknown'}</span>`;
      const taints = v.taints.map((t) => `<span class="taint" data-taint="${esc(t)}">${esc(t)}</span>`).join(' ');
      const podChips = v.pods
        .map((p) => `<span class="pod" data-pod="${esc(p.namespace)}/${esc(p.name)}"><span class="dot ${p.ready ? 'ready' : p.status === 'Terminating' ? 'gone' : ''}"></span>${state.namespace === ALL ? `${esc(p.namespace)}/` : ''}${esc(p.name)} <span class="muted">${esc(p.status)}</span></span>`)
        .join('');
      return `<section class="node" data-node="${esc(v.name)}" data-ready="${esc(v.ready)}">
  <div class="node-head">
    <h2>${esc(v.name)} <small>${esc(v.roles.join(',') || '<none>')}</small></h2>
    ${ready}${v.unschedulable ? ' <span class="badge">SchedulingDisabled</span>' : ''}
    <span class="muted">${esc(v.address)} ${esc(v.version)}</span>
    ${taints}
  </div>
  <div class="pods" data-count="${v.pods.length}">${podChips || `<span class="muted">no ${scope}</span>`}</div>
</section>`;
    })
    .join('');
}

function renderNamespaces() {
  const sel = /** @type {HTMLSelectElement} */ ($('namespace'));
  const known = new Set(state.namespaces?.list().map((n) => n.metadata.name) ?? []);
  if (state.namespace !== ALL) known.add(state.namespace);
  const options = [...known].sort();
  if (state.mayListAll) options.unshift(ALL);
  const html = options.map((n) => `<option value="${esc(n)}"${n === state.namespace ? ' selected' : ''}>${n === ALL ? 'All namespaces' : esc(n)}</option>`).join('');
  // Rebuilt only when the choices change, so an open menu is not reset by a render.
  if (sel.dataset.options !== html) {
    sel.dataset.options = html;
    sel.innerHTML = html;
  }
}

async function post(path, body) {
  const res = await fetch(`${PREFIX}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
  return res.ok ? res.json() : undefined;
}

/** "All namespaces" is offered only to a caller who may list both kinds the views list cluster-wide. */
async function checkListAll() {
  const may = async (group, resource) => {
    const r = await post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'list', group, resource } } });
    return Boolean(r?.status?.allowed);
  };
  const [pods, sets] = await Promise.all([may('', 'pods'), may('apps', 'statefulsets')]);
  state.mayListAll = pods && sets;
  scheduleRender();
}

async function whoAmI() {
  const r = await post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  const name = r?.status?.userInfo?.username;
  if (name) $('user').textContent = name;
}

function navigate(change) {
  Object.assign(state, change);
  const q = new URLSearchParams({ view: state.view, namespace: state.namespace });
  history.replaceState(null, '', `?${q}`);
  for (const a of document.querySelectorAll('header nav a')) a.setAttribute('href', `?view=${a.getAttribute('data-view')}&namespace=${encodeURIComponent(state.namespace)}`);
  startWatches();
}

$('namespace').addEventListener('change', (e) => navigate({ namespace: /** @type {HTMLSelectElement} */ (e.target).value }));
for (const a of document.querySelectorAll('header nav a')) {
  a.addEventListener('click', (e) => {
    e.preventDefault();
    navigate({ view: a.getAttribute('data-view') });
  });
}

// Namespaces fill the selector when the caller may list them; without, the chosen one still works.
state.namespaces = new ListWatch(`${PREFIX}/api/v1/namespaces`, {}, { onChange: scheduleRender, onError: () => {} }).start();
void whoAmI().catch(() => {});
void checkListAll().catch(() => {});
navigate({});
// Ages in the event lines move on even when nothing changes.
setInterval(scheduleRender, 5000);
