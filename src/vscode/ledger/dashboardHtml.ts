/**
 * The ROI dashboard's page shell (no `vscode` import, so it is unit-tested in plain Node). Style rule 8: CSP
 * `default-src 'none'`, scripts only with this load's nonce, styles only from the extension's own files.
 */
import { escapeHtml } from '../../common/ledger/ledgerReportHtml';
import { webviewHead } from '../webviewHead';

export interface DashboardHtmlInput {
  /** `webview.cspSource`: the origin the webview serves local resources from. */
  cspSource: string;
  nonce: string;
  /** Webview URIs (asWebviewUri) of media/vendor/chart.umd.min.js, dist/webview/dashboard.js, media/dashboard.css. */
  chartJs: string;
  script: string;
  css: string;
  title: string;
}

/** A fresh nonce: 128 random bits, base64. */
export function makeNonce(random: (bytes: number) => Uint8Array): string {
  return btoa(String.fromCharCode(...random(16)));
}

export function dashboardHtml(i: DashboardHtmlInput): string {
  const csp = `default-src 'none'; style-src ${i.cspSource}; img-src ${i.cspSource} data:; font-src ${i.cspSource}; script-src 'nonce-${i.nonce}';`;
  const chart = (id: string, title: string) => `<div class="chart"><h3>${escapeHtml(title)}</h3><div class="canvas"><canvas id="${id}" role="img" aria-label="${escapeHtml(title)}"></canvas></div></div>`;
  return `${webviewHead({ csp, css: i.css, title: i.title })}
<body data-charts="pending">
<header>
<h1 id="title">${escapeHtml(i.title)}</h1>
<span class="grow"></span>
<button id="refresh" class="secondary">Refresh</button>
<button id="export">Export Ledger…</button>
</header>
<p id="meta" class="meta">Reading the ledger…</p>
<p id="integrity"></p>
<section id="summary" class="tiles"></section>
<h2>Outcomes</h2>
<table id="outcomes"></table>
<p id="assumptions" class="meta"></p>
<h2>Charts</h2>
<section class="charts">
${chart('chart-cost', 'Cost per successful task, per week')}
${chart('chart-latency', 'Latency p50 / p95, per week')}
${chart('chart-acceptance', 'Acceptance rate, per week')}
${chart('chart-rates', 'Escalation and incident rates, per week')}
</section>
<h2>By lane</h2>
<table id="lanes"></table>
<script nonce="${escapeHtml(i.nonce)}" src="${escapeHtml(i.chartJs)}"></script>
<script nonce="${escapeHtml(i.nonce)}" src="${escapeHtml(i.script)}"></script>
</body>
</html>
`;
}
