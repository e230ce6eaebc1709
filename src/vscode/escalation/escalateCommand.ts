/**
 * "Hearth: Escalate to Frontier": gathers the payload (selection, else the current file) with the real path of
 * its file, asks the policy first (for every configured endpoint, so only allowed ones are offered), then runs
 * the shared {@link runEscalation} flow with the editor's UI: the question box, the review webview (the whole
 * request readable, Send / Cancel, Cancel the default), and the answer streaming into a Markdown document beside
 * the code.
 */
import { basename, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { LedgerSink } from '../../common/ledger/ledgerSink';
import type { Logger } from '../../common/logger';
import type { FileRef } from '../../common/policy/decide';
import type { EndpointConfig } from '../../node/cloud/cloudTypes';
import { estimateTokens, costUsd } from '../../node/cloud/costEstimate';
import {
  answerBanner,
  KEY_PROMPT_CANCELLED,
  runEscalation,
  SYSTEM_PROMPT,
  composeUserMessage,
  type AnswerUpdate,
  type EscalationPayload,
  type EscalationResult,
  type EscalationUi,
  type EscalationWarning,
  type WarningChoice,
} from '../../node/cloud/escalationFlow';
import { resolveFileRef } from '../../node/policy/resolveFileRef';
import type { LedgerService } from '../ledger/ledgerService';
import type { PolicyService } from '../policy/policyService';
import { ApiKeyStore, setApiKeyCommand } from './apiKeyStore';
import { EscalationDocuments, ESCALATION_SCHEME } from './escalationDocuments';
import { decideFor, ENABLED_KEY, ENDPOINTS_KEY, escalationEnabled, readEndpoints } from './policyGate';
import { showReview, type ReviewState } from './reviewPanel';

export const ESCALATE_COMMAND = 'hearth.escalate';
export const SET_API_KEY_COMMAND = 'hearth.setApiKey';

const MAX_TOKENS = 2048;

/** Test hook: skip the input boxes, and answer the review from a script. */
export interface EscalateOptions {
  question?: string;
  endpointId?: string;
  confirm?: (warning: EscalationWarning) => Promise<WarningChoice> | WarningChoice;
}

/** A chat conversation to escalate: the last question, the conversation before it, and the files it drew on. */
export interface ConversationEscalation {
  question: string;
  transcript: string;
  /** Workspace-relative paths of the files attached as context (the policy judges them by their real paths too). */
  files: string[];
  /** A URI in the workspace folder whose policy and ledger apply. */
  uri: vscode.Uri;
  onAnswer(endpoint: EndpointConfig, update: AnswerUpdate): void | Promise<void>;
  signal?: AbortSignal;
  options?: EscalateOptions;
}

/** One escalation for {@link registerEscalation}'s shared flow: what is sent, and where the answer goes. */
interface EscalationJob {
  payload: EscalationPayload;
  uri: vscode.Uri;
  question?: string;
  /** How the question box names what is sent ("the selection", "main.ts", "this conversation"). */
  subject: string;
  options: EscalateOptions;
  /** The answer's sink for this endpoint; `redactions` are the counts the review showed. */
  answer(endpoint: EndpointConfig, question: () => string, redactions: () => Record<string, number>): EscalationUi['answer'];
  signal: AbortSignal;
  onRecorded?: (taskId: string) => void;
}

export interface EscalationFeature {
  escalate(options?: EscalateOptions): Promise<EscalationResult | undefined>;
  /** The same flow for a chat conversation (`payload.kind: 'conversation'`); undefined when the user gave up first. */
  escalateConversation(request: ConversationEscalation): Promise<{ endpoint: EndpointConfig; result: EscalationResult; taskId?: string } | undefined>;
  /** Text of the escalation documents now open (answer and previews), for tests. */
  documentText(uri: vscode.Uri): string | undefined;
  /** The last review shown (title, sha256, bytes, body, choice), for tests. */
  lastReview(): ReviewState | undefined;
}

function renderAnswer(endpoint: EndpointConfig, question: string, redactions: Record<string, number>, u: AnswerUpdate): string {
  const quoted = question.trim().split('\n').map((l) => `> ${l}`).join('\n');
  const status = u.incomplete ? `\n\n---\n\n**Incomplete answer.** ${u.incomplete}\n` : u.done ? '\n' : '\n\n_…receiving_\n';
  return `# Answer from ${endpoint.model}\n\n${answerBanner(endpoint, redactions)}\n\n${quoted}\n\n---\n\n${u.text}${status}`;
}

/** Registers the two commands and returns the feature (the test hook goes into the extension's API). */
export function registerEscalation(context: vscode.ExtensionContext, ledgers: LedgerService, policy: PolicyService, logger: Logger): EscalationFeature {
  const store = new ApiKeyStore(context.secrets);
  const docs = new EscalationDocuments();
  const sessionConsent = new Set<string>();
  let review: ReviewState | undefined;
  /** Answers so far per file and endpoint: the second answer's tab gets its own name. */
  const answersPerName = new Map<string, number>();
  context.subscriptions.push(
    docs,
    vscode.workspace.registerTextDocumentContentProvider(ESCALATION_SCHEME, docs),
    vscode.commands.registerCommand(ESCALATE_COMMAND, () => escalate()),
    vscode.commands.registerCommand(SET_API_KEY_COMMAND, (id?: unknown, key?: unknown) => setApiKeyCommand(store, policy, id, key)),
  );

  async function pickEndpoint(endpoints: EndpointConfig[], refused: number): Promise<EndpointConfig | undefined> {
    if (endpoints.length === 1) return endpoints[0];
    const pick = await vscode.window.showQuickPick(
      endpoints.map((e) => ({ label: e.id, description: `${e.destination} · ${e.provider} · ${e.model}`, detail: e.baseUrl, endpoint: e })),
      { title: 'Hearth: Escalate to which endpoint?', placeHolder: refused ? `${refused} other endpoint(s) are not allowed for this content by the policy` : undefined, ignoreFocusOut: true },
    );
    return pick?.endpoint;
  }


  /** The files behind a document, for the policy: its workspace path and its real path (links followed). */
  async function filesOf(uri: vscode.Uri): Promise<(string | FileRef)[]> {
    // Untitled buffers and other schemes have no file: the policy's default class applies.
    if (uri.scheme !== 'file') return [];
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    return [await resolveFileRef(folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined, uri.fsPath)];
  }

  /** The configured endpoints, invalid entries reported; undefined after telling the user there are none. */
  async function configuredEndpoints(): Promise<EndpointConfig[] | undefined> {
    const { endpoints, problems } = readEndpoints(policy);
    if (problems.length > 0) {
      logger.warn(`escalation endpoints: ${problems.join('; ')}`);
      void vscode.window.showWarningMessage(`Hearth: some escalation endpoints are invalid and were skipped: ${problems.join('; ')}`);
    }
    if (endpoints.length === 0) {
      const open = await vscode.window.showErrorMessage(
        `Hearth: no escalation endpoint is configured. Add one to "${ENDPOINTS_KEY}" in your user settings${escalationEnabled(policy) ? '' : ` and set "${ENABLED_KEY}": true`}.`,
        'Open User Settings',
      );
      if (open) void vscode.commands.executeCommand('workbench.action.openSettingsJson');
      return undefined;
    }
    return endpoints;
  }

  /**
   * The shared flow of the command and of chat: the policy first (for every configured endpoint, so only allowed
   * ones are offered), then {@link runEscalation} with the editor's UI — question box, review webview (Cancel the
   * default), the caller's answer sink — and the messages for a blocked or failed escalation.
   */
  async function run(job: EscalationJob): Promise<{ endpoint: EndpointConfig; result: EscalationResult } | undefined> {
    const { payload, options } = job;
    const endpoints = await configuredEndpoints();
    if (!endpoints) return undefined;
    const decide = decideFor(policy, job.uri);
    const spentThisMonthUsd = await ledgers.spentThisMonth(job.uri);

    // Policy first: which endpoints may take this content at all, before the user is asked anything.
    let endpoint: EndpointConfig | undefined;
    if (options.endpointId) {
      endpoint = endpoints.find((e) => e.id === options.endpointId);
      if (!endpoint) return undefined;
    } else {
      const estimate = estimateTokens(SYSTEM_PROMPT + composeUserMessage(job.question ?? '', payload));
      const verdicts = await Promise.all(endpoints.map(async (e) => ({
        e,
        d: await decide({ lane: 'escalation', destination: e.destination, endpointId: e.id, files: payload.files, workspaceTrusted: vscode.workspace.isTrusted, estimatedCostUsd: costUsd(e, { inputTokens: estimate, outputTokens: MAX_TOKENS }) ?? 0, spentThisMonthUsd }),
      })));
      const allowed = verdicts.filter((v) => v.d.allowed).map((v) => v.e);
      // None allowed: run the flow with the first, which records the block with its rule and says why.
      endpoint = allowed.length === 0 ? endpoints[0]! : await pickEndpoint(allowed, endpoints.length - allowed.length);
      if (!endpoint) return undefined;
    }
    const chosen = endpoint;

    const target = ledgers.sinkFor(job.uri);
    // The record's id, for a caller that lets the user flag this answer later.
    const sink: LedgerSink = {
      append: (e) => {
        const id = target.sink.append(e);
        job.onRecorded?.(id);
        return id;
      },
      flush: () => target.sink.flush(),
    };
    let question = job.question ?? '';
    let redactions: Record<string, number> = {};
    const ui: EscalationUi = {
      askQuestion: async () => {
        const q = await vscode.window.showInputBox({
          title: `Hearth: Escalate ${job.subject} to ${chosen.id}`,
          prompt: 'Your question for the model',
          placeHolder: 'e.g. Why does this deadlock under load?',
          ignoreFocusOut: true,
        });
        question = q ?? '';
        return q;
      },
      confirm: async (w) => {
        redactions = w.redactions;
        if (options.confirm) return options.confirm(w);
        return showReview(context.extensionUri, w, `Review: ${payload.fileName ?? job.subject} → ${chosen.id}`, (s) => (review = s));
      },
      preview: async (w) => {
        const uri = docs.newUri(`request-body-${chosen.id}.json`);
        docs.set(uri, w.body);
        const previewDoc = await vscode.workspace.openTextDocument(uri);
        // Focus stays on the code, so the answer later opens in this same group beside it, not a third one.
        await vscode.window.showTextDocument(previewDoc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
      },
      answer: job.answer(chosen, () => question, () => redactions),
    };

    const apiKey = async (): Promise<string | undefined | typeof KEY_PROMPT_CANCELLED> => {
      const stored = await store.get(chosen.id);
      if (stored !== undefined || options.confirm) return stored;
      const choice = await vscode.window.showWarningMessage(
        `Hearth: no API key is stored for endpoint "${chosen.id}".`,
        { modal: true, detail: 'Cloud providers need one. A local server (llama-server, Ollama, vLLM) may not.' },
        'Set API Key…', 'Continue Without a Key',
      );
      if (choice === 'Set API Key…') {
        await setApiKeyCommand(store, policy, undefined, undefined);
        return (await store.get(chosen.id)) ?? KEY_PROMPT_CANCELLED;
      }
      return choice === 'Continue Without a Key' ? undefined : KEY_PROMPT_CANCELLED;
    };

    const result = await runEscalation(
      { question: job.question, payload, endpoint: chosen, workspaceTrusted: vscode.workspace.isTrusted, spentThisMonthUsd },
      { decide, apiKey, ledger: sink, workspace: target.workspace, ui, logger, signal: job.signal, maxTokens: MAX_TOKENS, sessionConsent },
    );
    switch (result.outcome) {
      case 'blocked':
        void vscode.window.showErrorMessage(`Hearth: escalation blocked — ${result.reason}. Nothing was sent.`);
        break;
      case 'error': {
        if (result.error.kind === 'cancelled') break;
        const actions = result.error.kind === 'auth' ? ['Set API Key…'] : [];
        void vscode.window.showErrorMessage(`Hearth: ${result.error.message}`, ...actions).then((a) => {
          if (a) void setApiKeyCommand(store, policy, undefined, undefined);
        });
        break;
      }
      default:
        break;
    }
    return { endpoint: chosen, result };
  }

  async function escalate(options: EscalateOptions = {}): Promise<EscalationResult | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme === ESCALATION_SCHEME) {
      void vscode.window.showInformationMessage('Hearth: open a file, or select code, to escalate.');
      return undefined;
    }
    const doc = editor.document;
    const selection = editor.selection;
    const useSelection = !selection.isEmpty;
    const text = useSelection ? doc.getText(selection) : doc.getText();
    if (text.trim() === '') {
      void vscode.window.showInformationMessage('Hearth: the file is empty; nothing to escalate.');
      return undefined;
    }
    const payload: EscalationPayload = {
      kind: useSelection ? 'selection' : 'file',
      text,
      fileName: doc.isUntitled ? undefined : basename(doc.fileName),
      languageId: doc.languageId,
      files: await filesOf(doc.uri),
    };
    const abort = new AbortController();
    let answerUri: vscode.Uri | undefined;
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    try {
      const outcome = await run({
        payload,
        uri: doc.uri,
        question: options.question,
        subject: useSelection ? 'the selection' : `"${basename(doc.fileName)}"`,
        options,
        signal: abort.signal,
        answer: (chosen, question, redactions) => async (u) => {
          if (!answerUri) {
            const nameBase = `${payload.fileName ?? 'untitled'}-${chosen.id}`;
            const n = (answersPerName.get(nameBase) ?? 0) + 1;
            answersPerName.set(nameBase, n);
            answerUri = docs.newUri(`answer-${nameBase}${n > 1 ? `-${n}` : ''}.md`);
            docs.set(answerUri, renderAnswer(chosen, question(), redactions(), u));
            const answerDoc = await vscode.workspace.openTextDocument(answerUri);
            await vscode.window.showTextDocument(answerDoc, { viewColumn: vscode.ViewColumn.Beside, preview: false, preserveFocus: true });
            void vscode.window.withProgress(
              { location: vscode.ProgressLocation.Notification, title: `Hearth: waiting for ${chosen.id}…`, cancellable: true },
              (_progress, token) => {
                token.onCancellationRequested(() => abort.abort());
                return done;
              },
            );
            return;
          }
          docs.set(answerUri, renderAnswer(chosen, question(), redactions(), u), u.done);
          if (u.done) finished();
        },
      });
      return outcome?.result;
    } finally {
      finished();
    }
  }

  /** "Escalate this conversation" from chat: the same flow, the answer streamed back to the caller. */
  async function escalateConversation(request: ConversationEscalation): Promise<{ endpoint: EndpointConfig; result: EscalationResult; taskId?: string } | undefined> {
    const folder = vscode.workspace.getWorkspaceFolder(request.uri);
    // The context files are judged by their real paths too, like the command's file (a link to .env is refused).
    const files = await Promise.all(request.files.map((f) => (folder?.uri.scheme === 'file' ? resolveFileRef(folder.uri.fsPath, resolve(folder.uri.fsPath, f)) : f)));
    let taskId: string | undefined;
    const outcome = await run({
      payload: { kind: 'conversation', text: request.transcript, files },
      uri: request.uri,
      question: request.question,
      subject: 'this conversation',
      options: request.options ?? {},
      signal: request.signal ?? new AbortController().signal,
      answer: (endpoint) => (u) => request.onAnswer(endpoint, u),
      onRecorded: (id) => (taskId = id),
    });
    return outcome && { ...outcome, taskId };
  }

  return { escalate, escalateConversation, documentText: (uri) => docs.get(uri), lastReview: () => review };
}
