/** Anthropic's Messages API through the official `@anthropic-ai/sdk`, streaming. */
import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { ChatRequest, ClientOptions, EndpointConfig, ProviderClient, StreamOptions, StreamResult } from './cloudTypes';
import { DEFAULT_TOTAL_TIMEOUT_MS, runStream, type StreamDriver } from './streamRunner';

export class AnthropicClient implements ProviderClient {
  constructor(readonly endpoint: EndpointConfig, private readonly options: ClientOptions = {}) {}

  requestBody(request: ChatRequest): string {
    const body = {
      model: this.endpoint.model,
      max_tokens: request.maxTokens,
      system: request.system,
      messages: request.messages,
      stream: true,
    };
    return JSON.stringify(body);
  }

  stream(body: string, options?: StreamOptions): Promise<StreamResult> {
    let stopReason: string | undefined;
    const driver: StreamDriver<RawMessageStreamEvent> = {
      start: async (params, signal, fetchImpl) => {
        const client = new Anthropic({
          // Explicit key and URL: the SDK must not resolve credentials from the environment or config files.
          apiKey: this.options.apiKey || 'no-key',
          authToken: null,
          baseURL: this.endpoint.baseUrl,
          maxRetries: 0,
          timeout: (this.options.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS) + 5_000,
          fetch: fetchImpl,
        });
        return client.messages.create(params as Anthropic.MessageCreateParamsStreaming, { signal });
      },
      step: (event) => {
        switch (event.type) {
          case 'message_start':
            return { usage: { inputTokens: event.message.usage.input_tokens, outputTokens: event.message.usage.output_tokens } };
          case 'content_block_delta':
            return event.delta.type === 'text_delta' ? { delta: event.delta.text } : {};
          case 'message_delta':
            stopReason = event.delta.stop_reason ?? stopReason;
            return { usage: { outputTokens: event.usage.output_tokens } };
          case 'message_stop':
            // The end-of-answer marker: a stream cut before it is incomplete even if a stop reason came.
            return { finishReason: stopReason ?? 'end_turn' };
          default:
            return {};
        }
      },
    };
    return runStream(this.endpoint, this.options, body, driver, options);
  }
}
