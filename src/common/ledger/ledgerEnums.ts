/** The ledger's closed vocabularies (in their own file so the schema and the fast check share them). */

/** Bumped on any change a reader of version 1 could misread; readers reject versions they do not know. */
export const LEDGER_SCHEMA_VERSION = 1;

export const LANES = ['completion', 'chat', 'escalation', 'benchmark'] as const;
export type Lane = (typeof LANES)[number];

/** `accepted` is "accepted whole"; `blocked` means the policy stopped the task before anything ran. */
export const OUTCOMES = ['accepted', 'partial', 'rejected', 'ignored', 'cancelled', 'error', 'blocked'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** `drift`: the task battery found a quality regression against the saved baseline (src/node/battery). */
export const INCIDENT_CATEGORIES = ['factual-error', 'policy-breach', 'tool-misuse', 'sensitive-data-mishandling', 'drift'] as const;
export type IncidentCategory = (typeof INCIDENT_CATEGORIES)[number];

/**
 * Why a request went to another tier than the local model's answer: its confidence was under the lane's threshold,
 * a cost cap, or the policy (src/common/policy/routing.ts).
 */
export const ROUTING_REASONS = ['confidence', 'cost-cap', 'policy'] as const;
export type RoutingReason = (typeof ROUTING_REASONS)[number];

/** Where the task's payload went: the three model tiers of the architecture. */
export const DESTINATIONS = ['local', 'team', 'frontier'] as const;
export type Destination = (typeof DESTINATIONS)[number];
