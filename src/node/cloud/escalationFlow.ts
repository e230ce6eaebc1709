/**
 * The escalation, start to end, without the editor: policy decision → redaction → warning (with payload preview)
 * → stream to the provider → placeholders restored locally → one ledger record. The command in
 * `src/vscode/escalation` and the wire-protocol tests drive this same function; the editor supplies the
 * {@link EscalationUi} (modal, preview, answer document) and the policy gate.
 */
import type { TaskEntry } from '../../common/ledger/ledgerRecord';
import type { LedgerSink } from '../../common/ledger/ledgerSink';
import type { Logger } from '../../common/logger';
import { nullLogger, errorMessage } from '../../common/logger';
import type { DataClass, Decision, DecisionRequest } from '../../common/policy';
import { createRedactor, RedactionSession, restore } from '../../common/redaction';
import { CloudError } from './cloudError';
import type { ChatRequest, ClientOptions, EndpointConfig, ProviderClient, Usage } from './cloudTypes';
import { costUsd, estimateTokens, formatUsd } from './costEstimate';
import { createProviderClient } from './providerClient';
import { hostOf } from './streamRunner';

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
  /** Workspace-relative paths the payload came from, for the policy's globs. */
  files: string[];
}

export interface EscalationInput {
  question: string;
  payload: EscalationPayload;
  endpoint: EndpointConfig;
  workspaceTrusted: boolean;
  spentThisMonthUsd?: number;
}

/** Everything the modal warning shows; `body` is the exact request body that would be sent. */
export interface EscalationWarning {
  endpoint: EndpointConfig;
  host: string;
  dataClasses: DataClass[];
  redactions: Record<string, number>;
  redactionTotal: number;
  estimatedTokensIn: number;
  maxTokensOut: number;
  /** Upper bound (input estimate + every output token allowed); undefined without prices. */
  estimatedCostUsd: number | undefined;
  body: string;
  /** One line for the modal's title. */
  message: string;
  /** The modal's detail text. */
  detail: string;
}

export type WarningChoice = 'send' | 'preview' | 'cancel';

export interface AnswerUpdate {
  /** Answer so far with placeholders restored. */
  text: string;
  done: boolean;
  /** Set when the answer stopped early: why, for the "incomplete" marker. */
  incomplete?: string;
}

/** The editor's side of the flow. Tests answer these from a script. */
export interface EscalationUi {
  confirm(warning: EscalationWarning): Promise<WarningChoice>;
  /** Show `warning.body` exactly; the flow asks {@link confirm} again afterwards. */
  preview(warning: EscalationWarning): Promise<void>;
  /** Called once before the first byte is sent, then with every update of the answer. */
  answer(update: AnswerUpdate): void | Promise<void>;
}

export interface EscalationDeps {
  decide(request: PolicyRequest): PolicyDecision | Promise<PolicyDecision>;
  apiKey(endpointId: string): Promise<string | undefined>;
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
  | { outcome: 'blocked'; reason: string; rule?: string }
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

function warningFor(endpoint: EndpointConfig, decision: PolicyDecision, counts: Record<string, number>, body: string, maxTokensOut: number): EscalationWarning {
  const host = hostOf(endpoint.baseUrl);
  const estimatedTokensIn = estimateTokens(body);
  const estimatedCostUsd = costUsd(endpoint, { inputTokens: estimatedTokensIn, outputTokens: maxTokensOut });
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const redactedLine = total === 0
    ? 'Redacted: nothing found to redact.'
    : `Redacted (${plural(total, 'value')}, replaced by placeholders and restored locally in the answer): ` +
      Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c, n]) => `${c} ×${n}`).join(', ') + '.';
  const dest = endpoint.destination === 'frontier' ? 'a frontier cloud model' : 'the team server';
  const detail = [
    `Destination: ${endpoint.destination} — ${endpoint.provider} model "${endpoint.model}" at ${host} (endpoint "${endpoint.id}").`,
    `Data classes: ${decision.dataClasses.length ? decision.dataClasses.join(', ') : 'none assigned'}.`,
    redactedLine,
    `Size: ≈${estimatedTokensIn.toLocaleString('en-US')} tokens in, up to ${maxTokensOut.toLocaleString('en-US')} out (${body.length.toLocaleString('en-US')} bytes).`,
    `Estimated cost: at most ${formatUsd(estimatedCostUsd)}.`,
    'Choose "Preview payload" to see exactly what will be sent.',
  ].join('\n');
  return {
    endpoint,
    host,
    dataClasses: decision.dataClasses,
    redactions: counts,
    redactionTotal: total,
    estimatedTokensIn,
    maxTokensOut,
    estimatedCostUsd,
    body,
    message: `Send this code to ${dest} (${host})?`,
    detail,
  };
}

