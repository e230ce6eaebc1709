/** Token and cost estimates for the warning (before sending) and the ledger (after, from reported usage). */
import type { EndpointConfig, Usage } from './cloudTypes';

/**
 * Rough token count: about four characters a token for English and code with BPE tokenizers. The warning says
 * "≈"; the ledger uses the provider's own counts when it reports them.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** USD for these token counts at the endpoint's prices; undefined when a price is unknown. */
export function costUsd(endpoint: Pick<EndpointConfig, 'priceInPerMTok' | 'priceOutPerMTok'>, usage: Usage): number | undefined {
  if (endpoint.priceInPerMTok === undefined || endpoint.priceOutPerMTok === undefined) return undefined;
  return (usage.inputTokens * endpoint.priceInPerMTok + usage.outputTokens * endpoint.priceOutPerMTok) / 1_000_000;
}

/** "$0.0123", or "unknown (no price configured)". */
export function formatUsd(usd: number | undefined): string {
  if (usd === undefined) return 'unknown (no price configured for this endpoint)';
  if (usd === 0) return '$0';
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}
