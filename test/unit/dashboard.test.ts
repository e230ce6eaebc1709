import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { dashboardData } from '../../src/common/ledger/dashboardData';
import { aggregate, DEFAULT_COST_MODEL } from '../../src/common/ledger/ledgerAggregates';
import { reportChartData } from '../../src/common/ledger/ledgerReportHtml';
import type { LedgerRecord } from '../../src/common/ledger/ledgerRecord';
import { sampleEntries } from '../../src/common/ledger/sampleEntries';
import { dashboardToHostSchema, hostToDashboardSchema } from '../../src/common/protocol/dashboardProtocol';
import { dashboardHtml, makeNonce } from '../../src/vscode/ledger/dashboardHtml';

const root = resolve(__dirname, '../../..');

function records(n: number): LedgerRecord[] {
  return [...sampleEntries(n, { seed: 3 })].map((e, i) => ({ ...e, schemaVersion: 1, seq: i, prevHash: '0'.repeat(64) }) as LedgerRecord);
}

describe('ROI dashboard', () => {
  const verify = { ok: true, records: 0, headHash: 'ab'.repeat(32), skipped: [] } as unknown as Parameters<typeof dashboardData>[1];

  it('posts the HTML report\'s chart data, and the webview\'s schema accepts it', () => {
    const aggs = aggregate(records(500), DEFAULT_COST_MODEL);
    const data = dashboardData(aggs, verify, 'repo', new Date('2025-02-01T00:00:00Z'));
    assert.deepEqual(data.chart, reportChartData(aggs));
    assert.equal(data.records, 500);
    assert.equal(data.total!.tasks, aggs.groups.find((g) => g.lane === '*' && g.model === '*' && g.week === '*')!.tasks);
    assert.deepEqual(data.lanes.map((l) => l.label), ['chat', 'completion', 'escalation']);
    // What crosses postMessage is structured-cloned JSON: parse the JSON form, as the webview sees it.
    const parsed = hostToDashboardSchema.safeParse(JSON.parse(JSON.stringify({ type: 'data', data })));
    assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues[0]));
  });

  it('an empty ledger gives an empty dashboard, not an error', () => {
    const data = dashboardData(aggregate([], DEFAULT_COST_MODEL), verify, 'empty');
    assert.equal(data.total, null);
    assert.ok(hostToDashboardSchema.safeParse({ type: 'data', data }).success);
  });

  it('the webview rejects malformed data and the host rejects unknown messages', () => {
    assert.equal(hostToDashboardSchema.safeParse({ type: 'data', data: { title: 1 } }).success, false);
    assert.equal(hostToDashboardSchema.safeParse({ type: 'html', html: '<img onerror=alert(1)>' }).success, false);
    assert.equal(dashboardToHostSchema.safeParse({ type: 'runCommand', command: 'workbench.action.terminal.new' }).success, false);
    assert.equal(dashboardToHostSchema.safeParse({ type: 'rendered', charts: -1, records: 0 }).success, false);
    assert.ok(dashboardToHostSchema.safeParse({ type: 'rendered', charts: 4, records: 10 }).success);
  });

  it('the page: CSP default-src none, nonce-tagged scripts only, resources from the extension only', () => {
    const nonce = makeNonce((n) => randomBytes(n));
    assert.match(nonce, /^[A-Za-z0-9+/]{22}==$/);
    const html = dashboardHtml({ cspSource: 'https://ext.vscode-cdn.net', nonce, chartJs: 'https://ext.vscode-cdn.net/media/vendor/chart.umd.min.js', script: 'https://ext.vscode-cdn.net/dist/webview/dashboard.js', css: 'https://ext.vscode-cdn.net/media/dashboard.css', title: 'Hearth ROI — <repo>' });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!.replace(/&#39;/g, "'");
    assert.match(csp, /^default-src 'none';/);
    assert.match(csp, new RegExp(`script-src 'nonce-${nonce.replace(/[+/]/g, '\\$&')}';`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.equal(scripts.length, 2);
    for (const s of scripts) assert.ok(s.includes(`nonce="${nonce}"`), s);
    assert.match(html, /Hearth ROI — &lt;repo&gt;/);
    for (const id of ['chart-cost', 'chart-latency', 'chart-acceptance', 'chart-rates']) assert.ok(html.includes(`id="${id}"`), id);
  });

  it('the build puts the webview bundle and Chart.js where the page loads them, and the .vsix keeps them', () => {
    assert.ok(existsSync(resolve(root, 'dist/webview/dashboard.js')), 'dist/webview/dashboard.js');
    assert.equal(readFileSync(resolve(root, 'media/vendor/chart.umd.min.js'), 'utf8'), readFileSync(resolve(root, 'node_modules/chart.js/dist/chart.umd.min.js'), 'utf8'));
    const ignore = readFileSync(resolve(root, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const l of ignore) assert.ok(!/^(media|dist)(\/\*\*)?\/?$/.test(l) && !l.startsWith('media/vendor'), `.vscodeignore drops ${l}`);
  });
});
