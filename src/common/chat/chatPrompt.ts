/**
 * The local chat prompt: a short system prompt, the turns that fit, and the last user message with the attached
 * context in fences long enough not to be closed by the content. Also the transcript an escalation sends.
 */
import type { ChatTurn } from '../protocol/engineProtocol';
import { planBudget, type BudgetChip, type BudgetPlan, type BudgetTurn } from './contextBudget';

export const CHAT_SYSTEM_PROMPT =
  'You are Hearth, a coding assistant running on the developer\'s own machine. Answer concisely. Put code in ' +
  'fenced Markdown code blocks with a language tag.';

export interface PromptChip extends BudgetChip {
  label: string;
  languageId: string;
}

/** A fence of backticks longer than any run of backticks inside `text`. */
export function fenceFor(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`{3,}/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

/** The user message: attached context first (each labelled and fenced), then the question. */
export function userMessage(question: string, chips: Array<{ label: string; languageId: string; text: string }>): string {
  const parts = chips.filter((c) => c.text).map((c) => {
    const fence = fenceFor(c.text);
    return `${c.label}:\n${fence}${c.languageId}\n${c.text}\n${fence}`;
  });
  return parts.length ? `${parts.join('\n\n')}\n\n${question}` : question;
}

/** The engine's messages for a question, within the context; the plan says what was cut. */
export function buildChatPrompt(input: {
  contextSize: number;
  reserve: number;
  history: BudgetTurn[];
  question: string;
  chips: PromptChip[];
}): { messages: ChatTurn[]; plan: BudgetPlan } {
  const plan = planBudget({ ...input, system: CHAT_SYSTEM_PROMPT });
  const byId = new Map(input.chips.map((c) => [c.id, c]));
  const included = plan.chips.map((b) => ({ label: byId.get(b.id)!.label, languageId: byId.get(b.id)!.languageId, text: b.text }));
  const messages: ChatTurn[] = [
    { role: 'system', content: CHAT_SYSTEM_PROMPT },
    ...plan.history.map((t) => ({ role: t.role, content: t.content })),
    { role: 'user', content: userMessage(input.question, included) },
  ];
  return { messages, plan };
}

/** The conversation as one text, for an escalation of `kind: 'conversation'` (redacted before it leaves). */
export function conversationTranscript(turns: BudgetTurn[]): string {
  return turns.map((t) => `${t.role === 'user' ? 'User' : 'Assistant'}:\n${t.content.trim()}`).join('\n\n');
}
