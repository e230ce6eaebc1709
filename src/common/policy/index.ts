/** Public surface of the policy: the repo file's schema and parser, the user's side, combining, deciding, describing. */
export { DATA_CLASSES, DESTINATIONS, LANES, POLICY_FILE, policyJsonSchema, repoPolicySchema } from './policySchema';
export type { ConsentMode, DataClass, Destination, Lane, RemoteDestination, RepoPolicy } from './policySchema';
export { lineColumnAt, parsePolicyText, rangeOfPath, nodeAtPath, parsePolicyTree } from './parsePolicy';
export type { ParsedPolicy, PolicyLoadError, PolicyPath, PolicyProblem } from './parsePolicy';
export { DEFAULT_NEVER_SEND, DEFAULT_USER_POLICY, endpointSchema, parseUserPolicy, USER_DISABLEABLE_CATEGORIES } from './userPolicy';
export type { EndpointConfig, RawUserSettings, UserPolicy } from './userPolicy';
export { combinePolicies, DEFAULT_LANES, DEFAULT_LEDGER_PATH } from './combinePolicies';
export type { EffectivePolicy, Refusal, RepoPolicyInput, RuleSource } from './combinePolicies';
export { classify, decide, laneAllows, neverSendMatch } from './decide';
export type { Decision, DecisionRequest } from './decide';
export { describePolicy } from './describePolicy';
export { compileGlob, globMatches, GlobError } from './glob';
