/**
 * Combines the user's settings and the repo policy into the policy that applies: the strictest of both. A repo
 * can narrow anything; it can never add a destination or an endpoint, turn on escalation the user turned off, or
 * weaken redaction. What it tried is listed in `refused`.
 */
import type { CustomPattern, RedactorOptions } from '../redaction/redactor';
import type { PolicyLoadError, PolicyPath } from './parsePolicy';
import {
  DATA_CLASSES,
  DESTINATIONS,
  LANES,
  POLICY_FILE,
  type ConsentMode,
  type DataClass,
  type Destination,
  type Lane,
  type RepoPolicy,
} from './policySchema';
import { ROUTING_LANES, type EndpointConfig, type RoutingLane, type UserPolicy } from './userPolicy';

/** Where a rule of the effective policy comes from; decisions name it. */
export type RuleSource = 'settings' | 'repo' | 'default';

/** Something in the repo policy Hearth ignored because it would loosen the user's settings. */
export interface Refusal {
  message: string;
  /** JSON path of the offending value in the policy file (for a diagnostic there). */
  path: PolicyPath;
}

export interface ClassRule {
  match: string[];
  class: DataClass;
}

export interface EffectivePolicy {
  /** `none`: no policy file; `invalid`: it cannot be used, so nothing leaves the machine. */
  repo: { status: 'none' } | { status: 'valid'; file: string } | { status: 'invalid'; error: PolicyLoadError };
  escalation: { enabled: boolean; source: RuleSource };
  /** Destinations allowed at all, after both sides (always includes `local` unless the repo left it out). */
  destinations: { allowed: Destination[]; notAllowed: { destination: Destination; by: RuleSource }[] };
  /** The user's endpoints this repo may use (their destination allowed). */
  endpoints: EndpointConfig[];
  /** Ids of endpoints the repo restricts to; undefined when it does not. */
  repoEndpointIds?: string[];
  dataClasses: { default: DataClass; defaultSource: RuleSource; rules: ClassRule[] };
  /** Per lane and data class: where content may go (already limited to `destinations.allowed`) and who said so. */
  lanes: Record<Lane, Record<DataClass, { destinations: Destination[]; source: RuleSource }>>;
  neverSend: { glob: string; source: RuleSource }[];
  /** The user allows plain `http://` endpoints off this machine (a repo cannot turn this on). */
  allowInsecureHttp: boolean;
  /** Options for `createRedactor`: the repo's custom patterns, the user's opted-out personal-data categories. */
  redactor: RedactorOptions;
  consent: { mode: ConsentMode; source: RuleSource };
  budgets: { perTaskUsd: { value: number; source: RuleSource }; perMonthUsd: { value: number; source: RuleSource } };
  /** `pathSetByRepo`: the policy file names the ledger's path (it then wins over the `hearth.ledger.path` setting). */
  ledger: { path: string; includeText: boolean; pathSetByRepo: boolean };
  /**
   * Per lane: the confidence below which Hearth offers the next tier (the higher of settings and repo); absent
   * where neither sets one.
   */
  routing?: Partial<Record<RoutingLane, { threshold: number; source: RuleSource }>>;
  /** Plain-words list of what the repo policy asked for and did not get. */
  refused: string[];
  refusals: Refusal[];
  /** Problems with the user's own settings that were ignored (from `parseUserPolicy`). */
  settingsProblems: string[];
}

/** The repo side: a parsed policy, no policy file, or a file that could not be used. */
export type RepoPolicyInput = RepoPolicy | undefined | { error: PolicyLoadError };

/** Hearth's built-in lane matrix, used for every class a policy leaves out. */
export const DEFAULT_LANES: Record<Lane, Record<DataClass, Destination[]>> = {
  completion: { public: ['local'], internal: ['local'], sensitive: ['local'], regulated: ['local'] },
  chat: { public: ['local', 'team'], internal: ['local', 'team'], sensitive: ['local'], regulated: ['local'] },
  escalation: { public: ['team', 'frontier'], internal: ['team', 'frontier'], sensitive: ['team'], regulated: [] },
};

