/**
 * Types shared by the cloud provider clients and the escalation flow. An endpoint is what the user configured in
 * `hearth.escalation.endpoints`; the key never lives on it (SecretStorage hands it to the client per request).
 */

/** Wire protocol of an endpoint: any OpenAI-compatible server (OpenAI, Azure, vLLM, Ollama, llama-server) or Anthropic. */
export type ProviderKind = 'openai' | 'anthropic';

export interface EndpointConfig {
  /** Stable id chosen by the user; names the API key in SecretStorage and the endpoint in messages. */
  id: string;
  destination: 'team' | 'frontier';
  provider: ProviderKind;
  baseUrl: string;
  model: string;
  /** USD per million input tokens; absent means unknown (shown as such, recorded as 0). */
  priceInPerMTok?: number;
  priceOutPerMTok?: number;
}

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** What the flow asks a provider for: the redacted conversation, already final. */
export interface ChatRequest {
  system: string;
  messages: ChatMessage[];
  maxTokens: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface StreamResult {
  text: string;
  /** Token counts the provider reported; absent when it reported none (then the flow estimates). */
  usage?: Usage;
  /** Provider's stop reason (`stop`, `end_turn`, `length`, `max_tokens`…). */
  finishReason: string;
  timeToFirstTokenMs: number | null;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /** Called with each piece of text as it arrives. */
  onText?: (delta: string) => void;
}

/**
 * One provider. The body is built first and handed back as the exact bytes that go on the wire, so the preview
 * the user approves is what is sent: {@link ProviderClient.stream} sends that very string.
 */
export interface ProviderClient {
  readonly endpoint: EndpointConfig;
  /** The JSON request body, as the bytes that will be sent. */
  requestBody(request: ChatRequest): string;
  /** Sends `body` (from {@link requestBody}) and streams the answer; throws a `CloudError`. */
  stream(body: string, options?: StreamOptions): Promise<StreamResult>;
}

export interface ClientOptions {
  /** From SecretStorage; local servers (llama-server, Ollama) often need none. */
  apiKey?: string;
  /** Longest wait for the first byte of the answer (response headers). Default 60 s. */
  connectTimeoutMs?: number;
  /** Longest silence between two chunks of a streaming answer. Default 60 s. */
  idleTimeoutMs?: number;
  /** Longest whole request. Default 10 min. */
  totalTimeoutMs?: number;
  /** For tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
}
