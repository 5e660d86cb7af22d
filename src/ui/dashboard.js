// The dashboard: live charts from GET /stats (per-second aggregates), the request view from
// GET /stats/requests, and the playground over the public API. No build step, no CDN: uPlot is
// served by pronto from its npm package.
/* global uPlot */

const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
};
const fmtMs = (ms) => (ms === null || ms === undefined ? '–' : ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`);
const PALETTE = ['#2f6fdf', '#1f8a4c', '#c53030', '#b7791f', '#7b3fc4', '#0f8b8d', '#d0508a', '#5a6b7d'];
const HISTORY_S = 300;

// ---- API key (auth mode): kept in this tab's session storage only ----
const KEY_ITEM = 'pronto.api_key';
function authHeaders() {
  const key = sessionStorage.getItem(KEY_ITEM);
  return key ? { authorization: `Bearer ${key}` } : {};
}
function askForKey(message) {
  $('auth').classList.add('shown');
  $('key').placeholder = message ?? 'API key (kept in this tab only)';
}
$('auth').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY_ITEM, $('key').value.trim());
  $('key').value = '';
  $('auth').classList.remove('shown');
  points.length = 0;
  lastT = 0;
  refreshStats();
  refreshModels();
});
async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...(init.headers ?? {}), ...authHeaders() } });
  if (res.status === 401) askForKey(sessionStorage.getItem(KEY_ITEM) ? 'That key was refused: enter another' : 'This server needs an API key');
  // A tenant's key may not read every tenant's statistics (operator_required).
  if (res.status === 403 && path.startsWith('/stats?')) askForKey('The live view needs an operator key: enter one');
  return res;
}

// ---- views ----
for (const tab of document.querySelectorAll('nav button')) {
  tab.addEventListener('click', () => {
    for (const other of document.querySelectorAll('nav button')) other.setAttribute('aria-selected', String(other === tab));
    for (const view of ['live', 'requests', 'playground']) $(`view-${view}`).hidden = view !== tab.dataset.view;
    if (tab.dataset.view === 'requests') refreshRequests();
    resizeCharts();
  });
}

// ---- charts ----
const charts = new Map();
function chart(id, seriesNames, opts = {}) {
  const target = $(id);
  const key = `${id}:${seriesNames.join('|')}`;
  let entry = charts.get(id);
  if (!entry || entry.key !== key) {
    entry?.plot.destroy();
    const plot = new uPlot(
      {
        width: Math.max(200, target.clientWidth),
        height: 170,
        legend: { show: true, live: false },
        cursor: { show: true, points: { show: false } },
        scales: { x: { time: true }, y: { range: opts.range ?? ((_u, min, max) => [0, Math.max(max, opts.minMax ?? 1)]) } },
        axes: [{ stroke: '#687287', size: 30 }, { stroke: '#687287', size: 60, values: opts.values }],
        series: [{}, ...seriesNames.map((label, i) => ({ label, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false, dash: opts.dashed?.(label) ? [4, 3] : undefined }))],
      },
      [[], ...seriesNames.map(() => [])],
      target,
    );
    entry = { key, plot };
    charts.set(id, entry);
  }
  return entry.plot;
}
function resizeCharts() {
  for (const [id, { plot }] of charts) {
    const width = Math.max(200, $(id).clientWidth);
    if (width !== plot.width) plot.setSize({ width, height: 170 });
  }
}
new ResizeObserver(resizeCharts).observe(document.body);

/** Draws series picked from each point: `pick(point)` returns {name: value}. */
function draw(id, pick, opts) {
  const picked = points.map(pick);
  const names = [...new Set(picked.flatMap((p) => Object.keys(p)))].sort();
  const plot = chart(id, names.length ? names : ['(no traffic)'], opts);
  const xs = points.map((p) => p.t / 1000);
  const data = [xs, ...(names.length ? names.map((n) => picked.map((p) => p[n] ?? null)) : [xs.map(() => null)])];
  plot.setData(data);
}

// ---- live statistics ----
const points = [];
let lastT = 0;
let stats;
const v1 = (route) => route.startsWith('/v1/');

async function refreshStats() {
  let res;
  try {
    res = await api(`/stats?since=${lastT}`);
  } catch {
    return;
  }
  if (!res.ok) return;
  stats = await res.json();
  if (stats.auth && !sessionStorage.getItem(KEY_ITEM)) askForKey();
  points.push(...stats.points);
  points.splice(0, Math.max(0, points.length - HISTORY_S));
  lastT = points.at(-1)?.t ?? lastT;
  renderLive();
}

function renderLive() {
  const windowStats = stats.window;
  const served = Object.values(windowStats.routes).reduce((sum, r) => sum + r.rps, 0);
  $('live-meta').textContent = `Last ${windowStats.seconds} s: ${served.toFixed(1)} requests/s · ${points.length} s of history · slow-request log past ${stats.slow_request_ms} ms`;

  draw('chart-rps', (p) => Object.fromEntries(Object.entries(p.routes).filter(([r]) => v1(r)).map(([r, s]) => [r, s.rps])));
  draw('chart-errors', (p) => Object.fromEntries(Object.entries(p.routes).filter(([r]) => v1(r)).map(([r, s]) => [r, s.rps ? s.errors / s.rps : 0])), {
    range: (_u, _min, max) => [0, Math.max(max, 0.05)],
    values: (_u, ticks) => ticks.map((t) => `${Math.round(t * 1000) / 10}%`),
  });

  const routes = [...new Set(points.flatMap((p) => Object.keys(p.routes)).filter(v1))].sort();
  const select = $('route');
  const chosen = select.value || routes[0] || '';
  if ([...select.options].map((o) => o.value).join() !== routes.join()) {
    select.replaceChildren(...routes.map((r) => el('option', r)));
    select.value = chosen;
  }
  draw('chart-latency', (p) => {
    const r = p.routes[select.value];
    return r && r.count ? { p50: r.p50, p95: r.p95, p99: r.p99 } : {};
  }, { values: (_u, ticks) => ticks.map((t) => `${t} ms`) });
  draw('chart-ttft', (p) => ({
    ...(p.ttft.count ? { 'ttft p50': p.ttft.p50, 'ttft p95': p.ttft.p95 } : {}),
    ...(p.inter_token.count ? { 'inter-token p95': p.inter_token.p95 } : {}),
  }), { dashed: (name) => name.startsWith('inter') });

  renderStageBars(windowStats.stages, stats.budgets_ms);

  $('models').tBodies[0].replaceChildren(...Object.entries(windowStats.models).map(([name, m]) => {
    const tr = el('tr');
    tr.append(el('td', name), el('td', (m.batches / stats.window.seconds).toFixed(2), 'num'), el('td', m.batch_size_mean === null ? '–' : m.batch_size_mean.toFixed(1), 'num'), el('td', fmtMs(m.batch_wait_p95), 'num'), el('td', String(m.queue_depth), 'num'));
    return tr;
  }));
  draw('chart-queue', (p) => Object.fromEntries(Object.entries(p.models).map(([m, s]) => [`${m} queue`, s.queue_depth])));
  draw('chart-rejections', (p) => p.rejections);
  draw('chart-cache', (p) => (p.cache.hit_ratio === null ? {} : { 'hit ratio': p.cache.hit_ratio }), {
    range: () => [0, 1],
    values: (_u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`),
  });

  const degraded = Object.entries(windowStats.degradations).sort((a, b) => b[1] - a[1]);
  $('degradations').tBodies[0].replaceChildren(...(degraded.length ? degraded : [['none', 0]]).map(([key, n]) => {
    const tr = el('tr');
    tr.append(el('td', key.replace(':', ' · ')), el('td', String(n), 'num'));
    return tr;
  }));
  draw('chart-degradations', (p) => p.degradations);

  const jobs = windowStats.jobs;
  $('jobs').tBodies[0].replaceChildren(...[...Object.entries(jobs.depth).map(([s, n]) => [`${s} now`, n]), ...Object.entries(jobs.outcomes).map(([o, n]) => [`${o} (last minute)`, n])].map(([k, n]) => {
    const tr = el('tr');
    tr.append(el('td', k), el('td', String(n), 'num'));
    return tr;
  }));
  draw('chart-jobs', (p) => Object.fromEntries(Object.entries(p.jobs.depth).map(([s, n]) => [s, n])));

  // Without configured variants every query is `default`: nothing to compare.
  const variants = Object.entries(windowStats.variants ?? {}).filter(([name]) => name !== 'default');
  $('variants-section').hidden = variants.length === 0;
  $('variants').tBodies[0].replaceChildren(...variants.map(([name, v]) => {
    const tr = el('tr');
    tr.append(
      el('td', name), el('td', v.rps.toFixed(2), 'num'), el('td', String(v.errors), 'num'),
      el('td', fmtMs(v.p50), 'num'), el('td', fmtMs(v.p95), 'num'), el('td', fmtMs(v.p99), 'num'),
      el('td', String(v.degradations), 'num'), el('td', String(v.feedback), 'num'), el('td', v.mean_rating === null ? '–' : v.mean_rating.toFixed(2), 'num'),
    );
    return tr;
  }));
}

