/**
 * The chat view: a webview view in Hearth's activity-bar container. The page only draws and reports clicks; this
 * class owns the conversations, asks the engine (chat lane, below completions), streams the answer to the page,
 * records every turn in the workspace ledger (lane `chat`), and runs the code-block actions and the escalation.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { buildChatPrompt, conversationTranscript } from '../../common/chat/chatPrompt';
import type { BudgetTurn } from '../../common/chat/contextBudget';
import { errorMessage, type Logger } from '../../common/logger';
import type { Outcome } from '../../common/ledger/ledgerEnums';
import { speedRecordFields } from '../../common/ledger/ledgerRecord';
import {
  chatToHostSchema,
  type ChatMessage,
  type ChatToHost,
  type Chip,
  type Conversation,
  type HostToChat,
} from '../../common/protocol/chatProtocol';
import type { ChatResult } from '../../common/protocol/engineProtocol';
import type { EngineHost } from '../engineHost';
import type { EscalationFeature } from '../escalation/escalateCommand';
import { escalationEnabled } from '../escalation/policyGate';
import type { LedgerService } from '../ledger/ledgerService';
import { makeNonce } from '../ledger/dashboardHtml';
import type { RecordedTask, RecordedTaskSource } from '../ledger/recordedTask';
import type { PolicyService } from '../policy/policyService';
import { ChatContext } from './chatContext';
import { chatHtml } from './chatHtml';
import { applyCode, copyCode, insertCode } from './codeActions';
import { ConversationStore, newConversation, titleFrom } from './conversationStore';

export const CHAT_VIEW_ID = 'hearth.chat';

/** Most answer tokens asked of the local model (and kept free in its context). */
const MAX_ANSWER_TOKENS = 1024;

export interface ChatServices {
  host: EngineHost;
  ledger: LedgerService;
  policy: PolicyService;
  escalation: EscalationFeature;
  logger: Logger;
  machineProfileId(): string | undefined;
}

/** What the tests can observe. */
export interface ChatState {
  conversation: Conversation;
  busy: boolean;
  problems: string[];
}