export const DEFAULT_LEDGER_PATH = '.hearth/ledger.jsonl';

function isLoadError(repo: RepoPolicyInput): repo is { error: PolicyLoadError } {
  return typeof repo === 'object' && repo !== null && 'error' in repo;
}

function lowest(user: number, repo: number | undefined): { value: number; source: RuleSource } {
  return repo !== undefined && repo < user ? { value: repo, source: 'repo' } : { value: user, source: 'settings' };
}

/**
 * The policy that applies in one workspace folder: the strictest of the user's settings and the repo policy.
 * An invalid repo policy still yields a policy (for completion and for display) whose `repo.status` is
 * `invalid`; {@link decide} then refuses everything that would leave the machine.
 */
export function combinePolicies(user: UserPolicy, repo: RepoPolicyInput, settingsProblems: string[] = []): EffectivePolicy {
  const loadError = isLoadError(repo) ? repo.error : undefined;
  const policy: RepoPolicy | undefined = loadError ? undefined : (repo as RepoPolicy | undefined);
  const refusals: Refusal[] = [];
  const refuse = (path: PolicyPath, message: string) => refusals.push({ path, message });

  // Escalation switch: the repo can only turn it off.
  let escalation: EffectivePolicy['escalation'] = { enabled: user.escalationEnabled, source: 'settings' };
  const repoEnabled = policy?.escalation?.enabled;
  if (repoEnabled === false && user.escalationEnabled) escalation = { enabled: false, source: 'repo' };
  if (repoEnabled === true && !user.escalationEnabled) {
    refuse(['escalation', 'enabled'], 'escalation.enabled: true — a repo policy cannot turn on escalation; your setting hearth.escalation.enabled is off');
  }

  // Destinations: local is the user's own machine; team/frontier need the user's allowance.
  const allowed: Destination[] = [];
  const notAllowed: EffectivePolicy['destinations']['notAllowed'] = [];
  for (const d of DESTINATIONS) {
    const byUser = d === 'local' || user.allowedDestinations.includes(d);
    const byRepo = !policy?.destinations || policy.destinations.includes(d);
    if (!byUser) notAllowed.push({ destination: d, by: 'settings' });
    else if (!byRepo) notAllowed.push({ destination: d, by: 'repo' });
    else allowed.push(d);
  }

  // Endpoints: the user's, whose destination is allowed, optionally narrowed by the repo to some ids.
  let endpoints = user.endpoints.filter((e) => allowed.includes(e.destination));
  let repoEndpointIds: string[] | undefined;
  if (policy?.endpoints) {
    repoEndpointIds = [];
    policy.endpoints.forEach((entry, i) => {
      if (typeof entry !== 'string') {
        const what = typeof entry.id === 'string' ? `"${entry.id}"` : typeof entry.baseUrl === 'string' ? entry.baseUrl : `#${i + 1}`;
        refuse(['endpoints', i], `endpoints[${i}]: a repo policy cannot add an endpoint (${what}); only your setting hearth.escalation.endpoints defines endpoints`);
      } else if (!user.endpoints.some((e) => e.id === entry)) {
        refuse(['endpoints', i], `endpoints[${i}]: "${entry}" is not one of your endpoints (hearth.escalation.endpoints); a repo can only choose among them`);
      } else {
        repoEndpointIds!.push(entry);
      }
    });
    endpoints = endpoints.filter((e) => repoEndpointIds!.includes(e.id));
  }

  // Data classes and lanes.
  const rules: ClassRule[] = (policy?.dataClasses?.rules ?? []).map((r) => ({ match: typeof r.match === 'string' ? [r.match] : r.match, class: r.class }));
  const dataClasses = {
    default: policy?.dataClasses?.default ?? 'internal',
    defaultSource: (policy?.dataClasses?.default ? 'repo' : 'default') as RuleSource,
    rules,
  };
  const lanes = {} as EffectivePolicy['lanes'];
  for (const lane of LANES) {
    lanes[lane] = {} as EffectivePolicy['lanes'][Lane];
    for (const c of DATA_CLASSES) {
      const fromRepo = policy?.lanes?.[lane]?.[c];
      const wanted = fromRepo ?? DEFAULT_LANES[lane][c];
      lanes[lane][c] = { destinations: DESTINATIONS.filter((d) => wanted.includes(d) && allowed.includes(d)), source: fromRepo ? 'repo' : 'default' };
    }
  }

  const neverSend = [
    ...user.neverSend.map((glob) => ({ glob, source: 'settings' as RuleSource })),
    ...(policy?.neverSend ?? []).filter((g) => !user.neverSend.includes(g)).map((glob) => ({ glob, source: 'repo' as RuleSource })),
  ];

  // Redaction: the repo may add patterns, never switch detectors off.
  const repoDisabled = policy?.redaction?.disabledCategories ?? [];
  if (repoDisabled.length) {
    refuse(['redaction', 'disabledCategories'], `redaction.disabledCategories (${repoDisabled.join(', ')}) — a repo policy cannot weaken redaction; every detector stays on`);
  }
  const customPatterns: CustomPattern[] = (policy?.redaction?.customPatterns ?? []).map((p) => ({
    name: p.name,
    regex: p.regex,
    ...(p.category ? { category: p.category } : {}),
    ...(p.flags ? { flags: p.flags } : {}),
  }));
  const redactor: RedactorOptions = {
    ...(customPatterns.length ? { customPatterns } : {}),
    ...(user.disabledCategories.length ? { disabledCategories: [...user.disabledCategories] } : {}),
  };

  // Routing thresholds: the repo may raise the bar (route more unsure answers), never lower the user's.
  const routing: NonNullable<EffectivePolicy['routing']> = {};
  for (const lane of ROUTING_LANES) {
    const mine = user.routingThresholds?.[lane];
    const repoValue = policy?.routing?.confidenceThresholds?.[lane];
    if (repoValue !== undefined && mine !== undefined && repoValue < mine) {
      refuse(['routing', 'confidenceThresholds', lane], `routing.confidenceThresholds.${lane}: ${repoValue} — a repo policy can only raise your threshold (${mine} in hearth.routing.confidenceThresholds)`);
    }
    if (repoValue !== undefined && (mine === undefined || repoValue > mine)) routing[lane] = { threshold: repoValue, source: 'repo' };
    else if (mine !== undefined) routing[lane] = { threshold: mine, source: 'settings' };
  }

  const consent: EffectivePolicy['consent'] =
    user.consent === 'always' ? { mode: 'always', source: 'settings' } : policy?.consent === 'always' ? { mode: 'always', source: 'repo' } : { mode: 'session', source: 'settings' };

  return {
    repo: loadError ? { status: 'invalid', error: loadError } : policy ? { status: 'valid', file: POLICY_FILE } : { status: 'none' },
    escalation,
    destinations: { allowed, notAllowed },
    endpoints,
    ...(repoEndpointIds ? { repoEndpointIds } : {}),
    dataClasses,
    lanes,
    neverSend,
    allowInsecureHttp: user.allowInsecureHttp,
    redactor,
    consent,
    budgets: { perTaskUsd: lowest(user.budgetPerTaskUsd, policy?.budgets?.perTaskUsd), perMonthUsd: lowest(user.budgetPerMonthUsd, policy?.budgets?.perMonthUsd) },
    routing,
    ledger: { path: policy?.ledger?.path ?? DEFAULT_LEDGER_PATH, includeText: policy?.ledger?.includeText ?? false, pathSetByRepo: policy?.ledger?.path !== undefined },
    refused: refusals.map((r) => r.message),
    refusals,
    settingsProblems,
  };
}
