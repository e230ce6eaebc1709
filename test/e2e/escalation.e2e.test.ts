/**
 * "Escalate to Frontier" as a user meets it: code-server in headless chromium with Hearth installed from its
 * .vsix (no smoke-test driver, so dialogs and webviews render), an endpoint in user settings pointing at a fake
 * OpenAI server on 127.0.0.1 that records every byte. From the command palette: "Hearth: Set API Key…"; a link
 * `src/settings.txt → ../.env.production` is refused before any question, naming both paths; on a file holding a
 * token, the review opens beside the code with the whole request readable, Enter cancels it (nothing sent), and
 * Send sends exactly the bytes whose sha256 the review showed; the answer's banner says what was redacted, and a
 * second escalation of the file opens a tab with its own name. Screenshots go to test-results/.
 *
 * Needs chromium, code-server (`npm run setup:e2e`) and hearth.vsix (`npm run package`; npm test builds it);
 * skipped when missing unless CI or HEARTH_E2E_REQUIRED is set.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import {
  diagnostics,
  e2eModel,
  installVsix,
  launchBrowser,
  repoRoot,
  startCodeServer,
  type CodeServer,
} from '../../scripts/codeServer';
import { startFakeProvider, type FakeProvider } from '../fixtures/cloud/fakeProviders';
import { note, openFile, reviewFrame, runCommand, skipUnlessUiAvailable, visibleNotifications, vsixPath } from './workbench';

const root = repoRoot();
const resultsDir = path.join(root, 'test-results');
const FILE = 'billingClient.ts';
// Assembled at run time so no committed string looks like a live token.
const TOKEN = ['ghp', '_', 'Wm4Tz8Qa1Lp6Xc3Vb7Nr2Ks9Hd5Fg0Je1Yu7'].join('');
const SOURCE = `// Billing API client\nconst GITHUB_TOKEN = '${TOKEN}';\n\nexport function headers(): Record<string, string> {\n  return { authorization: \`token \${GITHUB_TOKEN}\` };\n}\n`;
const KEY = 'sk-e2e-test-key-0003';
const QUESTION = 'Is it safe to keep this token here?';
const ENV_FILE = '.env.production';
const LINK = 'settings.txt';
const ENV_SECRET = ['Abc', '9xQ', '77zz'].join('');

/** Waits for the quick input to show `title`, types `text` and confirms. */
async function answerInput(page: Page, title: RegExp, text: string): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout: 20_000 });
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

async function reviewOpen(page: Page): Promise<boolean> {
  for (const f of page.frames()) if (await f.locator('body#hearth-review').count().catch(() => 0)) return true;
  return false;
}

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(resultsDir, { recursive: true });
  await page.screenshot({ path: path.join(resultsDir, name) });
  note(`screenshot ${path.join('test-results', name)}`);
}

interface LedgerLine {
  lane: string;
  outcome: string;
  blockedBy?: string;
  rule?: string;
  modelMs?: number;
  waitMs?: number;
  totalMs: number;
  estimatedCost?: number;
  schemaVersion: number;
}

