/**
 * "Hearth: Escalate to Frontier": gathers the payload (selection, else the current file) and a question, picks
 * an endpoint, then runs the shared {@link runEscalation} flow with the editor's UI: a modal warning with
 * "Send" / "Preview payload", the exact request body in a read-only document, and the answer streaming into a
 * Markdown document beside the code.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { LedgerSink } from '../../common/ledger/ledgerSink';
import type { Logger } from '../../common/logger';
import type { EndpointConfig } from '../../node/cloud/cloudTypes';
import { runEscalation, type AnswerUpdate, type EscalationPayload, type EscalationResult, type EscalationUi, type EscalationWarning, type WarningChoice } from '../../node/cloud/escalationFlow';
import type { LedgerService } from '../ledger/ledgerService';
import { ApiKeyStore, setApiKeyCommand } from './apiKeyStore';
import { EscalationDocuments, ESCALATION_SCHEME } from './escalationDocuments';
import { decideFor, ENABLED_KEY, ENDPOINTS_KEY, escalationEnabled, readEndpoints } from './policyGate';
import type { PolicyService } from '../policy/policyService';

export const ESCALATE_COMMAND = 'hearth.escalate';
export const SET_API_KEY_COMMAND = 'hearth.setApiKey';

const SEND = 'Send';
const PREVIEW = 'Preview payload';
const MAX_TOKENS = 2048;

/** Test hook: skip the input boxes, and answer the modal from a script (the smoke-test driver hides modals). */
export interface EscalateOptions {
  question?: string;
  endpointId?: string;
  confirm?: (warning: EscalationWarning) => Promise<WarningChoice> | WarningChoice;
}

/** A chat conversation to escalate: the last question, the conversation before it, and the files it drew on. */
export interface ConversationEscalation {
  question: string;
  transcript: string;
  /** Workspace-relative paths of the files attached as context (the policy's globs apply to them). */
  files: string[];
  /** A URI in the workspace folder whose policy and ledger apply. */
  uri: vscode.Uri;
  onAnswer(endpoint: EndpointConfig, update: AnswerUpdate): void | Promise<void>;
  signal?: AbortSignal;
  options?: EscalateOptions;
}

export interface EscalationFeature {
  escalate(options?: EscalateOptions): Promise<EscalationResult | undefined>;
  /** The same flow for a chat conversation (`payload.kind: 'conversation'`); undefined when the user gave up first. */
  escalateConversation(request: ConversationEscalation): Promise<{ endpoint: EndpointConfig; result: EscalationResult; taskId?: string } | undefined>;
  /** Text of the escalation documents now open (answer and previews), for tests. */
  documentText(uri: vscode.Uri): string | undefined;
}

function renderAnswer(endpoint: EndpointConfig, question: string, u: AnswerUpdate): string {
  const quoted = question.trim().split('\n').map((l) => `> ${l}`).join('\n');
  const status = u.incomplete ? `\n\n---\n\n**Incomplete answer.** ${u.incomplete}\n` : u.done ? '\n' : '\n\n_…receiving_\n';
  return `# Answer from ${endpoint.model}\n\n_${endpoint.destination} endpoint "${endpoint.id}". Redacted values were restored locally; they never left this machine._\n\n${quoted}\n\n---\n\n${u.text}${status}`;
}