export class ChatView implements vscode.WebviewViewProvider, RecordedTaskSource, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly store: ConversationStore;
  private readonly context: ChatContext;
  private current: Conversation;
  private running: AbortController | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private lastRecorded: RecordedTask | undefined;
  private readonly problems: string[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    workspaceState: vscode.Memento,
    private readonly services: ChatServices,
  ) {
    this.store = new ConversationStore(workspaceState, services.logger);
    this.context = new ChatContext(services.policy);
    const id = this.store.currentId;
    this.current = (id && this.store.get(id)) || newConversation(randomUUID(), new Date());
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e) this.context.lastEditor = e;
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        this.context.lastEditor = e.textEditor;
      }),
      services.policy.onDidChange(() => this.postState()),
    );
  }

  get lastTask(): RecordedTask | undefined {
    return this.lastRecorded;
  }

  state(): ChatState {
    return { conversation: this.current, busy: this.running !== undefined, problems: [...this.problems] };
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const w = view.webview;
    w.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media'), vscode.Uri.joinPath(this.extensionUri, 'dist')],
    };
    const uri = (...p: string[]) => w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p)).toString();
    w.html = chatHtml({ cspSource: w.cspSource, nonce: makeNonce((n) => randomBytes(n)), script: uri('dist', 'webview', 'chat.js'), css: uri('media', 'chat.css') });
    this.disposables.push(
      w.onDidReceiveMessage((m) => void this.received(m)),
      view.onDidDispose(() => (this.view = undefined)),
    );
  }

  private post(message: HostToChat): void {
    void this.view?.webview.postMessage(message);
  }

  private notice(level: 'info' | 'warning' | 'error', text: string): void {
    this.post({ type: 'notice', level, text });
  }

  private postState(): void {
    this.post({
      type: 'state',
      conversations: this.store.summaries().filter((c) => c.id !== this.current.id).concat(this.summaryOfCurrent()).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)),
      current: this.current,
      busy: this.running !== undefined,
      model: this.services.host.client.model?.name ?? null,
      escalation: escalationEnabled(this.services.policy),
    });
  }

  private summaryOfCurrent() {
    return { id: this.current.id, title: this.current.title, updatedAt: this.current.updatedAt, messages: this.current.messages.length };
  }

  private async received(raw: unknown): Promise<void> {
    const parsed = chatToHostSchema.safeParse(raw);
    if (!parsed.success) {
      this.services.logger.warn('chat: ignored an unexpected message from the webview');
      return;
    }
    const m: ChatToHost = parsed.data;
    try {
      switch (m.type) {
        case 'ready':
          this.postState();
          await this.postContext('');
          break;
        case 'send':
          await this.ask(m.text);
          break;
        case 'stop':
          this.running?.abort();
          break;
        case 'regenerate':
          await this.regenerate();
          break;
        case 'editResend':
          await this.editResend(m.messageId, m.text);
          break;
        case 'newConversation':
          await this.switchTo(newConversation(randomUUID(), new Date()));
          break;
        case 'selectConversation': {
          const c = this.store.get(m.id);
          if (c) await this.switchTo(c);
          break;
        }
        case 'renameConversation':
          await this.rename(m.id);
          break;
        case 'deleteConversation':
          await this.delete(m.id);
          break;
        case 'codeAction':
          await this.codeAction(m.action, m.code);
          break;
        case 'feedback':
          await this.updateMessage(m.messageId, (msg) => (msg.feedback = msg.feedback === m.value ? undefined : m.value));
          break;
        case 'flagIncident':
          await this.flag(m.messageId, m.category);
          break;
        case 'escalate':
          await this.escalate();
          break;
        case 'addContext':
          await this.addContext(m.kind);
          break;
        case 'removeContext':
          this.context.remove(m.id);
          await this.postContext('');
          break;
        case 'draft':
          await this.postContext(m.text);
          break;
        case 'problem':
          this.problems.push(m.message);
          this.services.logger.warn(`chat page: ${m.message}`);
          break;
      }
    } catch (err) {
      this.services.logger.error(`chat: ${m.type} failed: ${errorMessage(err)}`);
      this.notice('error', `${m.type} failed: ${errorMessage(err)}`);
    }
  }

  private async switchTo(c: Conversation): Promise<void> {
    if (this.running) this.running.abort();
    this.current = c;
    await this.store.setCurrent(c.id);
    this.postState();
    await this.postContext('');
  }

  private async rename(id: string): Promise<void> {
    const c = id === this.current.id ? this.current : this.store.get(id);
    if (!c) return;
    const title = await vscode.window.showInputBox({ title: 'Hearth: rename conversation', value: c.title, validateInput: (v) => (v.trim() ? undefined : 'A title cannot be empty.') });
    if (!title?.trim()) return;
    c.title = title.trim().slice(0, 200);
    if (c.messages.length > 0) await this.store.save(c);
    this.postState();
  }

  private async delete(id: string): Promise<void> {
    const c = id === this.current.id ? this.current : this.store.get(id);
    if (!c) return;
    const ok = await vscode.window.showWarningMessage(`Delete the conversation "${c.title}"?`, { modal: true, detail: 'Its ledger records stay: the ledger is append-only.' }, 'Delete');
    if (ok !== 'Delete') return;
    await this.store.delete(id);
    if (id === this.current.id) {
      const next = this.store.summaries()[0];
      await this.switchTo((next && this.store.get(next.id)) || newConversation(randomUUID(), new Date()));
    } else this.postState();
  }

  private async addContext(kind: 'selection' | 'file' | 'editors' | 'atFile'): Promise<void> {
    const problem =
      kind === 'selection' ? this.context.addSelection() : kind === 'file' ? this.context.addCurrentFile() : kind === 'editors' ? await this.context.addOpenEditors() : await this.context.addPickedFiles();
    if (problem) this.notice('info', problem);
    for (const e of this.context.all) if (e.chip.refused) this.services.logger.info(`chat: context refused by policy: ${e.chip.refused}`);
    await this.postContext('');
  }

  private contextSize(): number {
    return this.services.host.client.model?.contextSize ?? 2048;
  }

  private reserve(): number {
    return Math.min(MAX_ANSWER_TOKENS, Math.floor(this.contextSize() / 3));
  }

  /** The turns already in the conversation, as the prompt carries them. */
  private history(until = this.current.messages.length): BudgetTurn[] {
    return this.current.messages
      .slice(0, until)
      .filter((m) => m.status === 'done' || m.role === 'user')
      .map((m) => ({ role: m.role, content: m.text }));
  }

  /** The chips and budget for a draft question: what fits, what is cut. */
  private async postContext(draft: string): Promise<void> {
    const texts = await this.context.texts();
    const { plan } = buildChatPrompt({
      contextSize: this.contextSize(),
      reserve: this.reserve(),
      history: this.history(),
      question: draft,
      chips: texts.map(({ entry, text }) => ({ id: entry.chip.id, text, refused: !!entry.chip.refused, label: entry.chip.label, languageId: entry.chip.languageId })),
    });
    const chips = texts.map(({ entry }) => ({ ...entry.chip, includedTokens: plan.chips.find((b) => b.id === entry.chip.id)?.includedTokens ?? 0 }));
    this.post({ type: 'context', chips, budget: { contextSize: this.contextSize(), reserved: this.reserve(), used: plan.used, droppedTurns: plan.droppedTurns } });
  }

  private async ask(text: string): Promise<void> {
    if (this.running) {
      this.notice('info', 'An answer is still coming: stop it first.');
      return;
    }
    const conv = this.current;
    if (conv.messages.length === 0) conv.title = titleFrom(text);
    const texts = await this.context.texts();
    const chips: Chip[] = texts.map(({ entry }) => ({ ...entry.chip }));
    const user: ChatMessage = { id: randomUUID(), role: 'user', text, time: new Date().toISOString(), status: 'done', chips };
    conv.messages.push(user);
    this.context.clear();
    await this.generate(conv, texts.map(({ entry, text: t }) => ({ id: entry.chip.id, text: t, refused: !!entry.chip.refused, label: entry.chip.label, languageId: entry.chip.languageId })));
  }

  /** Asks the local model to answer the conversation's last user message. */
  private async generate(conv: Conversation, chipTexts: Array<{ id: string; text: string; refused: boolean; label: string; languageId: string }> = []): Promise<void> {
    const userIndex = conv.messages.length - 1;
    const user = conv.messages[userIndex]!;
    const answer: ChatMessage = { id: randomUUID(), role: 'assistant', text: '', time: new Date().toISOString(), status: 'streaming' };
    conv.messages.push(answer);
    conv.updatedAt = answer.time;
    const abort = new AbortController();
    this.running = abort;
    this.postState();
    await this.postContext('');
    const started = performance.now();
    let result: ChatResult | undefined;
    let outcome: Outcome = 'accepted';
    let model: string | undefined;
    try {
      const info = await this.services.host.ensureModel();
      if (!info) throw new Error('No local model yet: run "Hearth: Select Local Model…" or "Hearth: Download Model…".');
      model = info.name;
      answer.source = { kind: 'local', model: info.name };
      const { messages, plan } = buildChatPrompt({ contextSize: info.contextSize, reserve: this.reserve(), history: this.history(userIndex), question: user.text, chips: chipTexts });
      if (plan.overflow) throw new Error(`The question is too long for the model's context (${info.contextSize} tokens): shorten it.`);
      answer.droppedTurns = plan.droppedTurns;
      for (const c of user.chips ?? []) c.includedTokens = plan.chips.find((b) => b.id === c.id)?.includedTokens ?? 0;
      result = await this.services.host.client.chat(
        { messages, maxTokens: this.reserve(), temperature: 0.2 },
        {
          signal: abort.signal,
          onText: (t) => {
            answer.text += t;
            this.post({ type: 'delta', conversationId: conv.id, messageId: answer.id, text: t });
          },
        },
      );
      answer.text = result.text;
      answer.status = result.stopReason === 'cancelled' ? 'cancelled' : 'done';
      outcome = result.stopReason === 'cancelled' ? 'cancelled' : 'accepted';
      answer.tokensIn = result.tokensIn;
      answer.tokensOut = result.tokensOut;
      this.services.host.markReady();
    } catch (err) {
      answer.status = abort.signal.aborted ? 'cancelled' : 'error';
      outcome = abort.signal.aborted ? 'cancelled' : 'error';
      if (!abort.signal.aborted) answer.error = errorMessage(err);
      this.services.logger.warn(`chat: the local answer failed: ${errorMessage(err)}`);
    } finally {
      this.running = undefined;
    }
    answer.latencyMs = performance.now() - started;
    if (model) this.record(answer, model, result, outcome);
    conv.updatedAt = new Date().toISOString();
    await this.store.save(conv);
    await this.store.setCurrent(conv.id);
    this.postState();
    await this.postContext('');
  }

  /** The workspace folder whose ledger and policy a conversation belongs to. */
  private folderUri(): vscode.Uri | undefined {
    const doc = this.context.lastEditor?.document.uri;
    return (doc && vscode.workspace.getWorkspaceFolder(doc)?.uri) ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  }

  /** One ledger record per chat turn: lane `chat`, destination local; never the text unless the policy opts in. */
  private record(answer: ChatMessage, model: string, result: ChatResult | undefined, outcome: Outcome): void {
    const uri = this.folderUri();
    const { sink, workspace } = this.services.ledger.sinkFor(uri);
    if (workspace === 'none' || !uri) return;
    try {
      const id = sink.append({
        kind: 'task',
        time: answer.time,
        workspace,
        lane: 'chat',
        model,
        backend: 'llama.cpp',
        machineProfileId: this.services.machineProfileId(),
        tokensIn: result?.tokensIn ?? 0,
        tokensOut: result?.tokensOut ?? 0,
        timeToFirstTokenMs: result?.timeToFirstTokenMs ?? null,
        totalMs: answer.latencyMs ?? 0,
        outcome,
        destination: 'local',
        charsSuggested: answer.text.length,
        ...speedRecordFields(result),
      });
      answer.taskId = id;
      answer.ledgerUri = uri.toString();
      this.lastRecorded = { id, uri, lane: 'chat', model, time: answer.time, outcome };
    } catch (err) {
      this.services.logger.error(`chat: could not record the turn in the workspace ledger: ${errorMessage(err)}`);
    }
  }

  private async regenerate(): Promise<void> {
    if (this.running) return;
    const conv = this.current;
    while (conv.messages.length && conv.messages[conv.messages.length - 1]!.role === 'assistant') conv.messages.pop();
    if (!conv.messages.length) return;
    await this.generate(conv);
  }

  private async editResend(messageId: string, text: string): Promise<void> {
    if (this.running) this.running.abort();
    const conv = this.current;
    const i = conv.messages.findIndex((m) => m.id === messageId && m.role === 'user');
    if (i < 0) return;
    conv.messages.splice(i);
    await this.ask(text);
  }

  private async updateMessage(id: string, fn: (m: ChatMessage) => void): Promise<void> {
    const m = this.current.messages.find((x) => x.id === id);
    if (!m) return;
    fn(m);
    await this.store.save(this.current);
    this.postState();
  }

  private async flag(messageId: string, category: NonNullable<ChatMessage['incidents']>[number]): Promise<void> {
    const m = this.current.messages.find((x) => x.id === messageId);
    if (!m?.taskId || !m.ledgerUri) {
      this.notice('warning', 'This answer has no ledger record (the ledger is off, or the answer failed before it was recorded), so it cannot be flagged.');
      return;
    }
    const { sink, workspace } = this.services.ledger.sinkFor(vscode.Uri.parse(m.ledgerUri));
    if (workspace === 'none') return;
    const lane = m.source?.kind === 'escalation' ? 'escalation' : 'chat';
    sink.append({ kind: 'incident', workspace, lane, model: m.source?.model ?? 'unknown', incident: category, refersTo: m.taskId });
    await sink.flush();
    await this.updateMessage(messageId, (x) => (x.incidents = [...new Set([...(x.incidents ?? []), category])]));
    this.notice('info', `Flagged as ${category.replace(/-/g, ' ')} in the workspace ledger.`);
  }

  private async codeAction(action: 'copy' | 'insert' | 'apply', code: string): Promise<void> {
    if (action === 'copy') return copyCode(code);
    if (action === 'insert') {
      const problem = await insertCode(this.context.lastEditor, code);
      if (problem) this.notice('warning', problem);
      return;
    }
    const { applied, message } = await applyCode(this.context.lastEditor, code);
    if (message) this.notice('info', message);
    else if (applied) this.notice('info', 'Applied. Undo in the file takes the whole change back.');
  }

  /**
   * "Escalate this conversation": the escalation command's own flow (policy, redaction, warning, preview,
   * consent) with the conversation as the payload; the answer streams into the conversation with a badge.
   */
  private async escalate(): Promise<void> {
    if (this.running) {
      this.notice('info', 'An answer is still coming: stop it first.');
      return;
    }
    const conv = this.current;
    const lastUser = conv.messages.map((m) => m.role).lastIndexOf('user');
    if (lastUser < 0) {
      this.notice('info', 'Ask something first: there is no question to escalate.');
      return;
    }
    const uri = this.folderUri();
    if (!uri) {
      this.notice('warning', 'Open a folder first: the escalation policy and ledger belong to a workspace folder.');
      return;
    }
    const question = conv.messages[lastUser]!.text;
    const earlier = this.history(lastUser);
    const transcript = earlier.length ? conversationTranscript(earlier) : '(This is the first question of the conversation.)';
    const files = [...new Set(conv.messages.flatMap((m) => (m.chips ?? []).filter((c) => !c.refused && c.path).map((c) => c.path)))];
    const abort = new AbortController();
    this.running = abort;
    let answer: ChatMessage | undefined;
    try {
      const outcome = await this.services.escalation.escalateConversation({
        question,
        transcript,
        files,
        uri,
        signal: abort.signal,
        onAnswer: (endpoint, u) => {
          if (!answer) {
            answer = {
              id: randomUUID(),
              role: 'assistant',
              text: '',
              time: new Date().toISOString(),
              status: 'streaming',
              source: { kind: 'escalation', endpointId: endpoint.id, destination: endpoint.destination, model: endpoint.model, costUsd: null, redactions: 0 },
            };
            conv.messages.push(answer);
            this.postState();
          }
          const prev = answer.text;
          answer.text = u.text;
          if (u.incomplete) answer.error = u.incomplete;
          if (u.text.startsWith(prev) && u.text.length > prev.length) this.post({ type: 'delta', conversationId: conv.id, messageId: answer.id, text: u.text.slice(prev.length) });
          else if (u.text !== prev) this.postState();
        },
      });
      if (!outcome) return;
      const { result, taskId } = outcome;
      if (answer) {
        const redactions = 'redactions' in result ? Object.values(result.redactions).reduce((a, b) => a + b, 0) : 0;
        if (answer.source?.kind === 'escalation') {
          answer.source.costUsd = result.outcome === 'accepted' ? (result.costUsd ?? null) : null;
          answer.source.redactions = redactions;
        }
        answer.status = result.outcome === 'accepted' ? 'done' : result.outcome === 'cancelled' || (result.outcome === 'error' && result.error.kind === 'cancelled') ? 'cancelled' : 'error';
        if (result.outcome === 'accepted') {
          answer.text = result.answer;
          answer.tokensIn = result.usage.inputTokens;
          answer.tokensOut = result.usage.outputTokens;
        }
        answer.latencyMs = Date.now() - Date.parse(answer.time);
        if (taskId) {
          answer.taskId = taskId;
          answer.ledgerUri = uri.toString();
        }
      } else if (result.outcome === 'blocked') {
        this.notice('error', `Escalation blocked — ${result.reason}. Nothing was sent.`);
      }
    } finally {
      this.running = undefined;
      conv.updatedAt = new Date().toISOString();
      await this.store.save(conv);
      this.postState();
      await this.postContext('');
    }
  }

  /** Starts a new, empty conversation (the old one stays in the history). */
  async startNew(): Promise<void> {
    await this.switchTo(newConversation(randomUUID(), new Date()));
  }

  /** Reveals the view and focuses its input. */
  async focus(): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
  }

  dispose(): void {
    this.running?.abort();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
