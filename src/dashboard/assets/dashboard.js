// The dashboard page: a login form that keeps the master key in sessionStorage (never in a URL or
// a cookie), then GET /admin/dashboard/data every 10 s, drawn with uPlot. Every figure is
// aggregated by the gateway; this file only draws. No inline script: the page's CSP forbids it.
/* global document, window, sessionStorage, fetch, performance, uPlot */
'use strict';

const KEY_ITEM = 'sluice.masterKey';
const REFRESH_MS = 10_000;
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const TARGET_COLOR = '#b00020';

/** The five targets: the series key, the target's key in `targets`, and how a value is shown. */
const TARGET_CHARTS = [
  { key: 'local_share', target: 'local_share', format: percent, direction: 'min' },
  { key: 'cost_per_request_usd', target: 'cost_per_request_usd', format: usd, direction: 'max' },
  { key: 'quality', target: 'quality', format: (value) => value.toFixed(3), direction: 'min' },
  { key: 'latency_p95_ms', target: 'latency_ms', format: (value) => `${Math.round(value)} ms`, direction: 'max' },
  { key: 'failure_rate', target: 'failure_rate', format: percent, direction: 'max' },
];

const charts = new Map();
let timer;

function percent(value) {
  return `${(value * 100).toFixed(1)}%`;
}

