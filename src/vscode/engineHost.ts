import * as vscode from 'vscode';
import type { LoadModelParams, ModelInfo, StatusResult, TuneSetting } from '../common/protocol/engineProtocol';
import { errorMessage, type Logger } from '../common/logger';
import { Settings } from '../common/settings';
import { EngineClient } from '../node/engine/engineClient';
import { getSetting } from './config';
import type { StatusBar } from './statusBar';
import { statusTooltip } from './statusTooltip';

export interface EngineHostOptions {
  enginePath: string;
  logger: Logger;
  statusBar: StatusBar;
  /** Tuned threads and batch size for a model on this machine ("Tune for This Machine"), if any. */
  tunedFor?: (modelPath: string) => (TuneSetting & { lookup?: boolean }) | undefined;
  /** The recommender's placement for a model of the manifest (KV-cache type, GPU layers, MoE experts in RAM). */
  recommendedFor?: (modelPath: string) => Pick<LoadModelParams, 'kvCacheType' | 'gpuLayers' | 'moeExpertLayersOnCpu'> | undefined;
}

/**
 * The editor's side of the engine: one EngineClient per window, the model from settings loaded on first use
 * (never during activation), state shown in the status bar, failures logged and shown once.
 */
export class EngineHost implements vscode.Disposable {
  readonly client: EngineClient;
  private loading: Promise<ModelInfo | undefined> | undefined;
  private loadedFor: string | undefined;
  private lastShownError: string | undefined;
  private lastStatus: StatusResult | undefined;
  private statusFetchedAt = 0;
  private readonly logger: Logger;
  private readonly statusBar: StatusBar;

  constructor(private readonly options: EngineHostOptions) {
    this.logger = options.logger;
    this.statusBar = options.statusBar;
    this.client = new EngineClient({
      enginePath: options.enginePath,
      logger: options.logger,
      clientName: `VS Code window (extension host pid ${process.pid})`,
      idleExitMs: getSetting(Settings.engineIdleExitMinutes) * 60_000,
      onProcessChange: (e) => {
        if (e.kind === 'exited') {
          this.loadedFor = undefined;
          this.lastStatus = undefined;
          if (this.statusBar.current !== 'no model') this.statusBar.set('idle', e.message);
        }
      },
    });
    if (!getSetting(Settings.modelPath)) this.statusBar.set('no model', 'No local model yet: click to select or download a GGUF model.');
  }

  /** The load parameters from settings: an explicit `hearth.engine.threads` wins over the tuned thread count. */
  loadParams(path: string): LoadModelParams & { tuned: boolean } {
    const threads = getSetting(Settings.engineThreads);
    const tuned = this.options.tunedFor?.(path);
    return {
      path,
      threads: threads > 0 ? threads : tuned?.threads,
      batchSize: tuned?.batchSize,
      contextSize: getSetting(Settings.engineContextSize),
      ...(getSetting(Settings.enginePromptCacheMB) > 0 ? { promptCacheBytes: getSetting(Settings.enginePromptCacheMB) * 1024 * 1024 } : {}),
      ...(['psm', 'spm'].includes(getSetting(Settings.engineFimOrder)) ? { fimOrder: getSetting(Settings.engineFimOrder) as 'psm' | 'spm' } : {}),
      engineBackend: (['native', 'prebuilt'].includes(getSetting(Settings.engineBackend)) ? getSetting(Settings.engineBackend) : 'auto') as 'auto' | 'native' | 'prebuilt',
      // auto: on where the tuner measured it faster for this model on this machine; off until then.
      lookup: getSetting(Settings.engineLookupSpeculation) === 'on' || (getSetting(Settings.engineLookupSpeculation) === 'auto' && tuned?.lookup === true),
      // Applied at load, not only computed: the recommender's KV-cache type (and GPU placement where a GPU is used).
      ...(this.options.recommendedFor?.(path) ?? {}),
      tuned: tuned !== undefined,
    };
  }

