/**
 * The escalation, start to end, without the editor: policy decision → the user's question → redaction → review
 * (the exact request body, its size and sha256) → stream to the provider → placeholders restored locally → one
 * ledger record. Every check that can refuse runs before the user is asked anything. The command in
 * `src/vscode/escalation` and the wire-protocol tests drive this same function; the editor supplies the
 * {@link EscalationUi} (question box, review panel, answer document) and the policy gate.
 */
import { createHash } from 'node:crypto';
import type { TaskEntry } from '../../common/ledger/ledgerRecord';
import type { BlockedBy } from '../../common/ledger/ledgerEnums';
import type { LedgerSink } from '../../common/ledger/ledgerSink';
import type { Logger } from '../../common/logger';
import { nullLogger, errorMessage } from '../../common/logger';
import type { DataClass, Decision, DecisionRequest } from '../../common/policy';
import { blockedByOf, type FileRef } from '../../common/policy/decide';
import { endpointAddress } from '../../common/policy/endpointAddress';
import { createRedactor, PLACEHOLDER_PATTERN, RedactionSession, restore } from '../../common/redaction';
import { CloudError } from './cloudError';
import type { ChatRequest, ClientOptions, EndpointConfig, ProviderClient, Usage } from './cloudTypes';
import { costUsd, estimateTokens, formatUsd } from './costEstimate';
import { createProviderClient } from './providerClient';


export type { DataClass };
/** What the policy layer is asked, and its answer (`src/common/policy`). */
export type PolicyRequest = DecisionRequest;
export type PolicyDecision = Decision;

export interface EscalationPayload {
  kind: 'selection' | 'file' | 'conversation';
  text: string;
  /** Base name shown to the model and used to pick literal syntax for redaction; never a full path. */
  fileName?: string;
  languageId?: string;
  /** The files the payload came from, for the policy's globs: workspace paths, or names with their real paths. */
  files: (string | FileRef)[];
}

export interface EscalationInput {
  /** The user's question; when absent it is asked through {@link EscalationUi.askQuestion} after the policy check. */
  question?: string;
  payload: EscalationPayload;
  endpoint: EndpointConfig;
  workspaceTrusted: boolean;
  spentThisMonthUsd?: number;
}

/** One part of the request shown as text in the review: the system prompt, the question, the code. */
export interface ReviewPart {
  label: string;
  /** Exactly as in the request (placeholders and all); the parts of the user message concatenate to it. */
  text: string;
}

/** A placeholder in the request and the category of the value it stands for (never the value). */
export interface PlaceholderInfo {
  placeholder: string;
  category: string;
}

/** Everything the review shows; `body` is the exact request body that would be sent. */
export interface EscalationWarning {
  endpoint: EndpointConfig;
  host: string;
  /** The endpoint's address is this machine (127.0.0.1, ::1, localhost). */
  loopback: boolean;
  /** Plain `http://` (allowed for loopback, or by `hearth.escalation.allowInsecureHttp`). */
  insecure: boolean;
  dataClasses: DataClass[];
  redactions: Record<string, number>;
  redactionTotal: number;
  estimatedTokensIn: number;
  maxTokensOut: number;
  /** Upper bound (input estimate + every output token allowed); undefined without prices. */
  estimatedCostUsd: number | undefined;
  body: string;
  /** UTF-8 bytes of `body`: what goes on the wire. */
  bodyBytes: number;
  /** Hex sha256 of those bytes. */
  bodySha256: string;
  /** The messages as text: system prompt, question, code. */
  parts: ReviewPart[];
  placeholders: PlaceholderInfo[];
  /** One line for the review's title. */
  message: string;
  /** The review's detail text (one fact a line). */
  detail: string;
}

export type WarningChoice = 'send' | 'preview' | 'cancel';

/** What {@link EscalationDeps.apiKey} returns when the user backed out of being asked for a key. */
export const KEY_PROMPT_CANCELLED = Symbol('key prompt cancelled');

export interface AnswerUpdate {
  /** Answer so far with placeholders restored. */
  text: string;
  done: boolean;
  /** Set when the answer stopped early: why, for the "incomplete" marker. */
  incomplete?: string;
}

