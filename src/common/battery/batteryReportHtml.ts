/**
 * The battery's HTML report: scorecard per candidate, the recommendation with its intervals, the comparison
 * with the baseline, and four charts (quality with 95 % intervals, latency, cost per success, success against
 * confidence with the recommended routing threshold). Self-contained like the ROI report: the chart library is
 * inlined and the CSP allows no fetch, so the file opens anywhere and a webview can show it as it is.
 */
import { escapeHtml } from '../ledger/ledgerReportHtml';
import type { Calibration, CandidateScores, DriftVerdict, Recommendation } from './batteryStats';

export interface BatteryReport {
  generatedAt: string;
  repo: string;
  head?: string;
  seed: number;
  taskCounts: Record<string, number>;
  skipped: Record<string, number>;
  notes: string[];
  currency: string;
  candidates: Array<CandidateScores & { finished: boolean }>;
  recommendation: Recommendation;
  calibration: Record<string, Calibration>;
  drift?: { baselineLabel: string; savedAt: string; verdicts: DriftVerdict[] };
  /** Wall time of the whole battery, and the load average when it ended. */
  seconds: number;
  loadAverage: number[];
}

function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
const money = (v: number | null, cur: string) => (v === null ? '–' : `${v.toExponential(2)} ${cur}`);

/** Chart data the page script reads. */
export function batteryChartData(r: BatteryReport) {
  return {
    labels: r.candidates.map((c) => c.label),
    quality: r.candidates.map((c) => ({ value: c.card.quality.value, lo: c.card.quality.lo, hi: c.card.quality.hi })),
    success: r.candidates.map((c) => ({ value: c.card.successRate.value, lo: c.card.successRate.lo, hi: c.card.successRate.hi })),
    p50: r.candidates.map((c) => c.card.latencyP50Ms),
    p95: r.candidates.map((c) => c.card.latencyP95Ms),
    costPerSuccess: r.candidates.map((c) => c.card.costPerSuccess),
    currency: r.currency,
    calibration: r.candidates.map((c) => ({
      label: c.label,
      points: (r.calibration[c.id]?.bins ?? []).map((b) => ({ x: b.meanConfidence, y: b.successRate })),
      threshold: r.calibration[c.id]?.threshold ?? null,
    })),
  };
}

const PAGE_SCRIPT = `
(function () {
  var d = JSON.parse(document.getElementById('battery-data').textContent);
  var colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  function intervalChart(id, series, title) {
    // Floating bars from the lower to the upper 95 % bound, with the estimate as a point on top.
    new Chart(document.getElementById(id), {
      type: 'bar',
      data: { labels: d.labels, datasets: [
        { type: 'bar', label: '95 % interval', data: series.map(function (s) { return [s.lo, s.hi]; }), backgroundColor: 'rgba(31,119,180,0.35)', borderColor: '#1f77b4', borderWidth: 1 },
        { type: 'line', label: 'estimate', data: series.map(function (s) { return s.value; }), borderColor: '#111', backgroundColor: '#111', showLine: false, pointRadius: 6 }
      ] },
      options: { scales: { y: { type: 'linear', min: 0, max: 1, title: { display: true, text: title }, ticks: { callback: function (v) { return Math.round(v * 100) + ' %'; } } } } }
    });
  }
  intervalChart('chart-quality', d.quality, 'quality: mean accepted share');
  intervalChart('chart-success', d.success, 'success: exact match');
  new Chart(document.getElementById('chart-latency'), {
    type: 'bar',
    data: { labels: d.labels, datasets: [
      { label: 'p50', data: d.p50, backgroundColor: '#1f77b4' },
      { label: 'p95', data: d.p95, backgroundColor: '#ff7f0e' }
    ] },
    options: { scales: { y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'latency per task (ms)' } } } }
  });
  new Chart(document.getElementById('chart-cost'), {
    type: 'bar',
    data: { labels: d.labels, datasets: [{ label: 'cost per successful task (' + d.currency + ')', data: d.costPerSuccess, backgroundColor: '#2ca02c' }] },
    options: { scales: { y: { type: 'linear', beginAtZero: true, title: { display: true, text: d.currency + ' per success (energy)' }, ticks: { callback: function (v) { return v === 0 ? '0' : Number(v).toExponential(1); } } } } }
  });
  var sets = [];
  d.calibration.forEach(function (c, i) {
    var colour = colours[i % colours.length];
    sets.push({ label: c.label, data: c.points, borderColor: colour, backgroundColor: colour, borderWidth: 3, pointRadius: 4, showLine: true });
    if (c.threshold !== null) {
      sets.push({ label: c.label + ' threshold', data: [{ x: c.threshold, y: 0 }, { x: c.threshold, y: 1 }], borderColor: colour, borderDash: [6, 4], borderWidth: 2, pointRadius: 0, showLine: true });
    }
  });
  new Chart(document.getElementById('chart-calibration'), {
    type: 'scatter',
    data: { datasets: sets },
    options: { scales: {
      x: { type: 'linear', title: { display: true, text: 'confidence (mean log-probability per token)' } },
      y: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'success rate in the bin' }, ticks: { callback: function (v) { return Math.round(v * 100) + ' %'; } } }
    } }
  });
  document.body.setAttribute('data-charts', 'ready');
})();
`;

