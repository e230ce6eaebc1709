import type { z } from 'zod';
import type { ChatParams, ChatResult, InfillParams, InfillResult, LoadModelParams, ModelInfo, PromptCacheStatus, StatusResult, TuneParams, TuneResult } from '../../../common/protocol/engineProtocol';

/** What the engine needs of an inference backend (llama.cpp, OpenVINO). */
export interface EngineBackend {
  readonly name: string;
  readonly modelInfo: ModelInfo | undefined;
  isLoaded(params: LoadModelParams): boolean;
  loadModel(params: LoadModelParams): Promise<ModelInfo>;
  /** Options that apply without a reload (the prompt cache budget), for a load of the model already loaded. */
  applyLoadOptions?(params: LoadModelParams): void;
  /** `origin`: the client connection (a window) the request came from; prefills pace themselves by other windows. */
  infill(params: InfillParams, signal: AbortSignal, onText: (text: string) => void, origin?: string): Promise<InfillResult>;
  /** A chat answer in the model's own chat template; absent where the backend has no chat (OpenVINO). */
  chat?(params: z.output<typeof ChatParams>, signal: AbortSignal, onText: (text: string) => void): Promise<ChatResult>;
  /** The measured settings sweep; absent where the backend has nothing to tune (OpenVINO). */
  tune?(params: z.output<typeof TuneParams>, signal: AbortSignal, onProgress: (index: number, count: number) => void): Promise<TuneResult>;
  /** Completion requests it can serve at once (live completion sequences); 1 where absent. */
  readonly completionSequences?: number;
  /** Live sequences and the host-memory prompt cache; absent where the backend has none (OpenVINO). */
  promptCacheStatus?(): PromptCacheStatus;
  /** Which llama.cpp build, the load-aware threads and lookup speculation (llama.cpp only). */
  speedStatus?(): Pick<StatusResult, 'engineBackend' | 'threads' | 'lookup'>;
  unload(): Promise<void>;
  dispose(): Promise<void>;
}
