// ticketpay ops dashboard: polls the ops API and draws plain SVG charts. No dependencies.
/* global document, location, history */
'use strict';

const POLL_MS = 3000;
const WEI_PER_ETH = 10n ** 18n;
let token = '';

function readToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('opsToken', decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem('opsToken') || '';
}

function useToken(t) {
  token = t;
  // Bull Board is opened by navigation, which cannot carry a bearer header.
  document.cookie = `ops_token=${encodeURIComponent(t)}; path=/queues; SameSite=Strict`;
}

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  if (res.status === 401) throw Object.assign(new Error('unauthorized'), { unauthorized: true });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/** Wei (decimal string) as ETH with up to 6 decimals, exact (BigInt). */
function eth(wei) {
  if (wei === null || wei === undefined) return '–';
  let v = BigInt(wei);
  const neg = v < 0n;
  if (neg) v = -v;
  const whole = v / WEI_PER_ETH;
  const frac = (v % WEI_PER_ETH).toString().padStart(18, '0').slice(0, 6).replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''} ETH`;
}

const ethNumber = (wei) => Number(BigInt(wei ?? '0') / 10n ** 12n) / 1e6;

function text(id, value) {
  document.getElementById(id).textContent = value;
}

function cell(row, value, cls) {
  const td = row.insertCell();
  td.textContent = value;
  if (cls) td.className = cls;
}

const SVG = 'http://www.w3.org/2000/svg';

/** Draws series (arrays of numbers, equal lengths) as polylines scaled to the svg's 600x200 box. */
function lineChart(svg, series) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const n = Math.max(...series.map((s) => s.values.length), 2);
  const max = Math.max(1e-18, ...series.flatMap((s) => s.values));
  const x = (i) => (i / (n - 1)) * 590 + 5;
  const y = (v) => 190 - (v / max) * 175;
  for (let g = 0; g <= 4; g++) {
    const line = document.createElementNS(SVG, 'line');
    const gy = 190 - (g / 4) * 175;
    Object.entries({ x1: 5, x2: 595, y1: gy, y2: gy, stroke: '#e4e7eb' }).forEach(([k, v]) =>
      line.setAttribute(k, v),
    );
    svg.appendChild(line);
  }
  const label = document.createElementNS(SVG, 'text');
  Object.entries({ x: 8, y: 14, 'font-size': 11, fill: '#6b7480' }).forEach(([k, v]) =>
    label.setAttribute(k, v),
  );
  label.textContent = `max ${Number(max.toPrecision(4))}`;
  svg.appendChild(label);
  for (const s of series) {
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', s.values.map((v, i) => `${x(i)},${y(v)}`).join(' '));
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', s.color);
    line.setAttribute('stroke-width', '2');
    line.setAttribute('vector-effect', 'non-scaling-stroke');
    line.setAttribute('data-series', s.name);
    svg.appendChild(line);
  }
}

function cumulative(values) {
  let sum = 0;
  return values.map((v) => (sum += v));
}

async function refresh() {
  const [totals, series, queue, failures, senders] = await Promise.all([
    api('/api/v1/totals'),
    api('/api/v1/timeseries?window=3600&bucket=60'),
    api('/api/v1/queue'),
    api('/api/v1/failures?window=86400'),
    api('/api/v1/senders?limit=50'),
  ]);

  text('ev-received', eth(totals.evReceived.wei));
  text(
    'ev-source',
    totals.evReceived.source === 'recipient-metrics' ? "Recipients' counters" : 'estimate: face value won',
  );
  text('face-value-won', eth(totals.winning.faceValue));
  text('winning-count', `${totals.winning.count} winning tickets, ${totals.pending.count} pending`);
  text('face-value-redeemed', eth(totals.redeemed.faceValue));
  text('redeemed-count', `${totals.redeemed.count} redeemed, paid ${eth(totals.redeemed.amountPaid)}`);
  text('gas-spent', eth(totals.gasSpent.redemptionWei));
  text('gas-txs', `${totals.gasSpent.byPurpose.reduce((n, p) => n + p.txs, 0)} txs mined`);
  text('tickets-received', totals.ticketsReceived === null ? 'n/a' : String(totals.ticketsReceived));
  const j = queue.jobs;
  text('queue-depth', String(j.waiting + j.active + j.delayed + j.prioritized));
  text('queue-detail', `${j.waiting} waiting, ${j.active} active, ${j.delayed} delayed, ${j.failed} failed`);

  const b = series.buckets;
  lineChart(document.getElementById('chart-tickets'), [
    { name: 'received', color: '#8c96a3', values: b.map((x) => x.ticketsReceived ?? 0) },
    { name: 'winning', color: '#e08a00', values: b.map((x) => x.winning) },
    { name: 'redeemed', color: '#1d8a4e', values: b.map((x) => x.redeemed) },
  ]);
  const evPerBucket = series.sampled
    ? b.map((x) => ethNumber(x.evReceivedWei))
    : b.map((x) => ethNumber(x.faceValueWon));
  lineChart(document.getElementById('chart-value'), [
    { name: 'ev', color: '#2c6bd6', values: cumulative(evPerBucket) },
    { name: 'redeemed', color: '#1d8a4e', values: cumulative(b.map((x) => ethNumber(x.faceValueRedeemed))) },
  ]);

  const sBody = document.querySelector('#senders tbody');
  sBody.replaceChildren();
  for (const s of senders.senders) {
    const row = sBody.insertRow();
    cell(row, s.sender, 'addr');
    cell(row, eth(s.deposit));
    cell(row, eth(s.reserve));
    cell(row, s.monitorError ? `(${s.monitorError})` : eth(s.maxFloat), s.monitorError ? 'bad' : '');
    cell(
      row,
      s.valid === null ? '?' : s.valid ? 'yes' : `no (${s.invalidReason})`,
      s.valid === false ? 'bad' : '',
    );
    cell(row, String(s.tickets.won));
    cell(row, String(s.tickets.pending));
  }

  const fBody = document.querySelector('#failures tbody');
  fBody.replaceChildren();
  const rows = [
    ...failures.final.map((f) => [f.code, f.status, f.count]),
    ...failures.retrying.map((f) => [f.code, 'waiting / retrying', f.count]),
  ];
  if (rows.length === 0) cell(fBody.insertRow(), 'none');
  for (const [code, status, count] of rows) {
    const row = fBody.insertRow();
    cell(row, code);
    cell(row, status);
    cell(row, String(count));
  }

  text('status', `updated ${new Date().toLocaleTimeString()}`);
  document.body.dataset.updated = String(Date.now());
}

async function loop() {
  try {
    await refresh();
  } catch (err) {
    if (err.unauthorized) {
      sessionStorage.removeItem('opsToken');
      showLogin('the token was refused');
      return;
    }
    text('status', `error: ${err.message}`);
  }
  setTimeout(loop, POLL_MS);
}

function showLogin(message) {
  document.getElementById('main').hidden = true;
  document.getElementById('login').hidden = false;
  text('status', message);
}

function start(t) {
  useToken(t);
  document.getElementById('login').hidden = true;
  document.getElementById('main').hidden = false;
  void loop();
}

document.getElementById('login').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = document.getElementById('token').value.trim();
  if (!t) return;
  sessionStorage.setItem('opsToken', t);
  start(t);
});

const initial = readToken();
if (initial) start(initial);
else showLogin('enter the ops API token');
