/**
 * The sample workspace's scripted tour (sample-workspace/README.md, steps in tourSteps.ts) as a new user does it:
 * `npm start`'s setup (the shipped model, Hearth's default completion settings: beam search, the confidence gate,
 * repository context) in a real VS Code (code-server + chromium), typing each step at the end of src/main.ts. Ghost
 * text must appear for at least two of the three steps. Each step's screenshot goes to test-results/e2e-tour-N.png,
 * and the provider's trace says why a step showed nothing (gated, empty, …).
 *
 * Needs /usr/bin/chromium and `npm run setup:e2e`; skipped when they are missing unless CI or HEARTH_E2E_REQUIRED.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { EDITOR_SETTINGS, GHOST, note, openFile, skipUnlessUiAvailable, stableGhostText, typeAtEnd, vsixPath, waitForStatus } from './workbench';
import { TOUR_STEPS } from './tourSteps';
import { diagnostics, e2eModel, installVsix, launchBrowser, repoRoot, startCodeServer, type CodeServer } from '../../scripts/codeServer';

const root = repoRoot();
const resultsDir = path.join(root, 'test-results');
/** How long a step waits for ghost text (the first step includes loading the model). */
const GHOST_WAIT_MS = 45_000;

interface TraceLine { kind: 'shown' | 'none'; reason?: string; text?: string }

describe('the sample workspace tour in a real VS Code (shipped model, default completion settings)', function () {
  this.timeout(420_000);
  let server: CodeServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let runDir = '';
  let tracePath = '';
  let failed = false;

  before(async function () {
    skipUnlessUiAvailable(this);
    for (const f of ['dist/extension.js', 'dist/engine.js']) assert.ok(fs.existsSync(path.join(root, f)), `${f} is missing: run npm run build`);
    const model = await e2eModel(root);
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-tour-'));
    const workspace = path.join(runDir, 'workspace');
    fs.cpSync(path.join(root, 'sample-workspace'), workspace, { recursive: true });
    tracePath = path.join(runDir, 'completion-trace.jsonl');
    const vsix = vsixPath();
    if (vsix) await installVsix(vsix, path.join(runDir, 'extensions'), path.join(runDir, 'user-data'), root);
    // Hearth's completion settings stay at their defaults (confidence gate, beams, repository context, length),
    // except the time limit, which EDITOR_SETTINGS raises for a loaded test machine; the editor's own helpers that
    // would type at the cursor too (auto-closing brackets, the suggest widget) are off.
    const { 'hearth.completion.maxTokens': _maxTokens, ...editorSettings } = EDITOR_SETTINGS;
    server = await startCodeServer({ runDir, settings: { 'hearth.model.path': model, ...editorSettings }, isolateHome: true, smokeTestDriver: !vsix, env: { HEARTH_COMPLETION_TRACE: tracePath } });
    context = await launchBrowser(runDir);
    page = context.pages()[0] ?? (await context.newPage());
    const payload: [string, string][] | undefined = vsix ? undefined : [['extensionDevelopmentPath', server.remoteUri(root)]];
    await page.goto(server.workbenchUrl(workspace, payload));
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  });

  after(async function () {
    if (failed && server) process.stderr.write(diagnostics(server) + '\n');
    await context?.close().catch(() => undefined);
    await server?.stop();
    if (runDir && !failed && !process.env.HEARTH_KEEP_RUN) fs.rmSync(runDir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  it('shows ghost text for at least two of the tour\'s three edits', async function () {
    await waitForStatus(page, /Hearth: (idle|starting…|ready)/, 60_000);
    const steps = TOUR_STEPS.filter((s) => s.file === 'src/main.ts' && s.before === undefined).slice(0, 3);
    assert.equal(steps.length, 3, 'the tour has three steps at the end of src/main.ts');
    await openFile(page, 'main.ts');
    fs.mkdirSync(resultsDir, { recursive: true });
    const seen: string[] = [];
    for (const [i, step] of steps.entries()) {
      const from = fs.existsSync(tracePath) ? fs.readFileSync(tracePath, 'utf8').split('\n').filter((l) => l.trim()).length : 0;
      await typeAtEnd(page, step.typed);
      let ghost = '';
      try {
        await page.locator(GHOST).first().waitFor({ timeout: GHOST_WAIT_MS });
        ghost = await stableGhostText(page);
      } catch {
        // no ghost text within the wait: the trace says why
      }
      const shot = path.join(resultsDir, `e2e-tour-${i + 1}.png`);
      await page.screenshot({ path: shot });
      const trace = (fs.existsSync(tracePath) ? fs.readFileSync(tracePath, 'utf8').split('\n').filter((l) => l.trim()).slice(from) : []).map((l) => JSON.parse(l) as TraceLine);
      const why = trace.filter((t) => t.kind === 'none').map((t) => t.reason).slice(-1)[0];
      note(`step ${i + 1}: typed ${JSON.stringify(step.typed)} -> ${ghost.trim() ? `ghost text ${JSON.stringify(ghost)}` : `no ghost text (${why ?? 'no trace line'})`}; screenshot ${path.relative(root, shot)}`);
      if (ghost.trim()) seen.push(ghost);
      // Back to the saved file for the next step: dismiss the suggestion and undo the typing until the tab is clean.
      await page.keyboard.press('Escape');
      for (let n = 0; n < 80 && (await page.locator('.tab.active.dirty').count()) > 0; n++) await page.keyboard.press('Control+Z');
      assert.equal(await page.locator('.tab.active.dirty').count(), 0, `undo did not bring src/main.ts back after step ${i + 1}`);
    }
    assert.ok(seen.length >= 2, `ghost text for ${seen.length} of 3 tour steps`);
  });
});