function renderStageBars(stages, budgets) {
  const names = Object.keys(budgets).filter((s) => stages[s]);
  if (!names.length) {
    $('stages').replaceChildren(el('span', 'No stage ran in the last minute.', 'meta'));
    return;
  }
  const rows = [];
  for (const name of names) {
    const s = stages[name];
    const budget = budgets[name];
    const scale = Math.max(budget, s.p95 ?? 0) * 1.1;
    const track = el('div', undefined, 'track');
    const p95 = el('div', undefined, `bar${s.p95 > budget ? ' over' : ''}`);
    p95.style.width = `${(100 * (s.p95 ?? 0)) / scale}%`;
    p95.style.opacity = '0.45';
    const p50 = el('div', undefined, 'bar');
    p50.style.width = `${(100 * (s.p50 ?? 0)) / scale}%`;
    const mark = el('div', undefined, 'budget');
    mark.style.left = `${(100 * budget) / scale}%`;
    mark.title = `budget ${budget} ms`;
    track.append(p95, p50, mark);
    rows.push(el('span', name), track, el('span', `${fmtMs(s.p50)} / ${fmtMs(s.p95)} of ${budget}`, 'meta'));
  }
  $('stages').replaceChildren(...rows);
}

// ---- waterfall: one request's stages, in order, against their budgets ----
function renderWaterfall(target, timings, budgets = stats?.budgets_ms ?? {}) {
  const entries = Object.entries(timings);
  let offset = 0;
  const spans = entries.map(([stage, ms]) => {
    const span = { stage, start: offset, ms, budget: budgets[stage] };
    offset += ms;
    return span;
  });
  const total = Math.max(offset, ...spans.map((s) => s.start + (s.budget ?? 0)), 1);
  const rows = [];
  for (const s of spans) {
    const track = el('div', undefined, 'track');
    const bar = el('div', undefined, `bar${s.budget !== undefined && s.ms > s.budget ? ' over' : ''}`);
    bar.style.left = `${(100 * s.start) / total}%`;
    bar.style.width = `${(100 * s.ms) / total}%`;
    track.append(bar);
    if (s.budget !== undefined) {
      const mark = el('div', undefined, 'budget');
      mark.style.left = `${Math.min(99.5, (100 * (s.start + s.budget)) / total)}%`;
      mark.title = `budget ${s.budget} ms`;
      track.append(mark);
    }
    const row = [el('span', s.stage), track, el('span', s.budget === undefined ? fmtMs(s.ms) : `${fmtMs(s.ms)} / ${s.budget}`, 'meta')];
    row[0].dataset.stage = s.stage;
    rows.push(...row);
  }
  target.replaceChildren(...rows);
}

