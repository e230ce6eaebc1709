import { DEFAULT_NEVER_SEND, endpointJsonSchema, USER_DISABLEABLE_CATEGORIES, type EndpointConfig } from './policy/userPolicy';

/**
 * Every Hearth setting, declared once (style rule 4). package.json's `contributes.configuration` must match
 * this table; a unit test checks that it does.
 */
import { DEFAULT_COST_MODEL } from './ledger/ledgerAggregates';

export interface SettingSpec<T> {
  key: string;
  type: 'string' | 'boolean' | 'number' | 'integer' | 'array' | 'object';
  default: T;
  description: string;
  minimum?: number;
  maximum?: number;
  /** Changing it needs the engine restarted (the model reloaded). */
  requiresEngineRestart?: boolean;
  /**
   * `resource` for settings a folder may override. Not `machine`: remote windows (code-server, Remote-SSH)
   * ignore machine-scoped values from User settings. `application` for what only the user may decide (what may
   * leave the machine): VS Code ignores a workspace's value for it, so a repo's `.vscode/settings.json` cannot
   * turn on escalation or add an endpoint.
   */
  scope?: 'window' | 'resource' | 'application';
  /** Further JSON Schema keywords for package.json (`items`, `enum`, `uniqueItems`, `additionalProperties`…). */
  schema?: Record<string, unknown>;
}

/** A cloud price table entry, per million tokens (the JSON Schema of `hearth.cost.prices` values). */
const PRICE_SCHEMA = {
  type: 'object',
  properties: {
    inputPerMTok: { type: 'number', minimum: 0 },
    outputPerMTok: { type: 'number', minimum: 0 },
  },
  required: ['inputPerMTok', 'outputPerMTok'],
  additionalProperties: false,
};

function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

