/**
 * Routing by confidence: whether a local answer is sure enough to show, and if not, which tier to offer and
 * why. The thresholds come from the effective policy (settings, raised by the repo policy), and are recommended
 * per repository by the task battery's calibration (src/common/battery/batteryStats.ts `calibrate`).
 */
import type { RoutingReason } from '../ledger/ledgerEnums';
import type { EffectivePolicy } from './combinePolicies';
import type { DataClass, Destination } from './policySchema';
import type { RoutingLane } from './userPolicy';

export type RouteDecision =
  | { route: false }
  | {
      route: true;
      /** What the ledger records as `routedBy`. */
      reason: RoutingReason;
      /** The tier to offer; undefined when the policy allows none for this lane and class (the answer is held back). */
      offer: Exclude<Destination, 'local'> | undefined;
      /** Plain words for the log and the user. */
      message: string;
    };

/**
 * Decides for one answer. `confidence`: the mean log-probability per token (undefined: the backend gave none,
 * and nothing is routed on a guess).
 */
export function routeByConfidence(policy: EffectivePolicy, lane: RoutingLane, dataClass: DataClass, confidence: number | undefined): RouteDecision {
  const rule = policy.routing?.[lane];
  if (!rule || confidence === undefined || confidence >= rule.threshold) return { route: false };
  const lanes = policy.lanes[lane === 'completion' ? 'completion' : 'chat'][dataClass].destinations;
  // The next tier in order: a team server before a frontier cloud.
  const offer = lanes.includes('team') ? 'team' : lanes.includes('frontier') && policy.escalation.enabled ? 'frontier' : undefined;
  const setBy = rule.source === 'repo' ? 'the repo policy' : 'hearth.routing.confidenceThresholds';
  return offer
    ? { route: true, reason: 'confidence', offer, message: `confidence ${confidence.toFixed(2)} is below the ${lane} threshold ${rule.threshold.toFixed(2)} (${setBy}): offering the ${offer} tier` }
    : { route: true, reason: 'policy', offer: undefined, message: `confidence ${confidence.toFixed(2)} is below the ${lane} threshold ${rule.threshold.toFixed(2)} (${setBy}), and the policy allows no other tier for ${dataClass} ${lane}: the answer is held back` };
}
