/**
 * The chat prompt's token budget: the model's context holds the system prompt, the attached context, the
 * conversation so far and the question, with room left for the answer. What does not fit is cut, and the cut is
 * reported (chip by chip, and as a count of older turns left out) so the page can show it: never silently.
 * Pure, so the page and the extension compute the same figures and the unit tests run in plain Node.
 */

/** Characters per token for code and English prose with the small BPE vocabularies Hearth's models use. */
const CHARS_PER_TOKEN = 3.5;

/** A fast estimate of the tokens `text` takes (the engine reports the exact count after each answer). */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / CHARS_PER_TOKEN);
}

export interface BudgetTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface BudgetChip {
  id: string;
  text: string;
  /** Refused by the policy: never included. */
  refused?: boolean;
}

export interface BudgetInput {
  contextSize: number;
  /** Tokens kept free for the answer. */
  reserve: number;
  system: string;
  /** Earlier turns, oldest first. */
  history: BudgetTurn[];
  question: string;
  /** In the order the user attached them; earlier chips get room first. */
  chips: BudgetChip[];
  /** Tokens the chat template adds per turn (role markers); a small fixed allowance. */
  perTurnOverhead?: number;
}

export interface BudgetedChip {
  id: string;
  tokens: number;
  includedTokens: number;
  /** The content as it goes into the prompt: whole, cut with a visible marker, or empty. */
  text: string;
}

export interface BudgetPlan {
  chips: BudgetedChip[];
  /** The turns that go into the prompt (the most recent ones). */
  history: BudgetTurn[];
  droppedTurns: number;
  /** Estimated prompt tokens. */
  used: number;
  /** The question alone does not fit: it must be shortened. */
  overflow: boolean;
}

/** The marker left where a chip's content was cut, so the model (and a reader of the prompt) sees the cut. */
export function cutMarker(droppedTokens: number): string {
  return `\n… [cut by Hearth: about ${droppedTokens} more tokens did not fit the model's context]`;
}

/**
 * Plans the prompt. Order of claim on the space: system prompt and question, then the attached context (the
 * user asked for it explicitly), then the conversation from the newest turn back.
 */
export function planBudget(input: BudgetInput): BudgetPlan {
  const overhead = input.perTurnOverhead ?? 4;
  const available = Math.max(0, input.contextSize - input.reserve);
  let used = estimateTokens(input.system) + overhead + estimateTokens(input.question) + overhead;
  const overflow = used > available;
  const chips: BudgetedChip[] = input.chips.map((c) => {
    const tokens = estimateTokens(c.text);
    if (c.refused) return { id: c.id, tokens, includedTokens: 0, text: '' };
    const room = Math.max(0, available - used - overhead);
    if (tokens <= room) {
      used += tokens + overhead;
      return { id: c.id, tokens, includedTokens: tokens, text: c.text };
    }
    // Keep the head (imports, declarations) and mark the cut; a sliver too small to be useful is left out.
    const marker = cutMarker(tokens);
    const keepTokens = room - estimateTokens(marker);
    if (keepTokens < 16) return { id: c.id, tokens, includedTokens: 0, text: '' };
    const keepChars = Math.floor(keepTokens * CHARS_PER_TOKEN);
    const cutText = c.text.slice(0, keepChars) + cutMarker(tokens - keepTokens);
    used += estimateTokens(cutText) + overhead;
    return { id: c.id, tokens, includedTokens: keepTokens, text: cutText };
  });
  const kept: BudgetTurn[] = [];
  let i = input.history.length - 1;
  for (; i >= 0; i--) {
    const t = input.history[i]!;
    const cost = estimateTokens(t.content) + overhead;
    if (used + cost > available) break;
    used += cost;
    kept.unshift(t);
  }
  // A user turn without its answer (or an answer without its question) confuses a model: keep whole pairs.
  if (kept.length > 0 && kept[0]!.role === 'assistant') {
    used -= estimateTokens(kept[0]!.content) + overhead;
    kept.shift();
  }
  return { chips, history: kept, droppedTurns: input.history.length - kept.length, used, overflow };
}
