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
import { inflateSync } from 'node:zlib';
import { sampleEntries } from '../../src/common/ledger/sampleEntries';
import { FileLedgerWriter } from '../../src/node/ledger/fileLedgerWriter';
import { exportLedger } from '../../src/node/ledger/ledgerExport';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what chromium's screenshots are) to RGBA pixels. */
function decodePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  assert.equal(png.readUInt32BE(0), 0x89504e47, 'PNG signature');
  let off = 8;
  let width = 0, height = 0, colorType = 0;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth 8');
      colorType = data[9]!;
      assert.ok(colorType === 2 || colorType === 6, `colour type ${colorType}`);
      assert.equal(data[12], 0, 'not interlaced');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const cur = new Uint8Array(stride);
  let prev = new Uint8Array(stride);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? cur[x - bpp]! : 0;
      const b = prev[x]!;
      const c = x >= bpp ? prev[x - bpp]! : 0;
      let v = line[x]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[x] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      rgba[o] = cur[x * bpp]!;
      rgba[o + 1] = cur[x * bpp + 1]!;
      rgba[o + 2] = cur[x * bpp + 2]!;
      rgba[o + 3] = bpp === 4 ? cur[x * bpp + 3]! : 255;
    }
    prev = Uint8Array.from(cur);
  }
  return { width, height, rgba };
}

/** Pixels that are not the white background, and those among them that are coloured (series, not grey axes). */
function countPixels(png: Buffer): { total: number; ink: number; coloured: number } {
  const { width, height, rgba } = decodePng(png);
  let ink = 0, coloured = 0;
  for (let i = 0; i < width * height * 4; i += 4) {
    const r = rgba[i]!, g = rgba[i + 1]!, b = rgba[i + 2]!;
    if (r < 245 || g < 245 || b < 245) ink++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
  }
  return { total: width * height, ink, coloured };
}

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