// ---- a flow's steps: one row per step, its bar from its start to its end on the request's clock ----
const fallbackText = (degraded) => degraded.map((d) => `${d.stage} (${d.reason}) → ${d.fallback}`).join(', ');
/**
 * `steps` as the /v1/chat `step` events (or the request view's) carry them; `totalMs` is the
 * request's time so far. The generate step reports as the answer starts (`running`): its bar runs
 * on to the end of the request.
 */
function renderSteps(target, steps, totalMs) {
  const ends = steps.map((s) => (s.status === 'running' ? Math.max(totalMs, s.start_ms) : s.start_ms + s.ms));
  const total = Math.max(totalMs, ...ends, 1);
  const rows = [];
  steps.forEach((s, i) => {
    const name = s.part === undefined ? s.name : `${s.name} · part ${s.part + 1}`;
    const found = s.ids?.length ? `${s.ids.length} ids: ${s.ids.join(', ')}` : '';
    const fallbacks = s.degraded?.length ? `fell back: ${fallbackText(s.degraded)}` : '';
    const label = el('button', name, 'steplabel');
    label.type = 'button';
    if (s.degraded?.length) label.append(el('span', '⚠', 'fallback-mark'));
    const track = el('div', undefined, 'track');
    const bar = el('div', undefined, `bar ${s.status}`);
    bar.style.left = `${(100 * s.start_ms) / total}%`;
    bar.style.width = `${(100 * (ends[i] - s.start_ms)) / total}%`;
    bar.title = [`${name}: ${s.status}, ${fmtMs(s.ms)} from ${fmtMs(s.start_ms)}`, fallbacks, found].filter(Boolean).join('\n');
    track.append(bar);
    const meta = el('span', s.status === 'running' ? 'answering' : `${fmtMs(s.ms)} ${s.status === 'ok' ? '' : s.status}`.trim(), `meta${s.degraded?.length ? ' degraded' : ''}`);
    const row = [label, track, meta];
    for (const cell of row) Object.assign(cell.dataset, { step: s.name, status: s.status });
    rows.push(...row);
    // What the step found and the fallbacks it took: expanded by clicking its name.
    if (found || fallbacks) {
      const detail = el('div', undefined, 'stepdetail');
      detail.hidden = true;
      if (fallbacks) detail.append(el('div', fallbacks, 'degraded'));
      if (s.ids?.length) detail.append(el('div', `ids: ${s.ids.join(', ')}`));
      label.setAttribute('aria-expanded', 'false');
      label.addEventListener('click', () => {
        detail.hidden = !detail.hidden;
        label.setAttribute('aria-expanded', String(!detail.hidden));
      });
      rows.push(detail);
    }
  });
  target.replaceChildren(...rows);
}
/** Timings without the flow's `step.*` entries: the steps have their own waterfall. */
const stageTimings = (timings, steps) => (steps?.length ? Object.fromEntries(Object.entries(timings).filter(([stage]) => !stage.startsWith('step.'))) : timings);

