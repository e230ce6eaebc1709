/**
 * The whole completion path that does not depend on the editor: windows → engine → post-processing.
 * The inline completion provider and the end-to-end test both run this, so a test can compute exactly the
 * suggestion the editor should show.
 */
import type { InfillParams, InfillResult } from '../protocol/engineProtocol';
import { buildFimInput, defaultFimWindows, type FimWindowOptions } from './fimInput';
import { postProcess, stopStrings } from './postProcess';

/** What the pipeline needs of an engine (EngineClient implements it). */
export interface InfillEngine {
  infill(params: InfillParams, opts?: { signal?: AbortSignal; onText?: (text: string) => void }): Promise<InfillResult>;
}

export interface CompletionSettings {
  maxTokens: number;
  windows?: FimWindowOptions;
  timeLimitMs?: number;
  /** Beams to search (1: greedy); undefined: the engine chooses for its model. */
  beamWidth?: number;
}

export interface CompletionDocument {
  text: string;
  offset: number;
  /** Identifies the document to the engine, which keeps its evaluated tokens for the next keystroke. */
  documentId?: string;
}

export interface CompletionOutcome {
  /** The suggestion, or undefined when the model produced nothing worth showing. */
  suggestion: string | undefined;
  prefix: string;
  suffix: string;
  result: InfillResult;
}

export async function runCompletion(engine: InfillEngine, doc: CompletionDocument, settings: CompletionSettings, signal?: AbortSignal): Promise<CompletionOutcome> {
  const input = buildFimInput(doc.text, doc.offset, settings.windows ?? defaultFimWindows);
  const result = await engine.infill(
    {
      documentId: doc.documentId,
      prefix: input.prefix,
      suffix: input.suffix,
      maxTokens: settings.maxTokens,
      temperature: 0,
      stop: stopStrings(input),
      timeLimitMs: settings.timeLimitMs,
      beamWidth: settings.beamWidth,
    },
    { signal },
  );
  // A cancelled generation is stale: the document has moved on.
  const suggestion = result.stopReason === 'cancelled' ? undefined : postProcess(result.text, input);
  return { suggestion, prefix: input.prefix, suffix: input.suffix, result };
}