/** The editor's side of the flow. Tests answer these from a script. */
export interface EscalationUi {
  /** Asks for the question (only after the policy allowed the escalation); undefined or blank: cancelled. */
  askQuestion?(): Promise<string | undefined>;
  /** The review: Send or Cancel (Cancel is the default). */
  confirm(warning: EscalationWarning): Promise<WarningChoice>;
  /** Show `warning.body` exactly; the flow asks {@link confirm} again afterwards. */
  preview(warning: EscalationWarning): Promise<void>;
  /** Called once before the first byte is sent, then with every update of the answer. */
  answer(update: AnswerUpdate): void | Promise<void>;
}

export interface EscalationDeps {
  decide(request: PolicyRequest): PolicyDecision | Promise<PolicyDecision>;
  /** The key for the endpoint (undefined: none); may ask the user, who may back out ({@link KEY_PROMPT_CANCELLED}). */
  apiKey(endpointId: string): Promise<string | undefined | typeof KEY_PROMPT_CANCELLED>;
  ledger: LedgerSink;
  /** Opaque workspace id for the ledger. */
  workspace: string;
  ui: EscalationUi;
  logger?: Logger;
  signal?: AbortSignal;
  /** Most answer tokens requested. Default 2048. */
  maxTokens?: number;
  clientOptions?: Omit<ClientOptions, 'apiKey'>;
  createClient?: (endpoint: EndpointConfig, options: ClientOptions) => ProviderClient;
  /** Endpoint ids the user already consented to in this session (for `requireConsent: 'session'`). */
  sessionConsent?: Set<string>;
  now?: () => number;
}

export type EscalationResult =
  | { outcome: 'accepted'; answer: string; usage: Usage; costUsd: number | undefined; redactions: Record<string, number> }
  | { outcome: 'blocked'; reason: string; rule?: string; blockedBy: BlockedBy }
  | { outcome: 'cancelled'; redactions: Record<string, number> }
  | { outcome: 'error'; error: CloudError; partialAnswer: string; redactions: Record<string, number> };

export const SYSTEM_PROMPT =
  'You are a senior software engineer helping a developer with their code. Some values were replaced before ' +
  'sending with placeholders of the form [REDACTED:<category>#<number>]; they stand for real values you cannot see. Keep ' +
  'each placeholder exactly as written when you refer to it, and do not guess what it hides.';

const DEFAULT_MAX_TOKENS = 2048;