export const Settings = {
  modelPath: setting<string>({
    key: 'hearth.model.path',
    type: 'string',
    default: '',
    description: 'Path to the local GGUF model used for completions. Empty: Hearth asks you to select one.',
    requiresEngineRestart: true,
  }),
  completionEnabled: setting<boolean>({
    key: 'hearth.completion.enabled',
    type: 'boolean',
    default: true,
    description: 'Show inline completions (ghost text) from the local model.',
  }),
  completionDebounceMs: setting<number>({
    key: 'hearth.completion.debounceMs',
    type: 'integer',
    default: 0,
    minimum: 0,
    maximum: 2000,
    description: 'Milliseconds to wait after a keystroke before asking the model; a newer keystroke cancels the older request. 0: adapted to the measured time to first token of a keystroke (25–300 ms).',
  }),
  completionMaxTokens: setting<number>({
    key: 'hearth.completion.maxTokens',
    type: 'integer',
    default: 48,
    minimum: 1,
    maximum: 512,
    description: 'Most tokens generated for one inline completion.',
  }),
  completionBeamWidth: setting<number>({
    key: 'hearth.completion.beamWidth',
    type: 'integer',
    default: 0,
    minimum: 0,
    maximum: 8,
    description: 'Beams the model searches for a completion: 1 is greedy (fastest), more finds likelier lines at about that many times the compute. 0: chosen for the model (4 for small models, 1 otherwise).',
  }),
  completionMinConfidence: setting<number>({
    key: 'hearth.completion.minConfidence',
    type: 'number',
    default: -1.31,
    minimum: -100,
    maximum: 0,
    description: 'Hide suggestions whose mean token log-probability (the model\'s confidence, 0 = certain) is below this; hidden ones are counted and logged. -100 turns the gate off. Applies where the engine reports a confidence (its beam search, the default for small models). The default comes from `npm run bench:confidence` on the shipped model: no answer below it was right.',
  }),
  completionContextChunks: setting<number>({
    key: 'hearth.completion.contextChunks',
    type: 'integer',
    default: 16,
    minimum: 0,
    maximum: 64,
    description: 'Chunks of recently opened, saved, switched-away-from and copied code, and definitions of identifiers near the cursor, given to the model before the code around the cursor (in the model family\'s repository format where it has one). 0 turns repository context off.',
  }),
  completionFimTemplates: setting<Record<string, unknown>>({
    key: 'hearth.completion.fimTemplates',
    type: 'object',
    default: {},
    description: 'Fill-in-the-middle template per model, overriding the one detected from the GGUF: keys are model file names or model names (`*` matches anything), values a family (`deepseek-coder`, `deepseek-coder-v2`, `qwen2.5-coder`, `starcoder2`, `codellama`, `codestral`, `codegemma`) or `{ "prefix": "<PRE>", "suffix": "<SUF>", "middle": "<MID>", "order": "psm" }` with the model\'s special-token texts.',
    schema: {
      additionalProperties: {
        anyOf: [
          { type: 'string', enum: ['deepseek-coder', 'deepseek-coder-v2', 'qwen2.5-coder', 'starcoder2', 'codellama', 'codestral', 'codegemma', 'generic'] },
          {
            type: 'object',
            properties: { prefix: { type: 'string' }, suffix: { type: 'string' }, middle: { type: ['string', 'null'] }, order: { type: 'string', enum: ['psm', 'spm'] }, stop: { type: 'array', items: { type: 'string' } } },
            required: ['prefix', 'suffix'],
            additionalProperties: false,
          },
        ],
      },
    },
  }),
  completionTimeLimitMs: setting<number>({
    key: 'hearth.completion.timeLimitMs',
    type: 'integer',
    default: 3000,
    minimum: 100,
    maximum: 60000,
    description: 'Longest time one inline completion may generate; Hearth shows what it has when it passes. Hearth also caps the tokens from the measured decode speed so a suggestion decodes for about 15% of this for one line and 35% for a block: a slow machine gets a shorter suggestion cut at a word or line end, and the rest follows on Tab.',
  }),
  engineThreads: setting<number>({
    key: 'hearth.engine.threads',
    type: 'integer',
    default: 0,
    minimum: 0,
    maximum: 256,
    description: 'Most CPU threads for the local model. 0: the cores. Each request uses fewer while other programs keep cores busy (decode collapses when llama.cpp shares a core with another program).',
    requiresEngineRestart: true,
  }),
  engineBackend: setting<string>({
    key: 'hearth.engine.backend',
    type: 'string',
    default: 'auto',
    schema: { enum: ['auto', 'native', 'prebuilt'] },
    description: 'Which llama.cpp build runs the model. auto: the build for this machine ("Hearth: Build Engine for This Machine") when there is one and "Tune for This Machine" did not measure the prebuilt faster; else the prebuilt that ships with Hearth.',
    requiresEngineRestart: true,
  }),
  engineLookupSpeculation: setting<string>({
    key: 'hearth.engine.lookupSpeculation',
    type: 'string',
    default: 'auto',
    schema: { enum: ['auto', 'on', 'off'] },
    description: 'Prompt-lookup speculation for greedy completions and chat edits: tokens copied from the prompt are verified in one batch; same output, faster where the answer repeats the input. auto: on where "Tune for This Machine" measured it faster for this model.',
    requiresEngineRestart: true,
  }),
  engineContextSize: setting<number>({
    key: 'hearth.engine.contextSize',
    type: 'integer',
    default: 4096,
    minimum: 256,
    maximum: 131072,
    description: 'Context size (tokens) of the local model.',
    requiresEngineRestart: true,
  }),
  enginePromptCacheMB: setting<number>({
    key: 'hearth.engine.promptCacheMB',
    type: 'integer',
    default: 0,
    minimum: 0,
    maximum: 262144,
    description: 'Memory (MB) for saved prompt states of documents whose live sequence went to another document, so going back to them skips the full prompt evaluation. 0: a quarter of the free RAM when the model loads, at most 8 GiB.',
  }),
  engineFimOrder: setting<string>({
    key: 'hearth.engine.fimOrder',
    type: 'string',
    default: 'auto',
    schema: { enum: ['auto', 'psm', 'spm'] },
    description: 'Fill-in-the-middle prompt order. auto: as the model file says (prefix-suffix-middle unless it names spm). spm (suffix first) lets a keystroke re-evaluate only the end of the prefix; psm re-evaluates the whole suffix window on every keystroke. Use spm only with models trained on it (CodeLlama, StarCoder, Hearth\'s own).',
    requiresEngineRestart: true,
  }),
  engineIdleExitMinutes: setting<number>({
    key: 'hearth.engine.idleExitMinutes',
    type: 'integer',
    default: 10,
    minimum: 1,
    maximum: 1440,
    description: 'The shared engine (one per user, serving every window) exits after this many minutes with no window connected.',
  }),
  ledgerEnabled: setting<boolean>({
    key: 'hearth.ledger.enabled',
    type: 'boolean',
    default: true,
    description: 'Record every task (completion shown/accepted/rejected, chat, escalation) in the workspace ledger `.hearth/ledger.jsonl`. No code or prompt text is recorded.',
    scope: 'resource',
  }),
  escalationEnabled: setting<boolean>({
    key: 'hearth.escalation.enabled',
    type: 'boolean',
    default: false,
    description: 'Allow Hearth to send anything off this machine (a team server or a frontier model), always after the policy check, redaction and your consent. Off: nothing leaves the machine. A repo policy can turn it off, never on.',
    scope: 'application',
  }),
  escalationAllowedDestinations: setting<string[]>({
    key: 'hearth.escalation.allowedDestinations',
    type: 'array',
    default: ['team', 'frontier'],
    description: 'Destinations off this machine you allow: `team` (a server your team runs) and `frontier` (cloud models). A repo policy can only narrow this.',
    scope: 'application',
    schema: { items: { type: 'string', enum: ['team', 'frontier'] }, uniqueItems: true },
  }),
  escalationEndpoints: setting<EndpointConfig[]>({
    key: 'hearth.escalation.endpoints',
    type: 'array',
    default: [],
    description: 'Endpoints Hearth may escalate to. API keys are not set here: run **Hearth: Set API Key…** (kept in SecretStorage). A repo policy cannot add endpoints, only choose among these.',
    scope: 'application',
    schema: { items: endpointJsonSchema() },
  }),
  escalationAllowInsecureHttp: setting<boolean>({
    key: 'hearth.escalation.allowInsecureHttp',
    type: 'boolean',
    default: false,
    description: 'Allow escalation endpoints at plain `http://` addresses other than this machine (127.0.0.1, ::1, localhost). Off: such an endpoint is refused, because code and question would cross the network unencrypted.',
    scope: 'application',
  }),
  escalationConsent: setting<string>({
    key: 'hearth.escalation.consent',
    type: 'string',
    default: 'always',
    description: '`always`: the review (Send / Cancel) before every escalation; `session`: once per destination per window session. The stricter of this and the repo policy applies.',
    scope: 'application',
    schema: { enum: ['always', 'session'] },
  }),
  escalationBudgetPerTaskUsd: setting<number>({
    key: 'hearth.escalation.budgetPerTaskUsd',
    type: 'number',
    default: 1,
    minimum: 0,
    description: 'Most estimated US dollars one escalation may cost (0: only free endpoints). The lower of this and the repo policy applies.',
    scope: 'application',
  }),
  escalationBudgetPerMonthUsd: setting<number>({
    key: 'hearth.escalation.budgetPerMonthUsd',
    type: 'number',
    default: 20,
    minimum: 0,
    description: 'Most US dollars escalations may cost per calendar month, as counted in the ledger. The lower of this and the repo policy applies.',
    scope: 'application',
  }),
  escalationNeverSend: setting<string[]>({
    key: 'hearth.escalation.neverSend',
    type: 'array',
    default: [...DEFAULT_NEVER_SEND],
    description: 'Globs of files never sent off this machine (workspace-relative; without `/` a name matches at any depth; case-insensitive). A repo policy adds its own `neverSend` to these.',
    scope: 'application',
    schema: { items: { type: 'string' } },
  }),
  redactionDisabledCategories: setting<string[]>({
    key: 'hearth.redaction.disabledCategories',
    type: 'array',
    default: [],
    description: 'Personal-data categories not to redact before escalation (`pii` for all of them). Secret categories cannot be switched off, and a repo policy cannot switch off anything.',
    scope: 'application',
    schema: { items: { type: 'string', enum: [...USER_DISABLEABLE_CATEGORIES] }, uniqueItems: true },
  }),
  ledgerPath: setting<string>({
    key: 'hearth.ledger.path',
    type: 'string',
    default: '.hearth/ledger.jsonl',
    description: 'Where each workspace folder\'s ledger lives, relative to the folder (must end in `.jsonl`). An absolute path is honoured only in User settings; a workspace may not point its ledger outside its folder.',
    scope: 'resource',
  }),
  costPrices: setting<Record<string, { inputPerMTok: number; outputPerMTok: number }>>({
    key: 'hearth.cost.prices',
    type: 'object',
    default: DEFAULT_COST_MODEL.prices,
    description: 'Cloud price table for the ROI figures: model name → price per million input and output tokens, in `#hearth.cost.currency#`. A team model without an entry costs 0.',
    schema: { additionalProperties: PRICE_SCHEMA },
  }),
  costLocalWatts: setting<number>({
    key: 'hearth.cost.localWatts',
    type: 'number',
    default: DEFAULT_COST_MODEL.localWatts,
    minimum: 0,
    maximum: 5000,
    description: 'Power (watts) this machine draws while the local model runs; local cost is watts × time × `#hearth.cost.energyPricePerKWh#`.',
  }),
  costEnergyPricePerKWh: setting<number>({
    key: 'hearth.cost.energyPricePerKWh',
    type: 'number',
    default: DEFAULT_COST_MODEL.energyPricePerKWh,
    minimum: 0,
    maximum: 100,
    description: 'Price of one kWh of electricity, in `#hearth.cost.currency#`.',
  }),
  costCurrency: setting<string>({
    key: 'hearth.cost.currency',
    type: 'string',
    default: DEFAULT_COST_MODEL.currency,
    description: 'Currency of the price table and the energy price (a label only: Hearth converts nothing).',
  }),
  costFrontierModel: setting<string>({
    key: 'hearth.cost.frontierModel',
    type: 'string',
    default: DEFAULT_COST_MODEL.frontierModel,
    description: '"Cost avoided" is measured against sending every task to this model; it must have an entry in `#hearth.cost.prices#`.',
  }),
  batteryWeeklyDriftCheck: setting<boolean>({
    key: 'hearth.battery.weeklyDriftCheck',
    type: 'boolean',
    default: false,
    description: 'Once a week, when the machine is idle, run the task battery on the current model and settings against the folder\'s saved baseline (`.hearth/battery/baseline.json`, from **Hearth: Save as Baseline**); a regression raises a warning and a `drift` incident in the ledger.',
  }),
  routingConfidenceThresholds: setting<Record<string, number>>({
    key: 'hearth.routing.confidenceThresholds',
    type: 'object',
    default: {},
    description: 'Per lane (`completion`, `chat`): below this confidence (the mean log-probability per token of the local answer; 0 is certain, −1 is typical of a small model) Hearth offers the next tier the policy allows (team server, then frontier) instead of the local answer, and records why. Left out: no routing by confidence. **Hearth: Run Task Battery** recommends a value for this repository from its success-against-confidence curve. A repo policy can only raise it (`routing.confidenceThresholds`).',
    schema: {
      properties: { completion: { type: 'number', maximum: 0 }, chat: { type: 'number', maximum: 0 } },
      additionalProperties: false,
    },
  }),
  telemetryOtlpEndpoint: setting<string>({
    key: 'hearth.telemetry.otlpEndpoint',
    type: 'string',
    default: '',
    description: 'OpenTelemetry collector (OTLP/HTTP, JSON) that **Hearth: Export Ledger…** sends ledger logs and metrics to, e.g. `http://127.0.0.1:4318`; `/v1/logs` and `/v1/metrics` are appended. Empty: off. Only counts, timings and costs are sent, never code or prompts. User settings only, so a repository cannot redirect it.',
    scope: 'application',
  }),
  telemetryOtlpIntervalMinutes: setting<number>({
    key: 'hearth.telemetry.otlpIntervalMinutes',
    type: 'integer',
    default: 0,
    minimum: 0,
    maximum: 1440,
    description: 'Also send to `#hearth.telemetry.otlpEndpoint#` every this many minutes while a window is open: the records added since the last send, and the metrics. 0: only when you run **Hearth: Export Ledger…** → OpenTelemetry.',
    scope: 'application',
  }),
} as const;

export type SettingName = keyof typeof Settings;
export const allSettings: SettingSpec<unknown>[] = Object.values(Settings);

/** The `contributes.configuration.properties` object package.json must hold. */
export function configurationProperties(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of allSettings) {
    out[s.key] = {
      type: s.type,
      default: s.default,
      ...(s.minimum !== undefined ? { minimum: s.minimum } : {}),
      ...(s.maximum !== undefined ? { maximum: s.maximum } : {}),
      ...(s.scope ? { scope: s.scope } : {}),
      ...s.schema,
      markdownDescription: s.description,
    };
  }
  return out;
}
