import { appendFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { CompletionService, type CompletionOutcome, type CompletionSettings, type CompletionStats, type Verdict, WARM_IDLE_MS } from '../../common/completion/completionPipeline';
import { anchoredWindowStart, documentWindow, windowsForContext, withSelectedItem, type FimWindowOptions } from '../../common/completion/fimInput';
import type { FimOverride } from '../../common/completion/fimTemplates';
import { RepoContext } from './repoContext';
import { OutcomeTracker, type DocumentEdit, type SettledSuggestion, type ShownSuggestion } from '../../common/completion/outcomeTracker';
import { survival, SurvivalTracker, type TrackedRange } from '../../common/completion/survivalTracker';
import type { Outcome, RoutingReason } from '../../common/ledger/ledgerEnums';
import { speedRecordFields } from '../../common/ledger/ledgerRecord';
import type { EffectivePolicy } from '../../common/policy/combinePolicies';
import { classify } from '../../common/policy/decide';
import { routeByConfidence } from '../../common/policy/routing';
import { errorMessage, type Logger } from '../../common/logger';
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

/** A suggestion on screen, with what the ledger needs when its outcome is known. */
interface Shown extends ShownSuggestion {
  uri: vscode.Uri;
  model: ModelInfo;
  result: InfillResult;
  startedAt: string;
  confidence: number | null;
  source: Extract<Verdict, { kind: 'shown' }>['source'];
  /** Set when the answer fell under the lane's routing threshold (the record says why). */
  routedBy?: RoutingReason;
}

/** Longest re-read a refresh of the repository context may cause (see RepoContext.forRequest). */
const CONTEXT_REFRESH_BUDGET_MS = 1000;
export const acceptedCommand = 'hearth.completionAccepted';
/** When accepted text's survival is measured; the ledger record is written after the last. */
const SURVIVAL_CHECKS_MS = survivalChecks(process.env.HEARTH_SURVIVAL_CHECKS_MS);

/** 30 s and 5 min; `HEARTH_SURVIVAL_CHECKS_MS=a,b` shortens both for tests that wait for the accepted record. */
function survivalChecks(env: string | undefined): readonly [number, number] {
  const [a, b] = (env ?? '').split(',').map(Number);
  return a !== undefined && b !== undefined && a > 0 && b >= a ? [a, b] : [30_000, 300_000];
}

/** Fields a completion record carries beyond the engine's counts. */
interface CompletionFields {
  charsSuggested?: number;
  charsAccepted?: number;
  linesAccepted?: number;
  confidence?: number;
  completionSource?: 'engine' | 'cache' | 'typeThrough';
  acceptedVia?: 'tab' | 'word' | 'line' | 'typed';
  survival30s?: number;
  survival5m?: number;
  routedBy?: RoutingReason;
}

/** An accepted suggestion whose record waits for its survival checkpoints. */
interface Surviving {
  range: TrackedRange;
  uri: vscode.Uri;
  write: (fields: CompletionFields) => void;
  fields: CompletionFields;
  timers: NodeJS.Timeout[];
}
/** Hidden command: the pipeline's counters (engine requests, cache and type-through hits…), for tests and the status bar. */
export const completionStatsCommand = 'hearth.completionStats';

/** What the status bar shows of completions: generating or not, the last time to suggestion, decode speed. */
export interface CompletionActivity {
  generating: boolean;
  lastTimeToSuggestionMs: number | undefined;
  tokensPerSecond: number | undefined;
}

/**
 * Inline completions from the local engine through the completion pipeline (cache, type-through, post-processing,
 * confidence gate). Every request that ends without ghost text logs one debug line saying why, so
 * `Hearth: Show Log` at debug level explains each keystroke.
 */
export class InlineCompletionProvider implements vscode.InlineCompletionItemProvider {
  private last: CompletionOutcome | undefined;
  private lastRecorded: RecordedTask | undefined;
  private readonly tracker = new OutcomeTracker<Shown>((settled) => this.recordSettled(settled));
  readonly service: CompletionService;
  private seq = 0;
  private readonly paused = new Set<string>();
  private pausedAll = false;
  private activity: CompletionActivity = { generating: false, lastTimeToSuggestionMs: undefined, tokensPerSecond: undefined };
  private readonly activityEmitter = new vscode.EventEmitter<CompletionActivity>();
  readonly onActivity = this.activityEmitter.event;
  private prefetchAbort: AbortController | undefined;
  private readonly survivals = new SurvivalTracker();
  private readonly surviving = new Set<Surviving>();
  private readonly repo: RepoContext;
  private warmTimer: NodeJS.Timeout | undefined;
  private warmAbort: AbortController | undefined;
  private prefetching = false;
  private readonly disposables: vscode.Disposable[] = [];
  /** HEARTH_COMPLETION_TRACE: a file that gets one JSON line per request (the UI test reads it). */
  private readonly traceFile = process.env.HEARTH_COMPLETION_TRACE;

  constructor(
    private readonly host: EngineHost,
    private readonly ledger: LedgerService,
    private readonly machineProfileId: () => string | undefined,
    private readonly logger: Logger,
    /** The effective policy of a document's folder (routing thresholds, lanes, data classes); undefined: none. */
    private readonly policyFor: (uri: vscode.Uri) => EffectivePolicy | undefined = () => undefined,
  ) {
    // The focused window's requests go first in the shared engine's batches (a window in the background waits).
    this.service = new CompletionService({ infill: (params, opts) => host.client.infill({ ...params, focused: vscode.window.state.focused }, opts) });
    this.repo = new RepoContext(logger);
    // Idle moments in an editor are when its prompt can be evaluated ahead of the next keystroke (see warm).
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.scheduleWarm()),
      vscode.window.onDidChangeTextEditorSelection(() => this.scheduleWarm()),
    );
  }

  get stats(): CompletionStats & { pausedAll: boolean; paused: string[] } {
    return { ...this.service.stats, pausedAll: this.pausedAll, paused: [...this.paused] };
  }

  /** Pauses or resumes completions for one language, or for all when `languageId` is undefined. */
  setPaused(languageId: string | undefined, paused: boolean): void {
    if (languageId === undefined) this.pausedAll = paused;
    else if (paused) this.paused.add(languageId);
    else this.paused.delete(languageId);
  }

  isPaused(languageId: string | undefined): boolean {
    return this.pausedAll || (languageId !== undefined && this.paused.has(languageId));
  }

  /** The editor accepted a suggestion (the item's command runs after Tab inserts it). */
  accepted(shown: Shown): void {
    this.tracker.accepted(shown.documentId, shown);
  }

  /** Document edits decide the outcome of the suggestion on screen. */
  documentChanged(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0) return;
    const edits: DocumentEdit[] = e.contentChanges.map((c) => ({ offset: c.rangeOffset, rangeLength: c.rangeLength, text: c.text }));
    this.tracker.edited(e.document.uri.toString(), edits);
    this.survivals.edited(e.document.uri.toString(), edits);
  }

  /** Settles what is still on screen and writes the records still waiting for survival checks (the window is closing). */
  settleAll(): void {
    this.tracker.settleAll();
    for (const s of [...this.surviving]) this.finishSurvival(s);
  }

  get lastCompletion(): CompletionOutcome | undefined {
    return this.last;
  }

  /** The last completion written to a ledger (what "Flag Last Answer as Incident…" points at). */
  get lastTask(): RecordedTask | undefined {
    return this.lastRecorded;
  }

  dispose(): void {
    clearTimeout(this.warmTimer);
    this.warmAbort?.abort();
    for (const d of this.disposables) d.dispose();
    this.repo.dispose();
    this.prefetchAbort?.abort();
    this.activityEmitter.dispose();
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const id = ++this.seq;
    const where = `${vscode.workspace.asRelativePath(document.uri, false)}:${position.line + 1}:${position.character + 1}`;
    const none = (reason: string, extra: Record<string, unknown> = {}): undefined => {
      // What ended a pause with nothing on screen goes to the log at the default level (one line per pause, so the
      // user can see why); a request a newer keystroke superseded, or one made while completions are off or paused,
      // only at debug (one per keystroke).
      const quiet = /^(debounced|cancelled by a newer keystroke|completions are off|paused)/.test(reason);
      this.logger[quiet ? 'debug' : 'info'](`completion #${id} ${where}: no suggestion: ${reason}`);
      this.trace({ id, where, kind: 'none', reason, engineRequests: this.service.stats.engineRequests, ...extra });
      return undefined;
    };
    if (!getSetting(Settings.completionEnabled, document)) return none('completions are off (hearth.completion.enabled)');
    if (this.isPaused(document.languageId)) return none(`paused (${this.pausedAll ? 'all languages' : document.languageId}) from the Hearth status bar menu`);
    const chunks = getSetting(Settings.completionContextChunks);
    this.repo.setCapacity(chunks);
    // Repository context is gathered while the debounce runs (bounded by its own budget).
    const gathering = chunks > 0 ? this.repo.gather(document, position).catch(() => undefined) : undefined;
    const debounceMs = this.service.control.debounceMs(getSetting(Settings.completionDebounceMs));
    if (!(await debounce(debounceMs, token))) return none(`debounced: a newer keystroke came within ${debounceMs} ms`);
    await gathering;
    const loading = this.host.client.model === undefined;
    const model = await this.host.ensureModel();
    if (!model) return none('no model: none configured, or it failed to load (see the error above)');
    if (token.isCancellationRequested) return none(loading ? 'cancelled by a newer keystroke while the model was loading' : 'cancelled by a newer keystroke');

    // With the suggest widget open on an item, the model continues that item (VS Code shows only ghost text that
    // extends it): the item goes into the prompt, and the suggestion replaces the word with the item plus its text.
    const selected = context.selectedCompletionInfo;
    const { doc, settings } = this.requestFor(document, position, model, selected);
    const lead = selected?.text ?? '';
    const replaceFrom = selected ? selected.range.start : position;
    const offset = document.offsetAt(replaceFrom);
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    // A prefetch in flight is not aborted here: this request may be the one it prepared (and joins it); otherwise
    // the engine's newest-keystroke rule cancels it when this request reaches the engine.
    try {
      this.setGenerating(true);
      const verdict = await this.service.complete(doc, settings, abort.signal);
      this.host.markReady();
      const result = verdict.result;
      if (verdict.kind === 'none') {
        // A request cancelled by a newer keystroke still cost compute, so it is a task in the ledger.
        if (result?.stopReason === 'cancelled' && result.tokensOut > 0) this.record(document.uri, model, result, startedAt, 'cancelled', { completionSource: 'engine' });
        return none(verdict.reason, { engineRequests: this.service.stats.engineRequests, prefetches: this.service.stats.prefetches, confidence: verdict.confidence });
      }
      if (token.isCancellationRequested) return none('cancelled by a newer keystroke after the answer arrived');
      const ms = performance.now() - t0;
      this.activity.lastTimeToSuggestionMs = ms;
      this.activity.tokensPerSecond = this.service.control.measured.tokensPerSecond;
      if (verdict.source === 'engine' && result) {
        this.last = { suggestion: verdict.text, prefix: verdict.input.prefix, suffix: verdict.input.suffix, result, alternatives: verdict.alternatives, notes: verdict.notes };
      }
      const routed = verdict.source === 'engine' ? this.route(document, verdict.confidence) : undefined;
      if (routed?.route && !routed.offer) {
        // The policy allows no other tier for this file: the unsure answer is held back, and the ledger says why.
        if (result) this.record(document.uri, model, result, startedAt, 'ignored', { confidence: verdict.confidence ?? undefined, completionSource: 'engine', routedBy: routed.reason });
        return none(`held back by routing: ${routed.message}`, { engineRequests: this.service.stats.engineRequests, prefetches: this.service.stats.prefetches, confidence: verdict.confidence });
      }
      if (routed?.route) {
        this.logger.info(`completion #${id} ${where}: ${routed.message}`);
        vscode.window.setStatusBarMessage(`Hearth: unsure suggestion (${routed.message.split(':')[0]}) — Hearth: Escalate to Frontier can ask the ${routed.offer} tier`, 8000);
      }
      const conf = verdict.confidence === null ? 'n/a' : verdict.confidence.toFixed(2);
      const cost = result ? `, ${result.tokensEvaluated} tokens evaluated, ${result.tokensOut} generated, engine ${result.totalMs.toFixed(0)} ms` : ', no engine request';
      this.logger.debug(`completion #${id} ${where}: shown from ${verdict.source} in ${ms.toFixed(0)} ms (${verdict.text.length} chars, ${verdict.alternatives.length} alternatives, confidence ${conf}${cost})${verdict.notes.length ? `; ${verdict.notes.join('; ')}` : ''}`);
      this.trace({ id, where, kind: 'shown', source: verdict.source, text: verdict.text, engineRequests: this.service.stats.engineRequests, prefetches: this.service.stats.prefetches, confidence: verdict.confidence });
      const ledgerResult: InfillResult = result ?? { text: verdict.text, tokensEvaluated: 0, tokensOut: 0, timeToFirstTokenMs: ms, totalMs: ms, stopReason: 'eos' };
      const items: vscode.InlineCompletionItem[] = [];
      for (const [i, suggestion] of [verdict.text, ...verdict.alternatives].entries()) {
        const shown: Shown = { documentId: document.uri.toString(), offset, text: lead + suggestion, uri: document.uri, model, result: ledgerResult, startedAt, confidence: i === 0 ? verdict.confidence : null, source: verdict.source, routedBy: routed?.route ? routed.reason : undefined };
        // Typing through keeps the suggestion first shown pending (one outcome for it, not one per keystroke).
        if (i === 0 && !(verdict.source === 'typeThrough' && this.tracker.continues(shown.documentId, offset, shown.text))) this.tracker.shown(shown);
        const item = new vscode.InlineCompletionItem(shown.text, new vscode.Range(replaceFrom, position));
        item.command = { command: acceptedCommand, title: 'Accept Hearth suggestion', arguments: [shown] };
        items.push(item);
      }
      this.prefetchNext(doc, verdict.text, settings, where);
      return items;
    } catch (err) {
      if (token.isCancellationRequested) return none(`cancelled by a newer keystroke (${errorMessage(err)})`);
      this.host.reportError(err);
      const failed: InfillResult = { text: '', tokensEvaluated: 0, tokensOut: 0, timeToFirstTokenMs: null, totalMs: performance.now() - t0, stopReason: 'eos' };
      this.record(document.uri, model, failed, startedAt, 'error');
      return none(`engine error: ${errorMessage(err)}`);
    } finally {
      this.setGenerating(false);
      sub.dispose();
      this.scheduleWarm();
    }
  }

  /**
   * The document windows and settings of a request at `position`: only the windows the request needs are read (not
   * the whole document), with the repository context when it is on (see RepoContext.forRequest).
   */
  private requestFor(document: vscode.TextDocument, position: vscode.Position, model: ModelInfo, selected?: vscode.SelectedCompletionInfo): { doc: { text: string; offset: number; documentId: string; base: number }; settings: CompletionSettings & { windows: FimWindowOptions } } {
    const settings = this.settings(model);
    const windows = settings.windows;
    const offset = document.offsetAt(position);
    const cut = documentWindow(offset, Number.MAX_SAFE_INTEGER, windows);
    const start = document.positionAt(cut.start);
    const base = document.offsetAt(start);
    const window = { text: document.getText(new vscode.Range(start, document.positionAt(cut.end))), offset: offset - base };
    const { text, offset: at } = selected ? withSelectedItem(window.text, window.offset, document.offsetAt(selected.range.start) - base, selected.text) : window;
    const doc = { text, offset: at, documentId: document.uri.toString(), base };
    if (getSetting(Settings.completionContextChunks) > 0) {
      const around = text.slice(Math.max(0, doc.offset - 2000), doc.offset + 500);
      const windowChars = windows.maxPrefixChars + windows.maxSuffixChars;
      // ~3 characters a token; a new context is worth the re-read it causes only where that takes a second or less.
      const affords = (chars: number) => this.service.control.affordsPrefill(chars / 3, CONTEXT_REFRESH_BUDGET_MS);
      const rc = this.repo.forRequest(document, model, { chars: windowChars, start: anchoredWindowStart(offset, windows) }, around, getSetting(Settings.completionFimTemplates) as Record<string, FimOverride>, affords);
      Object.assign(settings, { context: rc.context, fim: rc.fim });
    }
    return { doc, settings };
  }

  /** Restarts the idle timer after which the prompt at the cursor is evaluated ahead of the next keystroke (warm). */
  private scheduleWarm(): void {
    clearTimeout(this.warmTimer);
    this.warmTimer = setTimeout(() => void this.warm(), WARM_IDLE_MS);
  }

  /**
   * While the user is idle in an editor (a file opened or switched to, a pause, a cursor moved): the prompt a
   * keystroke at the cursor would send is evaluated now, so that keystroke pays only for its own tokens. Without
   * this the first keystroke in a file, and the first after the repository context changed, pays a full prefill
   * (seconds on a 1.5B model on a CPU). Never loads a model; one at a time; a window without focus sends it as
   * such, so the engine lets the focused window's requests go first.
   */
  private async warm(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const model = this.host.client.model;
    const skip = (why: string, where?: string) => this.trace({ kind: 'warm', skipped: why, where });
    if (!editor || !model) return skip(editor ? 'no model loaded' : 'no editor');
    // A request or a next-suggestion prefetch in flight for the document would be cancelled by this one (the
    // engine's newest-request rule); it reschedules the warm-up when it ends.
    if (this.activity.generating || this.prefetching) return skip('a completion is in flight');
    const document = editor.document;
    if (!['file', 'untitled', 'vscode-remote'].includes(document.uri.scheme) || document.lineCount > 200_000) return skip(`not a source file (${document.uri.scheme})`);
    if (!getSetting(Settings.completionEnabled, document) || this.isPaused(document.languageId)) return skip('completions off or paused');
    const position = editor.selection.active;
    if (getSetting(Settings.completionContextChunks) > 0) await this.repo.gather(document, position).catch(() => undefined);
    const { doc, settings } = this.requestFor(document, position, model);
    this.warmAbort?.abort();
    const abort = new AbortController();
    this.warmAbort = abort;
    const where = `${vscode.workspace.asRelativePath(document.uri, false)}:${position.line + 1}:${position.character + 1}`;
    try {
      const r = await this.service.warm(doc, settings, abort.signal);
      if (!r) return skip('the spot has a cached suggestion, or a completion there is pointless', where);
      this.logger.debug(`completion warm-up ${where}: ${r.stopReason === 'cancelled' ? 'stopped by a keystroke after' : 'evaluated'} ${r.tokensEvaluated} prompt tokens (${r.promptSource ?? '?'}, ${r.tokensReused ?? 0} reused) in ${r.totalMs.toFixed(0)} ms while idle`);
      this.trace({ kind: 'warm', where, tokensEvaluated: r.tokensEvaluated, tokensReused: r.tokensReused, stopReason: r.stopReason });
    } catch (err) {
      this.logger.debug(`completion warm-up ${where}: ${errorMessage(err)}`);
      skip(`error: ${errorMessage(err)}`, where);
    }
  }

  /** Routing by confidence for the completion lane (hearth.routing.confidenceThresholds, the repo policy). */
  private route(document: vscode.TextDocument, confidence: number | null): ReturnType<typeof routeByConfidence> | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(document.uri);
    const policy = folder ? this.policyFor(folder.uri) : undefined;
    if (!policy || confidence === null) return undefined;
    const dataClass = document.uri.scheme === 'file' ? classify(policy, vscode.workspace.asRelativePath(document.uri, false)).dataClass : policy.dataClasses.default;
    return routeByConfidence(policy, 'completion', dataClass, confidence);
  }

  private settings(model: ModelInfo): CompletionSettings & { windows: FimWindowOptions } {
    const minConfidence = getSetting(Settings.completionMinConfidence);
    const maxTokens = getSetting(Settings.completionMaxTokens);
    return {
      // Windows that fit the loaded context (less the share repository context may take): a prompt cut by the
      // engine would lose its start on every keystroke.
      windows: windowsForContext(getSetting(Settings.completionContextChunks) > 0 ? Math.floor(model.contextSize * 0.7) : model.contextSize, maxTokens),
      maxTokens,
      timeLimitMs: getSetting(Settings.completionTimeLimitMs),
      beamWidth: getSetting(Settings.completionBeamWidth) || undefined,
      // The setting's lowest value turns the gate off.
      minConfidence: minConfidence <= -100 ? undefined : minConfidence,
    };
  }

  /** Prepares the suggestion for the state after `accepted`; the next engine request for the document cancels it. */
  private prefetchNext(doc: { text: string; offset: number; documentId: string; base: number }, accepted: string, settings: CompletionSettings, where: string): void {
    const abort = new AbortController();
    this.prefetchAbort = abort;
    this.prefetching = true;
    void this.service
      .prefetch(doc, accepted, settings, abort.signal)
      .then(
        () => this.logger.trace(`completion ${where}: next suggestion prepared (${this.service.stats.prefetches} prefetches)`),
        () => undefined,
      )
      .finally(() => {
        if (this.prefetchAbort === abort) this.prefetching = false;
      });
  }

  private setGenerating(generating: boolean): void {
    this.activity = { ...this.activity, generating };
    this.activityEmitter.fire(this.activity);
  }

  private trace(line: Record<string, unknown>): void {
    if (!this.traceFile) return;
    try {
      appendFileSync(this.traceFile, JSON.stringify({ time: Date.now(), ...line }) + '\n');
    } catch {
      // A trace is for tests: a failure to write it must not affect completions.
    }
  }

  private recordSettled(settled: SettledSuggestion<Shown>): void {
    const s = settled.suggestion;
    const fields: CompletionFields = {
      charsSuggested: s.text.length,
      charsAccepted: settled.charsAccepted,
      linesAccepted: settled.linesAccepted,
      confidence: s.confidence ?? undefined,
      completionSource: s.source,
      acceptedVia: settled.acceptedVia,
      routedBy: s.routedBy,
    };
    const write = (f: CompletionFields) => this.record(s.uri, s.model, s.result, s.startedAt, settled.outcome, f);
    if (settled.charsAccepted === 0) {
      write(fields);
      return;
    }
    // Accepted text: the record waits for its survival at 30 s and 5 min (or the window closing).
    const surviving: Surviving = { range: this.survivals.track(s.documentId, s.offset, s.text.slice(0, settled.charsAccepted)), uri: s.uri, write, fields, timers: [] };
    this.surviving.add(surviving);
    surviving.timers = SURVIVAL_CHECKS_MS.map((ms, i) =>
      setTimeout(() => {
        const share = this.measureSurvival(surviving);
        if (share !== undefined) surviving.fields[i === 0 ? 'survival30s' : 'survival5m'] = share;
        if (i === SURVIVAL_CHECKS_MS.length - 1 || share === undefined) this.finishSurvival(surviving);
      }, ms),
    );
  }

  /** The share of the accepted text still at its range, or undefined when the document is gone. */
  private measureSurvival(s: Surviving): number | undefined {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === s.range.documentId);
    if (!doc || doc.isClosed) return undefined;
    const now = doc.getText(new vscode.Range(doc.positionAt(s.range.start), doc.positionAt(s.range.end)));
    const share = Math.round(survival(s.range.text, now) * 1000) / 1000;
    this.logger.debug(`completion survival ${vscode.workspace.asRelativePath(s.uri, false)}: ${(share * 100).toFixed(0)}% of ${s.range.text.length} accepted characters still there`);
    return share;
  }

  private finishSurvival(s: Surviving): void {
    if (!this.surviving.delete(s)) return;
    for (const t of s.timers) clearTimeout(t);
    this.survivals.untrack(s.range);
    s.write(s.fields);
  }

  private record(uri: vscode.Uri, model: ModelInfo, result: InfillResult, time: string, outcome: Outcome, fields: CompletionFields = {}): void {
    const { sink, workspace } = this.ledger.sinkFor(uri);
    if (workspace === 'none') return;
    const counts = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as CompletionFields;
    try {
      const id = sink.append({
        kind: 'task',
        time,
        workspace,
        lane: 'completion',
        model: model.name,
        backend: this.host.backendName,
        machineProfileId: this.machineProfileId(),
        tokensIn: result.tokensEvaluated,
        tokensOut: result.tokensOut,
        timeToFirstTokenMs: result.timeToFirstTokenMs,
        totalMs: result.totalMs,
        outcome,
        destination: 'local',
        ...speedRecordFields(result),
        ...counts,
      });
      this.lastRecorded = { id, uri, lane: 'completion', model: model.name, time, outcome };
    } catch (err) {
      this.host.reportError(new Error(`could not record the completion in the workspace ledger: ${err instanceof Error ? err.message : String(err)}`));
    }
  }
}