/** The user message: the question, then the code in a fence long enough not to be closed by the code itself. */
export function composeUserMessage(question: string, payload: EscalationPayload): string {
  const longest = Math.max(2, ...[...payload.text.matchAll(/`{3,}/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const what = payload.kind === 'selection' ? 'Selected code' : payload.kind === 'file' ? 'File' : 'Conversation';
  const label = payload.fileName ? `${what} (${payload.fileName})` : what;
  return `${question.trim()}\n\n${label}:\n${fence}${payload.languageId ?? ''}\n${payload.text}\n${fence}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The placeholders in `text`, in order of first appearance, each once. */
export function listPlaceholders(text: string): PlaceholderInfo[] {
  const seen = new Map<string, PlaceholderInfo>();
  for (const m of text.matchAll(new RegExp(PLACEHOLDER_PATTERN.source, 'g'))) {
    if (!seen.has(m[0])) seen.set(m[0], { placeholder: m[0], category: m[1]! });
  }
  return [...seen.values()];
}

/** Says what the endpoint is as configured, and never "cloud" for an address on this machine. */
export function describeDestination(endpoint: EndpointConfig): { title: string; line: string; host: string; loopback: boolean; insecure: boolean } {
  const address = endpointAddress(endpoint.baseUrl);
  const where = address.loopback ? 'a server on this machine' : endpoint.destination === 'frontier' ? 'a frontier model' : 'your team\'s server';
  const insecure = !address.encrypted;
  const connection = insecure ? (address.loopback ? ', plain http on this machine' : ', plain http: unencrypted over the network') : '';
  return {
    title: `Send this code to endpoint "${endpoint.id}" at ${address.host} (${endpoint.destination}, ${where})?`,
    line: `Destination: endpoint "${endpoint.id}", configured as ${endpoint.destination} — ${endpoint.provider} model "${endpoint.model}" at ${address.scheme ? `${address.scheme}://` : ''}${address.host} (${where}${connection}).`,
    host: address.host,
    loopback: address.loopback,
    insecure,
  };
}

/**
 * The answer document's banner: what was redacted and restored, and plainly that everything else was sent as
 * reviewed. It never claims more than redaction did (it catches known formats, not every sensitive value).
 */
export function answerBanner(endpoint: EndpointConfig, redactions: Record<string, number>): string {
  const total = Object.values(redactions).reduce((a, b) => a + b, 0);
  const what = Object.entries(redactions).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c, n]) => `${c} ×${n}`).join(', ');
  const redacted = total === 0
    ? 'Nothing was redacted: the question and code were sent exactly as shown in the review.'
    : `${plural(total, 'value')} ${total === 1 ? 'was' : 'were'} redacted before sending (${what}) and ${total === 1 ? 'is' : 'are'} restored here locally. ` +
      'Everything else was sent as shown in the review: redaction replaces known secret and personal-data formats, not every sensitive value.';
  return `_Sent to ${endpoint.destination} endpoint "${endpoint.id}" (${endpointAddress(endpoint.baseUrl).host}). ${redacted}_`;
}

interface RequestParts {
  system: string;
  question: string;
  /** The user message after the question: the label and the fenced code. */
  rest: string;
  codeLabel: string;
}

function warningFor(endpoint: EndpointConfig, decision: PolicyDecision, counts: Record<string, number>, body: string, maxTokensOut: number, parts: RequestParts): EscalationWarning {
  const dest = describeDestination(endpoint);
  const estimatedTokensIn = estimateTokens(body);
  const estimatedCostUsd = costUsd(endpoint, { inputTokens: estimatedTokensIn, outputTokens: maxTokensOut });
  const bytes = Buffer.from(body, 'utf8');
  const bodySha256 = createHash('sha256').update(bytes).digest('hex');
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const redactedLine = total === 0
    ? 'Redacted: nothing found to redact; the code goes as it is.'
    : `Redacted (${plural(total, 'value')}, replaced by placeholders and restored locally in the answer): ` +
      Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c, n]) => `${c} ×${n}`).join(', ') + '.';
  const detail = [
    dest.line,
    `Data classes: ${decision.dataClasses.length ? decision.dataClasses.join(', ') : 'none assigned'}.`,
    redactedLine,
    `Size: ${bytes.length.toLocaleString('en-US')} bytes (≈${estimatedTokensIn.toLocaleString('en-US')} tokens in), up to ${maxTokensOut.toLocaleString('en-US')} tokens out.`,
    `Estimated cost: ${estimatedCostUsd === undefined ? 'unknown — no price set for this endpoint' : `at most ${formatUsd(estimatedCostUsd)}`}.`,
    `sha256 of the request body: ${bodySha256}`,
  ].join('\n');
  return {
    endpoint,
    host: dest.host,
    loopback: dest.loopback,
    insecure: dest.insecure,
    dataClasses: decision.dataClasses,
    redactions: counts,
    redactionTotal: total,
    estimatedTokensIn,
    maxTokensOut,
    estimatedCostUsd,
    body,
    bodyBytes: bytes.length,
    bodySha256,
    parts: [
      { label: 'System prompt', text: parts.system },
      { label: 'Your question', text: parts.question },
      { label: parts.codeLabel, text: parts.rest },
    ],
    placeholders: listPlaceholders(parts.system + parts.question + parts.rest),
    message: dest.title,
    detail,
  };
}

/**
 * Runs one escalation. Nothing goes on the wire unless the policy allowed it and the user chose "Send" in the
 * review (or consented earlier in the session where the policy allows that). The policy is asked before the user
 * is asked anything. Never throws for provider failures: they come back as `outcome: 'error'` with a
 * user-facing message and the partial answer. The ledger record separates model time (`modelMs`: request sent
 * → last token) from the time spent waiting for the user (`waitMs`).
 */
