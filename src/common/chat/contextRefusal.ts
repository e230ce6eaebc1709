/**
 * Whether the policy refuses a file as chat context, in words that name the rule. Chat is local, but a
 * conversation can be escalated later: a `neverSend` file is kept out of it from the start, so it can never be sent.
 */
import type { EffectivePolicy } from '../policy/combinePolicies';
import { neverSendMatch, sourceName } from '../policy/decide';

export function contextRefusal(policy: EffectivePolicy, relPath: string): string | undefined {
  const match = neverSendMatch(policy, relPath);
  if (!match) return undefined;
  const where = sourceName(match.source, 'hearth.escalation.neverSend');
  return match.invalid
    ? `${relPath}: the neverSend pattern "${match.glob}" ${where} is invalid, so every file is refused until it is fixed`
    : `${relPath} matches neverSend pattern "${match.glob}" ${where}`;
}