/**
 * Runs one escalation. Nothing goes on the wire unless the policy allowed it and the user chose "Send" on the
 * warning (or consented earlier in the session where the policy allows that). Never throws for provider
 * failures: they come back as `outcome: 'error'` with a user-facing message and the partial answer.
 */
export async function runEscalation(input: EscalationInput, deps: EscalationDeps): Promise<EscalationResult> {
  const logger = deps.logger ?? nullLogger;
  const now = deps.now ?? Date.now;
  const started = now();
  const { endpoint } = input;
  const maxTokens = deps.maxTokens ?? DEFAULT_MAX_TOKENS;
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
      redactions: {},
      ...entry,
    });
  };

  // 1. Policy. Estimated on the raw text: the redacted one differs by a few placeholder characters.
  const rawEstimate = estimateTokens(SYSTEM_PROMPT + composeUserMessage(input.question, input.payload));
  const decision = await deps.decide({
    lane: 'escalation',
    destination: endpoint.destination,
    endpointId: endpoint.id,
    files: input.payload.files,
    workspaceTrusted: input.workspaceTrusted,
    estimatedCostUsd: costUsd(endpoint, { inputTokens: rawEstimate, outputTokens: maxTokens }) ?? 0,
    spentThisMonthUsd: input.spentThisMonthUsd ?? 0,
  });
  if (!decision.allowed) {
    const reason = decision.rule ? `${decision.reason} (rule: ${decision.rule})` : decision.reason;
    record({ outcome: 'blocked' });
    logger.info(`escalation to "${endpoint.id}" blocked by policy: ${reason}`);
    return { outcome: 'blocked', reason, rule: decision.rule };
  }

  // 2. Redaction: question and code share one session, so a value reads the same everywhere.
  const counts: Record<string, number> = {};
  const session = new RedactionSession();
  let request: ChatRequest;
  try {
    const redactor = createRedactor(decision.redactor);
    const question = redactor.redact(input.question, { session });
    const code = redactor.redact(input.payload.text, { fileName: input.payload.fileName, session });
    for (const r of [question, code]) for (const [c, n] of Object.entries(r.countsByCategory)) counts[c] = (counts[c] ?? 0) + n;
    request = {
      system: SYSTEM_PROMPT,
      messages: [{ role: 'user', content: composeUserMessage(question.text, { ...input.payload, text: code.text }) }],
      maxTokens,
    };
  } catch (err) {
    // Fail closed: a redactor that cannot be built (an invalid custom pattern) means nothing is sent.
    const reason = `Redaction could not run: ${errorMessage(err)}`;
    record({ outcome: 'blocked' });
    return { outcome: 'blocked', reason, rule: 'redaction' };
  }
  const apiKey = await deps.apiKey(endpoint.id);
  const client = (deps.createClient ?? createProviderClient)(endpoint, { ...deps.clientOptions, apiKey });
  const body = client.requestBody(request);

  // 3. Consent, with the exact bytes available for preview.
  const warning = warningFor(endpoint, decision, counts, body, maxTokens);
  const remembered = decision.requireConsent === 'session' && deps.sessionConsent?.has(endpoint.id);
  if (!remembered) {
    for (;;) {
      const choice = await deps.ui.confirm(warning);
      if (choice === 'send') break;
      if (choice === 'preview') {
        await deps.ui.preview(warning);
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

  // 4. Send and stream; the answer is restored locally as it grows.
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
      estimatedCost: cost,
    });
    logger.info(`escalation to "${endpoint.id}" answered: ${usage.inputTokens} tokens in, ${usage.outputTokens} out in ${now() - sentAt} ms`);
    return { outcome: 'accepted', answer, usage, costUsd: cost, redactions: counts };
  } catch (err) {
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
      estimatedCost: costUsd(endpoint, usage),
    });
    logger.warn(`escalation to "${endpoint.id}" failed (${error.kind}${error.status ? ` ${error.status}` : ''})`);
    return { outcome: 'error', error, partialAnswer: partial, redactions: counts };
  }
}
