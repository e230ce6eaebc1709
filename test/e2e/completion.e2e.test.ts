/**
 * The user's view: a real VS Code (code-server) in headless chromium, Hearth installed from its .vsix (or, when
 * no `hearth.vsix` was packaged, loaded from this folder), a copy of sample-workspace/ open. Typing must show
 * ghost text, Tab must accept it, and the saved file must hold exactly what the engine produces for that
 * prefix and suffix, computed independently here through EngineClient and runCompletion. Without a usable
 * model there must be no ghost text and a visible error.
 *
 * Needs /usr/bin/chromium and `npm run setup:e2e`; skipped when they are missing unless CI or
 * HEARTH_E2E_REQUIRED is set. Screenshots go to test-results/.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { EDITOR_SETTINGS, ENGINE, GHOST, note, openFile, runCommand, skipUnlessUiAvailable, stableGhostText, typeAtEnd, vsixPath, waitForStatus } from './workbench';
import { runCompletion } from '../../src/common/completion/completionPipeline';
import { EngineClient } from '../../src/node/engine/engineClient';
import {
  diagnostics,
  e2eModel,
  installVsix,
  launchBrowser,
  repoRoot,
  startCodeServer,
  vsixIsStale,
  type CodeServer,
} from '../../scripts/codeServer';

const root = repoRoot();
const resultsDir = path.join(root, 'test-results');
const FILE = 'main.ts';
const TYPED = "import { Product } from './";
/** Typed on a new line for the type-through and partial-accept tests. */
const TYPED2 = 'for (const p of inventory.';


interface Session {
  server: CodeServer;
  context: BrowserContext;
  page: Page;
  workspace: string;
  runDir: string;
}



async function openSession(settings: Record<string, unknown>, env?: Record<string, string>): Promise<Session> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-e2e-'));
  const workspace = path.join(runDir, 'workspace');
  fs.cpSync(path.join(root, 'sample-workspace'), workspace, { recursive: true });
  const vsix = vsixPath();
  if (vsix) await installVsix(vsix, path.join(runDir, 'extensions'), path.join(runDir, 'user-data'), root);
  // Without a .vsix the extension is loaded from this folder, which needs the smoke-test driver for the payload.
  const server = await startCodeServer({ runDir, settings, isolateHome: true, smokeTestDriver: !vsix, env });
  const context = await launchBrowser(runDir);
  const page = context.pages()[0] ?? (await context.newPage());
  const payload: [string, string][] | undefined = vsix ? undefined : [['extensionDevelopmentPath', server.remoteUri(root)]];
  await page.goto(server.workbenchUrl(workspace, payload));
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  return { server, context, page, workspace, runDir };
}

async function closeSession(s: Session | undefined, name: string, failed: boolean): Promise<void> {
  if (!s) return;
  fs.mkdirSync(resultsDir, { recursive: true });
  const shot = path.join(resultsDir, `e2e-${name}.png`);
  await s.page.screenshot({ path: shot }).catch(() => undefined);
  note(`screenshot: ${path.relative(root, shot)}`);
  if (failed) process.stderr.write(diagnostics(s.server) + '\n');
  await s.context.close().catch(() => undefined);
  await s.server.stop();
  if (failed || process.env.HEARTH_KEEP_RUN) note(`run folder kept: ${s.runDir}`);
  else fs.rmSync(s.runDir, { recursive: true, force: true });
}






/** One line of the provider's request trace (HEARTH_COMPLETION_TRACE): what each request ended in, and why. */
interface TraceLine {
  id: number;
  /** `warm`: the prompt at the cursor evaluated while the user was idle (no suggestion asked for). */
  kind: 'shown' | 'none' | 'warm';
  where?: string;
  tokensEvaluated?: number;
  reason?: string;
  source?: string;
  text?: string;
  engineRequests: number;
  prefetches?: number;
}

function readTrace(file: string): TraceLine[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as TraceLine);
}

/** Engine requests made for keystrokes so far (prefetches of the next suggestion are counted apart). */
function engineRequests(file: string): number {
  return readTrace(file).reduce((m, l) => Math.max(m, l.engineRequests ?? 0), 0);
}

/** Line and column VS Code's status bar shows with the cursor at the end of `text`. */
function endPosition(text: string): { line: number; col: number } {
  const lines = text.split('\n');
  return { line: lines.length, col: lines[lines.length - 1]!.length + 1 };
}

