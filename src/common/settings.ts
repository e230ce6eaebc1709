/**
 * Every Hearth setting, declared once (style rule 4). package.json's `contributes.configuration` must match
 * this table; a unit test checks that it does.
 */
export interface SettingSpec<T> {
  key: string;
  type: 'string' | 'boolean' | 'number' | 'integer';
  default: T;
  description: string;
  minimum?: number;
  maximum?: number;
  /** Changing it needs the engine restarted (the model reloaded). */
  requiresEngineRestart?: boolean;
  /**
   * `resource` for settings a folder may override. Not `machine`: remote windows (code-server, Remote-SSH)
   * ignore machine-scoped values from User settings.
   */
  scope?: 'window' | 'resource';
}

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
    default: 120,
    minimum: 0,
    maximum: 2000,
    description: 'Milliseconds to wait after a keystroke before asking the model; a newer keystroke cancels the older request.',
  }),
  completionMaxTokens: setting<number>({
    key: 'hearth.completion.maxTokens',
    type: 'integer',
    default: 48,
    minimum: 1,
    maximum: 512,
    description: 'Most tokens generated for one inline completion.',
  }),
  completionTimeLimitMs: setting<number>({
    key: 'hearth.completion.timeLimitMs',
    type: 'integer',
    default: 3000,
    minimum: 100,
    maximum: 60000,
    description: 'Longest time one inline completion may generate; Hearth shows what it has when it passes.',
  }),
  engineThreads: setting<number>({
    key: 'hearth.engine.threads',
    type: 'integer',
    default: 0,
    minimum: 0,
    maximum: 256,
    description: 'CPU threads for the local model. 0: chosen from the cores and the current load.',
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
      markdownDescription: s.description,
    };
  }
  return out;
}