/** Registers the two commands and returns the feature (the test hook goes into the extension's API). */
export function registerEscalation(context: vscode.ExtensionContext, ledgers: LedgerService, policy: PolicyService, logger: Logger): EscalationFeature {
  const store = new ApiKeyStore(context.secrets);
  const docs = new EscalationDocuments();
  const sessionConsent = new Set<string>();
  context.subscriptions.push(
    docs,
    vscode.workspace.registerTextDocumentContentProvider(ESCALATION_SCHEME, docs),
    vscode.commands.registerCommand(ESCALATE_COMMAND, () => escalate()),
    vscode.commands.registerCommand(SET_API_KEY_COMMAND, (id?: unknown, key?: unknown) => setApiKeyCommand(store, policy, id, key)),
  );

  async function pickEndpoint(endpoints: EndpointConfig[], wanted?: string): Promise<EndpointConfig | undefined> {
    if (wanted) return endpoints.find((e) => e.id === wanted);
    if (endpoints.length === 1) return endpoints[0];
    const pick = await vscode.window.showQuickPick(
      endpoints.map((e) => ({ label: e.id, description: `${e.destination} · ${e.provider} · ${e.model}`, detail: e.baseUrl, endpoint: e })),
      { title: 'Hearth: Escalate to which endpoint?', ignoreFocusOut: true },
    );
    return pick?.endpoint;
  }

  /** The endpoint to use: the user's configured ones, invalid entries reported; undefined after telling the user why. */
  async function chooseEndpoint(options: EscalateOptions): Promise<EndpointConfig | undefined> {
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
    return pickEndpoint(endpoints, options.endpointId);
  }

  /** The endpoint's stored key; asks (or lets the user go on without one) when none is stored. `null`: give up. */
  async function keyFor(endpoint: EndpointConfig, options: EscalateOptions): Promise<string | undefined | null> {
    let apiKey = await store.get(endpoint.id);
    if (apiKey === undefined && !options.confirm) {
      const choice = await vscode.window.showWarningMessage(
        `Hearth: no API key is stored for endpoint "${endpoint.id}".`,
        { modal: true, detail: 'Cloud providers need one. A local server (llama-server, Ollama, vLLM) may not.' },
        'Set API Key…', 'Continue Without a Key',
      );
      if (choice === 'Set API Key…') {
        await setApiKeyCommand(store, policy, undefined, undefined);
        apiKey = await store.get(endpoint.id);
        if (apiKey === undefined) return null;
      } else if (choice !== 'Continue Without a Key') return null;
    }
    return apiKey;
  }

  /**
   * The shared part of every escalation (the command's and chat's): the modal warning with destination, data
   * classes, redaction counts, tokens and cost; the byte-exact preview; then {@link runEscalation} and the
   * messages for a blocked or failed one. `answer` shows the answer where the caller wants it.
   */
  async function send(
    request: { question: string; payload: EscalationPayload; uri: vscode.Uri; endpoint: EndpointConfig; apiKey: string | undefined },
    options: EscalateOptions,
    answer: (u: AnswerUpdate) => void | Promise<void>,
    signal: AbortSignal,
    onRecorded?: (taskId: string) => void,
  ): Promise<EscalationResult> {
    const { endpoint } = request;
    const target = ledgers.sinkFor(request.uri);
    const { workspace } = target;
    // The record's id, for a caller that lets the user flag this answer later.
    const sink: LedgerSink = {
      append: (e) => {
        const id = target.sink.append(e);
        onRecorded?.(id);
        return id;
      },
      flush: () => target.sink.flush(),
    };
    const ui: EscalationUi = {
      confirm: async (w) => {
        if (options.confirm) return options.confirm(w);
        const choice = await vscode.window.showWarningMessage(w.message, { modal: true, detail: w.detail }, SEND, PREVIEW);
        return choice === SEND ? 'send' : choice === PREVIEW ? 'preview' : 'cancel';
      },
      preview: async (w) => {
        const uri = docs.newUri(`request-body-${endpoint.id}.json`);
        docs.set(uri, w.body);
        const previewDoc = await vscode.workspace.openTextDocument(uri);
        // Focus stays on the code, so the answer later opens in this same group beside it, not a third one.
        await vscode.window.showTextDocument(previewDoc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
      },
      answer,
    };
    const result = await runEscalation(
      {
        question: request.question,
        payload: request.payload,
        endpoint,
        workspaceTrusted: vscode.workspace.isTrusted,
        spentThisMonthUsd: await ledgers.spentThisMonth(request.uri),
      },
      { decide: decideFor(policy, request.uri), apiKey: async () => request.apiKey, ledger: sink, workspace, ui, logger, signal, maxTokens: MAX_TOKENS, sessionConsent },
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
    return result;
  }

  async function escalate(options: EscalateOptions = {}): Promise<EscalationResult | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme === ESCALATION_SCHEME) {
      void vscode.window.showInformationMessage('Hearth: open a file, or select code, to escalate.');
      return undefined;
    }
    const endpoint = await chooseEndpoint(options);
    if (!endpoint) return undefined;

    const doc = editor.document;
    const selection = editor.selection;
    const useSelection = !selection.isEmpty;
    const text = useSelection ? doc.getText(selection) : doc.getText();
    if (text.trim() === '') {
      void vscode.window.showInformationMessage('Hearth: the file is empty; nothing to escalate.');
      return undefined;
    }
    const question = options.question ?? (await vscode.window.showInputBox({
      title: `Hearth: Escalate ${useSelection ? 'the selection' : `"${basename(doc.fileName)}"`} to ${endpoint.id}`,
      prompt: 'Your question for the model',
      placeHolder: 'e.g. Why does this deadlock under load?',
      ignoreFocusOut: true,
    }));
    if (!question || question.trim() === '') return undefined;

    const apiKey = await keyFor(endpoint, options);
    if (apiKey === null) return undefined;

    const abort = new AbortController();
    let answerUri: vscode.Uri | undefined;
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    const answer = async (u: AnswerUpdate) => {
      if (!answerUri) {
        answerUri = docs.newUri(`answer-${endpoint.id}.md`);
        docs.set(answerUri, renderAnswer(endpoint, question, u));
        const answerDoc = await vscode.workspace.openTextDocument(answerUri);
        await vscode.window.showTextDocument(answerDoc, { viewColumn: vscode.ViewColumn.Beside, preview: false, preserveFocus: true });
        void vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Hearth: waiting for ${endpoint.id}…`, cancellable: true },
          (_progress, token) => {
            token.onCancellationRequested(() => abort.abort());
            return done;
          },
        );
        return;
      }
      docs.set(answerUri, renderAnswer(endpoint, question, u), u.done);
      if (u.done) finished();
    };
    try {
      return await send(
        {
          question,
          payload: {
            kind: useSelection ? 'selection' : 'file',
            text,
            fileName: doc.isUntitled ? undefined : basename(doc.fileName),
            languageId: doc.languageId,
            files: doc.uri.scheme === 'file' ? [vscode.workspace.asRelativePath(doc.uri, false)] : [],
          },
          uri: doc.uri,
          endpoint,
          apiKey,
        },
        options,
        answer,
        abort.signal,
      );
    } finally {
      finished();
    }
  }

  /** "Escalate this conversation" from chat: the same flow, the answer streamed back to the caller. */
  async function escalateConversation(request: ConversationEscalation): Promise<{ endpoint: EndpointConfig; result: EscalationResult; taskId?: string } | undefined> {
    const options = request.options ?? {};
    const endpoint = await chooseEndpoint(options);
    if (!endpoint) return undefined;
    const apiKey = await keyFor(endpoint, options);
    if (apiKey === null) return undefined;
    let taskId: string | undefined;
    const result = await send(
      {
        question: request.question,
        payload: { kind: 'conversation', text: request.transcript, files: request.files },
        uri: request.uri,
        endpoint,
        apiKey,
      },
      options,
      (u) => request.onAnswer(endpoint, u),
      request.signal ?? new AbortController().signal,
      (id) => (taskId = id),
    );
    return { endpoint, result, taskId };
  }

  return { escalate, escalateConversation, documentText: (uri) => docs.get(uri) };
}
