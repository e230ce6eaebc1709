/**
 * The policy decision for one request to send content off this machine. Fails closed: an untrusted workspace,
 * an unusable policy file, or any rule that does not clearly allow the request denies it, and the reason names
 * the rule in plain words.
 */
import type { RedactorOptions } from '../redaction/redactor';
import type { ClassRule, EffectivePolicy, RuleSource } from './combinePolicies';
import { endpointAddress } from './endpointAddress';
import { compileGlob, normalizePath } from './glob';
import { POLICY_FILE, type DataClass, type Lane, type RemoteDestination } from './policySchema';

/**
 * A file the content comes from, as the editor names it and as it really is on disk. Rules are matched against
 * both, so a link or a `..` path cannot hide a neverSend file or a data class behind an innocent name.
 */
export interface FileRef {
  /** Workspace-relative path as the editor shows it (the link's own name for a symbolic link). */
  path: string;
  /**
   * The resolved file (links and `..` followed): workspace-relative when inside the workspace folder, else the
   * absolute path with `outside: true`. Absent when it could not be resolved (then only `path` is judged).
   */
  real?: { path: string; outside: boolean };
}

/** The rule families a ledger record names when a task was blocked (`blockedBy`). */
export const BLOCKED_BY = ['neverSend', 'invalidPolicy', 'lane', 'destination', 'budget', 'untrusted', 'consent'] as const;
export type BlockedBy = (typeof BLOCKED_BY)[number];

/** The family of each fine-grained rule id {@link decide} returns. */
export function blockedByOf(rule: string | undefined): BlockedBy {
  switch (rule) {
    case 'workspaceTrust':
      return 'untrusted';
    case 'invalidPolicy':
    case 'redaction':
      return 'invalidPolicy';
    case 'neverSend':
      return 'neverSend';
    case 'lane':
      return 'lane';
    case 'budgetPerTask':
    case 'budgetPerMonth':
      return 'budget';
    case 'consent':
      return 'consent';
    default:
      // escalationDisabled, destination, endpoint, insecureHttp: where the content may go at all.
      return 'destination';
  }
}

export interface DecisionRequest {
  lane: 'chat' | 'escalation';
  destination: RemoteDestination;
  endpointId: string;
  /**
   * The files the content comes from: workspace-relative paths, or {@link FileRef}s carrying the resolved path
   * too (none: a conversation or an untitled buffer, of the default class).
   */
  files: (string | FileRef)[];
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
  /** Set when not allowed: the rule's family, for the ledger. */
  blockedBy?: BlockedBy;
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

/** Classes are ordered from least to most restrictive; the larger index wins. */
function stricter(a: DataClass, b: DataClass): DataClass {
  return CLASS_ORDER.indexOf(a) >= CLASS_ORDER.indexOf(b) ? a : b;
}

interface Classified {
  /** The path named in reasons (the editor's name). */
  file: string;
  dataClass: DataClass;
  /** Why, in words: `dataClasses rule "…" in …`, `the default class …`, `outside the workspace …`. */
  why: string;
}

/**
 * The class of one file judged on both its names: the stricter of the class of its workspace path and the class
 * of its real path. A real path outside the workspace is `regulated` unless a dataClasses rule matches it.
 */
function classifyRef(policy: EffectivePolicy, ref: NormalRef): Classified {
  const shown = classify(policy, ref.path);
  const byRule = (c: ReturnType<typeof classify>, path: string): string =>
    c.glob ? `dataClasses rule "${c.glob}" in ${POLICY_FILE}${path === ref.path ? '' : `, matched by its real path ${path}`}` : `the default class ${sourceName(policy.dataClasses.defaultSource)}`;
  let result: Classified = { file: ref.path, dataClass: shown.dataClass, why: byRule(shown, ref.path) };
  if (ref.real && (ref.real.path !== ref.path || ref.real.outside)) {
    const real = classify(policy, ref.real.path);
    const realClass: Classified = ref.real.outside && !real.glob
      ? { file: ref.path, dataClass: 'regulated', why: `its real path ${ref.real.path} is outside the workspace, and Hearth treats a file outside the workspace as regulated unless a dataClasses rule says otherwise` }
      : { file: ref.path, dataClass: real.dataClass, why: byRule(real, ref.real.path) };
    if (stricter(realClass.dataClass, result.dataClass) === realClass.dataClass && realClass.dataClass !== result.dataClass) result = realClass;
  }
  return result;
}

interface NormalRef {
  path: string;
  real?: { path: string; outside: boolean };
}

/** Normalises a request's file entry; a workspace path that climbs out with `..` counts as outside. */
function normalRef(f: string | FileRef): NormalRef {
  const ref: FileRef = typeof f === 'string' ? { path: f } : f;
  const path = normalizePath(ref.path);
  const real = ref.real ? { path: normalizePath(ref.real.path), outside: ref.real.outside } : undefined;
  if (!real && (path === '..' || path.startsWith('../'))) return { path, real: { path, outside: true } };
  return real ? { path, real } : { path };
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
  const refs = request.files.map(normalRef);
  const classified = refs.map((r) => classifyRef(policy, r));
  const classes = classified.length ? classified.map((c) => c.dataClass) : [policy.dataClasses.default];
  const dataClasses = CLASS_ORDER.filter((c) => classes.includes(c));
  const base = { dataClasses, redactor: policy.redactor, requireConsent };
  const deny = (rule: string, reason: string): Decision => ({ ...base, allowed: false, rule, blockedBy: blockedByOf(rule), reason });
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
  const address = endpointAddress(endpoint.baseUrl);
  if (!address.encrypted && !address.loopback && !policy.allowInsecureHttp) {
    return deny(
      'insecureHttp',
      `the endpoint "${endpoint.id}" is at plain http://${address.host}, another machine over an unencrypted connection; use https, or allow it with "hearth.escalation.allowInsecureHttp": true in your user settings`,
    );
  }
  for (const ref of refs) {
    const hit = neverSendMatch(policy, ref.path);
    const realHit = !hit && ref.real && ref.real.path !== ref.path ? neverSendMatch(policy, ref.real.path) : undefined;
    const found = hit ?? realHit;
    if (found) {
      const where = sourceName(found.source, 'hearth.escalation.neverSend');
      return deny(
        'neverSend',
        found.invalid
          ? `the neverSend pattern "${found.glob}" ${where} is not a valid glob, so no file is sent until it is fixed`
          : realHit
            ? `${ref.path} leads to ${ref.real!.path}${ref.real!.outside ? ' (outside the workspace)' : ''}, which matches neverSend pattern "${found.glob}" ${where}`
            : `${ref.path} matches neverSend pattern "${found.glob}" ${where}`,
      );
    }
  }
  for (const c of CLASS_ORDER.slice().reverse()) {
    if (!dataClasses.includes(c) || laneAllows(policy, request.lane, c, dest)) continue;
    const rule = policy.lanes[request.lane][c];
    const example = classified.find((x) => x.dataClass === c);
    const why = example
      ? `${example.file} is ${c} (${example.why})`
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
