/**
 * Chat generation on a loaded llama.cpp model: the conversation is formatted with the model's own chat template
 * (node-llama-cpp resolves a chat wrapper from the GGUF's `tokenizer.chat_template` and architecture), and the
 * answer streams token by token. Kept apart from `llamaCppBackend.ts` so the completion path's sequence and cache
 * handling can change without touching chat; the backend only hands over the model and a context sequence.
 */
import type { ChatHistoryItem, LlamaContextSequence, LlamaModel } from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import type { z } from 'zod';
import type { ChatParams, ChatResult, StopReason } from '../../../common/protocol/engineProtocol';
import { evaluationPriority } from '../scheduler';
import { GenerationLimit } from './generationLimit';

type NodeLlamaCpp = typeof import('node-llama-cpp', { with: { 'resolution-mode': 'import' } });

/** What a chat generation needs from the backend. */
export interface ChatTarget {
  mod: NodeLlamaCpp;
  model: LlamaModel;
  /** The sequence chat runs on (not one a completion uses at the same time). */
  sequence: LlamaContextSequence;
}

/** The conversation as node-llama-cpp's chat history: system turns first, then user and model turns. */
export function toChatHistory(messages: z.output<typeof ChatParams>['messages']): ChatHistoryItem[] {
  return messages.map((m): ChatHistoryItem =>
    m.role === 'system' ? { type: 'system', text: m.content } : m.role === 'user' ? { type: 'user', text: m.content } : { type: 'model', response: [m.content] },
  );
}

/**
 * Generates the model's answer to the last user turn of `params.messages`. `onText` receives each piece as it is
 * generated; aborting `signal` stops before the next token and returns what was generated so far.
 */
export async function generateChat(target: ChatTarget, params: z.output<typeof ChatParams>, signal: AbortSignal, onText: (text: string) => void): Promise<ChatResult> {
  const { mod, model, sequence } = target;
  const started = performance.now();
  const chatWrapper = mod.resolveChatWrapper(model);
  const chat = new mod.LlamaChat({ contextSequence: sequence, chatWrapper, autoDisposeSequence: false });
  const limit = new GenerationLimit(signal, params.timeLimitMs);
  let firstTokenAt: number | null = null;
  let tokensOut = 0;
  const inputBefore = sequence.tokenMeter.usedInputTokens;
  try {
    const history: ChatHistoryItem[] = [...toChatHistory(params.messages), { type: 'model', response: [] }];
    const res = await chat.generateResponse(history, {
      maxTokens: params.maxTokens,
      temperature: params.temperature,
      seed: params.seed,
      signal: limit.signal,
      stopOnAbortSignal: true,
      evaluationPriority: evaluationPriority.chat,
      onTextChunk: (text) => {
        if (firstTokenAt === null) firstTokenAt = performance.now();
        onText(text);
      },
      onToken: (tokens) => {
        tokensOut += tokens.length;
      },
    });
    const reason = res.metadata.stopReason;
    const stopReason: StopReason = limit.timedOut ? 'timeLimit' : limit.signal.aborted || reason === 'abort' ? 'cancelled' : reason === 'maxTokens' ? 'maxTokens' : reason === 'customStopTrigger' ? 'stop' : 'eos';
    // The prompt as the template renders it, counted: what the answer was conditioned on (the meter counts only
    // the tokens evaluated now, which is fewer when the sequence still held the conversation's beginning).
    const tokensIn = Math.max(
      sequence.tokenMeter.usedInputTokens - inputBefore,
      chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer).length,
    );
    return {
      text: res.response,
      tokensIn,
      tokensOut,
      timeToFirstTokenMs: firstTokenAt === null ? null : firstTokenAt - started,
      totalMs: performance.now() - started,
      stopReason,
      chatTemplate: chatWrapper.wrapperName,
    };
  } finally {
    limit.dispose();
    chat.dispose({ disposeSequence: false });
  }
}
