/**
 * The user's side of the policy: what their own settings allow. Settings are input like any other, so they are
 * validated here; a bad value falls back to the safe default and is reported.
 */
import { z } from 'zod';
import { BUILTIN_CATEGORIES, CATEGORY_GROUPS } from '../redaction/categories';
import { compileGlob } from './glob';
import type { ConsentMode, RemoteDestination } from './policySchema';

export const endpointSchema = z.object({
  id: z.string().min(1).meta({ description: 'Name you choose for this endpoint; the escalation command and a repo policy refer to it.' }),
  destination: z.enum(['team', 'frontier']).meta({ description: 'team: a server your team runs; frontier: a cloud model.' }),
  provider: z.enum(['openai', 'anthropic']).meta({ description: 'Wire protocol: openai (any OpenAI-compatible server: OpenAI, Azure, vLLM, Ollama, llama-server) or anthropic.' }),
  baseUrl: z.url({ protocol: /^https?$/ }).meta({ description: 'Base URL of the API, e.g. https://api.openai.com/v1.' }),
  model: z.string().min(1).meta({ description: 'Model name sent to the endpoint.' }),
  priceInPerMTok: z.number().min(0).optional().meta({ description: 'US dollars per million input tokens (for cost estimates and budgets).' }),
  priceOutPerMTok: z.number().min(0).optional().meta({ description: 'US dollars per million output tokens.' }),
});

/** One endpoint from `hearth.escalation.endpoints`. */
export type EndpointConfig = z.infer<typeof endpointSchema>;

/** JSON Schema of one `hearth.escalation.endpoints` entry, for package.json. */
export function endpointJsonSchema(): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(endpointSchema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return rest;
}

/** Personal-data categories (and the `pii` group) a user may switch off; secrets stay on. */
export const USER_DISABLEABLE_CATEGORIES: readonly string[] = [
  ...Object.keys(CATEGORY_GROUPS).filter((g) => CATEGORY_GROUPS[g] === 'pii'),
  ...Object.entries(BUILTIN_CATEGORIES).filter(([, info]) => info.kind === 'pii').map(([slug]) => slug),
];

/** Files never sent by default (the user may edit the list; a repo can only add to it). */
export const DEFAULT_NEVER_SEND: readonly string[] = [
  '**/.env',
  '**/.env.*',
  '**/*.pem',
  '**/*.key',
  '**/*.p12',
  '**/*.pfx',
  '**/id_rsa*',
  '**/id_ecdsa*',
  '**/id_ed25519*',
  '**/.ssh/**',
  '**/secrets/**',
];

export interface UserPolicy {
  escalationEnabled: boolean;
  allowedDestinations: RemoteDestination[];
  endpoints: EndpointConfig[];
  consent: ConsentMode;
  budgetPerTaskUsd: number;
  budgetPerMonthUsd: number;
  neverSend: string[];
  /** Plain `http://` endpoints off this machine are allowed (`hearth.escalation.allowInsecureHttp`). */
  allowInsecureHttp: boolean;
  /** Personal-data categories the user switched off (already filtered: never a secret category). */
  disabledCategories: string[];
  /** Per lane: route away from a local answer below this confidence (`hearth.routing.confidenceThresholds`). */
  routingThresholds?: Partial<Record<RoutingLane, number>>;
}

/** Lanes whose answers carry a confidence the router can read. */
export const ROUTING_LANES = ['completion', 'chat'] as const;
export type RoutingLane = (typeof ROUTING_LANES)[number];
export const routingThresholdsSchema = z.strictObject({ completion: z.number().max(0).optional(), chat: z.number().max(0).optional() });

export const DEFAULT_USER_POLICY: UserPolicy = {
  escalationEnabled: false,
  allowedDestinations: ['team', 'frontier'],
  endpoints: [],
  consent: 'always',
  budgetPerTaskUsd: 1,
  budgetPerMonthUsd: 20,
  neverSend: [...DEFAULT_NEVER_SEND],
  allowInsecureHttp: false,
  disabledCategories: [],
};

