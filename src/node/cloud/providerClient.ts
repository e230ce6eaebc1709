/** Picks the client for an endpoint's wire protocol. */
import { AnthropicClient } from './anthropicClient';
import type { ClientOptions, EndpointConfig, ProviderClient } from './cloudTypes';
import { OpenAiClient } from './openAiClient';

export function createProviderClient(endpoint: EndpointConfig, options: ClientOptions = {}): ProviderClient {
  return endpoint.provider === 'anthropic' ? new AnthropicClient(endpoint, options) : new OpenAiClient(endpoint, options);
}
