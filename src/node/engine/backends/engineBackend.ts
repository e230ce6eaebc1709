import type { InfillParams, InfillResult, LoadModelParams, ModelInfo } from '../../../common/protocol/engineProtocol';

/** What the engine needs of an inference backend (llama.cpp, OpenVINO). */
export interface EngineBackend {
  readonly name: string;
  readonly modelInfo: ModelInfo | undefined;
  isLoaded(params: LoadModelParams): boolean;
  loadModel(params: LoadModelParams): Promise<ModelInfo>;
  infill(params: InfillParams, signal: AbortSignal, onText: (text: string) => void): Promise<InfillResult>;
  unload(): Promise<void>;
  dispose(): Promise<void>;
}