/** Raw values as read from the user's settings (any may be missing or malformed). */
export interface RawUserSettings {
  escalationEnabled?: unknown;
  allowedDestinations?: unknown;
  endpoints?: unknown;
  consent?: unknown;
  budgetPerTaskUsd?: unknown;
  budgetPerMonthUsd?: unknown;
  neverSend?: unknown;
  allowInsecureHttp?: unknown;
  disabledCategories?: unknown;
  routingThresholds?: unknown;
}

/**
 * Validates the user's settings into a {@link UserPolicy}. A malformed value falls back to the default (an
 * endpoint or pattern that does not validate is dropped); `problems` says what was ignored and why.
 */
export function parseUserPolicy(raw: RawUserSettings): { policy: UserPolicy; problems: string[] } {
  const problems: string[] = [];
  const d = DEFAULT_USER_POLICY;
  const field = <T>(key: string, value: unknown, schema: z.ZodType<T>, fallback: T): T => {
    if (value === undefined) return fallback;
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    problems.push(`hearth.${key}: ${r.error.issues[0]?.message ?? 'invalid'}; using the default`);
    return fallback;
  };
  const endpoints: EndpointConfig[] = [];
  if (Array.isArray(raw.endpoints)) {
    const seen = new Set<string>();
    raw.endpoints.forEach((e, i) => {
      const r = endpointSchema.safeParse(e);
      if (!r.success) {
        const issue = r.error.issues[0];
        problems.push(`hearth.escalation.endpoints[${i}]${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}; endpoint ignored`);
      } else if (seen.has(r.data.id)) {
        problems.push(`hearth.escalation.endpoints[${i}]: a second endpoint with id "${r.data.id}"; ignored`);
      } else {
        seen.add(r.data.id);
        endpoints.push(r.data);
      }
    });
  } else if (raw.endpoints !== undefined) {
    problems.push('hearth.escalation.endpoints: not a list; ignored');
  }
  const neverSend = field('escalation.neverSend', raw.neverSend, z.array(z.string()), d.neverSend).filter((g) => {
    try {
      compileGlob(g);
      return true;
    } catch (err) {
      problems.push(`hearth.escalation.neverSend: "${g}" is not a valid glob (${(err as Error).message}); Hearth blocks every file until it is fixed`);
      return true; // kept: decide() treats an uncompilable neverSend pattern as matching everything (fail closed)
    }
  });
  const disabledCategories = field('redaction.disabledCategories', raw.disabledCategories, z.array(z.string()), d.disabledCategories).filter((c) => {
    if (USER_DISABLEABLE_CATEGORIES.includes(c)) return true;
    problems.push(
      c in BUILTIN_CATEGORIES || c in CATEGORY_GROUPS
        ? `hearth.redaction.disabledCategories: "${c}" is a secret category; secrets are always redacted`
        : `hearth.redaction.disabledCategories: unknown category "${c}"`,
    );
    return false;
  });
  return {
    policy: {
      escalationEnabled: field('escalation.enabled', raw.escalationEnabled, z.boolean(), d.escalationEnabled),
      allowedDestinations: [...new Set(field('escalation.allowedDestinations', raw.allowedDestinations, z.array(z.enum(['team', 'frontier'])), d.allowedDestinations))],
      endpoints,
      consent: field('escalation.consent', raw.consent, z.enum(['always', 'session']), d.consent),
      budgetPerTaskUsd: field('escalation.budgetPerTaskUsd', raw.budgetPerTaskUsd, z.number().min(0), d.budgetPerTaskUsd),
      budgetPerMonthUsd: field('escalation.budgetPerMonthUsd', raw.budgetPerMonthUsd, z.number().min(0), d.budgetPerMonthUsd),
      neverSend,
      allowInsecureHttp: field('escalation.allowInsecureHttp', raw.allowInsecureHttp, z.boolean(), d.allowInsecureHttp),
      disabledCategories,
      routingThresholds: field('routing.confidenceThresholds', raw.routingThresholds, routingThresholdsSchema, {}),
    },
    problems,
  };
}
