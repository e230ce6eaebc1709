/**
 * Helpers shared by the UI tests: editor settings that leave the cursor to Hearth alone, and reading the
 * workbench (status bar item, ghost text) through playwright.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { e2eRequired, repoRoot, unavailableReason } from '../../scripts/codeServer';

const root = repoRoot();

/** Engine settings shared by the editor and independent runs in the tests, so greedy decoding gives the same text. */
export const ENGINE = { threads: 1, contextSize: 2048, maxTokens: 32, timeLimitMs: 60_000 };

export const EDITOR_SETTINGS = {
  // Only Hearth may put text at the cursor: no suggest widget, auto-closing or auto-indent in the way.
  'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
  'editor.suggestOnTriggerCharacters': false,
  'editor.wordBasedSuggestions': 'off',
  'editor.parameterHints.enabled': false,
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.autoIndent': 'none',
  'editor.formatOnType': false,
  'editor.minimap.enabled': false,
  'hearth.completion.debounceMs': 250,
  'hearth.completion.maxTokens': ENGINE.maxTokens,
  'hearth.completion.timeLimitMs': ENGINE.timeLimitMs,
  'hearth.engine.threads': ENGINE.threads,
  'hearth.engine.contextSize': ENGINE.contextSize,
};

/** The packaged extension, when there is one (HEARTH_E2E_VSIX, else hearth.vsix at the root). */
export function vsixPath(): string | undefined {
  const p = process.env.HEARTH_E2E_VSIX ?? path.join(root, 'hearth.vsix');
  return fs.existsSync(p) ? p : undefined;
}

export function note(line: string): void {
  process.stdout.write(`      [e2e ${process.uptime().toFixed(1)}s] ${line}\n`);
}

/**
 * Skips the suite when the UI tests cannot run here (no chromium or code-server, or `extra` names what else is
 * missing), and fails it instead where they are required (CI, HEARTH_E2E_REQUIRED).
 */
export function skipUnlessUiAvailable(ctx: Mocha.Context, extra?: string): void {
  const why = unavailableReason(root) ?? extra;
  if (!why) return;
  if (e2eRequired()) throw new Error(`UI tests required (CI) but ${why}`);
  note(`skipped: ${why}`);
  ctx.skip();
}

/** The Hearth status bar item's text after the icon, e.g. "Hearth: ready". */
export function hearthStatus(page: Page) {
  return page.locator('.statusbar-item', { hasText: 'Hearth:' }).first();
}

export async function waitForStatus(page: Page, states: RegExp, timeout: number): Promise<string> {
  const item = hearthStatus(page);
  await item.waitFor({ timeout });
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = ((await item.textContent()) ?? '').replace(/\u00a0/g, ' ').trim();
    if (states.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`the Hearth status bar item says "${text}", not ${states}`);
    await page.waitForTimeout(100);
  }
}

/**
 * Runs a command from the command palette (F1). Enter waits until the focused row is the command: typing fast on a
 * loaded machine, the list can still show the recently used commands when the row appears further down, and Enter
 * then runs the wrong one. The palette can also open or list late after a reload: three tries at most.
 */
export async function runCommand(page: Page, title: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: 20_000 });
      await input.fill(`>${title}`);
      await page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: title }).first().waitFor({ timeout: 20_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (err) {
      if (attempt >= 3) throw err;
      note(`"${title}" could not be run from the command palette (attempt ${attempt}); trying again`);
      await page.keyboard.press('Escape');
    }
  }
}

/** The texts of the notifications on screen (toasts), for a test's note when the one it waits for is not there. */
export async function visibleNotifications(page: Page): Promise<string> {
  const texts = await page.locator('.notification-toast .notification-list-item').allTextContents().catch(() => []);
  return texts.length ? texts.map((t) => `"${t.replace(/\s+/g, ' ').trim()}"`).join(', ') : 'none';
}

/**
 * Opens a workspace file through Quick Open. On a loaded machine the workbench sometimes drops the pick (the list
 * was still filling when Enter came): the tab is then awaited again after a fresh Quick Open, three times at most.
 */
export async function openFile(page: Page, name: string): Promise<void> {
  const tab = page.locator('.tab.active', { hasText: name });
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(name);
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first();
    await row.waitFor({ timeout: 20_000 });
    await page.keyboard.press('Enter');
    try {
      await tab.waitFor({ timeout: 10_000 });
      return;
    } catch (err) {
      if (attempt >= 3) throw err;
      note(`${name} did not open after Quick Open (attempt ${attempt}); trying again`);
      await page.keyboard.press('Escape');
    }
  }
}

export async function typeAtEnd(page: Page, text: string): Promise<void> {
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text);
}

/**
 * All ghost text in the editor: the same-line spans of each line joined, then any following ghost lines, with
 * non-breaking spaces undone.
 */
export async function ghostText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const lines: string[] = [];
    for (const line of Array.from(document.querySelectorAll('.monaco-editor .view-line'))) {
      if (line.closest('.ghost-text')) continue;
      const spans = Array.from(line.querySelectorAll('.ghost-text-decoration, .ghost-text-decoration-preview'));
      if (spans.length) lines.push(spans.map((s) => s.textContent ?? '').join(''));
    }
    for (const line of Array.from(document.querySelectorAll('.monaco-editor .ghost-text .view-line'))) lines.push(line.textContent ?? '');
    return lines.join('\n').replace(/\u00a0/g, ' ');
  });
}

/** The ghost text once it stops changing: a multi-line suggestion's later lines are drawn after its first. */
export async function stableGhostText(page: Page, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = await ghostText(page);
  for (;;) {
    await page.waitForTimeout(300);
    const now = await ghostText(page);
    if (now === last || Date.now() > deadline) return now;
    last = now;
  }
}

export const GHOST = '.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text-decoration-preview, .monaco-editor .ghost-text';

/** The review webview's page (a frame nested in the workbench's webview iframe), once it has rendered. */
export async function reviewFrame(page: Page, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) {
      if (await f.locator('body#hearth-review[data-ready="true"]').count().catch(() => 0)) return f;
    }
    if (Date.now() > deadline) throw new Error('the escalation review did not open');
    await page.waitForTimeout(200);
  }
}
