import * as vscode from 'vscode';
import { chunkAround, ContextRing, contextRefresh } from '../../common/completion/contextRing';
import { contextText, fimTemplate, templateFor, type FimFamily, type FimOverride, type FimTemplate } from '../../common/completion/fimTemplates';
import type { Logger } from '../../common/logger';
import type { InfillParams, ModelInfo } from '../../common/protocol/engineProtocol';

/** Longest a definition lookup may hold up a completion: what does not answer by then is used next time. */
const DEFINITION_BUDGET_MS = 80;
/** The context placed in the prompt changes only after this much quiet, so typing reuses the evaluated prompt. */
const REFRESH_IDLE_MS = 1500;
/** Documents whose last context is remembered (going back to one keeps its prompt's start, so its state is reused). */
const REMEMBERED_DOCUMENTS = 64;
/** Share of the window budget (characters) repository context may take. */
const CONTEXT_SHARE = 0.3;
const MAX_FILE_CHARS = 1_000_000;

const LINE_COMMENT: Record<string, string> = { python: '#', shellscript: '#', ruby: '#', perl: '#', r: '#', yaml: '#', toml: '#', dockerfile: '#', makefile: '#', powershell: '#', lua: '--', sql: '--', haskell: '--' };

/**
 * The repository context of completions: a ring of chunks from recently opened, saved, left and copied code and
 * from definitions of identifiers near the cursor (VS Code's definition provider, within a time budget), written
 * in the model family's format. What the prompt holds is refreshed only after a pause or a switch of file, so
 * that while the user types it stays the same and the engine reuses its evaluated tokens.
 */
export class RepoContext implements vscode.Disposable {
  readonly ring = new ContextRing(16);
  private readonly disposables: vscode.Disposable[] = [];
  /** The context each document's prompt last started with (least recently used out). */
  private readonly perDocument = new Map<string, { ringVersion: number; windowStart: number; text: string }>();
  private lastRequestAt = 0;
  private lastClipboard = '';
  private lastEditLine = new Map<string, number>();