describe('Hearth in a real VS Code (code-server + chromium)', function () {
  this.timeout(300_000);
  let model: string;

  before(async function () {
    skipUnlessUiAvailable(this);
    for (const f of ['dist/extension.js', 'dist/engine.js']) {
      assert.ok(fs.existsSync(path.join(root, f)), `${f} is missing: run npm run build`);
    }
    model = await e2eModel(root);
    const vsix = vsixPath();
    if (vsix && vsixIsStale(root, vsix)) {
      note(`warning: ${path.relative(root, vsix)} is older than the sources; run npm run package`);
    }
    note(vsix ? `extension from ${path.relative(root, vsix)}` : 'no hearth.vsix: extension loaded from this folder (extensionDevelopmentPath)');
  });

  describe('with a model', function () {
    let session: Session | undefined;
    let expected: string;
    let typedDoc: string;
    let tracePath: string;
    /** What the type-through test typed of the suggestion. */
    let typedThrough = '';
    let outcome: Awaited<ReturnType<typeof runCompletion>>;

    before(async function () {
      // What the engine says for this exact prefix and suffix, computed outside the editor.
      typedDoc = fs.readFileSync(path.join(root, 'sample-workspace', 'src', FILE), 'utf8') + TYPED;
      const client = new EngineClient({ enginePath: path.join(root, 'dist', 'engine.js'), mode: 'private' });
      try {
        await client.loadModel({ path: model, threads: ENGINE.threads, contextSize: ENGINE.contextSize });
        outcome = await runCompletion(client, { text: typedDoc, offset: typedDoc.length }, { maxTokens: ENGINE.maxTokens, timeLimitMs: ENGINE.timeLimitMs });
        assert.ok(outcome.suggestion, `the engine suggests nothing for this prefix (raw: ${JSON.stringify(outcome.result.text)}): pick another TYPED text`);
        expected = outcome.suggestion;
      } finally {
        await client.dispose();
      }
      note(`engine suggestion: ${JSON.stringify(expected)} (confidence ${outcome.result.confidence?.toFixed(2) ?? 'n/a'})`);
      tracePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-trace-')), 'completion-trace.jsonl');
      // The confidence gate and repository context are off here: the shipped tiny model's suggestions in the sample
      // workspace mostly fall below the default threshold (this one too), and context from other files would make
      // the editor's prompt differ from the one computed above. These tests are about what the editor does with a
      // suggestion; the gate and the context ring are tested in test/unit (completionPipeline, contextRing).
      session = await openSession(
        { 'hearth.model.path': model, ...EDITOR_SETTINGS, 'hearth.completion.minConfidence': -100, 'hearth.completion.contextChunks': 0 },
        { HEARTH_COMPLETION_TRACE: tracePath },
      );
    });

    after(async function () {
      await closeSession(session, 'completion', this.currentTest?.state === 'failed' || !session);
    });

    afterEach(async function () {
      if (this.currentTest?.state === 'failed' && session) {
        await session.page.screenshot({ path: path.join(resultsDir, 'e2e-completion-failed.png') }).catch(() => undefined);
      }
    });

    it('shows the Hearth status bar item once the extension is active', async function () {
      const text = await waitForStatus(session!.page, /Hearth: (idle|starting…|ready)/, 60_000);
      note(`status bar: ${text}`);
    });

    it('shows the engine\'s suggestion as ghost text, accepts it with Tab, and saves exactly that text', async function () {
      const { page, workspace } = session!;
      await openFile(page, FILE);
      await typeAtEnd(page, TYPED);
      await page.locator(GHOST).first().waitFor({ timeout: 90_000 });
      const ghost = await stableGhostText(page);
      note(`ghost text: ${JSON.stringify(ghost)}`);
      // The picture of what a user sees: the shipped model's suggestion as ghost text in the sample workspace.
      fs.mkdirSync(resultsDir, { recursive: true });
      await page.screenshot({ path: path.join(resultsDir, 'e2e-ghost-text.png') });
      note('screenshot: test-results/e2e-ghost-text.png');
      assert.ok(ghost.trim().length > 0, 'ghost text is empty');
      const squash = (t: string) => t.replace(/\s+/g, ' ').trim();
      assert.equal(squash(ghost), squash(expected), 'the ghost text is not the engine\'s suggestion');
      await waitForStatus(page, /Hearth: ready/, 10_000);

      await page.keyboard.press('Tab');
      // The accept moved the cursor to the end of the suggestion (the ghost may reappear: a new request follows).
      const end = endPosition(typedDoc + expected);
      await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${end.line}, Col ${end.col}\\b`) }).first().waitFor({ timeout: 10_000 })
        .catch(() => note(`cursor did not reach Ln ${end.line}, Col ${end.col}; saving anyway`));
      await page.locator('.tab.active.dirty').waitFor({ timeout: 10_000 });
      await page.keyboard.press('Control+S');
      await page.locator('.tab.active:not(.dirty)').waitFor({ timeout: 10_000 });

      const file = path.join(workspace, 'src', FILE);
      let onDisk = '';
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        onDisk = fs.readFileSync(file, 'utf8');
        if (onDisk !== fs.readFileSync(path.join(root, 'sample-workspace', 'src', FILE), 'utf8')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(onDisk, typedDoc + expected, 'the saved file is not the typed text plus the engine\'s suggestion');
    });

    it('types through a suggestion: typing its first characters keeps the rest visible with no new engine request', async function () {
      const { page } = session!;
      await page.keyboard.press('Escape');
      await typeAtEnd(page, `\n${TYPED2}`);
      await page.locator(GHOST).first().waitFor({ timeout: 90_000 });
      const ghost = await stableGhostText(page);
      note(`ghost text: ${JSON.stringify(ghost)}`);
      assert.ok(ghost.length >= 3, `the suggestion is too short to type through: ${JSON.stringify(ghost)}`);
      // Let the request for this state (and the prefetch after it) settle before counting.
      await page.waitForTimeout(1500);
      const before = engineRequests(tracePath);
      const typed = ghost.slice(0, 2);
      typedThrough = typed;
      for (const ch of typed) {
        await page.keyboard.type(ch);
        await page.waitForTimeout(400);
      }
      const rest = await stableGhostText(page);
      fs.mkdirSync(resultsDir, { recursive: true });
      await page.screenshot({ path: path.join(resultsDir, 'e2e-type-through.png') });
      note(`after typing ${JSON.stringify(typed)}: ghost ${JSON.stringify(rest)}; screenshot test-results/e2e-type-through.png`);
      const squash = (t: string) => t.replace(/\s+/g, ' ').trim();
      assert.equal(squash(rest), squash(ghost.slice(typed.length)), 'the rest of the suggestion is not what stays visible');
      const after = engineRequests(tracePath);
      const lines = readTrace(tracePath);
      const served = lines.filter((l) => l.kind === 'shown' && l.source === 'typeThrough').length;
      note(`engine requests for keystrokes: ${before} before typing through, ${after} after; ${served} requests served by type-through`);
      assert.equal(after, before, 'typing the suggestion\'s characters made a new engine request');
    });

    it('accepts the next word of a suggestion (VS Code partial accept) and keeps the remainder', async function () {
      const { page, workspace } = session!;
      const ghost = await stableGhostText(page);
      assert.ok(ghost.length > 0, 'no suggestion on screen to accept a word of');
      const before = engineRequests(tracePath);
      await page.keyboard.press('Control+ArrowRight');
      await page.waitForTimeout(1200);
      const rest = await stableGhostText(page);
      await page.screenshot({ path: path.join(resultsDir, 'e2e-partial-accept.png') });
      note(`ghost ${JSON.stringify(ghost)} → after accept word ${JSON.stringify(rest)}; screenshot test-results/e2e-partial-accept.png`);
      await page.keyboard.press('Control+S');
      await page.locator('.tab.active:not(.dirty)').waitFor({ timeout: 10_000 });
      const onDisk = fs.readFileSync(path.join(workspace, 'src', FILE), 'utf8');
      const typedUpTo = `${TYPED2}${typedThrough}`;
      assert.ok(onDisk.includes(typedUpTo), `the file does not hold the typed text ${JSON.stringify(typedUpTo)}`);
      const word = onDisk.slice(onDisk.lastIndexOf(typedUpTo) + typedUpTo.length);
      note(`accept word inserted ${JSON.stringify(word)}`);
      assert.ok(word.length > 0, 'accept word inserted nothing');
      assert.ok(ghost.startsWith(word), `what was inserted (${JSON.stringify(word)}) is not a beginning of the suggestion (${JSON.stringify(ghost)})`);
      if (word.length < ghost.length) {
        const squash = (t: string) => t.replace(/\s+/g, ' ').trim();
        assert.equal(squash(rest), squash(ghost.slice(word.length)), 'the remainder is not visible after accepting a word');
      }
      assert.equal(engineRequests(tracePath), before, 'accepting a word made a new engine request');
    });

    it('explains every keystroke of a typing session that shows no ghost text', async function () {
      const { page } = session!;
      await page.keyboard.press('Escape');
      // Start of the file's first line: the code to the right makes a completion pointless, so none is asked for.
      await page.keyboard.press('Control+Home');
      const from = readTrace(tracePath).length;
      const keys = 'let a';
      for (const ch of keys) {
        await page.keyboard.type(ch);
        await page.waitForTimeout(350);
      }
      await page.waitForTimeout(1500);
      await page.screenshot({ path: path.join(resultsDir, 'e2e-no-ghost.png') });
      note('screenshot: test-results/e2e-no-ghost.png');
      assert.equal(await page.locator(GHOST).count(), 0, 'ghost text appeared in a session that should show none');
      const lines = readTrace(tracePath).slice(from).filter((l) => l.kind !== 'warm');
      for (const l of lines) note(`  request #${l.id}: ${l.kind}${l.reason ? `: ${l.reason}` : ''}`);
      assert.ok(lines.length >= keys.length, `${lines.length} requests logged for ${keys.length} keystrokes`);
      for (const l of lines) {
        assert.equal(l.kind, 'none', `request #${l.id} showed a suggestion`);
        assert.ok(l.reason && l.reason.length > 5, `request #${l.id} has no reason`);
      }
    });

    it('alternates between two files and shows ghost text in both, each time', async function () {
      // Issue #21: a second file used to cost a full prompt re-read on every switch; with a sequence per document
      // (and the prompt cache behind them) each file keeps its evaluated prompt.
      const { page } = session!;
      await page.keyboard.press('Escape');
      const steps: [string, string][] = [['inventory.ts', `\n${TYPED}`], [FILE, `\n${TYPED2}`], ['inventory.ts', `\n${TYPED2}`], [FILE, `\n${TYPED}`]];
      for (const [i, [file, text]] of steps.entries()) {
        // A file already open is brought back by its tab, as a user switches; the first time through Quick Open.
        const tab = page.locator('.tabs-container .tab', { hasText: file }).first();
        if (await tab.count()) {
          await tab.click();
          await page.locator('.tab.active', { hasText: file }).waitFor({ timeout: 10_000 });
        } else {
          await openFile(page, file);
        }
        const t0 = Date.now();
        await typeAtEnd(page, text);
        await page.locator(GHOST).first().waitFor({ timeout: ENGINE.timeLimitMs + 20_000 });
        const ghost = await stableGhostText(page);
        note(`switch ${i + 1} (${file}): ghost text ${JSON.stringify(ghost)} after ${Date.now() - t0} ms`);
        assert.ok(ghost.trim().length > 0, `${file} shows empty ghost text`);
        await page.keyboard.press('Escape');
      }
      await page.screenshot({ path: path.join(resultsDir, 'e2e-two-files.png') });
      note('screenshot: test-results/e2e-two-files.png');
    });

    it('evaluates the prompt of a file just opened while the user reads it, before the first keystroke', async function () {
      const { page } = session!;
      await page.keyboard.press('Escape');
      const from = readTrace(tracePath).length;
      await openFile(page, 'format.js');
      // The cursor to the file's end, where a completion is worth asking for (line 1 has code right of the cursor).
      await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+End');
      // The user reads: no keystroke for a few seconds. The file's prompt is evaluated meanwhile: by the warm-up, or,
      // where the editor itself asked for a suggestion at the new cursor (then the warm-up finds it cached), by that.
      const deadline = Date.now() + 15_000;
      const here = (l: TraceLine) => (l.where ?? '').startsWith('src/format.js');
      const evaluated = (l: TraceLine) => here(l) && ((l.kind === 'warm' && (l.tokensEvaluated ?? 0) > 20) || l.kind === 'shown' || (l.kind === 'none' && !/^(pointless|debounced|cancelled)/.test(l.reason ?? '')));
      let found: TraceLine | undefined;
      while (!found && Date.now() < deadline) {
        await page.waitForTimeout(500);
        found = readTrace(tracePath).slice(from).find(evaluated);
      }
      const lines = readTrace(tracePath).slice(from);
      note(`evaluated before the first keystroke by: ${JSON.stringify(found)}`);
      assert.ok(found, `the opened file's prompt was not evaluated while idle; trace: ${JSON.stringify(lines)}`);
    });
  });

  describe('without a usable model', function () {
    let session: Session | undefined;
    let failed = false;

    afterEach(function () {
      if (this.currentTest?.state === 'failed') failed = true;
    });
    after(async function () {
      await closeSession(session, 'missing-model', failed);
    });

    it('shows no ghost text and surfaces the error', async function () {
      const missing = path.join(os.tmpdir(), 'hearth-no-such-model', 'missing.gguf');
      session = await openSession({ 'hearth.model.path': missing, ...EDITOR_SETTINGS });
      const { page } = session;
      await waitForStatus(page, /Hearth: /, 60_000);
      note('workbench up');
      await openFile(page, FILE);
      await typeAtEnd(page, TYPED);
      note('typed');
      const status = await waitForStatus(page, /Hearth: error/, 60_000);
      note(`status bar: ${status}`);
      // The request failed: nothing may be shown, now or a moment later.
      await page.waitForTimeout(1500);
      assert.equal(await page.locator(GHOST).count(), 0, 'ghost text appeared without a model');

      // The error reached the user as a notification naming Hearth (read from the notification center, which
      // also works where toasts are hidden).
      await runCommand(page, 'Notifications: Show Notifications');
      const message = page.locator('.notifications-center .notification-list-item', { hasText: 'Hearth' }).first();
      await message.waitFor({ timeout: 10_000 });
      note(`notification: ${((await message.textContent()) ?? '').slice(0, 160)}`);
    });
  });
});