function usd(value) {
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toPrecision(3)}`;
}

function byId(id) {
  return document.getElementById(id);
}

function showLogin(message) {
  window.clearTimeout(timer);
  byId('dashboard').hidden = true;
  byId('controls').hidden = true;
  byId('login').hidden = false;
  byId('login-error').textContent = message || '';
}

function showDashboard() {
  byId('login').hidden = true;
  byId('dashboard').hidden = false;
  byId('controls').hidden = false;
}

async function refresh() {
  window.clearTimeout(timer);
  const key = sessionStorage.getItem(KEY_ITEM);
  if (!key) {
    showLogin('');
    return;
  }
  const started = performance.now();
  let response;
  try {
    response = await fetch(`/admin/dashboard/data?period=${encodeURIComponent(byId('period').value)}`, {
      headers: { authorization: `Bearer ${key}` },
      cache: 'no-store',
    });
  } catch (error) {
    byId('status').textContent = `gateway unreachable (${error.message}); retrying`;
    timer = window.setTimeout(refresh, REFRESH_MS);
    return;
  }
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(KEY_ITEM);
    showLogin('That is not the master key.');
    return;
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    byId('status').textContent = `data unavailable: ${body.error?.message ?? response.status}`;
    timer = window.setTimeout(refresh, REFRESH_MS);
    return;
  }
  const data = await response.json();
  showDashboard();
  render(data);
  const tookMs = Math.round(performance.now() - started);
  byId('status').textContent = `updated ${new Date().toLocaleTimeString()} (${tookMs} ms)`;
  document.body.dataset.loadedAt = String(Date.now());
  timer = window.setTimeout(refresh, REFRESH_MS);
}

function render(data) {
  renderTiles(data);
  const time = data.series.time;
  for (const chart of TARGET_CHARTS) {
    const target = data.targets[chart.target];
    draw(`chart-${chart.key}`, [time, data.series[chart.key], time.map(() => target)], [
      { label: chart.key, stroke: COLORS[0], width: 2, spanGaps: true, points: { show: true } },
      { label: `target ${chart.format(target)}`, stroke: TARGET_COLOR, dash: [6, 4], width: 1, points: { show: false } },
    ]);
  }
  const budget = data.budget;
  draw('chart-budget', [budget.days.time, budget.days.cumulative_usd, projectionOf(budget), budget.days.time.map(() => budget.monthly_usd)], [
    { label: 'spent', stroke: COLORS[0], width: 2, fill: 'rgba(31,119,180,0.12)', points: { show: true } },
    { label: `projected ${usd(budget.projected_month_end_usd)}`, stroke: COLORS[1], dash: [4, 4], width: 2, points: { show: false } },
    { label: `budget ${usd(budget.monthly_usd)}`, stroke: TARGET_COLOR, width: 1, points: { show: false } },
  ]);
  const routes = data.route_mix.length > 0 ? data.route_mix : [{ route: 'none', answers: time.map(() => 0) }];
  draw('chart-routes', [time, ...routes.map((route) => route.answers)], routes.map((route, index) => ({ label: route.route, stroke: COLORS[index % COLORS.length], width: 2 })));
  draw('chart-cache_hit_rate', [time, data.series.cache_hit_rate], [{ label: 'cache hits / requests', stroke: COLORS[2], width: 2, spanGaps: true, points: { show: true } }]);
  draw('chart-escalations', [time, data.series.escalations], [{ label: 'escalations', stroke: COLORS[3], width: 2, fill: 'rgba(214,39,40,0.12)' }]);
  renderList('drift', data.drift_alerts, (alert) => `${new Date(alert.at).toLocaleString()}: ${alert.signal} (score ${alert.score.toFixed(3)}${alert.p_value === null ? '' : `, p ${alert.p_value.toPrecision(2)}`})`, 'no drift alerts since the gateway started');
  renderList(
    'proposals',
    data.proposals,
    (proposal) => `v${proposal.version} (${new Date(proposal.created_at).toLocaleString()}): ${proposal.changes.map((change) => `${change.setting}${change.tier ? ` ${change.tier}` : ''} ${change.from} → ${change.to}`).join('; ')}`,
    'no pending proposals',
  );
}

/** The month's pace: from nothing at its start, through the spend so far, to the projected end. */
function projectionOf(budget) {
  const start = Date.parse(budget.month_start) / 1000;
  const end = Date.parse(budget.month_end) / 1000;
  return budget.days.time.map((seconds) => (budget.projected_month_end_usd * (seconds + 86_400 - start)) / (end - start));
}

function renderTiles(data) {
  const tiles = byId('tiles');
  tiles.replaceChildren();
  const add = (name, value, passes) => {
    const tile = document.createElement('div');
    tile.className = `tile${passes === undefined ? '' : passes ? ' pass' : ' fail'}`;
    const label = document.createElement('div');
    label.className = 'name';
    label.textContent = name;
    const shown = document.createElement('div');
    shown.className = 'value';
    shown.textContent = value;
    tile.append(label, shown);
    tiles.append(tile);
  };
  add('requests', String(data.totals.requests));
  for (const chart of TARGET_CHARTS) {
    const value = data.totals[chart.key];
    const target = data.targets[chart.target];
    add(chart.key.replaceAll('_', ' '), value === null ? '–' : chart.format(value), value === null ? undefined : chart.direction === 'min' ? value >= target : value <= target);
  }
  add('spend', usd(data.totals.spend_usd));
  add('projected month', usd(data.budget.projected_month_end_usd), data.budget.projected_month_end_usd <= data.budget.monthly_usd);
  add('cache hit rate', data.totals.cache_hit_rate === null ? '–' : percent(data.totals.cache_hit_rate));
  add('escalations', String(data.totals.escalations));
}

function renderList(id, items, describe, empty) {
  const list = byId(id);
  list.replaceChildren();
  for (const item of items) {
    const entry = document.createElement('li');
    entry.textContent = describe(item);
    list.append(entry);
  }
  if (items.length === 0) {
    const entry = document.createElement('li');
    entry.className = 'none';
    entry.textContent = empty;
    list.append(entry);
  }
}

/** A chart is made once and then only handed new data (and new series when the route mix changes). */
function draw(id, data, series) {
  const container = byId(id);
  const existing = charts.get(id);
  if (existing && existing.series.length === series.length + 1) {
    existing.setData(data);
    return;
  }
  existing?.destroy();
  const options = {
    width: Math.max(300, container.clientWidth),
    height: 220,
    series: [{}, ...series],
    axes: [{}, { size: 70 }],
    scales: { x: { time: true } },
    legend: { show: true },
  };
  charts.set(id, new uPlot(options, data, container));
}

byId('login').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_ITEM, byId('key').value.trim());
  byId('key').value = '';
  refresh();
});
byId('logout').addEventListener('click', () => {
  sessionStorage.removeItem(KEY_ITEM);
  showLogin('');
});
byId('period').addEventListener('change', () => {
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
  refresh();
});
refresh();