export async function runEscalation(input: EscalationInput, deps: EscalationDeps): Promise<EscalationResult> {
  const logger = deps.logger ?? nullLogger;
  const now = deps.now ?? Date.now;
  const started = now();
  const { endpoint } = input;
  const maxTokens = deps.maxTokens ?? DEFAULT_MAX_TOKENS;
  let waitMs = 0;
  /** Runs a step that waits for the user, counting its time as waiting, not as the model's. */
  const waiting = async <T>(step: () => Promise<T>): Promise<T> => {
    const t = now();
    try {
      return await step();
    } finally {
      waitMs += Math.max(0, now() - t);
    }
  };
  const record = (entry: Partial<TaskEntry> & Pick<TaskEntry, 'outcome'>) => {
    deps.ledger.append({
      kind: 'task',
      lane: 'escalation',
      workspace: deps.workspace,
      model: endpoint.model || 'unknown',
      provider: endpoint.provider,
      destination: endpoint.destination,
      tokensIn: 0,
      tokensOut: 0,
      totalMs: Math.max(0, now() - started),
      waitMs,
      redactions: {},
      // Nothing was sent unless the entry says otherwise: a known cost of 0.
      estimatedCost: 0,
      ...entry,
    });
  };
  const blocked = (decision: Pick<PolicyDecision, 'reason' | 'rule' | 'blockedBy'>): EscalationResult => {
    const reason = decision.rule ? `${decision.reason} (rule: ${decision.rule})` : decision.reason;
    const blockedBy = decision.blockedBy ?? blockedByOf(decision.rule);
    record({ outcome: 'blocked', blockedBy, ...(decision.rule ? { rule: decision.rule } : {}) });
    logger.info(`escalation to "${endpoint.id}" blocked by policy (${blockedBy}): ${reason}`);
    return { outcome: 'blocked', reason, rule: decision.rule, blockedBy };
  };
  const ask = (question: string) => {
    // Estimated on the raw text: the redacted one differs by a few placeholder characters.
    const rawEstimate = estimateTokens(SYSTEM_PROMPT + composeUserMessage(question, input.payload));
    return deps.decide({
      lane: 'escalation',
      destination: endpoint.destination,
      endpointId: endpoint.id,
      files: input.payload.files,
      workspaceTrusted: input.workspaceTrusted,
      estimatedCostUsd: costUsd(endpoint, { inputTokens: rawEstimate, outputTokens: maxTokens }) ?? 0,
      spentThisMonthUsd: input.spentThisMonthUsd ?? 0,
    });
  };

  // 1. Policy, before the user is asked anything (with the question unknown, the budget sees the code alone).
  let decision = await ask(input.question ?? '');
  if (!decision.allowed) return blocked(decision);

  // 2. The question, then the policy again: the question's tokens count toward the budget.
  let question = input.question;
  if (question === undefined) {
    question = await waiting(async () => (deps.ui.askQuestion ? deps.ui.askQuestion() : undefined));
    if (!question || question.trim() === '') {
      record({ outcome: 'cancelled' });
      return { outcome: 'cancelled', redactions: {} };
    }
    decision = await ask(question);
    if (!decision.allowed) return blocked(decision);
  }

  // 3. Redaction: question and code share one session, so a value reads the same everywhere.
  const counts: Record<string, number> = {};
  const session = new RedactionSession();
  let request: ChatRequest;
  let parts: RequestParts;
  try {
    const redactor = createRedactor(decision.redactor);
    const q = redactor.redact(question, { session });
    const code = redactor.redact(input.payload.text, { fileName: input.payload.fileName, session });
    for (const r of [q, code]) for (const [c, n] of Object.entries(r.countsByCategory)) counts[c] = (counts[c] ?? 0) + n;
    const content = composeUserMessage(q.text, { ...input.payload, text: code.text });
    const questionPart = q.text.trim();
    parts = { system: SYSTEM_PROMPT, question: questionPart, rest: content.slice(questionPart.length), codeLabel: input.payload.kind === 'selection' ? 'Selected code' : input.payload.kind === 'file' ? 'File' : 'Conversation' };
    request = { system: SYSTEM_PROMPT, messages: [{ role: 'user', content }], maxTokens };
  } catch (err) {
    // Fail closed: a redactor that cannot be built (an invalid custom pattern) means nothing is sent.
    return blocked({ reason: `Redaction could not run: ${errorMessage(err)}`, rule: 'redaction', blockedBy: 'invalidPolicy' });
  }
  const apiKey = await waiting(() => deps.apiKey(endpoint.id));
  if (apiKey === KEY_PROMPT_CANCELLED) {
    record({ outcome: 'cancelled', redactions: counts });
    return { outcome: 'cancelled', redactions: counts };
  }
  const client = (deps.createClient ?? createProviderClient)(endpoint, { ...deps.clientOptions, apiKey });
  const body = client.requestBody(request);

  // 4. Consent, with the exact bytes available for review.
  const warning = warningFor(endpoint, decision, counts, body, maxTokens, parts);
  const remembered = decision.requireConsent === 'session' && deps.sessionConsent?.has(endpoint.id);
  if (!remembered) {
    for (;;) {
      let choice: WarningChoice;
      try {
        choice = await waiting(() => deps.ui.confirm(warning));
      } catch (err) {
        // A review that cannot be shown is no consent.
        return blocked({ reason: `the review could not be shown, so nothing was sent: ${errorMessage(err)}`, rule: 'consent', blockedBy: 'consent' });
      }
      if (choice === 'send') break;
      if (choice === 'preview') {
        await waiting(() => deps.ui.preview(warning));
        continue;
      }
      record({ outcome: 'cancelled', redactions: counts });
      return { outcome: 'cancelled', redactions: counts };
    }
    if (decision.requireConsent === 'session') deps.sessionConsent?.add(endpoint.id);
  }
  if (deps.signal?.aborted) {
    record({ outcome: 'cancelled', redactions: counts });
    return { outcome: 'cancelled', redactions: counts };
  }

  // 5. Send and stream; the answer is restored locally as it grows.
  let raw = '';
  await deps.ui.answer({ text: '', done: false });
  const sentAt = now();
  try {
    const result = await client.stream(body, {
      signal: deps.signal,
      onText: (delta) => {
        raw += delta;
        void deps.ui.answer({ text: restore(raw, session), done: false });
      },
    });
    const modelMs = Math.max(0, now() - sentAt);
    const answer = restore(result.text, session);
    const usage = result.usage ?? { inputTokens: warning.estimatedTokensIn, outputTokens: estimateTokens(result.text) };
    const cost = costUsd(endpoint, usage);
    await deps.ui.answer({ text: answer, done: true });
    record({
      outcome: 'accepted',
      redactions: counts,
      // Kept only where the workspace policy opts in (the writer drops it otherwise); placeholders, never values.
      text: { prompt: request.messages[0]!.content, answer: result.text },
      tokensIn: usage.inputTokens,
      tokensOut: usage.outputTokens,
      timeToFirstTokenMs: result.timeToFirstTokenMs,
      modelMs,
      // Absent when the endpoint has no price: unknown, not free.
      estimatedCost: cost,
    });
    logger.info(`escalation to "${endpoint.id}" answered: ${usage.inputTokens} tokens in, ${usage.outputTokens} out in ${modelMs} ms`);
    return { outcome: 'accepted', answer, usage, costUsd: cost, redactions: counts };
  } catch (err) {
    const modelMs = Math.max(0, now() - sentAt);
    const error = err instanceof CloudError ? err : new CloudError('connection', errorMessage(err), raw);
    const partial = restore(error.partialText || raw, session);
    await deps.ui.answer({ text: partial, done: true, incomplete: error.message });
    const usage = { inputTokens: warning.estimatedTokensIn, outputTokens: estimateTokens(error.partialText || raw) };
    record({
      outcome: error.kind === 'cancelled' ? 'cancelled' : 'error',
      redactions: counts,
      text: { prompt: request.messages[0]!.content, answer: error.partialText || raw },
      tokensIn: usage.inputTokens,
      tokensOut: usage.outputTokens,
      modelMs,
      estimatedCost: costUsd(endpoint, usage),
    });
    logger.warn(`escalation to "${endpoint.id}" failed (${error.kind}${error.status ? ` ${error.status}` : ''})`);
    return { outcome: 'error', error, partialAnswer: partial, redactions: counts };
  }
}