/** Renders the report as one HTML string; `chartLibrary` is Chart.js's UMD source. */
export function renderBatteryReportHtml(r: BatteryReport, chartLibrary: string): string {
  const rec = r.recommendation;
  const labelOf = (id: string) => r.candidates.find((c) => c.id === id)?.label ?? id;
  const verdictOf = (id: string) => r.drift?.verdicts.find((v) => v.candidate === id);
  const head = ['candidate', 'tasks', 'quality [95 % CI]', 'vs best [95 % CI]', 'exact match [95 % CI]', 'edit similarity', 'parses', 'p50 ms', 'p95 ms', 'tokens/s', 'cost / success', 'incident risk', 'routing threshold'];
  const rows = r.candidates.map((c) => {
    const vb = rec.versusBest[c.id]!;
    const v = verdictOf(c.id);
    const cal = r.calibration[c.id];
    const cells = [
      `${c.label}${c.id === rec.chosen ? ' ★' : ''}${c.finished ? '' : ' (partial)'}`,
      String(c.card.tasks) + (c.card.errors ? ` (${c.card.errors} errors)` : ''),
      `${pct(c.card.quality.value)} [${pct(c.card.quality.lo)}, ${pct(c.card.quality.hi)}]`,
      c.id === rec.best ? 'best' : `${(vb.value * 100).toFixed(1)} [${(vb.lo * 100).toFixed(1)}, ${(vb.hi * 100).toFixed(1)}]${vb.tie ? ' tie' : ''}`,
      `${pct(c.card.successRate.value)} [${pct(c.card.successRate.lo)}, ${pct(c.card.successRate.hi)}]`,
      pct(c.card.editSimilarity),
      c.card.parseRate === null ? 'not checked' : `${pct(c.card.parseRate)} of ${c.card.parseChecked}`,
      c.card.latencyP50Ms.toFixed(0),
      c.card.latencyP95Ms.toFixed(0),
      c.card.tokensPerSecond.toFixed(1),
      money(c.card.costPerSuccess, r.currency),
      v ? (v.regression ? 'REGRESSION vs baseline' : 'no regression') : c.card.errors ? `${c.card.errors} errors` : 'no baseline',
      cal?.threshold === null || cal === undefined ? '–' : cal.threshold.toFixed(2),
    ];
    return `<tr${c.id === rec.chosen ? ' class="chosen"' : ''}>${cells.map((x, i) => `<td${i ? ' class="n"' : ''}>${escapeHtml(x)}</td>`).join('')}</tr>`;
  });
  const kinds = [...new Set(r.candidates.flatMap((c) => Object.keys(c.card.byKind)))];
  const kindTable = `<table><thead><tr><th>kind</th>${r.candidates.map((c) => `<th>${escapeHtml(c.label)}: exact / quality / edit sim.</th>`).join('')}</tr></thead><tbody>${kinds
    .map((k) => `<tr><td>${escapeHtml(k)} (${r.taskCounts[k] ?? 0})</td>${r.candidates.map((c) => {
      const s = c.card.byKind[k];
      return `<td class="n">${s ? `${pct(s.successRate)} / ${pct(s.quality)} / ${pct(s.editSimilarity)}` : '–'}</td>`;
    }).join('')}</tr>`)
    .join('')}</tbody></table>`;
  const chosenCal = r.calibration[rec.chosen];
  const drift = r.drift
    ? `<h2>Against the baseline</h2><p>Baseline: ${escapeHtml(r.drift.baselineLabel)}, saved ${escapeHtml(r.drift.savedAt)}.</p><ul>${r.drift.verdicts
        .map((v) => `<li class="${v.regression ? 'bad' : 'ok'}">${escapeHtml(v.message)}</li>`)
        .join('')}</ul>`
    : '';
  const skipped = Object.entries(r.skipped).map(([k, v]) => `${v} ${k}`).join(', ');
  const library = chartLibrary.replace(/<\/script/gi, '<\\/script');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hearth task battery — ${escapeHtml(r.repo)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.meta{color:#666} .ok{color:#1a7f37} .bad{color:#b42318;font-weight:bold}
.rec{border-left:4px solid #1f77b4;padding:6px 12px;background:#f3f8fc}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:20px}
.chart{position:relative;height:300px;border:1px solid #e5e5e5;border-radius:6px;padding:10px}
.chart h3{font-size:14px;margin:0 0 6px} .chart div{position:relative;height:260px}
table{border-collapse:collapse;font-size:12.5px;margin-bottom:8px} th,td{border:1px solid #ddd;padding:3px 7px;text-align:left}
th{background:#f5f5f5} td.n{text-align:right;font-variant-numeric:tabular-nums} tr.chosen td{background:#eef6ee}
</style></head>
<body>
<h1>Hearth task battery — ${escapeHtml(r.repo)}</h1>
<p class="meta">Generated ${escapeHtml(r.generatedAt)}${r.head ? ` at ${escapeHtml(r.head.slice(0, 12))}` : ''}; seed ${r.seed}; ${Object.entries(r.taskCounts).map(([k, v]) => `${v} ${escapeHtml(k)}`).join(', ')}. ${r.seconds.toFixed(0)} s, load average ${r.loadAverage.map((x) => x.toFixed(2)).join(' / ')}. Costs are energy (compute time × watts × price) in ${escapeHtml(r.currency)}.${skipped ? ` Files skipped: ${escapeHtml(skipped)}.` : ''}</p>
${r.notes.map((n) => `<p class="meta">${escapeHtml(n)}</p>`).join('\n')}
<div class="rec"><b>Recommendation: ${escapeHtml(labelOf(rec.chosen))}</b> — ${escapeHtml(rec.reason)}.
${chosenCal ? `<br><b>Routing threshold: ${chosenCal.threshold === null ? 'none' : chosenCal.threshold.toFixed(2)}</b> — ${escapeHtml(chosenCal.reason)}.` : ''}</div>
${drift}
<h2>Scorecard</h2>
<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>
<p class="meta">A difference whose 95 % paired bootstrap interval includes 0 is a tie. Quality is the mean accepted share: the part of the expected text the answer gets right from its start, 1 for an exact match (less noisy than exact match on a hundred tasks, and unlike edit similarity it gives a wrong answer no credit for letters shared by chance); success is an exact match. Parse check: TypeScript and JavaScript tasks only.</p>
<h2>Charts</h2>
<div class="charts">
<div class="chart"><h3>Quality with 95 % intervals</h3><div><canvas id="chart-quality"></canvas></div></div>
<div class="chart"><h3>Exact match with 95 % intervals</h3><div><canvas id="chart-success"></canvas></div></div>
<div class="chart"><h3>Latency p50 / p95</h3><div><canvas id="chart-latency"></canvas></div></div>
<div class="chart"><h3>Cost per successful task</h3><div><canvas id="chart-cost"></canvas></div></div>
<div class="chart"><h3>Success against confidence (dashed: recommended routing threshold)</h3><div><canvas id="chart-calibration"></canvas></div></div>
</div>
<h2>By task kind</h2>
${kindTable}
<script id="battery-data" type="application/json">${scriptJson(batteryChartData(r))}</script>
<script>${library}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
