/**
 * Chat as a user meets it: code-server in headless chromium, Hearth installed from its .vsix (no smoke-test
 * driver, so VS Code's modal dialogs render), the shipped model, and an escalation endpoint pointing at a fake
 * OpenAI server on 127.0.0.1 that records every byte.
 *
 * In the Hearth activity-bar view: ask a question holding a planted token, see the local model's answer stream
 * in; "Escalate this conversation…": the warning names the destination and the redaction, "Send" streams the
 * fake provider's answer into the conversation with a badge (destination, endpoint, cost), the token restored
 * locally and absent from the wire. The fake provider's answer is where the code block comes from (the shipped
 * model is a tiny code model whose chat answers rarely hold a fenced block, so a deterministic block comes
 * through this real path instead of a test hook); it also carries hostile Markdown (script, javascript: link,
 * remote images) that must arrive neutralised. "Apply…" on the block goes through the refactor preview to the
 * file on disk; Undo takes it back in one step. Screenshots of the view in dark and light themes go to
 * test-results/. After "Developer: Reload Window" the conversation is still there.
 *
 * Needs chromium, code-server (`npm run setup:e2e`) and hearth.vsix (`npm run package`).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, FrameLocator, Page } from 'playwright-core';
import { diagnostics, e2eModel, installVsix, launchBrowser, repoRoot, startCodeServer, writeUserSettings, type CodeServer } from '../../scripts/codeServer';
import { echoPlaceholders, startFakeProvider, type FakeProvider } from '../fixtures/cloud/fakeProviders';
import { note, openFile, reviewFrame, runCommand, skipUnlessUiAvailable, vsixPath } from './workbench';

const root = repoRoot();
const resultsDir = path.join(root, 'test-results');
const FILE = 'format.js';
// Assembled at run time so no committed string looks like a live token.
const TOKEN = ['ghp', '_', 'Qz7Lm2Xc9Vb4Nr8Ks1Hd6Fg3Je5Yu0Wa2Tp7'].join('');
const QUESTION = `Write a JavaScript function that doubles a number. My GitHub token is ${TOKEN}`;
const KEY = 'sk-e2e-chat-key-0004';

/** The chat view's page: the webview's outer frame, then VS Code's inner "active-frame". */
function chatFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
}

/** Drags the side bar wider, so the chat view shows its code blocks readably in the screenshots. */
async function widenSideBar(page: Page): Promise<void> {
  const sidebar = await page.locator('.part.sidebar').boundingBox();
  if (!sidebar) return;
  const x = sidebar.x + sidebar.width + 1;
  const y = sidebar.y + sidebar.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + 260, y, { steps: 8 });
  await page.mouse.up();
}

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(resultsDir, { recursive: true });
  await page.screenshot({ path: path.join(resultsDir, name) });
  note(`screenshot: test-results/${name}`);
}

