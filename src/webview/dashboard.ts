/**
 * The ROI dashboard page (browser bundle, dist/webview/dashboard.js). Chart.js comes from its own script tag
 * (media/vendor/chart.umd.min.js) as `window.Chart`. Every message from the extension is parsed with zod before
 * use, and all text goes in through `textContent`, never as HTML.
 */
import type { Chart as ChartJs, ChartConfiguration, ChartDataset } from 'chart.js' with { 'resolution-mode': 'import' };
import { hostToDashboardSchema, type DashboardData, type DashboardRow, type DashboardToHost } from '../common/protocol/dashboardProtocol';

declare const Chart: typeof ChartJs;
declare function acquireVsCodeApi(): { postMessage(message: DashboardToHost): void };

const vscode = acquireVsCodeApi();
const charts: ChartJs[] = [];
let last: DashboardData | undefined;

const $ = (id: string) => document.getElementById(id)!;

function css(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** Lane colours from the theme's chart palette, so the charts read well in light, dark and high contrast. */
function palette(): Record<string, string> {
  return {
    completion: css('--vscode-charts-blue', '#1f77b4'),
    chat: css('--vscode-charts-green', '#2ca02c'),
    escalation: css('--vscode-charts-red', '#d62728'),
    benchmark: css('--vscode-charts-purple', '#9467bd'),
    all: css('--vscode-charts-orange', '#ff7f0e'),
    other: css('--vscode-charts-yellow', '#bcbd22'),
  };
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
const num = (v: number | null) => (v === null ? '–' : v.toFixed(0));
const money = (v: number | null, cur: string) => (v === null ? '–' : `${v.toFixed(v !== 0 && Math.abs(v) < 0.01 ? 6 : 2)} ${cur}`);

function el(tag: string, text?: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** Tiles from the shared figures (the text `hearth ledger stats` prints), each with what it means. */
function renderSummary(d: DashboardData): void {
  const box = $('summary');
  box.replaceChildren();
  if (!d.total) {
    box.append(el('p', 'The ledger holds no tasks yet. Completions, chats and escalations appear here as they are recorded.'));
    return;
  }
  for (const f of d.figures) {
    const div = el('div', undefined, 'tile');
    div.dataset.figure = f.key;
    div.append(el('span', f.value, 'value'), el('span', f.label, 'label'), el('span', f.note, 'note'));
    box.append(div);
  }
}

function renderOutcomes(d: DashboardData): void {
  const table = $('outcomes');
  table.replaceChildren();
  const head = el('tr');
  for (const h of ['outcome', 'tasks', 'share']) head.append(el('th', h));
  const thead = el('thead');
  thead.append(head);
  const tbody = el('tbody');
  for (const r of d.outcomes) {
    const tr = el('tr');
    tr.append(el('td', r.label), el('td', String(r.count), 'n'), el('td', r.share, 'n'));
    tbody.append(tr);
  }
  table.append(thead, tbody);
  $('assumptions').textContent = `Cost assumptions: ${d.assumptions}.`;
}

function renderTable(d: DashboardData): void {
  const table = $('lanes');
  table.replaceChildren();
  const head = ['lane', 'tasks', 'success', 'cost / success', 'no price', 'p50 ms', 'p95 ms', 'accept (count)', 'accept (chars)', 'escalation', 'incidents', 'known cost', 'cost avoided'];
  const tr = el('tr');
  for (const h of head) tr.append(el('th', h));
  const thead = el('thead');
  thead.append(tr);
  const tbody = el('tbody');
  const rows: DashboardRow[] = d.total ? [...d.lanes, d.total] : d.lanes;
  for (const r of rows) {
    const line = el('tr');
    const cells = [r.label, String(r.tasks), pct(r.successRate), money(r.costPerSuccess, d.currency), String(r.unknownCostTasks), num(r.latencyP50Ms), num(r.latencyP95Ms),
      pct(r.acceptanceRate), pct(r.acceptanceRateByChars), pct(r.escalationRate), `${r.incidents} (${pct(r.incidentRate)})`, money(r.totalCost, d.currency), money(r.costAvoided, d.currency)];
    cells.forEach((c, i) => line.append(el('td', c, i ? 'n' : undefined)));
    tbody.append(line);
  }
  table.append(thead, tbody);
}

/** Axis labels: percentages, or on a log axis only the powers of ten (1e-6, 1e-5…), which stay readable. */
function tick(v: number, percent: boolean, log: boolean): string {
  if (percent) return `${Math.round(v * 100)} %`;
  if (log) return Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9 ? (v >= 0.01 && v < 1000 ? String(v) : v.toExponential(0)) : '';
  return String(v);
}

interface Line {
  label: string;
  data: (number | null)[];
  colour: string;
  dash?: number[];
}

function renderCharts(d: DashboardData): number {
  for (const c of charts.splice(0)) c.destroy();
  const colours = palette();
  const fg = css('--vscode-foreground', '#444');
  const grid = css('--vscode-panel-border', 'rgba(128,128,128,0.25)');
  Chart.defaults.color = fg;
  Chart.defaults.borderColor = grid;
  Chart.defaults.font.family = css('--vscode-font-family', 'system-ui, sans-serif');
  Chart.defaults.animation = false;
  const c = d.chart;
  const line = (id: string, lines: Line[], yTitle: string, percent = false, log = false) => {
    const datasets: ChartDataset<'line'>[] = lines.map((s) => ({ label: s.label, data: s.data, borderColor: s.colour, backgroundColor: s.colour, borderDash: s.dash ?? [], borderWidth: 2, pointRadius: 3, spanGaps: true }));
    const config: ChartConfiguration<'line'> = {
      type: 'line',
      data: { labels: c.weeks, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        scales: { y: { type: log ? 'logarithmic' : 'linear', beginAtZero: !log, title: { display: true, text: yTitle }, ticks: { callback: (v) => tick(Number(v), percent, log) } } },
      },
    };
    charts.push(new Chart($(id) as HTMLCanvasElement, config));
  };
  const perLane = (field: 'costPerSuccess' | 'latencyP50' | 'latencyP95', suffix = '', dash?: number[]): Line[] =>
    Object.keys(c[field]).map((l) => ({ label: l + suffix, data: c[field][l]!, colour: colours[l] ?? colours.other!, dash }));
  // Linear scale: a week can cost exactly 0 (all local, or all blocked), which a log scale cannot draw.
  line('chart-cost', perLane('costPerSuccess'), `cost per successful task (${c.currency})`, false, false);
  line('chart-latency', [...perLane('latencyP50', ' p50'), ...perLane('latencyP95', ' p95', [6, 4])], 'latency (ms)');
  line('chart-acceptance', [
    { label: 'by count', data: c.acceptanceByCount, colour: colours.completion! },
    { label: 'by characters', data: c.acceptanceByChars, colour: colours.all!, dash: [6, 4] },
  ], 'acceptance rate', true);
  line('chart-rates', [
    { label: 'escalation rate', data: c.escalationRate, colour: colours.escalation! },
    { label: 'incident rate', data: c.incidentRate, colour: colours.benchmark!, dash: [6, 4] },
  ], 'rate', true);
  return charts.length;
}

function render(d: DashboardData): void {
  last = d;
  $('title').textContent = `Hearth ROI — ${d.title}`;
  $('meta').textContent = `${d.records} ledger records · updated ${new Date(d.generatedAt).toLocaleString()} · costs in ${d.currency}; local cost is energy (watts × time × price); latency is model time`;
  const integrity = $('integrity');
  integrity.textContent = d.integrity.message;
  integrity.className = d.integrity.ok ? 'ok' : 'bad';
  renderSummary(d);
  renderOutcomes(d);
  renderTable(d);
  let drawn = 0;
  try {
    drawn = renderCharts(d);
  } catch (err) {
    vscode.postMessage({ type: 'problem', message: `charts: ${String(err)}` });
  }
  document.body.dataset.charts = drawn ? 'ready' : 'failed';
  vscode.postMessage({ type: 'rendered', charts: drawn, records: d.records });
}

window.addEventListener('message', (event: MessageEvent) => {
  const parsed = hostToDashboardSchema.safeParse(event.data);
  if (!parsed.success) {
    vscode.postMessage({ type: 'problem', message: `ignored a message that is not dashboard data: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}` });
    return;
  }
  const msg = parsed.data;
  if (msg.type === 'data') render(msg.data);
  else {
    const integrity = $('integrity');
    integrity.textContent = msg.message;
    integrity.className = 'bad';
  }
});

$('refresh').addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
$('export').addEventListener('click', () => vscode.postMessage({ type: 'export' }));
// A theme change swaps the body's class: redraw with the new colours.
new MutationObserver(() => last && render(last)).observe(document.body, { attributes: true, attributeFilter: ['class'] });
vscode.postMessage({ type: 'ready' });
