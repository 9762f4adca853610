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
  if (state.view === 'statefulsets') renderSets($('view'));
  else renderNodes($('view'));
}

// Rendering touches only what changed: each keyed element remembers the HTML it was made from, so a
// watch event about one pod of a thousand rebuilds that pod's cell alone.

function elementFrom(html) {
  const t = document.createElement('template');
  t.innerHTML = html.trim();
  return /** @type {HTMLElement} */ (t.content.firstElementChild);
}

/** Sets an element's content unless it already shows that HTML. */
function setHtml(el, html) {
  if (el._html === html) return;
  el._html = html;
  el.innerHTML = html;
}

/** Makes the container's children the entries' elements in order, by key, rebuilding only changed ones. */
function patchKeyed(container, entries) {
  const old = new Map();
  for (const el of container.children) old.set(el.dataset.key, el);
  const stale = [];
  let cursor = container.firstElementChild;
  for (const { key, html } of entries) {
    let el = old.get(key);
    old.delete(key);
    if (!el || el._html !== html) {
      if (el) stale.push(el);
      el = elementFrom(html);
      el.dataset.key = key;
      el._html = html;
    }
    if (el === cursor) cursor = cursor.nextElementSibling;
    else container.insertBefore(el, cursor);
  }
  for (const el of [...old.values(), ...stale]) el.remove();
}

/** The view as one message (listing, empty) instead of its sections. */
function showMessage(view, html) {
  view.dataset.mode = 'message';
  setHtml(view, html);
}

function ensureMode(view, mode) {
  if (view.dataset.mode === mode) return;
  view.dataset.mode = mode;
  view._html = undefined;
  view.innerHTML = '';
}

function items(name) {
  return state.watches[name]?.list() ?? [];
}

function synced(name) {
  return Boolean(state.watches[name]?.synced);
}

function renderSets(view) {
  if (!synced('statefulsets')) return showMessage(view, state.errors.statefulsets ? '' : '<p class="muted">Listing StatefulSets…</p>');
  const sets = items('statefulsets').sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  if (!sets.length) return showMessage(view, `<p class="muted">No StatefulSets ${state.namespace === ALL ? 'in any namespace' : `in namespace ${esc(state.namespace)}`}.</p>`);
  ensureMode(view, 'statefulsets');
  // Grouped once per render, so each set looks only at its own pods, claims and events.
  const podsByOwner = groupBy(items('pods'), (p) => (p.metadata.ownerReferences ?? []).find((r) => r.controller)?.uid);
  const claimsByNamespace = groupBy(items('persistentvolumeclaims'), (c) => c.metadata.namespace);
  const eventsByObject = groupBy(items('events'), (e) => `${e.involvedObject?.namespace}/${e.involvedObject?.name}`);
  const now = Date.now();
  const views = sets.map((s) => {
    const { uid, namespace, name } = s.metadata;
    return statefulSetView(s, podsByOwner.get(uid) ?? [], claimsByNamespace.get(namespace) ?? [], eventsByObject.get(`${namespace}/${name}`) ?? []);
  });
  // The sections are shells keyed by set; their parts are patched below.
  patchKeyed(
    view,
    views.map((v) => ({
      key: `${v.namespace}/${v.name}/${v.uid}`,
      html: `<section class="set" data-set="${esc(v.name)}" data-namespace="${esc(v.namespace)}"><div class="set-head"></div><div class="ordinals"></div><div class="set-events"></div></section>`,
    })),
  );
  views.forEach((v, i) => {
    const section = /** @type {HTMLElement} */ (view.children[i]);
    setHtml(section.children[0], setHead(v));
    patchKeyed(section.children[1], setCells(v));
    setHtml(section.children[2], setEvents(v, now));
  });
}

function groupBy(list, keyOf) {
  const groups = new Map();
  for (const x of list) {
    const k = keyOf(x);
    if (k === undefined) continue;
    const g = groups.get(k);
    if (g) g.push(x);
    else groups.set(k, [x]);
  }
  return groups;
}

function meter(kind, label, n, of) {
  const pct = of > 0 ? Math.min(100, Math.round((100 * n) / of)) : 0;
  return `<span data-count="${kind}">${label} ${n}/${of}<span class="meter ${kind}"><i style="width:${pct}%"></i></span></span>`;
}

function setHead(v) {
  const p = v.progress;
  const strategy = v.strategy === 'RollingUpdate' ? `RollingUpdate${v.partition ? ` · partition ${v.partition}` : ''}` : v.strategy;
  const revs =
    v.currentRevision === v.updateRevision
      ? `<span class="rev current" title="current and update revision">${esc(v.currentRevision)}</span>`
      : `<span class="rev current" title="current revision">${esc(v.currentRevision)}</span> → <span class="rev update" title="update revision">${esc(v.updateRevision)}</span>`;
  return `<h2>${esc(v.name)} <small>${esc(v.namespace)}</small></h2>
    <span class="muted">${esc(v.podManagementPolicy)} · ${esc(strategy)}${v.observed ? '' : ' · not yet observed'}</span>
    <span class="progress" data-replicas="${v.replicas}">${meter('ready', 'ready', p.ready, v.replicas)}${meter('current', 'current', p.current, v.replicas)}${meter('updated', 'updated', p.updated, v.replicas)}</span>
    <span>${revs}</span>`;
}

/** The row's keyed entries: a cell per ordinal, and the partition line in front of its ordinal. */
function setCells(v) {
  const entries = [];
  let lineDrawn = false;
  for (const c of v.cells) {
    if (v.partitionBefore !== null && c.ordinal === v.partitionBefore) {
      entries.push({ key: 'partition', html: partitionLine(v.partitionBefore) });
      lineDrawn = true;
    }
    entries.push({ key: `pod-${c.ordinal}`, html: renderCell(c) });
  }
  if (v.partitionBefore !== null && !lineDrawn) entries.push({ key: 'partition', html: partitionLine(v.partitionBefore) });
  return entries;
}

function setEvents(v, now) {
  if (!v.events.length) return '';
  return `<ul class="events">${v.events
    .map((e) => `<li class="${esc(e.type)}">${esc(shortAge(e.time, now))} ${esc(e.type)} <b>${esc(e.reason)}</b> ${esc(e.message)}${e.count > 1 ? ` (×${e.count})` : ''}</li>`)
    .join('')}</ul>`;
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

function renderNodes(view) {
  if (!synced('nodes')) return showMessage(view, state.errors.nodes ? '' : '<p class="muted">Listing nodes…</p>');
  const nodes = items('nodes').sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, 'en', { numeric: true }));
  if (!nodes.length) return showMessage(view, '<p class="muted">No nodes.</p>');
  ensureMode(view, 'nodes');
  const podsByNode = groupBy(items('pods'), (p) => p.spec?.nodeName || undefined);
  const scope = state.namespace === ALL ? 'pods in all namespaces' : `pods in namespace ${esc(state.namespace)}`;
  patchKeyed(
    view,
    nodes.map((n) => ({ key: n.metadata.name, html: renderNode(nodeView(n, podsByNode.get(n.metadata.name) ?? []), scope) })),
  );
}

function renderNode(v, scope) {
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
