/**
 * The one place the escalation command meets the policy layer: the user's endpoints and the decision, both from
 * {@link PolicyService} (user settings combined with the folder's `.hearth/policy.jsonc`, strictest wins).
 */
import type * as vscode from 'vscode';
import { Settings } from '../../common/settings';
import type { EndpointConfig } from '../../node/cloud/cloudTypes';
import type { PolicyDecision, PolicyRequest } from '../../node/cloud/escalationFlow';
import type { PolicyService } from '../policy/policyService';

export const ENABLED_KEY = Settings.escalationEnabled.key;
export const ENDPOINTS_KEY = Settings.escalationEndpoints.key;

export function escalationEnabled(policy: PolicyService): boolean {
  return policy.userPolicy().policy.escalationEnabled;
}

/** The endpoints from the user's settings, parsed at the edge; invalid entries are reported, not used. */
export function readEndpoints(policy: PolicyService): { endpoints: EndpointConfig[]; problems: string[] } {
  const { policy: user, problems } = policy.userPolicy();
  return { endpoints: user.endpoints, problems };
}

/** The decision for an escalation of content from `uri`, against the policy of the folder holding it. */
export function decideFor(policy: PolicyService, uri: vscode.Uri): (request: PolicyRequest) => Promise<PolicyDecision> {
  return (request) => policy.decide(uri, request);
}