  /** The loaded model, loading the configured one first if needed; undefined when none is configured or it failed. */
  ensureModel(): Promise<ModelInfo | undefined> {
    const path = getSetting(Settings.modelPath);
    if (!path) {
      this.statusBar.set('no model', 'No local model yet: click to select or download a GGUF model.');
      return Promise.resolve(undefined);
    }
    const params = this.loadParams(path);
    const key = JSON.stringify(params);
    if (this.loadedFor === key && this.client.model) return Promise.resolve(this.client.model);
    this.loading ??= this.load(params, key).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** Loads the model again when its parameters changed (after tuning); the shared engine reloads for every window. */
  async reloadIfChanged(): Promise<ModelInfo | undefined> {
    return this.ensureModel();
  }

  /** The engine's backend as it reported it (`llama.cpp`, `openvino`); llama.cpp until the first status answer. */
  get backendName(): string {
    return this.lastStatus?.backend ?? 'llama.cpp';
  }

  /** Reports a failure of a request: status bar, log, and (once per distinct message) a notification. */
  reportError(err: unknown): void {
    const message = errorMessage(err);
    this.statusBar.set('error', message);
    this.logger.error(message);
    if (message === this.lastShownError) return;
    this.lastShownError = message;
    if (/will not fit/.test(message)) {
      // The engine's admission check refused the model before loading it: say so plainly and offer the way out.
      void vscode.window
        .showErrorMessage('Hearth: this model is too big for the memory free on this machine, so the engine did not load it.', { modal: false, detail: message }, 'Choose a Smaller Model…', 'Select Model…', 'Show Details')
        .then((choice) => {
          if (choice === 'Choose a Smaller Model…') void vscode.commands.executeCommand('hearth.downloadModel');
          else if (choice === 'Select Model…') void vscode.commands.executeCommand('hearth.selectModel');
          else if (choice === 'Show Details') {
            this.logger.error(message);
            void vscode.commands.executeCommand('hearth.showLog');
          }
        });
      return;
    }
    void vscode.window.showErrorMessage(`Hearth: ${message}`, 'Show Log').then((choice) => {
      if (choice) void vscode.commands.executeCommand('hearth.showLog');
    });
  }

  /** Marks the engine ready; the tooltip's engine facts (pid, windows sharing it) are refreshed every few seconds. */
  markReady(): void {
    const m = this.client.model;
    if (!m) return;
    this.showReady(m);
    if (Date.now() - this.statusFetchedAt > 5000) {
      this.statusFetchedAt = Date.now();
      void this.client.status().then(
        (s) => {
          this.lastStatus = s;
          if (this.statusBar.current === 'ready' && this.client.model) this.showReady(this.client.model);
        },
        () => undefined,
      );
    }
  }

  /** "Hearth: Restart Engine": the engine is shared, so this restarts it for every window; asks first when others use it. */
  async restartForAllWindows(): Promise<void> {
    let others = 0;
    if (this.client.pid !== undefined) {
      others = await this.client.status().then((s) => Math.max(0, (s.clientNames?.length ?? s.clients) - 1), () => 0);
    }
    if (others > 0) {
      const ok = await vscode.window.showWarningMessage(
        `The Hearth engine is shared by this window and ${others} other${others === 1 ? '' : 's'}. Restart it for all of them?`,
        { modal: true, detail: 'Each window reloads its model on its next completion.' },
        'Restart for All Windows',
      );
      if (!ok) return;
    }
    await this.restart();
    void this.ensureModel();
    void vscode.window.showInformationMessage(`Hearth: the engine restarted${others > 0 ? ` for all ${others + 1} windows` : ''}.`);
  }

  async restart(): Promise<void> {
    this.loadedFor = undefined;
    this.lastStatus = undefined;
    await this.client.restart();
    this.statusBar.set('idle', 'Engine stopped; it starts again on the next completion.');
  }

  dispose(): void {
    void this.client.dispose();
  }

  private showReady(m: ModelInfo): void {
    const tuned = this.options.tunedFor?.(m.path);
    this.statusBar.set('ready', statusTooltip({ model: m, pid: this.client.pid, status: this.lastStatus, tuned: tuned !== undefined, threadsSetting: getSetting(Settings.engineThreads) }));
  }

  private async load(params: LoadModelParams & { tuned: boolean }, key: string): Promise<ModelInfo | undefined> {
    this.statusBar.set('starting…', `Loading ${params.path}`);
    try {
      const { tuned: _tuned, ...load } = params;
      const info = await this.client.loadModel(load);
      this.loadedFor = key;
      this.lastShownError = undefined;
      if (!info.infillSupported) {
        this.reportError(new Error(`${info.name} has no fill-in-the-middle tokens in its GGUF metadata, so it cannot complete code inline. Choose a code model with FIM support.`));
        return undefined;
      }
      this.statusFetchedAt = 0;
      this.markReady();
      return info;
    } catch (err) {
      this.reportError(err);
      return undefined;
    }
  }
}