// ---- request view ----
async function refreshRequests() {
  const res = await api('/stats/requests?limit=50');
  if (!res.ok) return;
  const { requests } = await res.json();
  $('requests').tBodies[0].replaceChildren(...requests.map((r) => {
    const tr = el('tr');
    tr.dataset.id = r.request_id;
    tr.append(el('td', new Date(r.at).toLocaleTimeString()), el('td', `${r.method} ${r.route}`), el('td', String(r.status), 'num'), el('td', fmtMs(r.latency_ms), 'num'), el('td', r.degraded.map((d) => d.stage).join(', '), 'degraded'));
    tr.addEventListener('click', () => showRequest(r.request_id));
    return tr;
  }));
}
async function showRequest(id) {
  const res = await api(`/stats/requests/${encodeURIComponent(id)}`);
  if (!res.ok) return;
  const r = await res.json();
  for (const row of $('requests').tBodies[0].rows) row.classList.toggle('selected', row.dataset.id === id);
  $('request-title').textContent = `${r.method} ${r.route} · ${r.status} · ${fmtMs(r.latency_ms)}${r.trace_id ? ` · trace ${r.trace_id}` : ''}`;
  renderWaterfall($('request-waterfall'), stageTimings(r.timings, r.steps));
  renderSteps($('request-steps'), r.steps ?? [], r.latency_ms);
  $('request-degraded').textContent = r.degraded.length ? 'degraded: ' + fallbackText(r.degraded) : '';
}

