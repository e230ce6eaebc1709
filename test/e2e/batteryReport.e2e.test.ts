/**
 * The task battery's HTML report renders in headless chromium: every chart canvas has pixels, the page fetches
 * nothing, and the recommendation and routing threshold are on the page. The full-page screenshot is saved as
 * test-results/battery-report.png for a person to look at. Skipped without /usr/bin/chromium unless
 * HEARTH_E2E_REQUIRED is set.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderBatteryReportHtml, type BatteryReport } from '../../src/common/battery/batteryReportHtml';
import { calibrate, compareWithBaseline, makeBaseline, recommend, scorecard, type TaskResult } from '../../src/common/battery/batteryStats';
import { TASK_KINDS } from '../../src/common/battery/batteryTask';
import { seededRandom } from '../../src/common/random';
import { chartLibraryPath } from '../../src/node/ledger/ledgerExport';
import { countPixels } from './pngPixels';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const COST = { localWatts: 30, energyPricePerKWh: 0.3, currency: 'USD' };

/** 100 results whose success grows with confidence (as a calibrated model's would); `skill` shifts quality. */
function results(skill: number, seed: number, msPerTask: number): TaskResult[] {
  const rand = seededRandom(seed);
  return Array.from({ length: 100 }, (_, i) => {
    const confidence = -3 * rand();
    const exact = rand() < skill * (1 + confidence / 3);
    return {
      taskId: `t${i}`, kind: TASK_KINDS[i % 5]!, language: 'typescript', proposal: 'x', exact,
      editSimilarity: exact ? 1 : Math.min(1, skill * rand() * 1.2), acceptedShare: exact ? 1 : Math.min(1, skill * rand()), parses: i % 3 ? exact || rand() < 0.5 : null,
      latencyMs: msPerTask * (0.5 + rand()), tokensIn: 200, tokensOut: 12, confidence,
    };
  });
}

describe('battery HTML report in headless chromium', function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.HEARTH_E2E_REQUIRED) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'hearth-battery-report-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('draws every chart, fetches nothing, and shows the recommendation and the routing threshold', async () => {
    const good = results(0.6, 1, 300);
    const worse = results(0.3, 2, 150);
    const candidates = [
      { id: 'good', label: 'hearth-code-tiny.gguf', results: good, card: scorecard(good, COST), finished: true },
      { id: 'worse', label: 'hearth-code-tiny.gguf (ctx=128)', results: worse, card: scorecard(worse, COST), finished: true },
    ];
    const recommendation = recommend(candidates);
    const calibration = Object.fromEntries(candidates.map((c) => [c.id, calibrate(c.results)]));
    assert.notEqual(calibration.good!.threshold, null, calibration.good!.reason);
    const baseline = makeBaseline({ ...candidates[0]!, spec: { id: 'good', label: 'hearth-code-tiny.gguf', modelPath: 'models/hearth-code-tiny.gguf' } }, 1, undefined, '2026-12-01T00:00:00Z');
    const verdicts = candidates.map((c) => compareWithBaseline(c, baseline));
    const report: BatteryReport = {
      generatedAt: '2026-12-04T06:00:00Z', repo: 'hearth', head: '0123456789abcdef', seed: 1,
      taskCounts: { 'rest-of-line': 20, 'call-args': 20, 'block-body': 20, 'function-body': 20, edit: 20 },
      skipped: { 'not source code': 30, vendored: 2 }, notes: ['No accepted-completion tasks: the policy keeps no text in the ledger.'],
      currency: 'USD', candidates, recommendation, calibration,
      drift: { baselineLabel: baseline.candidate.label, savedAt: baseline.savedAt, verdicts }, seconds: 120, loadAverage: [2, 2, 2],
    };
    const file = join(dir, 'report.html');
    writeFileSync(file, renderBatteryReportHtml(report, readFileSync(chartLibraryPath(), 'utf8')));

    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector('body[data-charts="ready"]', { timeout: 30_000 });
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, [], 'the report fetches nothing');
      const results = resolve(__dirname, '../../../test-results');
      mkdirSync(results, { recursive: true });
      await page.screenshot({ path: join(results, 'battery-report.png'), fullPage: true });
      for (const id of ['chart-quality', 'chart-success', 'chart-latency', 'chart-cost', 'chart-calibration']) {
        const canvas = page.locator(`#${id}`);
        const box = await canvas.boundingBox();
        assert.ok(box && box.width > 200 && box.height > 150, `${id} laid out: ${JSON.stringify(box)}`);
        const px = countPixels(await canvas.screenshot());
        assert.ok(px.ink > px.total * 0.02, `${id}: ${px.ink} of ${px.total} pixels drawn`);
        assert.ok(px.coloured > 500, `${id}: ${px.coloured} coloured pixels (series drawn)`);
      }
      const text = await page.locator('.rec').innerText();
      assert.match(text, /Recommendation: hearth-code-tiny\.gguf/);
      assert.match(text, new RegExp(`Routing threshold: ${calibration.good!.threshold!.toFixed(2)}`));
      assert.match(await page.locator('body').innerText(), /REGRESSION vs baseline/);
    } finally {
      await browser.close();
    }
  });
});
