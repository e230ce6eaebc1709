/**
 * "Escalate to Frontier" as a user meets it: code-server in headless chromium with Hearth installed from its
 * .vsix (no smoke-test driver, so VS Code's modal dialogs render), an endpoint in user settings pointing at a
 * fake OpenAI server on 127.0.0.1 that records every byte. From the command palette: "Hearth: Set API Key…",
 * then "Hearth: Escalate to Frontier" on a file holding a token: the warning appears, "Preview payload" opens
 * the request body, the warning comes back, "Send" streams the answer into a document beside the code, with
 * the token restored locally and never on the wire.
 *
 * Needs chromium, code-server (`npm run setup:e2e`) and hearth.vsix (`npm run package`; npm test builds it);
 * skipped when missing unless CI or HEARTH_E2E_REQUIRED is set.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
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
import { note, skipUnlessUiAvailable, vsixPath } from './workbench';

const root = repoRoot();
const resultsDir = path.join(root, 'test-results');
const FILE = 'billingClient.ts';
// Assembled at run time so no committed string looks like a live token.
const TOKEN = ['ghp', '_', 'Wm4Tz8Qa1Lp6Xc3Vb7Nr2Ks9Hd5Fg0Je1Yu7'].join('');
const SOURCE = `// Billing API client\nconst GITHUB_TOKEN = '${TOKEN}';\n\nexport function headers(): Record<string, string> {\n  return { authorization: \`token \${GITHUB_TOKEN}\` };\n}\n`;
const KEY = 'sk-e2e-test-key-0003';

async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').waitFor();
  await page.keyboard.type(title);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 20_000 });
  await page.keyboard.press('Enter');
}

/** Waits for the quick input to show `title`, types `text` and confirms. */
async function answerInput(page: Page, title: RegExp, text: string): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ timeout: 20_000 });
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

async function dialog(page: Page): Promise<{ message: string; detail: string }> {
  const box = page.locator('.monaco-dialog-box');
  await box.waitFor({ timeout: 30_000 });
  const message = (await box.locator('.dialog-message-text').textContent()) ?? '';
  const detail = (await box.locator('.dialog-message-detail').textContent().catch(() => '')) ?? '';
  return { message, detail };
}

async function clickDialogButton(page: Page, label: string): Promise<void> {
  await page.locator('.monaco-dialog-box .dialog-buttons .monaco-button', { hasText: label }).first().click();
  await page.locator('.monaco-dialog-box').waitFor({ state: 'detached', timeout: 10_000 });
}

describe('Escalate to Frontier in a real VS Code (code-server + chromium)', function () {
  this.timeout(300_000);
  let server: CodeServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let fake: FakeProvider;
  let runDir: string;
  let failed = false;

  before(async function () {
    const vsix = vsixPath();
    skipUnlessUiAvailable(this, vsix ? undefined : 'no hearth.vsix (run npm run package): modal dialogs only render without the smoke-test driver, which needs the extension installed');
    fake = await startFakeProvider('openai');
    const model = await e2eModel(root);
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-e2e-escalation-'));
    const workspace = path.join(runDir, 'workspace');
    fs.cpSync(path.join(root, 'sample-workspace'), workspace, { recursive: true });
    fs.writeFileSync(path.join(workspace, 'src', FILE), SOURCE);
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
    await page.goto(server.workbenchUrl(workspace));
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.statusbar-item', { hasText: 'Hearth:' }).first().waitFor({ timeout: 60_000 });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    if (page) {
      fs.mkdirSync(resultsDir, { recursive: true });
      await page.screenshot({ path: path.join(resultsDir, 'e2e-escalation.png') }).catch(() => undefined);
    }
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

  it('warns, previews the exact payload, sends on consent, and shows the restored answer beside the code', async () => {
    // Open the file through Quick Open.
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').waitFor();
    await page.keyboard.type(FILE);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: FILE }).first().waitFor({ timeout: 20_000 });
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: FILE }).waitFor({ timeout: 20_000 });

    await runCommand(page, 'Hearth: Escalate to Frontier');
    await answerInput(page, /Escalate "billingClient\.ts" to e2e-openai/, 'Is it safe to keep this token here?');

    const first = await dialog(page);
    note(`warning: ${first.message} | ${first.detail.replace(/\n/g, ' | ')}`);
    assert.match(first.message, /frontier cloud model/);
    assert.match(first.detail, /Destination: frontier — openai model "e2e-gpt"/);
    assert.match(first.detail, /github-pat ×1/);
    assert.match(first.detail, /Estimated cost/);
    assert.equal(fake.requests.length, 0, 'something was sent before consent');

    await clickDialogButton(page, 'Preview payload');
    await page.locator('.tab', { hasText: 'request-body-e2e-openai.json' }).first().waitFor({ timeout: 20_000 });
    // The preview shows the placeholder, not the token.
    await page.locator('.view-lines', { hasText: 'REDACTED:github-pat#1' }).first().waitFor({ timeout: 10_000 });
    assert.equal(fake.requests.length, 0, 'the preview sent something');

    const second = await dialog(page);
    assert.equal(second.message, first.message, 'the warning did not come back after the preview');
    await clickDialogButton(page, 'Send');

    await page.locator('.tab', { hasText: 'answer-e2e-openai.md' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.view-lines', { hasText: 'Done.' }).first().waitFor({ timeout: 30_000 });
    // The answer names the token's placeholder; in the editor it is the real token again, restored locally.
    await page.locator('.view-lines', { hasText: TOKEN }).first().waitFor({ timeout: 10_000 });
    // Beside the code: two editor groups.
    assert.ok((await page.locator('.editor-group-container').count()) >= 2, 'the answer is not beside the code');

    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${KEY}`);
    assert.ok(!fake.rawBytes().toString('utf8').includes(TOKEN), 'the token reached the server');
  });
});
