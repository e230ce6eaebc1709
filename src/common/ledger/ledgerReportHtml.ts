/**
 * The self-contained HTML ROI report: aggregates as tables and four charts, with the chart library inlined
 * (the caller passes its UMD source), so the file opens in any browser with no network. The page's CSP allows
 * no fetch at all: `default-src 'none'`.
 */
import type { GroupStats, LedgerAggregates } from './ledgerAggregates';
import { costAssumptions, ledgerFigures, outcomeRows } from './ledgerFigures';
import type { VerifyResult } from './hashChain';

export interface ReportInput {
  aggregates: LedgerAggregates;
  /** UMD source of Chart.js 4 (defines `window.Chart`). */
  chartLibrary: string;
  generatedAt: string;
  /** Shown in the header: which ledger this is, e.g. the workspace id or file name. */
  title?: string;
  verify?: VerifyResult;
}

/** Chart data the page script reads; the same shape the ROI dashboard webview can use. */
export interface ReportChartData {
  weeks: string[];
  lanes: string[];
  costPerSuccess: Record<string, (number | null)[]>;
  latencyP50: Record<string, (number | null)[]>;
  latencyP95: Record<string, (number | null)[]>;
  acceptanceByCount: (number | null)[];
  acceptanceByChars: (number | null)[];
  escalationRate: (number | null)[];
  incidentRate: (number | null)[];
  currency: string;
}

const LANE_ORDER = ['completion', 'chat', 'escalation', 'benchmark'];