  constructor(private readonly logger: Logger) {
    const usable = (d: vscode.TextDocument) => (d.uri.scheme === 'file' || d.uri.scheme === 'untitled' || d.uri.scheme === 'vscode-remote') && d.getText().length < MAX_FILE_CHARS;
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => {
        if (usable(d)) this.add(d, 0, 'opened');
      }),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (usable(d)) this.add(d, this.lastEditLine.get(d.uri.toString()) ?? 0, 'saved');
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        const c = e.contentChanges[0];
        if (c) this.lastEditLine.set(e.document.uri.toString(), c.range.start.line);
      }),
      vscode.window.onDidChangeActiveTextEditor((() => {
        let previous: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
        return (next: vscode.TextEditor | undefined) => {
          // The code the user was working on when they left the file.
          if (previous && usable(previous.document) && !previous.document.isClosed) this.add(previous.document, previous.selection.active.line, 'edited');
          previous = next;
        };
      })()),
    );
  }

  setCapacity(n: number): void {
    this.ring.setCapacity(n);
  }

  private add(doc: vscode.TextDocument, line: number, kind: 'opened' | 'saved' | 'edited' | 'copied' | 'definition'): void {
    if (this.ring.add({ path: vscode.workspace.asRelativePath(doc.uri, false), text: chunkAround(doc.getText(), line), kind })) {
      this.logger.trace(`repository context: ${kind} ${vscode.workspace.asRelativePath(doc.uri, false)}:${line + 1} (${this.ring.size} chunks)`);
    }
  }

  /**
   * Gathers while the request waits for its debounce: the clipboard (copied code) and the definitions of the
   * identifiers on the cursor's line, each lookup bounded by the budget.
   */
  async gather(document: vscode.TextDocument, position: vscode.Position): Promise<void> {
    if (this.ring.size === 0 && this.lastRequestAt === 0) this.add(document, position.line, 'opened');
    // In a browser-hosted VS Code (code-server, vscode.dev) reading the clipboard asks the browser, which prompts
    // the user or shows "Unable to read from the browser's clipboard" on every request: copied code is left out there.
    const readClipboard = vscode.env.uiKind === vscode.UIKind.Web ? Promise.resolve('') : vscode.env.clipboard.readText();
    const clip = readClipboard.then((text) => {
      if (text && text !== this.lastClipboard && text.length < 8000 && /[;{}()=:]/.test(text)) {
        this.lastClipboard = text;
        this.ring.add({ path: 'clipboard', text: chunkAround(text, 0), kind: 'copied' });
      }
    }, () => undefined);
    const line = document.lineAt(position.line).text.slice(0, position.character);
    const ids = [...new Set([...line.matchAll(/[A-Za-z_$][\w$]{2,}/g)].map((m) => ({ name: m[0], at: m.index! })))].slice(-3);
    const lookups = ids.map(async ({ at }) => {
      const locs = await vscode.commands.executeCommand<Array<vscode.Location | vscode.LocationLink>>('vscode.executeDefinitionProvider', document.uri, new vscode.Position(position.line, at));
      const loc = locs?.[0];
      if (!loc) return;
      const uri = 'targetUri' in loc ? loc.targetUri : loc.uri;
      const range = 'targetRange' in loc ? loc.targetRange : loc.range;
      // A definition already inside the prompt's window says nothing new.
      if (uri.toString() === document.uri.toString() && Math.abs(range.start.line - position.line) < 60) return;
      const doc = await vscode.workspace.openTextDocument(uri);
      this.ring.add({ path: vscode.workspace.asRelativePath(uri, false), text: chunkAround(doc.getText(), range.start.line, 24), kind: 'definition' });
    });
    await Promise.race([Promise.allSettled([clip, ...lookups]), new Promise((r) => setTimeout(r, DEFINITION_BUDGET_MS))]);
  }

  /**
   * The context text for a request and the FIM override. A new document gets it from the ring. Otherwise it is the
   * text that document's prompt last started with (so the prompt's start, and the engine's reuse of the document's
   * evaluated state, hold — also when the user comes back to it from another file), refreshed from the ring only
   * where the re-read that causes is cheap on this machine (`affords(chars)`; a change at the top of the prompt makes the
   * engine evaluate everything after it again, ~20 s for a 1.5B model on two cores): the context alone where the
   * window's anchored start (`window.start`) moved, so the window is read again anyway; the whole prompt otherwise,
   * after a pause. See `contextRefresh`.
   */
  forRequest(document: vscode.TextDocument, model: ModelInfo, window: { chars: number; start: number }, cursorText: string, overrides: Record<string, FimOverride>, affords: (chars: number) => boolean): { context: string | undefined; fim: InfillParams['fim'] | undefined; template: FimTemplate } {
    const detected = (model.fimFamily ?? 'generic') as FimFamily;
    const template = templateFor(detected, model.path, model.name, overrides);
    // A template from settings other than the detected one: the engine is told its tokens.
    const fim = template !== fimTemplate(detected) ? { prefix: template.prefix, suffix: template.suffix, middle: template.middle, order: template.order } : undefined;
    const now = Date.now();
    const idle = now - this.lastRequestAt >= REFRESH_IDLE_MS;
    this.lastRequestAt = now;
    const path = vscode.workspace.asRelativePath(document.uri, false);
    const docKey = `${document.uri.toString()}\u0000${template.family}`;
    let published = this.perDocument.get(docKey);
    const ringChanged = published !== undefined && published.ringVersion !== this.ring.version;
    const windowMoved = published !== undefined && published.windowStart !== window.start;
    const contextChars = Math.floor(window.chars * CONTEXT_SHARE);
    const affordable = { whole: ringChanged && affords(window.chars), context: ringChanged && affords(contextChars) };
    if (published && contextRefresh({ known: true, ringChanged, windowMoved, idle, affordable }) === 'keep') {
      if (ringChanged && (idle || windowMoved)) this.logger.debug(`repository context for ${path}: kept (a new one would have the engine read ${windowMoved ? 'it' : 'the whole prompt'} again, slow on this machine)`);
      published.windowStart = window.start;
    } else {
      const chunks = this.ring.select(path, cursorText, contextChars);
      const repo = vscode.workspace.getWorkspaceFolder(document.uri)?.name ?? 'workspace';
      published = { ringVersion: this.ring.version, windowStart: window.start, text: contextText(template, chunks, { path, repo, comment: LINE_COMMENT[document.languageId] ?? '//' }) };
      this.logger.debug(`repository context for ${path}: ${chunks.length} chunks (${chunks.map((c) => `${c.kind} ${c.path}`).join(', ') || 'none'}), ${published.text.length} characters, ${template.family} format${ringChanged ? (windowMoved ? ' (the window moved: it is read again anyway)' : ' (after a pause)') : ''}`);
    }
    this.perDocument.delete(docKey);
    this.perDocument.set(docKey, published);
    if (this.perDocument.size > REMEMBERED_DOCUMENTS) this.perDocument.delete(this.perDocument.keys().next().value!);
    return { context: published.text || undefined, fim, template };
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
