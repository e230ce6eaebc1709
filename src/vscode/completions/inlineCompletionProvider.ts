import * as vscode from 'vscode';
import { runCompletion, type CompletionOutcome } from '../../common/completion/completionPipeline';
import { defaultFimWindows } from '../../common/completion/fimInput';
import { OutcomeTracker, type DocumentEdit, type SettledSuggestion, type ShownSuggestion } from '../../common/completion/outcomeTracker';
import type { Outcome } from '../../common/ledger/ledgerEnums';
import type { InfillResult, ModelInfo } from '../../common/protocol/engineProtocol';
import type { LedgerService } from '../ledger/ledgerService';
import type { RecordedTask } from '../ledger/recordedTask';
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
/** A suggestion on screen, with what the ledger needs when its outcome is known. */
interface Shown extends ShownSuggestion {
  uri: vscode.Uri;
  model: ModelInfo;
  result: InfillResult;
  startedAt: string;
}

export const acceptedCommand = 'hearth.completionAccepted';

export class InlineCompletionProvider implements vscode.InlineCompletionItemProvider {
  private last: CompletionOutcome | undefined;
  private lastRecorded: RecordedTask | undefined;
  private readonly tracker = new OutcomeTracker<Shown>((settled) => this.recordSettled(settled));

  constructor(
    private readonly host: EngineHost,
    private readonly ledger: LedgerService,
    private readonly machineProfileId: () => string | undefined,
  ) {}

  /** The editor accepted a suggestion (the item's command runs after Tab inserts it). */
  accepted(shown: Shown): void {
    this.tracker.accepted(shown.documentId, shown);
  }

  /** Document edits decide the outcome of the suggestion on screen. */
  documentChanged(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0) return;
    const edits: DocumentEdit[] = e.contentChanges.map((c) => ({ offset: c.rangeOffset, rangeLength: c.rangeLength, text: c.text }));
    this.tracker.edited(e.document.uri.toString(), edits);
  }

  /** Settles what is still on screen (the window is closing). */
  settleAll(): void {
    this.tracker.settleAll();
  }

  get lastCompletion(): CompletionOutcome | undefined {
    return this.last;
  }

  /** The last completion written to a ledger (what "Flag Last Answer as Incident…" points at). */
  get lastTask(): RecordedTask | undefined {
    return this.lastRecorded;
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    _context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    if (!getSetting(Settings.completionEnabled)) return undefined;
    if (!(await debounce(getSetting(Settings.completionDebounceMs), token))) return undefined;
    const model = await this.host.ensureModel();
    if (!model || token.isCancellationRequested) return undefined;

    // Read only the windows the request needs, not the whole document.
    const offset = document.offsetAt(position);
    const start = document.positionAt(Math.max(0, offset - defaultFimWindows.maxPrefixChars));
    const end = document.positionAt(offset + defaultFimWindows.maxSuffixChars);
    const text = document.getText(new vscode.Range(start, end));
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    try {
      const outcome = await runCompletion(
        this.host.client,
        { text, offset: offset - document.offsetAt(start), documentId: document.uri.toString() },
        { maxTokens: getSetting(Settings.completionMaxTokens), timeLimitMs: getSetting(Settings.completionTimeLimitMs), beamWidth: getSetting(Settings.completionBeamWidth) || undefined },
        abort.signal,
      );
      this.host.markReady();
      if (outcome.result.stopReason === 'cancelled') {
        // A newer keystroke made it stale; it still cost compute, so it is a task in the ledger.
        if (outcome.result.tokensOut > 0) this.record(document.uri, model, outcome.result, startedAt, 'cancelled');
        return undefined;
      }
      if (token.isCancellationRequested || !outcome.suggestion) return undefined;
      this.last = outcome;
      const shown: Shown = { documentId: document.uri.toString(), offset, text: outcome.suggestion, uri: document.uri, model, result: outcome.result, startedAt };
      this.tracker.shown(shown);
      const item = new vscode.InlineCompletionItem(outcome.suggestion, new vscode.Range(position, position));
      item.command = { command: acceptedCommand, title: 'Accept Hearth suggestion', arguments: [shown] };
      return [item];
    } catch (err) {
      if (!token.isCancellationRequested) {
        this.host.reportError(err);
        const failed: InfillResult = { text: '', tokensEvaluated: 0, tokensOut: 0, timeToFirstTokenMs: null, totalMs: performance.now() - t0, stopReason: 'eos' };
        this.record(document.uri, model, failed, startedAt, 'error');
      }
      return undefined;
    } finally {
      sub.dispose();
    }
  }

  private recordSettled(settled: SettledSuggestion<Shown>): void {
    const s = settled.suggestion;
    this.record(s.uri, s.model, s.result, s.startedAt, settled.outcome, { charsSuggested: s.text.length, charsAccepted: settled.charsAccepted, linesAccepted: settled.linesAccepted });
  }

  private record(uri: vscode.Uri, model: ModelInfo, result: InfillResult, time: string, outcome: Outcome, chars: { charsSuggested?: number; charsAccepted?: number; linesAccepted?: number } = {}): void {
    const { sink, workspace } = this.ledger.sinkFor(uri);
    if (workspace === 'none') return;
    try {
      const id = sink.append({
        kind: 'task',
        time,
        workspace,
        lane: 'completion',
        model: model.name,
        backend: 'llama.cpp',
        machineProfileId: this.machineProfileId(),
        tokensIn: result.tokensEvaluated,
        tokensOut: result.tokensOut,
        timeToFirstTokenMs: result.timeToFirstTokenMs,
        totalMs: result.totalMs,
        outcome,
        destination: 'local',
        ...chars,
      });
      this.lastRecorded = { id, uri, lane: 'completion', model: model.name, time, outcome };
    } catch (err) {
      this.host.reportError(new Error(`could not record the completion in the workspace ledger: ${err instanceof Error ? err.message : String(err)}`));
    }
  }
}
