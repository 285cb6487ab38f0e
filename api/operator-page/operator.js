// The operator page: charts of GET /operator/dashboard (chart.js), the stuck list of GET
// /operator/stuck. Loaded as a file (the page's CSP allows no inline script); every value from the
// server reaches the page as text (textContent), never as markup.
'use strict';

const STATUS_COLORS = {
  PENDING: '#9aa5b1', STOCK_RESERVED: '#7cb7e8', PAYMENT_AUTHORIZED: '#4a90d9', PAYMENT_CAPTURED: '#2f6fb3',
  CONFIRMED: '#2e9e5b', CANCELLED: '#d9534f', AWAITING_PAYMENT_CONFIRMATION: '#f0ad4e', COMPENSATION_FAILED: '#8e44ad',
};
const STATUS_ORDER = Object.keys(STATUS_COLORS);
const PALETTE = ['#4a90d9', '#2e9e5b', '#f0ad4e', '#d9534f', '#8e44ad', '#16a2b8', '#9aa5b1', '#e67e22'];
const REFRESH_MS = 30_000;
const STUCK_OLDER_THAN = '10m';
const charts = {};

const $ = (id) => document.getElementById(id);
const el = (tag, text, className) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
};
const unique = (values) => [...new Set(values)].sort();
const formatAge = (seconds) => (seconds < 90 ? `${seconds} s` : seconds < 5400 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`);
const money = (cents, currency) => {
  try { return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100); } catch { return `${(cents / 100).toFixed(2)} ${currency}`; }
};
/** Only links of our own origin or http(s) ones go into an href. */
const safeHref = (url) => {
  try { const u = new URL(url, location.origin); return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined; } catch { return undefined; }
};

/** Creates the chart once, then replaces its data on each refresh. */
function draw(id, type, data, options = {}) {
  if (charts[id]) {
    charts[id].data = data;
    charts[id].update('none');
    return;
  }
  charts[id] = new window.Chart($(id), {
    type, data,
    options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: 'bottom' } }, ...options },
  });
}

/** Every bucket of the window, oldest first, named as the server names them (UTC), so quiet hours or days show as gaps. */
function windowBuckets(days, bucket, now) {
  const step = bucket === 'hour' ? 3_600_000 : 86_400_000;
  const name = (t) => (bucket === 'hour' ? `${new Date(t).toISOString().slice(0, 13)}:00Z` : new Date(t).toISOString().slice(0, 10));
  const end = Date.parse(now);
  const names = [];
  for (let t = end - days * 86_400_000; t <= end + step - 1; t += step) names.push(name(Math.min(t, end)));
  return unique(names);
}

function renderOrdersByStatus(rows, allBuckets) {
  const buckets = unique([...allBuckets, ...rows.map((r) => r.bucket)]);
  const statuses = STATUS_ORDER.filter((s) => rows.some((r) => r.status === s))
    .concat(unique(rows.map((r) => r.status)).filter((s) => !STATUS_ORDER.includes(s)));
  draw('orders-by-status', 'bar', {
    labels: buckets,
    datasets: statuses.map((status) => ({
      label: status, backgroundColor: STATUS_COLORS[status] ?? '#999',
      data: buckets.map((b) => rows.find((r) => r.bucket === b && r.status === status)?.orders ?? 0),
    })),
  }, {
    scales: {
      // Hours as "07:00" (UTC) on the axis; the tooltip keeps the full bucket name.
      x: { stacked: true, ticks: { callback(value) { const label = this.getLabelForValue(value); return label.length > 10 ? `${label.slice(11, 16)}` : label; } } },
      y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
    },
  });
}

function renderRevenue(rows, allDays) {
  const days = unique([...allDays, ...rows.map((r) => r.day)]);
  const currencies = unique(rows.map((r) => r.currency));
  draw('revenue', 'bar', {
    labels: days,
    datasets: currencies.map((currency, i) => ({
      label: currency, backgroundColor: PALETTE[i % PALETTE.length], currency,
      data: days.map((d) => (rows.find((r) => r.day === d && r.currency === currency)?.revenueCents ?? 0) / 100),
    })),
  }, {
    scales: { y: { beginAtZero: true } },
    plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(Math.round(c.parsed.y * 100), c.dataset.currency)}` } } },
  });
}

function renderCancelReasons(rows) {
  draw('cancel-reasons', 'doughnut', {
    labels: rows.map((r) => r.reasonCode),
    datasets: [{ label: 'Cancelled orders', data: rows.map((r) => r.orders), backgroundColor: rows.map((_, i) => PALETTE[(i + 3) % PALETTE.length]) }],
  }, { plugins: { legend: { position: 'right' } } });
}

function renderLatencies(rows) {
  draw('step-latencies', 'bar', {
    labels: rows.map((r) => `${r.step} (${r.orders})`),
    datasets: [
      { label: 'p50', backgroundColor: '#4a90d9', data: rows.map((r) => r.p50Ms) },
      { label: 'p95', backgroundColor: '#f0ad4e', data: rows.map((r) => r.p95Ms) },
      { label: 'max', backgroundColor: '#d9534f', data: rows.map((r) => r.maxMs) },
    ],
  }, { indexAxis: 'y', scales: { x: { beginAtZero: true, title: { display: true, text: 'ms' } } } });
}