function ledgerLines(workspace: string): LedgerLine[] {
  const file = path.join(workspace, '.hearth', 'ledger.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as LedgerLine).filter((r) => r.lane === 'escalation');
}

describe('Escalate to Frontier in a real VS Code (code-server + chromium)', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let fake: FakeProvider;
  let runDir: string;
  let workspace: string;
  let failed = false;

  before(async function () {
    const vsix = vsixPath();
    skipUnlessUiAvailable(this, vsix ? undefined : 'no hearth.vsix (run npm run package): dialogs and webviews only render without the smoke-test driver, which needs the extension installed');
    fake = await startFakeProvider('openai');
    const model = await e2eModel(root);
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-e2e-escalation-'));
    workspace = path.join(runDir, 'workspace');
    fs.cpSync(path.join(root, 'sample-workspace'), workspace, { recursive: true });
    fs.writeFileSync(path.join(workspace, 'src', FILE), SOURCE);
    // A harmless-looking name that leads to a neverSend file.
    fs.writeFileSync(path.join(workspace, ENV_FILE), `DATABASE_URL=postgres://app:${ENV_SECRET}@db.internal/app\n`);
    fs.symlinkSync(`../${ENV_FILE}`, path.join(workspace, 'src', LINK));
    await installVsix(vsix!, path.join(runDir, 'extensions'), path.join(runDir, 'user-data'), root);
    server = await startCodeServer({
      runDir,
      isolateHome: true,
      settings: {
        'hearth.model.path': model,
        'hearth.completion.enabled': false,
        'editor.minimap.enabled': false,
        'hearth.escalation.enabled': true,
        'hearth.escalation.endpoints': [
          { id: 'e2e-openai', destination: 'frontier', provider: 'openai', baseUrl: fake.baseUrl, model: 'e2e-gpt', priceInPerMTok: 2.5, priceOutPerMTok: 10 },
        ],
      },
    });
    context = await launchBrowser(runDir);
    page = context.pages()[0] ?? (await context.newPage());
    await page.setViewportSize({ width: 1400, height: 1000 });
    // A loaded machine (shared CI cores) can take longer than playwright's 30 s default to serve the workbench.
    await page.goto(server.workbenchUrl(workspace), { timeout: 120_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.statusbar-item', { hasText: 'Hearth:' }).first().waitFor({ timeout: 60_000 });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      failed = true;
      if (page) await shot(page, `e2e-escalation-failed-${(this.currentTest.title.match(/\w+/g) ?? []).slice(0, 4).join('-')}.png`).catch(() => undefined);
    }
  });

  after(async function () {
    if (page) await shot(page, 'e2e-escalation.png').catch(() => undefined);
    if (failed && server) process.stderr.write(diagnostics(server) + '\n');
    await context?.close().catch(() => undefined);
    await server?.stop();
    await fake?.close();
    if (runDir && !failed && !process.env.HEARTH_KEEP_RUN) fs.rmSync(runDir, { recursive: true, force: true });
    else if (runDir) note(`run folder kept: ${runDir}`);
  });

  it('stores an API key through "Hearth: Set API Key…"', async () => {
    await runCommand(page, 'Hearth: Set API Key');
    await answerInput(page, /API key for "e2e-openai"/, KEY);
    await page.locator('.notification-list-item', { hasText: 'stored in VS Code\'s secret storage' }).first().waitFor({ timeout: 20_000 });
  });

  it('refuses a link to a neverSend file before asking anything, naming both paths', async () => {
    await openFile(page, LINK);
    await runCommand(page, 'Hearth: Escalate to Frontier');
    const toast = page.locator('.notification-list-item', { hasText: 'escalation blocked' }).first();
    await toast.waitFor({ timeout: 30_000 }).catch(async (err: unknown) => {
      // Say what the screen showed instead: another notification, a question box, or nothing.
      const asked = await page.locator('.quick-input-widget .quick-input-title').allTextContents().catch(() => []);
      note(`no refusal on screen; notifications: ${await visibleNotifications(page)}; quick input: ${asked.join(' | ') || 'none'}; active tab: ${(await page.locator('.tab.active').first().textContent().catch(() => null)) ?? 'none'}`);
      throw err;
    });
    const text = ((await toast.textContent()) ?? '').replace(/\s+/g, ' ');
    note(`refusal: ${text}`);
    assert.match(text, /src\/settings\.txt leads to \.env\.production, which matches neverSend pattern/);
    assert.match(text, /Nothing was sent/);
    // Policy first: no question box was shown.
    assert.equal(await page.locator('.quick-input-widget .quick-input-title', { hasText: /Escalate/ }).count(), 0, 'the question was asked before the refusal');
    // Expand the notification so the screenshot shows the whole message (both paths).
    await toast.hover();
    await toast.locator('.codicon-notifications-expand').first().click({ timeout: 3_000 }).catch(() => note('the notification has no expand toggle'));
    await shot(page, 'e2e-escalation-symlink-refused.png');
    assert.equal(fake.requests.length, 0);
    assert.ok(!fake.rawBytes().toString('utf8').includes(ENV_SECRET));
    const [rec] = ledgerLines(workspace).filter((r) => r.outcome === 'blocked');
    assert.ok(rec, 'no blocked record in the ledger');
    assert.equal(rec.blockedBy, 'neverSend');
    assert.equal(rec.schemaVersion, 2);
    await page.keyboard.press('Escape');
  });

  it('opens the review beside the code with the whole request, and Enter cancels: nothing is sent', async () => {
    await openFile(page, FILE);
    await runCommand(page, 'Hearth: Escalate to Frontier');
    await answerInput(page, /Escalate "billingClient\.ts" to e2e-openai/, QUESTION);
    const review = await reviewFrame(page);
    const title = (await review.locator('#title').textContent()) ?? '';
    note(`review: ${title}`);
    assert.match(title, /endpoint "e2e-openai" at 127\.0\.0\.1:\d+ \(frontier, a server on this machine\)/);
    assert.doesNotMatch(title, /cloud/i);
    // Cancel has the focus: Enter goes to it.
    assert.equal(await review.evaluate(() => document.activeElement?.id), 'cancel');
    await shot(page, 'e2e-escalation-review-cancel-focused.png');
    await page.keyboard.press('Enter');
    const deadline = Date.now() + 15_000;
    while (await reviewOpen(page)) {
      if (Date.now() > deadline) throw new Error('Enter did not close the review');
      await page.waitForTimeout(200);
    }
    assert.equal(fake.requests.length, 0, 'Enter sent the request');
    const cancelled = ledgerLines(workspace).filter((r) => r.outcome === 'cancelled');
    assert.equal(cancelled.length, 1);
    assert.equal(cancelled[0]!.modelMs, undefined);
    assert.ok((cancelled[0]!.waitMs ?? 0) > 0);
  });

  it('the review shows every part of the payload, and its sha256 is that of the bytes the server received', async () => {
    await openFile(page, FILE);
    await runCommand(page, 'Hearth: Escalate to Frontier');
    await answerInput(page, /Escalate "billingClient\.ts" to e2e-openai/, QUESTION);
    const review = await reviewFrame(page);
    const texts = await review.locator('pre.text').allTextContents();
    assert.equal(texts.length, 3, 'system prompt, question, code');
    assert.match(texts[0]!, /senior software engineer/);
    assert.equal(texts[1], QUESTION);
    assert.match(texts[2]!, /export function headers\(\)/);
    assert.match(texts[2]!, /\[REDACTED:github-pat#1\]/);
    assert.ok(!texts.join('').includes(TOKEN), 'the review shows the token');
    assert.equal(await review.locator('pre.text mark.ph').count(), 1, 'the placeholder is highlighted');
    assert.match((await review.locator('table.placeholders').textContent()) ?? '', /\[REDACTED:github-pat#1\].*github-pat value/);
    const sha = (await review.locator('#sha256').textContent()) ?? '';
    const bytes = Number(await review.locator('#bytes').textContent());
    await review.locator('#raw-details summary').click();
    const raw = (await review.locator('#raw').textContent()) ?? '';
    await shot(page, 'e2e-escalation-review.png');
    await review.locator('#raw').scrollIntoViewIfNeeded();
    await shot(page, 'e2e-escalation-review-raw.png');
    assert.equal(fake.requests.length, 0, 'sent before Send');

    await review.locator('#send').click();
    await page.locator('.tab', { hasText: 'answer-billingClient.ts-e2e-openai.md' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.view-lines', { hasText: 'Done.' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.view-lines', { hasText: TOKEN }).first().waitFor({ timeout: 10_000 });
    await page.locator('.view-lines', { hasText: 'redacted before sending' }).first().waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('.view-lines', { hasText: 'never left this machine' }).count(), 0);
    await shot(page, 'e2e-escalation-answer.png');

    assert.equal(fake.requests.length, 1);
    const wire = fake.requests[0]!.body;
    assert.equal(wire.length, bytes);
    assert.equal(createHash('sha256').update(wire).digest('hex'), sha);
    assert.equal(wire.toString('utf8'), raw, 'the raw view differs from the bytes sent');
    assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${KEY}`);
    assert.ok(!fake.rawBytes().toString('utf8').includes(TOKEN), 'the token reached the server');
    const accepted = ledgerLines(workspace).filter((r) => r.outcome === 'accepted');
    assert.equal(accepted.length, 1);
    assert.ok(accepted[0]!.modelMs !== undefined && accepted[0]!.waitMs !== undefined);
    assert.ok(accepted[0]!.modelMs! + accepted[0]!.waitMs! <= accepted[0]!.totalMs + 1);
  });

  it('a second escalation of the same file opens a tab with its own name', async () => {
    // The answer tab's name contains the file's, so Quick Open's tab check would be ambiguous: click the code's tab.
    await page.locator(`.tab[data-resource-name="${FILE}"]`).first().click();
    await page.locator(`.tab.active[data-resource-name="${FILE}"]`).first().waitFor({ timeout: 10_000 });
    await runCommand(page, 'Hearth: Escalate to Frontier');
    await answerInput(page, /Escalate "billingClient\.ts" to e2e-openai/, 'And now?');
    const review = await reviewFrame(page);
    await review.locator('#send').click();
    await page.locator('.tab', { hasText: 'answer-billingClient.ts-e2e-openai-2.md' }).first().waitFor({ timeout: 30_000 });
    const names = (await page.locator('.tab .label-name').allTextContents()).filter((n) => n.startsWith('answer-'));
    note(`answer tabs: ${names.join(', ')}`);
    assert.equal(new Set(names).size, names.length, `two tabs with the same name: ${names.join(', ')}`);
    // Beside the code, where the review was: no third editor group for a second escalation.
    assert.equal(await page.locator('.editor-group-container').count(), 2, 'the second answer opened a new editor group');
  });
  it('the ROI dashboard shows the outcomes (the block by its rule) and the same figures as `hearth ledger stats`', async () => {
    await runCommand(page, 'Hearth: Open ROI Dashboard');
    const deadline = Date.now() + 60_000;
    let dash: Frame | undefined;
    while (!dash) {
      for (const f of page.frames()) if (await f.locator('body[data-charts="ready"] #summary .tile').count().catch(() => 0)) dash = f;
      if (!dash && Date.now() > deadline) throw new Error('the dashboard did not render');
      if (!dash) await page.waitForTimeout(300);
    }
    const outcomes = ((await dash.locator('#outcomes').textContent()) ?? '').replace(/\s+/g, ' ');
    note(`dashboard outcomes: ${outcomes}`);
    assert.match(outcomes, /blocked: neverSend file\s*1/);
    assert.match(outcomes, /cancelled\s*1/);
    const tiles = await dash.locator('#summary .tile').evaluateAll((els) => els.map((e) => ({
      key: (e as HTMLElement).dataset.figure ?? '',
      value: e.querySelector('.value')?.textContent ?? '',
      label: e.querySelector('.label')?.textContent ?? '',
      note: e.querySelector('.note')?.textContent ?? '',
    })));
    const success = tiles.find((t) => t.key === 'successRate');
    assert.ok(success && /tasks accepted whole or in part ÷ all tasks/.test(success.note), 'the success rate has no definition on the page');
    // The same ledger through the command line: every figure the dashboard shows is printed, verbatim.
    const ledger = path.join(workspace, '.hearth', 'ledger.jsonl');
    const stats = execFileSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'ledger', 'stats', '--ledger', ledger], { encoding: 'utf8' });
    for (const t of tiles) {
      assert.ok(stats.includes(`${t.label}: ${t.value}`), `stats lacks "${t.label}: ${t.value}"`);
      assert.ok(stats.includes(t.note), `stats lacks the note of ${t.key}`);
    }
    await shot(page, 'e2e-escalation-dashboard.png');
    // The charts (cost per successful task on a linear scale) below the figures and outcomes.
    await dash.locator('#chart-cost').scrollIntoViewIfNeeded();
    await shot(page, 'e2e-escalation-dashboard-charts.png');
  });
});
