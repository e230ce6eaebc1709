import * as vscode from 'vscode';
import type { ModelInfo } from '../common/protocol/engineProtocol';
import { errorMessage, type Logger } from '../common/logger';
import { Settings } from '../common/settings';
import { EngineClient } from '../node/engine/engineClient';
import { getSetting } from './config';
import type { StatusBar } from './statusBar';

/**
 * The editor's side of the engine: one EngineClient per window, the model from settings loaded on first use
 * (never during activation), state shown in the status bar, failures logged and shown once.
 */
export class EngineHost implements vscode.Disposable {
  readonly client: EngineClient;
  private loading: Promise<ModelInfo | undefined> | undefined;
  private loadedFor: string | undefined;
  private lastShownError: string | undefined;

  constructor(
    enginePath: string,
    private readonly logger: Logger,
    private readonly statusBar: StatusBar,
  ) {
    this.client = new EngineClient({
      enginePath,
      logger,
      clientName: `VS Code window (extension host pid ${process.pid})`,
      idleExitMs: getSetting(Settings.engineIdleExitMinutes) * 60_000,
      onProcessChange: (e) => {
        if (e.kind === 'exited') {
          this.loadedFor = undefined;
          if (this.statusBar.current !== 'no model') this.statusBar.set('idle', e.message);
        }
      },
    });
    if (!getSetting(Settings.modelPath)) this.statusBar.set('no model', 'No local model yet: click to select a GGUF model.');
  }

  /** The loaded model, loading the configured one first if needed; undefined when none is configured or it failed. */
  ensureModel(): Promise<ModelInfo | undefined> {
    const path = getSetting(Settings.modelPath);
    const key = JSON.stringify([path, getSetting(Settings.engineThreads), getSetting(Settings.engineContextSize)]);
    if (!path) {
      this.statusBar.set('no model', 'No local model yet: click to select a GGUF model.');
      return Promise.resolve(undefined);
    }
    if (this.loadedFor === key && this.client.model) return Promise.resolve(this.client.model);
    this.loading ??= this.load(path, key).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** Reports a failure of a request: status bar, log, and (once per distinct message) a notification. */
  reportError(err: unknown): void {
    const message = errorMessage(err);
    this.statusBar.set('error', message);
    this.logger.error(message);
    if (message !== this.lastShownError) {
      this.lastShownError = message;
      void vscode.window.showErrorMessage(`Hearth: ${message}`, 'Show Log').then((choice) => {
        if (choice) void vscode.commands.executeCommand('hearth.showLog');
      });
    }
  }

  markReady(): void {
    const m = this.client.model;
    if (m) this.statusBar.set('ready', `${m.name} · ${m.threads} threads · context ${m.contextSize} · engine pid ${this.client.pid ?? '?'}`);
  }

  async restart(): Promise<void> {
    this.loadedFor = undefined;
    await this.client.restart();
    this.statusBar.set('idle', 'Engine stopped; it starts again on the next completion.');
  }

  dispose(): void {
    void this.client.dispose();
  }

  private async load(path: string, key: string): Promise<ModelInfo | undefined> {
    this.statusBar.set('starting…', `Loading ${path}`);
    try {
      const threads = getSetting(Settings.engineThreads);
      const info = await this.client.loadModel({ path, threads: threads > 0 ? threads : undefined, contextSize: getSetting(Settings.engineContextSize) });
      this.loadedFor = key;
      this.lastShownError = undefined;
      if (!info.infillSupported) {
        this.reportError(new Error(`${info.name} has no fill-in-the-middle tokens in its GGUF metadata, so it cannot complete code inline. Choose a code model with FIM support.`));
        return undefined;
      }
      this.markReady();
      return info;
    } catch (err) {
      this.reportError(err);
      return undefined;
    }
  }
}
