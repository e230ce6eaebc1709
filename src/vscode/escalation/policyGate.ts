/**
 * ADAPTER TO REPLACE: the one place the escalation command meets the policy layer. Until `src/common/policy`
 * lands (branch wt-policy), this is a minimal, conservative gate:
 *   - escalation is off unless `hearth.escalation.enabled` is true in the user's own settings (a workspace's
 *     `.vscode/settings.json` can neither enable it nor add an endpoint);
 *   - an untrusted workspace cannot escalate;
 *   - every payload is classed `internal` and goes through the full default redaction;
 *   - consent is asked every time.
 * Wiring the real module means replacing {@link decide} (and {@link readEndpoints} if the policy layer reads
 * the settings itself) with calls into `src/common/policy`; the types below mirror its contract.
 */
import * as vscode from 'vscode';
import { z } from 'zod';
import type { EndpointConfig } from '../../node/cloud/cloudTypes';
import type { PolicyDecision, PolicyRequest } from '../../node/cloud/escalationFlow';

export const ENABLED_KEY = 'hearth.escalation.enabled';
export const ENDPOINTS_KEY = 'hearth.escalation.endpoints';

const endpointSchema = z.object({
  id: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only'),
  destination: z.enum(['team', 'frontier']),
  provider: z.enum(['openai', 'anthropic']),
  baseUrl: z.url({ protocol: /^https?$/ }),
  model: z.string().min(1).max(200),
  priceInPerMTok: z.number().nonnegative().optional(),
  priceOutPerMTok: z.number().nonnegative().optional(),
});

/** A user-scope value only: what the user set, never what a workspace folder's settings say. */
function userValue<T>(key: string): T | undefined {
  const i = vscode.workspace.getConfiguration().inspect<T>(key);
  return i?.globalValue;
}

export function escalationEnabled(): boolean {
  return userValue<boolean>(ENABLED_KEY) === true;
}

/** The endpoints from the user's settings, parsed at the edge; invalid entries are reported, not used. */
export function readEndpoints(): { endpoints: EndpointConfig[]; problems: string[] } {
  const raw = userValue<unknown>(ENDPOINTS_KEY);
  const endpoints: EndpointConfig[] = [];
  const problems: string[] = [];
  if (raw === undefined) return { endpoints, problems };
  if (!Array.isArray(raw)) return { endpoints, problems: [`${ENDPOINTS_KEY} must be a list of endpoints`] };
  raw.forEach((item, i) => {
    const r = endpointSchema.safeParse(item);
    if (r.success) {
      if (endpoints.some((e) => e.id === r.data.id)) problems.push(`${ENDPOINTS_KEY}[${i}]: duplicate id "${r.data.id}"`);
      else endpoints.push(r.data);
    } else {
      const issue = r.error.issues[0]!;
      problems.push(`${ENDPOINTS_KEY}[${i}]${issue.path.length ? '.' + issue.path.join('.') : ''}: ${issue.message}`);
    }
  });
  return { endpoints, problems };
}

/** The policy decision for one escalation. */
export async function decide(request: PolicyRequest): Promise<PolicyDecision> {
  const base = { dataClasses: ['internal' as const], redactor: {}, requireConsent: true as const };
  if (!escalationEnabled()) {
    return { ...base, allowed: false, rule: ENABLED_KEY, reason: `Escalation is off: set "${ENABLED_KEY}": true in your user settings to allow it` };
  }
  if (!request.workspaceTrusted) {
    return { ...base, allowed: false, rule: 'workspace-trust', reason: 'This workspace is not trusted, and an untrusted workspace cannot escalate' };
  }
  if (!readEndpoints().endpoints.some((e) => e.id === request.endpointId)) {
    return { ...base, allowed: false, rule: ENDPOINTS_KEY, reason: `Endpoint "${request.endpointId}" is not in your user settings` };
  }
  return { ...base, allowed: true, reason: 'allowed by user settings (no repository policy is read yet)' };
}