/** Builds the per-week series for the charts from the aggregates. */
export function reportChartData(aggs: LedgerAggregates): ReportChartData {
  const weeks = [...new Set(aggs.groups.filter((g) => g.week !== '*').map((g) => g.week))].sort();
  const lanes = LANE_ORDER.filter((l) => aggs.groups.some((g) => g.lane === l));
  const byKey = new Map(aggs.groups.map((g) => [`${g.lane}|${g.model}|${g.week}`, g]));
  const series = (lane: string, pick: (g: GroupStats) => number | null) => weeks.map((w) => {
    const g = byKey.get(`${lane}|*|${w}`);
    return g ? pick(g) : null;
  });
  const perLane = (pick: (g: GroupStats) => number | null) => Object.fromEntries(lanes.map((l) => [l, series(l, pick)]));
  return {
    weeks,
    lanes,
    costPerSuccess: { ...perLane((g) => g.costPerSuccess), all: series('*', (g) => g.costPerSuccess) },
    latencyP50: perLane((g) => g.latencyP50Ms),
    latencyP95: perLane((g) => g.latencyP95Ms),
    acceptanceByCount: series('*', (g) => g.acceptanceRate),
    acceptanceByChars: series('*', (g) => g.acceptanceRateByChars),
    escalationRate: series('*', (g) => g.escalationRate),
    incidentRate: series('*', (g) => g.incidentRate),
    currency: aggs.currency,
  };
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a `<script>` element: `<` can never close it. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
const num = (v: number | null, digits = 0) => (v === null ? '–' : v.toFixed(digits));

function table(rows: GroupStats[], currency: string, first: (g: GroupStats) => string[], headers: string[]): string {
  const money = (v: number | null) => (v === null ? '–' : `${v.toFixed(v !== 0 && Math.abs(v) < 0.01 ? 6 : 2)} ${currency}`);
  const head = [...headers, 'tasks', 'success', 'blocked', 'cost / success', 'no price', 'p50 ms', 'p95 ms', 'accept (count)', 'accept (chars)', 'escalation', 'incidents', 'known cost', 'cost avoided'];
  const body = rows.map((g) => [
    ...first(g), String(g.tasks), pct(g.successRate), String(g.outcomes.blocked), money(g.costPerSuccess), String(g.unknownCostTasks), num(g.latencyP50Ms), num(g.latencyP95Ms),
    pct(g.acceptanceRate), pct(g.acceptanceRateByChars), pct(g.escalationRate), `${g.incidents} (${pct(g.incidentRate)})`, money(g.totalCost), money(g.costAvoided),
  ]);
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${body
    .map((r) => `<tr>${r.map((c, i) => `<td${i >= first(rows[0]!).length ? ' class="n"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** The page script: draws the four charts from the embedded data. Kept small and dependency-free. */
const PAGE_SCRIPT = `
(function () {
  var d = JSON.parse(document.getElementById('hearth-data').textContent);
  var colours = { completion: '#1f77b4', chat: '#2ca02c', escalation: '#d62728', benchmark: '#9467bd', all: '#ff7f0e' };
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  function line(id, datasets, yTitle, percent, log) {
    new Chart(document.getElementById(id), {
      type: 'line',
      data: { labels: d.weeks, datasets: datasets.map(function (s) {
        return { label: s.label, data: s.data, borderColor: s.colour, backgroundColor: s.colour, borderDash: s.dash || [], borderWidth: 3, pointRadius: 4, spanGaps: true };
      }) },
      options: { scales: { y: { type: log ? 'logarithmic' : 'linear', beginAtZero: !log, title: { display: true, text: yTitle },
        ticks: percent ? { callback: function (v) { return Math.round(v * 100) + ' %'; } } : {} } } }
    });
  }
  var laneSets = function (field, suffix, dash) {
    return Object.keys(d[field]).map(function (l) { return { label: l + (suffix || ''), data: d[field][l], colour: colours[l] || '#7f7f7f', dash: dash }; });
  };
  // Linear scale: a week can cost exactly 0 (all local, or all blocked), which a log scale cannot draw.
  line('chart-cost', laneSets('costPerSuccess'), 'cost per successful task (' + d.currency + ')', false, false);
  line('chart-latency', laneSets('latencyP50', ' p50').concat(laneSets('latencyP95', ' p95', [6, 4])), 'latency (ms)');
  line('chart-acceptance', [
    { label: 'by count', data: d.acceptanceByCount, colour: '#1f77b4' },
    { label: 'by characters', data: d.acceptanceByChars, colour: '#17becf', dash: [6, 4] }
  ], 'acceptance rate', true);
  line('chart-rates', [
    { label: 'escalation rate', data: d.escalationRate, colour: '#d62728' },
    { label: 'incident rate', data: d.incidentRate, colour: '#8c564b', dash: [6, 4] }
  ], 'rate', true);
  document.body.setAttribute('data-charts', 'ready');
})();
`;

/** Renders the whole report as one HTML string. */
export function renderReportHtml(input: ReportInput): string {
  const { aggregates: aggs, verify } = input;
  const cur = aggs.currency;
  const total = aggs.groups.find((g) => g.lane === '*' && g.model === '*' && g.week === '*');
  const lanes = aggs.groups.filter((g) => g.lane !== '*' && g.model === '*' && g.week === '*');
  const models = aggs.groups.filter((g) => g.lane === '*' && g.model !== '*' && g.week === '*');
  const detail = aggs.groups.filter((g) => g.lane !== '*' && g.model !== '*' && g.week !== '*');
  const integrity = verify
    ? verify.ok
      ? `<p class="ok">Hash chain verified: ${verify.records} records, head ${escapeHtml(verify.headHash.slice(0, 16))}…${verify.skipped.length ? `; ${verify.skipped.length} torn line(s) skipped` : ''}.</p>`
      : `<p class="bad">Hash chain BROKEN: ${escapeHtml(verify.problem?.message ?? 'unknown problem')}</p>`
    : '';
  // The same figures and outcome rows as the dashboard and `hearth ledger stats` (ledgerFigures).
  const summary = total
    ? `<ul class="summary">${ledgerFigures(aggs, total).map((f) => `<li>${escapeHtml(f.label)}: <b>${escapeHtml(f.value)}</b> <span class="meta">— ${escapeHtml(f.note)}</span></li>`).join('\n')}</ul>
<h2>Outcomes</h2>
<table><thead><tr><th>outcome</th><th>tasks</th><th>share</th></tr></thead><tbody>${outcomeRows(total).map((r) => `<tr><td>${escapeHtml(r.label)}</td><td class="n">${r.count}</td><td class="n">${escapeHtml(r.share)}</td></tr>`).join('')}</tbody></table>
<p class="meta">Cost assumptions: ${escapeHtml(costAssumptions(aggs))}.</p>`
    : '<p>The ledger holds no tasks yet.</p>';
  const library = input.chartLibrary.replace(/<\/script/gi, '<\\/script');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hearth ROI report${input.title ? ` — ${escapeHtml(input.title)}` : ''}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.meta{color:#666} .ok{color:#1a7f37} .bad{color:#b42318;font-weight:bold}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:20px}
.chart{position:relative;height:280px;border:1px solid #e5e5e5;border-radius:6px;padding:10px}
.chart h3{font-size:14px;margin:0 0 6px} .chart div{position:relative;height:240px}
table{border-collapse:collapse;font-size:12.5px;margin-bottom:8px} th,td{border:1px solid #ddd;padding:3px 7px;text-align:left}
th{background:#f5f5f5} td.n{text-align:right;font-variant-numeric:tabular-nums}
</style></head>
<body>
<h1>Hearth ROI report${input.title ? ` — ${escapeHtml(input.title)}` : ''}</h1>
<p class="meta">Generated ${escapeHtml(input.generatedAt)} from ${aggs.records} ledger records. Costs in ${escapeHtml(cur)}; local cost is energy (watts × time × price).</p>
${integrity}
${summary}
<h2>Charts</h2>
<p class="meta">Latency is model time. Cost per successful task counts only tasks with a known cost.</p>
<div class="charts">
<div class="chart"><h3>Cost per successful task, per week</h3><div><canvas id="chart-cost"></canvas></div></div>
<div class="chart"><h3>Latency p50 / p95, per week</h3><div><canvas id="chart-latency"></canvas></div></div>
<div class="chart"><h3>Acceptance rate, per week</h3><div><canvas id="chart-acceptance"></canvas></div></div>
<div class="chart"><h3>Escalation and incident rates, per week</h3><div><canvas id="chart-rates"></canvas></div></div>
</div>
<h2>By lane</h2>
${lanes.length ? table(lanes, cur, (g) => [g.lane], ['lane']) : '<p>–</p>'}
<h2>By model</h2>
${models.length ? table(models, cur, (g) => [g.model], ['model']) : '<p>–</p>'}
<h2>By lane, model and week</h2>
${detail.length ? table(detail, cur, (g) => [g.week, g.lane, g.model], ['week', 'lane', 'model']) : '<p>–</p>'}
<script id="hearth-data" type="application/json">${scriptJson(reportChartData(aggs))}</script>
<script>${library}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