function renderConsumers(rows) {
  draw('consumer-lag', 'bar', {
    labels: rows.map((r) => r.consumer),
    datasets: [
      { label: 'pending (not yet delivered)', backgroundColor: '#4a90d9', data: rows.map((r) => r.pending) },
      { label: 'delivered, not acked', backgroundColor: '#f0ad4e', data: rows.map((r) => r.ackPending) },
    ],
  }, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } });
  const body = $('consumers');
  body.replaceChildren(...(rows.length ? rows.map((r) => {
    const tr = el('tr');
    tr.append(el('td', r.consumer), el('td', r.pending), el('td', r.ackPending), el('td', r.redelivered),
      el('td', `${formatAge(r.ageSeconds)} ago`, r.ageSeconds > 60 ? 'warn' : undefined));
    return tr;
  }) : [messageRow(5, 'No consumer has reported yet.')]));
}

function renderTiles(d) {
  const count = (pred) => d.ordersByStatus.filter(pred).reduce((n, r) => n + r.orders, 0);
  $('tile-orders').textContent = count(() => true);
  $('tile-confirmed').textContent = count((r) => r.status === 'CONFIRMED');
  $('tile-cancelled').textContent = count((r) => r.status === 'CANCELLED');
  $('tile-open').textContent = count((r) => r.status !== 'CONFIRMED' && r.status !== 'CANCELLED');
  const dlq = $('tile-dlq');
  dlq.textContent = d.deadLetters ?? 'n/a';
  dlq.parentElement.classList.toggle('alert', (d.deadLetters ?? 0) > 0);
}

function messageRow(columns, text) {
  const tr = el('tr', undefined, 'message');
  const td = el('td', text);
  td.colSpan = columns;
  tr.append(td);
  return tr;
}

function link(text, url) {
  const href = safeHref(url);
  if (!href) return el('span');
  const a = el('a', text);
  a.href = href;
  if (new URL(href).origin !== location.origin) { a.target = '_blank'; a.rel = 'noopener noreferrer'; }
  return a;
}

async function loadStuck() {
  const body = $('stuck');
  try {
    const res = await fetch(`/operator/stuck?olderThan=${STUCK_OLDER_THAN}`, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const json = await res.json();
    const rows = Array.isArray(json) ? json : (json.orders ?? json.stuck ?? []);
    body.replaceChildren(...(rows.length ? rows.map((r) => {
      const tr = el('tr');
      const links = el('td');
      links.append(link('inspect', r.inspectionUrl), document.createTextNode(' · '), link('Temporal', r.temporalUiUrl));
      tr.append(el('td', r.orderId, 'mono'), el('td', r.status), el('td', formatAge(r.ageSeconds)), el('td', r.diagnosis), links);
      return tr;
    }) : [messageRow(5, 'No stuck orders.')]));
  } catch (err) {
    body.replaceChildren(messageRow(5, `Stuck list not available (${err.message}).`));
    body.firstChild.classList.add('unavailable');
  }
}

async function load() {
  const days = $('days').value;
  try {
    const res = await fetch(`/operator/dashboard?days=${encodeURIComponent(days)}`, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(res.status === 401 ? 'signed out: reload to sign in again' : `dashboard answered HTTP ${res.status}`);
    const d = await res.json();
    renderTiles(d);
    renderOrdersByStatus(d.ordersByStatus, windowBuckets(d.windowDays, d.bucket, d.generatedAt));
    renderRevenue(d.revenueByDay, windowBuckets(d.windowDays, 'day', d.generatedAt));
    renderCancelReasons(d.cancelReasons);
    renderLatencies(d.stepLatencies);
    renderConsumers(d.consumers);
    $('updated').textContent = `updated ${new Date(d.generatedAt).toLocaleTimeString()}`;
    $('error').hidden = true;
    await loadStuck();
    document.body.dataset.state = 'ready';
  } catch (err) {
    $('error').textContent = `Could not load the dashboard: ${err.message}`;
    $('error').hidden = false;
    document.body.dataset.state = 'error';
  }
}

let refreshTimer;
let loading = false;
let loadAgain = false;

/**
 * Loads now, and again REFRESH_MS after that load finished (not on a fixed interval): while the
 * server is slow (the stuck list waits on an unreachable Temporal) requests never pile up. A
 * change of the window during a load loads once more right after it.
 */
async function refresh() {
  clearTimeout(refreshTimer);
  if (loading) {
    loadAgain = true;
    return;
  }
  loading = true;
  try {
    await load();
  } finally {
    loading = false;
    if (loadAgain) {
      loadAgain = false;
      refresh();
    } else {
      refreshTimer = setTimeout(refresh, REFRESH_MS);
    }
  }
}

window.addEventListener('DOMContentLoaded', () => {
  $('days').addEventListener('change', refresh);
  refresh();
});
