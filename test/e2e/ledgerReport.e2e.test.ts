/**
 * The HTML ROI report renders its charts in a real browser (headless chromium), checked by pixels in a
 * screenshot of each chart canvas, not only the DOM. Needs /usr/bin/chromium (`apt-get install chromium`);
 * skipped when it is missing unless HEARTH_E2E_REQUIRED is set.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sampleEntries } from '../../src/common/ledger/sampleEntries';
import { FileLedgerWriter } from '../../src/node/ledger/fileLedgerWriter';
import { exportLedger } from '../../src/node/ledger/ledgerExport';
import { countPixels } from './pngPixels';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

describe('ledger HTML report in headless chromium', function () {
  this.timeout(120_000);
  let dir: string;

  before(function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.HEARTH_E2E_REQUIRED) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
      this.skip(); // chromium missing: `apt-get install chromium` (or set HEARTH_E2E_REQUIRED to fail instead)
    }
    dir = mkdtempSync(join(tmpdir(), 'hearth-report-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('draws all four charts (pixels in each canvas) with no network request', async () => {
    const ledger = join(dir, 'ledger.jsonl');
    const w = new FileLedgerWriter({ path: ledger });
    // Six weeks of activity, so every chart has several points.
    for (const e of sampleEntries(3000, { spacingMs: 20 * 60_000, seed: 4 })) w.append(e);
    await w.close();
    const report = join(dir, 'report.html');
    await exportLedger(ledger, 'html', report);

    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await page.goto(pathToFileURL(report).href);
      await page.waitForSelector('body[data-charts="ready"]', { timeout: 30_000 });
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, [], 'the report fetches nothing');

      await page.screenshot({ path: join(dir, 'page.png'), fullPage: true });
      for (const id of ['chart-cost', 'chart-latency', 'chart-acceptance', 'chart-rates']) {
        const canvas = page.locator(`#${id}`);
        const box = await canvas.boundingBox();
        assert.ok(box && box.width > 200 && box.height > 150, `${id} laid out: ${JSON.stringify(box)}`);
        const px = countPixels(await canvas.screenshot());
        // Axes, labels and legend alone ink a few percent; series lines add coloured pixels.
        assert.ok(px.ink > px.total * 0.02, `${id}: ${px.ink} of ${px.total} pixels drawn`);
        assert.ok(px.coloured > 500, `${id}: ${px.coloured} coloured pixels (series drawn)`);
      }
    } finally {
      await browser.close();
    }
  });
});
