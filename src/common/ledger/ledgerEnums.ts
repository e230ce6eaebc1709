/** The ledger's closed vocabularies (in their own file so the schema and the fast check share them). */

/**
 * Bumped on any change an older reader could misread; readers reject versions they do not know.
 * 2: escalation records carry `blockedBy`/`rule` when blocked, `modelMs` (request sent → last token) and `waitMs`
 * (time in dialogs); `totalMs` of an escalation still spans both. An absent `estimatedCost` means "unknown".
 * Version 1 lines are still read (see `modelTimeMs` for their latency).
 */
export const LEDGER_SCHEMA_VERSION = 2;
/** Versions this reader understands. */
export const LEDGER_SCHEMA_VERSIONS = [1, 2] as const;

export const LANES = ['completion', 'chat', 'escalation', 'benchmark'] as const;
export type Lane = (typeof LANES)[number];

/** `accepted` is "accepted whole"; `blocked` means the policy stopped the task before anything ran. */
export const OUTCOMES = ['accepted', 'partial', 'rejected', 'ignored', 'cancelled', 'error', 'blocked'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The four kinds a person flags on an answer (the Flag command, chat's feedback). */
export const USER_INCIDENT_CATEGORIES = ['factual-error', 'policy-breach', 'tool-misuse', 'sensitive-data-mishandling'] as const;
/** `drift`: the task battery found a quality regression against the saved baseline (src/node/battery). */
export const INCIDENT_CATEGORIES = [...USER_INCIDENT_CATEGORIES, 'drift'] as const;
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

/** The rule family that blocked a task (`blockedBy`): the same list as the policy's `BLOCKED_BY`. */
export const BLOCKED_BY = ['neverSend', 'invalidPolicy', 'lane', 'destination', 'budget', 'untrusted', 'consent'] as const;
export type BlockedBy = (typeof BLOCKED_BY)[number];
