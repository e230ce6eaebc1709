import type * as vscode from 'vscode';
import type { TuneResult, TuneSetting } from '../../common/protocol/engineProtocol';

/** What "Tune for This Machine" keeps for one model on one machine. */
export interface TunedEntry extends TuneSetting {
  profileId: string;
  modelPath: string;
  tunedAt: string;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** Lookup speculation measured faster for this model here (`hearth.engine.lookupSpeculation: auto`). */
  lookup?: boolean;
}

const KEY = 'hearth.tuned';

/**
 * Tuned threads and batch size in `globalState`, keyed by the hardware profile id and the model path: the same
 * model on another machine (settings sync, a roaming profile) or another model here is not affected.
 */
export class TunedSettings {
  constructor(private readonly state: vscode.Memento) {}

  get(profileId: string | undefined, modelPath: string): TunedEntry | undefined {
    if (!profileId) return undefined;
    return this.all()[keyOf(profileId, modelPath)];
  }

  async save(profileId: string, result: TuneResult): Promise<TunedEntry> {
    const row = result.rows.find((r) => r.threads === result.best.threads && r.batchSize === result.best.batchSize);
    const entry: TunedEntry = {
      ...result.best,
      profileId,
      modelPath: result.modelPath,
      tunedAt: new Date().toISOString(),
      prefillTokensPerSecond: row?.prefillTokensPerSecond ?? 0,
      decodeTokensPerSecond: row?.decodeTokensPerSecond ?? 0,
      ...(result.lookup ? { lookup: result.lookup.on } : {}),
    };
    await this.state.update(KEY, { ...this.all(), [keyOf(profileId, result.modelPath)]: entry });
    return entry;
  }

  async clear(profileId: string, modelPath: string): Promise<void> {
    const all = this.all();
    delete all[keyOf(profileId, modelPath)];
    await this.state.update(KEY, all);
  }

  private all(): Record<string, TunedEntry> {
    return { ...this.state.get<Record<string, TunedEntry>>(KEY, {}) };
  }
}

function keyOf(profileId: string, modelPath: string): string {
  return `${profileId}\u0000${modelPath}`;
}
