/**
 * The policy decision for one request to send content off this machine. Fails closed: an untrusted workspace,
 * an unusable policy file, or any rule that does not clearly allow the request denies it, and the reason names
 * the rule in plain words.
 */
import type { RedactorOptions } from '../redaction/redactor';
import type { ClassRule, EffectivePolicy, RuleSource } from './combinePolicies';
import { compileGlob, normalizePath } from './glob';
import { POLICY_FILE, type DataClass, type Lane, type RemoteDestination } from './policySchema';

export interface DecisionRequest {
  lane: 'chat' | 'escalation';
  destination: RemoteDestination;
  endpointId: string;
  /** Workspace-relative paths of the files the content comes from (none: a conversation, of the default class). */
  files: string[];
  workspaceTrusted: boolean;
  estimatedCostUsd: number;
  spentThisMonthUsd: number;
}

export interface Decision {
  allowed: boolean;
  /** Plain words naming the rule, e.g. `src/secrets/keys.ts matches neverSend pattern "**\/secrets/**" in .hearth/policy.jsonc`. */
  reason: string;
  /** Short id of the rule that decided (`workspaceTrust`, `invalidPolicy`, `neverSend`, `lane`, `budgetPerTask`…). */
  rule?: string;
  /** Classes of the content, most restrictive last, without repeats. */
  dataClasses: DataClass[];
  /** Pass to `createRedactor`. */
  redactor: RedactorOptions;
  requireConsent: true | 'session';
}

/** Names where a rule came from, for reasons. */
export function sourceName(source: RuleSource, setting?: string): string {
  if (source === 'repo') return `in ${POLICY_FILE}`;
  if (source === 'settings') return setting ? `in your settings (${setting})` : 'in your settings';
  return 'by Hearth\'s default';
}

const CLASS_ORDER: readonly DataClass[] = ['public', 'internal', 'sensitive', 'regulated'];

/** The class of one file and the rule that gave it (undefined: the default class). */
export function classify(policy: EffectivePolicy, file: string): { dataClass: DataClass; rule?: ClassRule; glob?: string } {
  const path = normalizePath(file);
  for (const rule of policy.dataClasses.rules) {
    for (const glob of rule.match) {
      if (compileGlob(glob).test(path)) return { dataClass: rule.class, rule, glob };
    }
  }
  return { dataClass: policy.dataClasses.default };
}

/** The first neverSend entry that matches `file`; an entry that does not compile matches everything (fail closed). */
export function neverSendMatch(policy: EffectivePolicy, file: string): { glob: string; source: RuleSource; invalid?: boolean } | undefined {
  const path = normalizePath(file);
  for (const entry of policy.neverSend) {
    let re: RegExp;
    try {
      re = compileGlob(entry.glob);
    } catch {
      return { ...entry, invalid: true };
    }
    if (re.test(path)) return entry;
  }
  return undefined;
}

function usd(n: number): string {
  return n === 0 || n >= 0.01 ? `$${n.toFixed(2)}` : `$${n.toPrecision(2)}`;
}

function list(items: readonly string[]): string {
  return items.length ? items.join(', ') : 'nowhere off this machine';
}

/** Whether `lane` lets content of class `dataClass` go to `destination` under `policy`. */
export function laneAllows(policy: EffectivePolicy, lane: Lane, dataClass: DataClass, destination: string): boolean {
  return (policy.lanes[lane][dataClass].destinations as string[]).includes(destination);
}

/**
 * Decides whether `request` may go ahead under `policy`. The checks run in a fixed order and the first that
 * fails gives the reason: workspace trust, a usable policy file, the escalation switch, the destination, the
 * endpoint, neverSend, the lane's data-class rules, then the budgets.
 */
