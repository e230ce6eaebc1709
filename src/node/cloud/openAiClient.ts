/**
 * Any OpenAI-compatible chat completions endpoint (OpenAI, Azure OpenAI's v1 API, vLLM, Ollama, llama-server)
 * through the official `openai` SDK, streaming.
 */
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ChatRequest, ClientOptions, EndpointConfig, ProviderClient, StreamOptions, StreamResult } from './cloudTypes';
import { DEFAULT_TOTAL_TIMEOUT_MS, runStream, type StreamDriver } from './streamRunner';

export class OpenAiClient implements ProviderClient {
  constructor(readonly endpoint: EndpointConfig, private readonly options: ClientOptions = {}) {}

  requestBody(request: ChatRequest): string {
    const body = {
      model: this.endpoint.model,
      messages: [{ role: 'system', content: request.system }, ...request.messages],
      max_tokens: request.maxTokens,
      stream: true,
      // Token counts for the ledger; OpenAI, Azure, vLLM, Ollama and llama-server all honour it.
      stream_options: { include_usage: true },
    };
    return JSON.stringify(body);
  }

  stream(body: string, options?: StreamOptions): Promise<StreamResult> {
    const driver: StreamDriver<ChatCompletionChunk> = {
      start: async (params, signal, fetchImpl) => {
        const client = new OpenAI({
          // Explicit key and URL: the SDK must not pick up OPENAI_API_KEY / OPENAI_BASE_URL from the editor's environment.
          apiKey: this.options.apiKey || 'no-key',
          baseURL: this.endpoint.baseUrl,
          organization: null,
          project: null,
          maxRetries: 0,
          timeout: (this.options.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS) + 5_000,
          fetch: fetchImpl,
          // Azure OpenAI reads its key from `api-key`.
          defaultHeaders: isAzure(this.endpoint.baseUrl) && this.options.apiKey ? { 'api-key': this.options.apiKey } : undefined,
        });
        const stream = await client.chat.completions.create(params as OpenAI.Chat.ChatCompletionCreateParamsStreaming, { signal });
        return stream;
      },
      step: (chunk) => {
        const choice = chunk.choices?.[0];
        return {
          delta: choice?.delta?.content ?? undefined,
          finishReason: choice?.finish_reason ?? undefined,
          usage: chunk.usage ? { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens } : undefined,
        };
      },
    };
    return runStream(this.endpoint, this.options, body, driver, options);
  }
}

function isAzure(baseUrl: string): boolean {
  try {
    return new URL(baseUrl).hostname.endsWith('.azure.com');
  } catch {
    return false;
  }
}