// ---- playground ----
async function refreshStatus() {
  const res = await fetch('/readyz').catch(() => null);
  $('status').textContent = res?.ok ? 'ready' : res ? 'loading models' : 'unreachable';
  $('status').className = 'pill ' + (res?.ok ? 'ready' : 'down');
}
async function refreshModels() {
  const res = await api('/v1/models');
  if (!res.ok) return;
  const { data } = await res.json();
  $('model-list').tBodies[0].replaceChildren(...data.map((m) => {
    const tr = el('tr');
    tr.append(el('td', m.id), el('td', `${m.role} · ${m.backend}`));
    return tr;
  }));
  // Each configured flow is a model `pronto-flow:NAME`: the playground may answer with any of them.
  const flows = data.filter((m) => m.role === 'flow').map((m) => m.id.slice(m.id.indexOf(':') + 1));
  const chosen = $('flow').value;
  $('flow').replaceChildren(...[['', 'no flow'], ...flows.map((flow) => [flow, flow])].map(([value, text]) => Object.assign(el('option', text), { value })));
  $('flow').value = flows.includes(chosen) ? chosen : '';
}

/** Reads a server-sent event stream from a fetch response. */
async function* sse(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = frame.match(/^event: (.*)$/m)?.[1];
      const data = frame.match(/^data: (.*)$/m)?.[1];
      if (event && data) yield { event, data: JSON.parse(data) };
    }
  }
}
const errorText = async (res) => {
  const body = await res.json().catch(() => null);
  return body?.error ? `${res.status} ${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`;
};

$('ask').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('answer').textContent = '';
  $('answer-meta').textContent = '';
  $('answer-waterfall').replaceChildren();
  $('answer-steps').replaceChildren();
  $('contexts').replaceChildren();
  const flow = $('flow').value;
  const sentAt = performance.now();
  const res = await api('/v1/chat', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: $('question').value, ...(flow ? { flow } : {}) }) });
  if (!res.ok) {
    $('answer').replaceChildren(el('span', await errorText(res), 'error'));
    return;
  }
  const steps = [];
  for await (const { event, data } of sse(res)) {
    // Each step is drawn as it arrives, on the request's clock so far.
    if (event === 'step') {
      steps.push(data);
      renderSteps($('answer-steps'), steps, performance.now() - sentAt);
    }
    if (event === 'contexts') $('contexts').replaceChildren(...data.contexts.map((c) => el('li', `${c.title ? c.title + ' — ' : ''}${c.text.slice(0, 160)}…`)));
    if (event === 'token') $('answer').textContent += data.text;
    if (event === 'error') $('answer').append(el('div', `${data.error.code}: ${data.error.message}`, 'error'));
    if (event === 'done' || event === 'error') {
      $('answer-meta').textContent = `${fmtMs(data.latency_ms)}${data.trace_id ? ` · trace ${data.trace_id}` : ''}`;
      if (data.degraded.length) $('answer-meta').append(el('div', 'degraded: ' + fallbackText(data.degraded), 'degraded'));
      renderWaterfall($('answer-waterfall'), stageTimings(data.timings, steps));
      if (steps.length) renderSteps($('answer-steps'), steps, data.latency_ms);
    }
  }
});

$('search').addEventListener('submit', async (e) => {
  e.preventDefault();
  const res = await api('/v1/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: $('query').value }) });
  if (!res.ok) {
    $('hits').replaceChildren(el('li', await errorText(res), 'error'));
    return;
  }
  const body = await res.json();
  const hits = body.hits.map((h) => el('li', `${h.score.toFixed(3)} ${h.title ?? h.doc_id}: ${h.text.slice(0, 140)}…`));
  $('hits').replaceChildren(...(hits.length ? hits : [el('li', 'No hits.', 'meta')]));
});

refreshStatus();
refreshModels();
refreshStats();
setInterval(refreshStatus, 5000);
setInterval(refreshStats, 1000);
setInterval(() => {
  if (!$('view-requests').hidden) refreshRequests();
}, 2000);