export function decide(policy: EffectivePolicy, request: DecisionRequest): Decision {
  const requireConsent: true | 'session' = policy.consent.mode === 'session' ? 'session' : true;
  const files = request.files.map(normalizePath);
  const classified = files.map((f) => ({ file: f, ...classify(policy, f) }));
  const classes = classified.length ? classified.map((c) => c.dataClass) : [policy.dataClasses.default];
  const dataClasses = CLASS_ORDER.filter((c) => classes.includes(c));
  const base = { dataClasses, redactor: policy.redactor, requireConsent };
  const deny = (rule: string, reason: string): Decision => ({ ...base, allowed: false, rule, reason });
  const dest = request.destination;

  if (!request.workspaceTrusted) {
    return deny('workspaceTrust', 'this workspace is not trusted: Hearth sends nothing off this machine from an untrusted workspace (trust it with "Workspaces: Manage Workspace Trust")');
  }
  if (policy.repo.status === 'invalid') {
    return deny('invalidPolicy', `the repo policy cannot be used, so nothing leaves this machine until it is fixed: ${policy.repo.error.message}`);
  }
  if (!policy.escalation.enabled) {
    return deny(
      'escalationDisabled',
      policy.escalation.source === 'repo'
        ? `escalation is turned off for this repo (escalation.enabled: false in ${POLICY_FILE})`
        : 'escalation is off: hearth.escalation.enabled is false in your settings',
    );
  }
  const notAllowed = policy.destinations.notAllowed.find((n) => n.destination === dest);
  if (notAllowed || !policy.destinations.allowed.includes(dest)) {
    return deny(
      'destination',
      notAllowed?.by === 'repo'
        ? `the destination "${dest}" is not in destinations in ${POLICY_FILE}`
        : `the destination "${dest}" is not in your settings' hearth.escalation.allowedDestinations`,
    );
  }
  const endpoint = policy.endpoints.find((e) => e.id === request.endpointId);
  if (!endpoint) {
    const restricted = policy.repoEndpointIds && !policy.repoEndpointIds.includes(request.endpointId);
    return deny(
      'endpoint',
      restricted
        ? `the endpoint "${request.endpointId}" is not in endpoints in ${POLICY_FILE} (allowed: ${policy.repoEndpointIds!.join(', ') || 'none'})`
        : `no endpoint "${request.endpointId}" in your settings (hearth.escalation.endpoints) with an allowed destination`,
    );
  }
  if (endpoint.destination !== dest) {
    return deny('endpoint', `the endpoint "${endpoint.id}" is a ${endpoint.destination} endpoint, not ${dest}`);
  }
  for (const f of files) {
    const hit = neverSendMatch(policy, f);
    if (hit) {
      return deny(
        'neverSend',
        hit.invalid
          ? `the neverSend pattern "${hit.glob}" ${sourceName(hit.source, 'hearth.escalation.neverSend')} is not a valid glob, so no file is sent until it is fixed`
          : `${f} matches neverSend pattern "${hit.glob}" ${sourceName(hit.source, 'hearth.escalation.neverSend')}`,
      );
    }
  }
  for (const c of CLASS_ORDER.slice().reverse()) {
    if (!dataClasses.includes(c) || laneAllows(policy, request.lane, c, dest)) continue;
    const rule = policy.lanes[request.lane][c];
    const example = classified.find((x) => x.dataClass === c);
    const why = example
      ? example.glob
        ? `${example.file} is ${c} (dataClasses rule "${example.glob}" in ${POLICY_FILE})`
        : `${example.file} is ${c} (the default class ${sourceName(policy.dataClasses.defaultSource)})`
      : `the content is ${c} (the default class ${sourceName(policy.dataClasses.defaultSource)})`;
    const onward = rule.destinations.filter((d) => d !== 'local');
    return deny('lane', `${why}, and the ${request.lane} lane sends ${c} data to ${list(onward)} (${sourceName(rule.source)}), not to ${dest}`);
  }
  const perTask = policy.budgets.perTaskUsd;
  if (request.estimatedCostUsd > perTask.value) {
    return deny('budgetPerTask', `the estimated cost ${usd(request.estimatedCostUsd)} is over the per-task budget of ${usd(perTask.value)} ${sourceName(perTask.source, 'hearth.escalation.budgetPerTaskUsd')}`);
  }
  const perMonth = policy.budgets.perMonthUsd;
  if (request.spentThisMonthUsd + request.estimatedCostUsd > perMonth.value) {
    return deny(
      'budgetPerMonth',
      `${usd(request.spentThisMonthUsd)} spent this month plus the estimated ${usd(request.estimatedCostUsd)} is over the monthly budget of ${usd(perMonth.value)} ${sourceName(perMonth.source, 'hearth.escalation.budgetPerMonthUsd')}`,
    );
  }
  return {
    ...base,
    allowed: true,
    rule: 'lane',
    reason: `allowed: the ${request.lane} lane sends ${dataClasses.join(' and ')} data to ${dest} (endpoint "${endpoint.id}"), within budget; ${requireConsent === true ? 'you confirm every time' : 'you confirm once this session'}`,
  };
}