describe('Chat in a real VS Code (code-server + chromium)', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let fake: FakeProvider;
  let runDir: string;
  let workspace: string;
  let failed = false;
  let original: string;
  let applied: string;
  const settings: Record<string, unknown> = {};

  before(async function () {
    const vsix = vsixPath();
    skipUnlessUiAvailable(this, vsix ? undefined : 'no hearth.vsix (run npm run package): modal dialogs only render without the smoke-test driver, which needs the extension installed');
    fake = await startFakeProvider('openai');
    original = fs.readFileSync(path.join(root, 'sample-workspace', 'src', FILE), 'utf8');
    applied = original.replace("function isoDay(date) {\n  return date.toISOString().slice(0, 10);\n}", "function isoDay(date) {\n  // UTC day, e.g. 2026-01-05\n  return date.toISOString().slice(0, 10);\n}\n\n/** @param {number} n */\nfunction double(n) {\n  return n * 2;\n}").replace('module.exports = { formatPrice, padLabel, isoDay };', 'module.exports = { formatPrice, padLabel, isoDay, double };');
    assert.notEqual(applied, original);
    // The provider's answer: the placeholders it was sent (restored locally), a code block to apply, and hostile
    // Markdown that must arrive neutralised (no script runs, no image loads, no javascript: link stays a link).
    fake.answer = (body) =>
      `${echoPlaceholders(body).replace('\n\nDone.', '')}\n\nHere is the file with \`double\` added:\n\n\`\`\`js\n${applied}\`\`\`\n\n` +
      `[click me](javascript:document.body.dataset.pwned='2')\n\n![pixel](${fake.baseUrl}/pixel.png)\n\n` +
      `<script>document.body.dataset.pwned = "1"</script>\n\n<img src="${fake.baseUrl}/pixel2.png" onerror="document.body.dataset.pwned='3'">\n\nDone.`;
    const model = await e2eModel(root);
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-e2e-chat-'));
    workspace = path.join(runDir, 'workspace');
    fs.cpSync(path.join(root, 'sample-workspace'), workspace, { recursive: true });
    await installVsix(vsix!, path.join(runDir, 'extensions'), path.join(runDir, 'user-data'), root);
    Object.assign(settings, {
      'hearth.model.path': model,
      'hearth.completion.enabled': false,
      'hearth.engine.threads': 1,
      'hearth.engine.contextSize': 2048,
      'editor.minimap.enabled': false,
      'workbench.colorTheme': 'Default Dark Modern',
      'hearth.escalation.enabled': true,
      'hearth.escalation.endpoints': [
        { id: 'e2e-openai', destination: 'frontier', provider: 'openai', baseUrl: fake.baseUrl, model: 'e2e-gpt', priceInPerMTok: 2.5, priceOutPerMTok: 10 },
      ],
    });
    server = await startCodeServer({ runDir, isolateHome: true, settings });
    context = await launchBrowser(runDir);
    page = context.pages()[0] ?? (await context.newPage());
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(server.workbenchUrl(workspace), { timeout: 120_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.statusbar-item', { hasText: 'Hearth:' }).first().waitFor({ timeout: 60_000 });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      failed = true;
      await page?.screenshot({ path: path.join(resultsDir, 'e2e-chat-failed.png') }).catch(() => undefined);
    }
  });

  after(async function () {
    if (failed && server) process.stderr.write(diagnostics(server) + '\n');
    await context?.close().catch(() => undefined);
    await server?.stop();
    await fake?.close();
    if (runDir && !failed && !process.env.HEARTH_KEEP_RUN) fs.rmSync(runDir, { recursive: true, force: true });
    else if (runDir) note(`run folder kept: ${runDir}`);
  });

  it('stores an API key for the escalation endpoint', async () => {
    await runCommand(page, 'Hearth: Set API Key');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: /API key for "e2e-openai"/ }).waitFor({ timeout: 20_000 });
    await page.keyboard.type(KEY);
    await page.keyboard.press('Enter');
    await page.locator('.notification-list-item', { hasText: 'stored in VS Code\'s secret storage' }).first().waitFor({ timeout: 20_000 });
  });

  it('streams the local model\'s answer into the chat view', async () => {
    await openFile(page, FILE);
    await runCommand(page, 'Hearth: Open Chat');
    const chat = chatFrame(page);
    const input = chat.locator('#input');
    await input.waitFor({ timeout: 60_000 });
    await widenSideBar(page);
    await input.fill(QUESTION);
    await input.press('Enter');
    const answer = chat.locator('article.message.assistant').first();
    await answer.waitFor({ timeout: 30_000 });
    await chat.locator('article.message.assistant[data-status="done"], article.message.assistant[data-status="error"]').first().waitFor({ timeout: 180_000 });
    const status = await answer.getAttribute('data-status');
    const text = ((await answer.locator('.body').textContent()) ?? '').trim();
    const deltas = Number((await answer.getAttribute('data-deltas')) ?? '0');
    note(`local answer (${status}, ${deltas} streamed pieces): ${JSON.stringify(text.slice(0, 200))}`);
    assert.equal(status, 'done', `the answer failed: ${await answer.locator('.meta.error').textContent().catch(() => '')}`);
    assert.ok(text.length > 0, 'the answer is empty');
    // Streamed: more than one piece arrived (a sampled answer of one token cannot show it, and says so).
    const tokens = Number(/(\d+) tokens/.exec((await answer.locator('.stats').textContent()) ?? '')?.[1] ?? '0');
    assert.ok(tokens > 0, 'no tokens reported for the answer');
    if (tokens > 1) assert.ok(deltas > 1, `the answer of ${tokens} tokens was not streamed (${deltas} pieces)`);
    else note('the model answered with one token: streaming not observable in this run');
    assert.match((await answer.locator('.badge').textContent()) ?? '', /^local · /);
    // The question went to the local model only: nothing reached the provider.
    assert.equal(fake.requests.length, 0);

    // The turn is a ledger record in lane chat; a flag from the answer is an incident pointing at it.
    await answer.locator('select.flag').selectOption('factual-error');
    const ledger = path.join(workspace, '.hearth', 'ledger.jsonl');
    let records: Array<Record<string, unknown>> = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      records = fs.existsSync(ledger) ? fs.readFileSync(ledger, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
      if (records.some((r) => r['kind'] === 'incident')) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const turn = records.find((r) => r['kind'] === 'task' && r['lane'] === 'chat');
    assert.ok(turn, `no chat record in the ledger: ${JSON.stringify(records).slice(0, 300)}`);
    note(`ledger: ${JSON.stringify(turn)}`);
    assert.equal(turn['destination'], 'local');
    assert.equal(turn['outcome'], 'accepted');
    assert.ok(Number(turn['tokensOut']) > 0 && Number(turn['totalMs']) > 0);
    const incident = records.find((r) => r['kind'] === 'incident');
    assert.equal(incident?.['refersTo'], turn['id']);
    assert.equal(incident?.['incident'], 'factual-error');
    assert.ok(!fs.readFileSync(ledger, 'utf8').includes(TOKEN), 'the ledger holds the question\'s text');
  });

  it('escalates the conversation through the warning and consent, shows the badge, and sends no planted secret', async () => {
    const chat = chatFrame(page);
    await chat.locator('#escalate').click();
    // The same review as the command's: the whole request readable, Cancel the default, only Send sends.
    const review = await reviewFrame(page);
    const title = (await review.locator('#title').textContent()) ?? '';
    const reviewText = (await review.locator('body').textContent()) ?? '';
    note(`review: ${title}`);
    assert.match(title, /e2e-openai/);
    assert.match(title, /frontier/);
    assert.match(reviewText, /github-pat ×1/);
    assert.match(reviewText, /Estimated cost/);
    assert.ok(!reviewText.includes(TOKEN), 'the review shows the token');
    assert.equal(fake.requests.length, 0, 'something was sent before consent');
    await review.locator('#send').click();

    const escalated = chat.locator('article.message.assistant', { has: chat.locator('.badge.frontier') }).first();
    await escalated.waitFor({ timeout: 30_000 });
    await chat.locator('article.message.assistant[data-status="done"]', { has: chat.locator('.badge.frontier') }).first().waitFor({ timeout: 30_000 });
    const badge = (await escalated.locator('.badge').textContent()) ?? '';
    note(`badge: ${badge}`);
    assert.match(badge, /frontier · e2e-openai \(e2e-gpt\) · \$/);
    assert.match(badge, /1 redacted/);

    // On the wire: one request, with the key, without the token (its placeholder instead).
    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${KEY}`);
    const wire = fake.rawBytes().toString('utf8');
    assert.ok(!wire.includes(TOKEN), 'the planted token reached the provider');
    assert.match(fake.requests[0]!.body.toString('utf8'), /\[REDACTED:github-pat#1\]/);
    // In the conversation the placeholder is the token again, restored locally.
    const body = escalated.locator('.body');
    assert.ok(((await body.textContent()) ?? '').includes(TOKEN), 'the placeholder was not restored in the answer');

    // The hostile Markdown arrived neutralised: no script element ran or exists, no image loaded, no javascript: link.
    assert.equal(await body.locator('script, img, iframe').count(), 0);
    assert.equal(await body.locator('a[href^="javascript"]').count(), 0);
    assert.equal(await body.locator('.unsafe-link').count(), 1, 'the javascript: link was not shown as removed');
    assert.equal(await body.locator('.blocked-image').count(), 1, 'the Markdown image was not shown as blocked');
    assert.equal(await chat.locator('body').getAttribute('data-pwned'), null);
    assert.ok(!wire.includes('pixel'), 'the page fetched an image from the model\'s answer');
    assert.equal(fake.requests.length, 1);
    // The code block with its actions.
    assert.equal(await escalated.locator('.code-wrap button[data-action]').count(), 3);
    await escalated.locator('.message-head').scrollIntoViewIfNeeded();
    await shot(page, 'e2e-chat-dark.png');
  });

  it('applies a code block to the file through the refactor preview, and Undo takes it back in one step', async () => {
    const chat = chatFrame(page);
    const file = path.join(workspace, 'src', FILE);
    await chat.locator('article.message.assistant', { has: chat.locator('.badge.frontier') }).first().locator('button[data-action="apply"]').click();
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: FILE }).first().waitFor({ timeout: 20_000 });
    await page.keyboard.press('Enter');
    // The refactor preview lists the hunks, each unticked until the user has looked at it; nothing is written
    // until "Apply". Tick each hunk (the first checkbox is the file's own).
    const apply = page.getByRole('button', { name: 'Apply', exact: true });
    await apply.waitFor({ timeout: 30_000 });
    const boxes = page.locator('.bulk-edit-panel .edit-checkbox');
    const count = await boxes.count();
    note(`refactor preview: ${count - 1} hunks`);
    assert.ok(count >= 3, `expected a file row and at least two hunks, found ${count} checkboxes`);
    for (let i = 1; i < count; i++) await boxes.nth(i).click();
    assert.equal(fs.readFileSync(file, 'utf8'), original, 'the file changed before the preview was applied');
    await shot(page, 'e2e-chat-apply-preview.png');
    await apply.click();
    const deadline = Date.now() + 20_000;
    while (fs.readFileSync(file, 'utf8') !== applied && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(fs.readFileSync(file, 'utf8'), applied, 'the file on disk is not the reviewed code block');

    await openFile(page, FILE);
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+Z');
    await page.locator('.tab.active.dirty').waitFor({ timeout: 10_000 });
    // One Undo: the editor holds the original again (no trace of the applied function).
    await page.waitForTimeout(500);
    const shown = ((await page.locator('.editor-instance .monaco-editor .view-lines').first().textContent()) ?? '').replace(/\u00a0/g, ' ');
    assert.ok(!shown.includes('function double') && !shown.includes('UTC day'), 'one Undo left part of the applied change in the editor');
    await page.keyboard.press('Control+S');
    await page.locator('.tab.active:not(.dirty)').waitFor({ timeout: 20_000 });
    const undoDeadline = Date.now() + 30_000;
    while (fs.readFileSync(file, 'utf8') !== original && Date.now() < undoDeadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(fs.readFileSync(file, 'utf8'), original, 'one Undo did not take the whole change back');
  });

  it('draws the conversation in the light theme too', async () => {
    writeUserSettings(server!.userDataDir, { ...settings, 'workbench.colorTheme': 'Default Light Modern' });
    await page.locator('.monaco-workbench.vs:not(.vs-dark)').waitFor({ timeout: 30_000 });
    await runCommand(page, 'Hearth: Open Chat');
    const chat = chatFrame(page);
    await chat.locator('article.message.assistant', { has: chat.locator('.badge.frontier') }).first().locator('.message-head').scrollIntoViewIfNeeded();
    await page.waitForTimeout(500);
    await shot(page, 'e2e-chat-light.png');
  });

  it('finds the conversation again after a window reload', async () => {
    const reloaded = page.waitForEvent('load', { timeout: 90_000 });
    await runCommand(page, 'Developer: Reload Window');
    await reloaded;
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    await page.locator('.statusbar-item', { hasText: 'Hearth:' }).first().waitFor({ timeout: 90_000 });
    await runCommand(page, 'Hearth: Open Chat');
    const chat = chatFrame(page);
    await chat.locator('article.message.user').first().waitFor({ timeout: 60_000 });
    const title = (await chat.locator('#conversations option:checked').textContent()) ?? '';
    note(`conversation after reload: ${title}`);
    assert.match(title, /^Write a JavaScript function that doubles/);
    assert.ok((await chat.locator('article.message').count()) >= 3, 'the conversation lost messages');
    assert.ok(((await chat.locator('article.message.user .body').first().textContent()) ?? '').startsWith('Write a JavaScript function'));
  });
});
