import * as vscode from 'vscode';
import { runCompletion, type CompletionOutcome } from '../../common/completion/completionPipeline';
import { defaultFimWindows } from '../../common/completion/fimInput';
import { Settings } from '../../common/settings';
import { getSetting } from '../config';
import type { EngineHost } from '../engineHost';

/** Waits `ms`, resolving false early if `token` is cancelled. */
function debounce(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!token.isCancellationRequested);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sub.dispose();
      resolve(!token.isCancellationRequested);
    }, ms);
    const sub = token.onCancellationRequested(() => {
      clearTimeout(timer);
      sub.dispose();
      resolve(false);
    });
  });
}

/**
 * Inline completions from the local engine: debounce, bounded FIM windows, the cancellation token passed
 * through to the engine (a newer keystroke cancels the older request), post-processed ghost text.
 */
export class InlineCompletionProvider implements vscode.InlineCompletionItemProvider {
  private last: CompletionOutcome | undefined;

  constructor(private readonly host: EngineHost) {}

  get lastCompletion(): CompletionOutcome | undefined {
    return this.last;
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    _context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    if (!getSetting(Settings.completionEnabled, document)) return undefined;
    if (!(await debounce(getSetting(Settings.completionDebounceMs, document), token))) return undefined;
    const model = await this.host.ensureModel();
    if (!model || token.isCancellationRequested) return undefined;

    // Read only the windows the request needs, not the whole document.
    const offset = document.offsetAt(position);
    const start = document.positionAt(Math.max(0, offset - defaultFimWindows.maxPrefixChars));
    const end = document.positionAt(offset + defaultFimWindows.maxSuffixChars);
    const text = document.getText(new vscode.Range(start, end));
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    try {
      const outcome = await runCompletion(
        this.host.client,
        { text, offset: offset - document.offsetAt(start), documentId: document.uri.toString() },
        { maxTokens: getSetting(Settings.completionMaxTokens, document), timeLimitMs: getSetting(Settings.completionTimeLimitMs, document) },
        abort.signal,
      );
      this.host.markReady();
      if (token.isCancellationRequested || !outcome.suggestion) return undefined;
      this.last = outcome;
      return [new vscode.InlineCompletionItem(outcome.suggestion, new vscode.Range(position, position))];
    } catch (err) {
      if (!token.isCancellationRequested) this.host.reportError(err);
      return undefined;
    } finally {
      sub.dispose();
    }
  }
}
