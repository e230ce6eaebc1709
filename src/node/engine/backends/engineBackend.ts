import type { z } from 'zod';
import type { ChatParams, ChatResult, InfillParams, InfillResult, LoadModelParams, ModelInfo, TuneParams, TuneResult } from '../../../common/protocol/engineProtocol';

/** What the engine needs of an inference backend (llama.cpp, OpenVINO). */
export interface EngineBackend {
  readonly name: string;
  readonly modelInfo: ModelInfo | undefined;
  isLoaded(params: LoadModelParams): boolean;
  loadModel(params: LoadModelParams): Promise<ModelInfo>;
  infill(params: InfillParams, signal: AbortSignal, onText: (text: string) => void): Promise<InfillResult>;
  /** A chat answer in the model's own chat template; absent where the backend has no chat (OpenVINO). */
  chat?(params: z.output<typeof ChatParams>, signal: AbortSignal, onText: (text: string) => void): Promise<ChatResult>;
  /** The measured settings sweep; absent where the backend has nothing to tune (OpenVINO). */
  tune?(params: z.output<typeof TuneParams>, signal: AbortSignal, onProgress: (index: number, count: number) => void): Promise<TuneResult>;
  unload(): Promise<void>;
  dispose(): Promise<void>;
}
