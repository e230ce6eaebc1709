/**
 * Messages between the chat webview view and the extension (style rule 5: one file both sides import). Both
 * sides parse what they receive with these schemas (rule 6): the page trusts nothing it is posted, and the
 * extension trusts nothing the page posts back (a webview runs model output, so it is treated as hostile).
 */
// zod/mini, as the dashboard: the webview bundle stays small; same parsing, same types.
import * as z from 'zod/mini';
import { USER_INCIDENT_CATEGORIES } from '../ledger/ledgerEnums';

const id = z.string().check(z.minLength(1), z.maxLength(64));
const count = z.int().check(z.minimum(0));
/** Text a user or model wrote: bounded so one message cannot exhaust the host. */
const text = z.string().check(z.maxLength(2_000_000));

/** Where an answer came from: the local model, or an escalation (with the badge's destination and cost). */
export const answerSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local'), model: z.string() }),
  z.object({
    kind: z.literal('escalation'),
    endpointId: z.string(),
    destination: z.enum(['team', 'frontier']),
    model: z.string(),
    /** USD; null when the endpoint has no prices. */
    costUsd: z.nullable(z.number()),
    redactions: count,
  }),
]);

/** A piece of context the user attached: what it is, what it costs, and whether it fits. */
export const chipSchema = z.object({
  id,
  kind: z.enum(['selection', 'file', 'editor', 'atFile']),
  /** Shown on the chip, e.g. `main.ts:3-9` or `src/main.ts`. */
  label: z.string().check(z.maxLength(300)),
  /** Workspace-relative path (for the policy's globs); empty for untitled documents. */
  path: z.string().check(z.maxLength(1000)),
  languageId: z.string().check(z.maxLength(100)),
  /** Estimated tokens of the whole content. */
  tokens: count,
  /** Tokens that fit the context now (less than `tokens`: cut; 0: left out). Set by the budget. */
  includedTokens: count,
  /** Set when the policy refuses this content as context: the rule, named. */
  refused: z.optional(z.string().check(z.maxLength(1000))),
});

export const feedbackSchema = z.enum(['up', 'down']);
export const incidentSchema = z.enum(USER_INCIDENT_CATEGORIES);

export const chatMessageSchema = z.object({
  id,
  role: z.enum(['user', 'assistant']),
  text,
  time: z.string(),
  status: z.enum(['streaming', 'done', 'cancelled', 'error']),
  error: z.optional(z.string()),
  source: z.optional(answerSourceSchema),
  /** Context attached to a user message, as it was budgeted when sent. */
  chips: z.optional(z.array(chipSchema)),
  /** The ledger record of this answer (what a flag points at). */
  taskId: z.optional(z.string()),
  /** The file whose ledger holds `taskId` (workspace folder URI). */
  ledgerUri: z.optional(z.string()),
  feedback: z.optional(feedbackSchema),
  incidents: z.optional(z.array(incidentSchema)),
  tokensIn: z.optional(count),
  tokensOut: z.optional(count),
  latencyMs: z.optional(z.number()),
  /** History turns left out of the prompt because the context was full (shown on the answer). */
  droppedTurns: z.optional(count),
});

export const conversationSchema = z.object({
  id,
  title: z.string().check(z.maxLength(200)),
  createdAt: z.string(),
  updatedAt: z.string(),
  messages: z.array(chatMessageSchema),
});

export const conversationSummarySchema = z.object({ id, title: z.string(), updatedAt: z.string(), messages: count });

/** The context budget now: what the next question would cost against the model's context. */
export const budgetSchema = z.object({
  contextSize: count,
  /** Tokens kept free for the answer. */
  reserved: count,
  used: count,
  /** History turns that would be left out. */
  droppedTurns: count,
});

export const hostToChatSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('state'),
    conversations: z.array(conversationSummarySchema),
    current: conversationSchema,
    busy: z.boolean(),
    model: z.nullable(z.string()),
    escalation: z.boolean(),
  }),
  /** Streamed answer text, appended to message `messageId`. */
  z.object({ type: z.literal('delta'), conversationId: id, messageId: id, text: z.string() }),
  z.object({ type: z.literal('context'), chips: z.array(chipSchema), budget: budgetSchema }),
  z.object({ type: z.literal('notice'), level: z.enum(['info', 'warning', 'error']), text: z.string() }),
  /** Puts text in the input box (edit-and-resend of an earlier question). */
  z.object({ type: z.literal('draft'), text: z.string() }),
]);

export const codeActionSchema = z.enum(['copy', 'insert', 'apply']);

export const chatToHostSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('send'), text: text.check(z.minLength(1)) }),
  z.object({ type: z.literal('stop') }),
  z.object({ type: z.literal('regenerate') }),
  /** Replaces user message `messageId` with `text`, drops what followed, and asks again. */
  z.object({ type: z.literal('editResend'), messageId: id, text: text.check(z.minLength(1)) }),
  z.object({ type: z.literal('newConversation') }),
  z.object({ type: z.literal('selectConversation'), id }),
  z.object({ type: z.literal('renameConversation'), id }),
  z.object({ type: z.literal('deleteConversation'), id }),
  z.object({ type: z.literal('codeAction'), action: codeActionSchema, code: text, language: z.string().check(z.maxLength(100)) }),
  z.object({ type: z.literal('feedback'), messageId: id, value: feedbackSchema }),
  z.object({ type: z.literal('flagIncident'), messageId: id, category: incidentSchema }),
  z.object({ type: z.literal('escalate') }),
  z.object({ type: z.literal('addContext'), kind: z.enum(['selection', 'file', 'editors', 'atFile']) }),
  z.object({ type: z.literal('removeContext'), id }),
  /** The draft changed: the host answers with the budget (debounced by the page). */
  z.object({ type: z.literal('draft'), text }),
  /** The page drew an answer: for tests and logs. */
  z.object({ type: z.literal('problem'), message: z.string().check(z.maxLength(2000)) }),
]);

export type AnswerSource = z.infer<typeof answerSourceSchema>;
export type Chip = z.infer<typeof chipSchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type Conversation = z.infer<typeof conversationSchema>;
export type ConversationSummary = z.infer<typeof conversationSummarySchema>;
export type Budget = z.infer<typeof budgetSchema>;
export type HostToChat = z.infer<typeof hostToChatSchema>;
export type ChatToHost = z.infer<typeof chatToHostSchema>;
export type CodeAction = z.infer<typeof codeActionSchema>;
