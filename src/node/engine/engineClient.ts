/**
 * The client side of the engine: starts the engine process on first use, restarts it on the next request
 * after it dies, reloads the last model, and turns every failure into a message a user can act on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import {
  EngineMethods,
  InfillTextNotification,
  LogNotification,
  type EngineMethod,
  type InfillParams,
  type InfillResult,
  type LoadModelParams,
  type MethodParams,
  type MethodResult,
  type ModelInfo,
  type StatusResult,
} from '../../common/protocol/engineProtocol';
import { nullLogger, type Logger } from '../../common/logger';
import { RpcConnection } from './rpcConnection';

export interface EngineClientOptions {
  /** The engine bundle (`dist/engine.js`). */
  enginePath: string;
  /** The runtime to start it with; the editor's own by default. */
  execPath?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Called when the engine process starts or exits. */
  onProcessChange?(event: { kind: 'started'; pid: number } | { kind: 'exited'; message: string }): void;
}

/** Raised for requests that were in flight when the engine process exited. */
export class EngineExitedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineExitedError';
  }
}

export class EngineClient {
  private process: ChildProcess | undefined;
  private connection: RpcConnection | undefined;
  private starting: Promise<RpcConnection> | undefined;
  private lastLoad: LoadModelParams | undefined;
  private loadedModel: ModelInfo | undefined;
  private readonly textListeners = new Map<number, (text: string) => void>();
  private readonly recentLog: string[] = [];
  private disposed = false;
  private readonly logger: Logger;

  constructor(private readonly options: EngineClientOptions) {
    this.logger = options.logger ?? nullLogger;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get model(): ModelInfo | undefined {
    return this.loadedModel;
  }

  /** Loads a model, starting the engine if needed. Remembered, so a restarted engine loads it again. */
  async loadModel(params: LoadModelParams): Promise<ModelInfo> {
    this.lastLoad = params;
    const connection = await this.ensureStarted(false);
    this.loadedModel = await this.call(connection, 'loadModel', params);
    return this.loadedModel;
  }

  /**
   * Generates a fill-in-the-middle completion. Aborting `signal` asks the engine to stop; the promise then
   * resolves with what was generated so far (`stopReason: 'cancelled'`).
   */
  async infill(params: InfillParams, opts: { signal?: AbortSignal; onText?: (text: string) => void } = {}): Promise<InfillResult> {
    const { signal, onText } = opts;
    signal?.throwIfAborted();
    const connection = await this.ensureStarted(true);
    signal?.throwIfAborted();
    let requestId: number | undefined;
    const onAbort = () => {
      if (requestId !== undefined) connection.notify('$/cancel', { id: requestId });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.call(connection, 'infill', params, (id) => {
        requestId = id;
        if (onText) this.textListeners.set(id, onText);
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (requestId !== undefined) this.textListeners.delete(requestId);
    }
  }

  async status(): Promise<StatusResult> {
    return this.call(await this.ensureStarted(false), 'status', {});
  }

  /** Stops the engine; the next request starts a new one. */
  async restart(): Promise<void> {
    await this.stopProcess();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stopProcess();
  }

  private async call<M extends EngineMethod>(connection: RpcConnection, method: M, params: MethodParams<M>, onId?: (id: number) => void): Promise<MethodResult<M>> {
    const raw = await connection.request(method, params, onId);
    const parsed = EngineMethods[method].result.safeParse(raw);
    if (!parsed.success) throw new Error(`The Hearth engine sent an invalid answer to ${method}: ${z.prettifyError(parsed.error)}`);
    return parsed.data as MethodResult<M>;
  }

  private async ensureStarted(needModel: boolean): Promise<RpcConnection> {
    if (this.disposed) throw new Error('The Hearth engine client was disposed');
    if (this.connection && !this.connection.isClosed) return this.connection;
    this.starting ??= this.start(needModel).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(reloadModel: boolean): Promise<RpcConnection> {
    const execPath = this.options.execPath ?? process.execPath;
    const child = spawn(execPath, [this.options.enginePath], {
      env: { ...process.env, ...this.options.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const connection = new RpcConnection(child.stdout!, child.stdin!, this.logger, false);
    this.process = child;
    this.connection = connection;
    this.recentLog.length = 0;
    connection.onNotification('infill/text', (params) => {
      const parsed = InfillTextNotification.safeParse(params);
      if (parsed.success) this.textListeners.get(parsed.data.id)?.(parsed.data.text);
    });
    connection.onNotification('log', (params) => {
      const parsed = LogNotification.safeParse(params);
      if (parsed.success) this.logger[parsed.data.level](`engine: ${parsed.data.message}`);
    });
    createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (line) => {
      this.recentLog.push(line);
      if (this.recentLog.length > 20) this.recentLog.shift();
      if (/^\[error\]/.test(line)) this.logger.error(line);
      else if (/^\[warn\]/.test(line)) this.logger.warn(line);
      else this.logger.debug(line);
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`Could not start the Hearth engine (${execPath} ${this.options.enginePath}): ${err.message}`)));
    });
    child.once('exit', (code, signal) => {
      const pending = connection.pendingMethods();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const during = pending.length ? ` while handling ${[...new Set(pending)].join(', ')}` : '';
      const tail = this.recentLog.slice(-3).join(' | ');
      const message = `The Hearth engine ${how}${during}. It will restart on the next request.${tail ? ` Last engine log: ${tail}` : ''}`;
      if (pending.length || !this.disposed) this.logger[pending.length ? 'error' : 'info'](message);
      connection.close(new EngineExitedError(message));
      if (this.process === child) {
        this.process = undefined;
        this.connection = undefined;
        this.loadedModel = undefined;
      }
      this.options.onProcessChange?.({ kind: 'exited', message });
    });
    await spawned;
    this.logger.info(`Hearth engine started (pid ${child.pid}) with ${execPath}`);
    this.options.onProcessChange?.({ kind: 'started', pid: child.pid ?? -1 });
    if (reloadModel && this.lastLoad) {
      this.loadedModel = await this.call(connection, 'loadModel', this.lastLoad);
    }
    return connection;
  }

  private async stopProcess(): Promise<void> {
    const child = this.process;
    const connection = this.connection;
    if (!child || !connection) return;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await Promise.race([this.call(connection, 'shutdown', {}), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // Already gone: nothing to shut down.
    }
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.stdin?.end();
    await exited;
    clearTimeout(killTimer);
  }
}
