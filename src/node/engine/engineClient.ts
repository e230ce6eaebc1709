/**
 * The client side of the engine: starts the engine process on first use, restarts it on the next request
 * after it dies, reloads the last model, and turns every failure into a message a user can act on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import {
  ChatTextNotification,
  EngineMethods,
  InfillTextNotification,
  type ChatParams,
  type ChatResult,
  PROTOCOL_VERSION,
  type EngineMethod,
  type InfillParams,
  type InfillResult,
  type LoadModelParams,
  type MethodParams,
  type MethodResult,
  type ModelInfo,
  type StatusResult,
  type TuneParams,
  type TuneResult,
  TuneProgressNotification,
} from '../../common/protocol/engineProtocol';
import { errorMessage, nullLogger, type Logger } from '../../common/logger';
import { isProcessAlive } from '../processAlive';
import { buildIdOf } from './buildId';
import { RpcConnection } from './rpcConnection';
import { defaultRuntimeDir, ensurePrivateDir, readEngineInfo, runtimePaths, type RuntimePaths } from './runtimeDir';

export interface EngineClientOptions {
  /** The engine bundle (`dist/engine.js`). */
  enginePath: string;
  /** The runtime to start it with; the editor's own by default. */
  execPath?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /**
   * `shared` (default): connect to the per-user engine on its local socket, starting it if none runs, so
   * every window and the CLI share one model in memory. `private`: a child process on stdio, for this client only.
   */
  mode?: 'shared' | 'private';
  /** The shared engine's runtime directory; the per-user default otherwise. */
  runtimeDir?: string;
  /** How long a shared engine started by this client lingers with no client connected. */
  idleExitMs?: number;
  /** A name for this client in the engine's log. */
  clientName?: string;
  /** Called when the engine connection opens or closes. */
  onProcessChange?(event: { kind: 'started'; pid: number } | { kind: 'exited'; message: string }): void;
}

/** Raised for requests that were in flight when the engine process exited. */
export class EngineExitedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineExitedError';
  }
}

interface Connected {
  connection: RpcConnection;
  pid: number;
  /** Closes our end; for a private engine, also stops the process. */
  close(): Promise<void>;
  /** The socket closed: no new request goes here, even while `onLost` waits to learn whether the process exited. */
  socketClosed?: boolean;
}

const usable = (c: Connected | undefined): c is Connected => c !== undefined && !c.socketClosed && !c.connection.isClosed;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class EngineClient {
  private current: Connected | undefined;
  private starting: Promise<Connected> | undefined;
  private lastLoad: LoadModelParams | undefined;
  private loadedModel: ModelInfo | undefined;
  private readonly textListeners = new Map<number, (text: string) => void>();
  private readonly chatListeners = new Map<number, (text: string) => void>();
  private readonly progressListeners = new Map<number, (index: number, count: number) => void>();
  private readonly recentLog: string[] = [];
  private disposed = false;
  private readonly logger: Logger;

  constructor(private readonly options: EngineClientOptions) {
    this.logger = options.logger ?? nullLogger;
  }

  /** The engine's process id, once connected. */
  get pid(): number | undefined {
    return this.current?.pid;
  }

  get model(): ModelInfo | undefined {
    return this.loadedModel;
  }

  get runtimeDir(): string {
    return this.options.runtimeDir ?? defaultRuntimeDir();
  }

  /** Loads a model, starting the engine if needed. Remembered, so a restarted engine loads it again. */
  async loadModel(params: LoadModelParams): Promise<ModelInfo> {
    this.lastLoad = params;
    const { connection } = await this.ensureConnected(false);
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
    const { connection } = await this.ensureConnected(true);
    signal?.throwIfAborted();
    // No listener: the engine streams nothing (the editor's completions read the result, not the stream).
    return this.cancellableCall(connection, 'infill', { ...params, stream: params.stream ?? onText !== undefined }, signal, onText && {
      add: (id) => this.textListeners.set(id, onText),
      remove: (id) => this.textListeners.delete(id),
    });
  }

  /**
   * A chat answer in the model's own chat template, streamed through `onText`. Runs below inline completions in
   * the engine. Aborting `signal` stops it; the promise then resolves with the text so far (`stopReason: 'cancelled'`).
   */
  async chat(params: ChatParams, opts: { signal?: AbortSignal; onText?: (text: string) => void } = {}): Promise<ChatResult> {
    const { signal, onText } = opts;
    signal?.throwIfAborted();
    const { connection } = await this.ensureConnected(true);
    signal?.throwIfAborted();
    return this.cancellableCall(connection, 'chat', params, signal, onText && {
      add: (id) => this.chatListeners.set(id, onText),
      remove: (id) => this.chatListeners.delete(id),
    });
  }

  /**
   * Runs the engine's measured settings sweep on the loaded model (loading the last model first after a
   * restart). Aborting `signal` stops it; the promise then rejects.
   */
  async tune(params: TuneParams, opts: { signal?: AbortSignal; onProgress?: (index: number, count: number) => void } = {}): Promise<TuneResult> {
    const { signal, onProgress } = opts;
    signal?.throwIfAborted();
    const { connection } = await this.ensureConnected(true);
    if (!this.loadedModel && this.lastLoad) this.loadedModel = await this.call(connection, 'loadModel', this.lastLoad);
    return this.cancellableCall(connection, 'tune', params, signal, onProgress && {
      add: (id) => this.progressListeners.set(id, onProgress),
      remove: (id) => this.progressListeners.delete(id),
    });
  }

  async status(): Promise<StatusResult> {
    return this.call((await this.ensureConnected(false)).connection, 'status', {});
  }

  /** Stops the engine (for every client of a shared one); the next request starts a new one. */
  async restart(): Promise<void> {
    // A window that has not asked the shared engine anything yet holds no connection, but the engine may be running
    // for other windows (with an engine binary or settings this restart is meant to change): connect to stop it.
    const live = usable(this.current) ? this.current : undefined;
    const current = live ?? (this.options.mode === 'private' ? undefined : await this.tryConnect(runtimePaths(this.runtimeDir)));
    if (!current) return;
    const exited = new Promise<void>((resolve) => {
      if (current.connection.isClosed) resolve();
      else current.connection.onClose(() => resolve());
    });
    try {
      await Promise.race([this.call(current.connection, 'shutdown', {}), sleep(2000)]);
    } catch {
      // Already gone.
    }
    await Promise.race([exited, sleep(5000)]);
    await current.close();
  }

  /** Disconnects; a private engine stops, a shared one keeps serving other clients until it is idle. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.current?.close();
    this.current = undefined;
  }

  /**
   * Calls `method`, forwarding an abort of `signal` to the engine as `$/cancel` for this request, and keeping
   * `listener` registered under the request's id while it runs (for its streamed notifications).
   */
  private async cancellableCall<M extends EngineMethod>(
    connection: RpcConnection,
    method: M,
    params: MethodParams<M>,
    signal: AbortSignal | undefined,
    listener?: { add(id: number): void; remove(id: number): void },
  ): Promise<MethodResult<M>> {
    let requestId: number | undefined;
    const onAbort = () => {
      if (requestId !== undefined) connection.notify('$/cancel', { id: requestId });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.call(connection, method, params, (id) => {
        requestId = id;
        listener?.add(id);
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (requestId !== undefined) listener?.remove(requestId);
    }
  }

  private async call<M extends EngineMethod>(connection: RpcConnection, method: M, params: MethodParams<M>, onId?: (id: number) => void): Promise<MethodResult<M>> {
    const raw = await connection.request(method, params, onId);
    const parsed = EngineMethods[method].result.safeParse(raw);
    if (!parsed.success) throw new Error(`The Hearth engine sent an invalid answer to ${method}: ${z.prettifyError(parsed.error)}`);
    return parsed.data as MethodResult<M>;
  }

  private async ensureConnected(needModel: boolean): Promise<Connected> {
    if (this.disposed) throw new Error('The Hearth engine client was disposed');
    if (usable(this.current)) return this.current;
    this.starting ??= this.connect(needModel).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async connect(reloadModel: boolean): Promise<Connected> {
    const connected = this.options.mode === 'private' ? await this.startPrivate() : await this.connectShared();
    this.current = connected;
    connected.connection.onNotification('infill/text', (params) => {
      const parsed = InfillTextNotification.safeParse(params);
      if (parsed.success) this.textListeners.get(parsed.data.id)?.(parsed.data.text);
    });
    connected.connection.onNotification('chat/text', (params) => {
      const parsed = ChatTextNotification.safeParse(params);
      if (parsed.success) this.chatListeners.get(parsed.data.id)?.(parsed.data.text);
    });
    connected.connection.onNotification('tune/progress', (params) => {
      const parsed = TuneProgressNotification.safeParse(params);
      if (parsed.success) this.progressListeners.get(parsed.data.id)?.(parsed.data.index, parsed.data.count);
    });
    this.options.onProcessChange?.({ kind: 'started', pid: connected.pid });
    if (reloadModel && this.lastLoad) this.loadedModel = await this.call(connected.connection, 'loadModel', this.lastLoad);
    return connected;
  }

  /** Fails this connection's pending requests with a message that says what happened and what comes next. */
  private onLost(connected: Connected, how: string): void {
    const pending = connected.connection.pendingMethods();
    const during = pending.length ? ` while handling ${[...new Set(pending)].join(', ')}` : '';
    const tail = (this.options.mode === 'private' ? this.recentLog : this.sharedLogTail()).slice(-3).join(' | ');
    const message = `The Hearth engine (pid ${connected.pid}) ${how}${during}. It will restart on the next request.${tail ? ` Last engine log: ${tail}` : ''}`;
    if (!this.disposed) this.logger[pending.length ? 'error' : 'info'](message);
    connected.connection.close(new EngineExitedError(message));
    if (this.current === connected) {
      this.current = undefined;
      this.loadedModel = undefined;
    }
    this.options.onProcessChange?.({ kind: 'exited', message });
  }

  /**
   * The engine process's environment: the editor's or the shell's, then this client's. The engine adds its OpenMP
   * settings itself where a native build will load (`prepareNativeEnv` in engineMain.ts), for what this leaves unset.
   */
  private engineEnv(): NodeJS.ProcessEnv {
    return { ...process.env, ...this.options.env, ELECTRON_RUN_AS_NODE: '1' };
  }

  // ---- private engine: a child process on stdio ------------------------------------------------------------

  private async startPrivate(): Promise<Connected> {
    const execPath = this.options.execPath ?? process.execPath;
    const child = spawn(execPath, [this.options.enginePath, '--stdio'], {
      env: this.engineEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const connection = new RpcConnection(child.stdout!, child.stdin!, this.logger, false);
    this.recentLog.length = 0;
    const stderrLines = createInterface({ input: child.stderr!, crlfDelay: Infinity });
    stderrLines.on('error', () => undefined); // the process's exit says what happened
    stderrLines.on('line', (line) => {
      this.recentLog.push(line);
      if (this.recentLog.length > 20) this.recentLog.shift();
      this.forwardLogLine(line);
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`Could not start the Hearth engine (${execPath} ${this.options.enginePath}): ${err.message}`)));
    });
    const connected: Connected = {
      connection,
      pid: child.pid ?? -1,
      close: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.stdin?.end();
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(killTimer);
      },
    };
    child.once('exit', (code, signal) => this.onLost(connected, signal ? `was killed by ${signal}` : `exited with code ${code}`));
    this.logger.info(`Hearth engine started (pid ${child.pid}, private) with ${execPath}`);
    return connected;
  }

  // ---- shared engine: one per user on a local socket ---------------------------------------------------------

  private async connectShared(): Promise<Connected> {
    const paths = runtimePaths(this.runtimeDir);
    ensurePrivateDir(paths.dir);
    const deadline = Date.now() + 60_000;
    let spawned: ChildProcess | undefined;
    while (Date.now() < deadline) {
      const existing = await this.tryConnect(paths);
      if (existing) return existing;
      if (spawned && (spawned.exitCode !== null || spawned.signalCode !== null)) {
        throw new Error(`The Hearth engine exited during start-up (code ${spawned.exitCode ?? spawned.signalCode}). Engine log (${paths.log}): ${this.sharedLogTail().slice(-3).join(' | ')}`);
      }
      if (!spawned && acquireLock(paths.lock)) {
        try {
          // Re-check under the lock: another client may have started it a moment ago.
          const again = await this.tryConnect(paths);
          if (again) return again;
          spawned = this.spawnShared(paths);
          while (Date.now() < deadline && spawned.exitCode === null && spawned.signalCode === null) {
            const c = await this.tryConnect(paths);
            if (c) return c;
            await sleep(50);
          }
        } finally {
          rmSync(paths.lock, { force: true });
        }
        continue;
      }
      await sleep(50);
    }
    throw new Error(`Timed out connecting to the Hearth engine in ${paths.dir}. Engine log (${paths.log}): ${this.sharedLogTail().slice(-3).join(' | ')}`);
  }

  private spawnShared(paths: RuntimePaths): ChildProcess {
    const execPath = this.options.execPath ?? process.execPath;
    rotateLog(paths.log);
    const log = openSync(paths.log, 'a', 0o600);
    try {
      const child = spawn(execPath, [this.options.enginePath, '--runtime-dir', paths.dir, '--idle-exit-ms', String(this.options.idleExitMs ?? 10 * 60_000)], {
        env: this.engineEnv(),
        stdio: ['ignore', log, log],
        detached: true,
        windowsHide: true,
      });
      child.unref();
      this.logger.info(`started the shared Hearth engine (pid ${child.pid}) with ${execPath}; log: ${paths.log}`);
      return child;
    } finally {
      closeSync(log);
    }
  }

  /** Connects to the engine named in `engine.json`, or undefined when none answers there. */
  private async tryConnect(paths: RuntimePaths): Promise<Connected | undefined> {
    const info = readEngineInfo(paths);
    if (!info) return undefined;
    const socket = await new Promise<Socket | undefined>((resolve) => {
      const s = createConnection(info.socket);
      s.once('connect', () => resolve(s));
      s.once('error', () => resolve(undefined));
    });
    if (!socket) return undefined;
    const connection = new RpcConnection(socket, socket, this.logger, false);
    const connected: Connected = {
      connection,
      pid: info.pid,
      close: async () => {
        socket.end();
        socket.destroy();
      },
    };
    socket.on('error', () => undefined);
    socket.once('close', () => {
      connected.socketClosed = true;
      void waitForExit(info.pid, 500).then((exited) => this.onLost(connected, exited ? 'exited' : 'closed the connection'));
    });
    try {
      const hello = await this.call(connection, 'hello', { token: info.token, client: this.options.clientName ?? `pid ${process.pid}`, protocolVersion: PROTOCOL_VERSION });
      const wanted = buildIdOf(this.options.enginePath);
      if (hello.protocolVersion !== PROTOCOL_VERSION || hello.buildId !== wanted) {
        // An engine from another Hearth build: replace it.
        this.logger.info(`replacing engine pid ${info.pid} (build ${hello.buildId}, protocol ${hello.protocolVersion}; this window runs build ${wanted}, protocol ${PROTOCOL_VERSION})`);
        await this.call(connection, 'shutdown', {}).catch(() => undefined);
        await waitForExit(info.pid, 10_000);
        return undefined;
      }
    } catch (err) {
      socket.destroy();
      this.logger.warn(`engine pid ${info.pid} refused the connection: ${errorMessage(err)}`);
      return undefined;
    }
    return connected;
  }

  private sharedLogTail(): string[] {
    try {
      const text = readFileSync(runtimePaths(this.runtimeDir).log, 'utf8');
      return text.trimEnd().split('\n').slice(-20);
    } catch {
      return [];
    }
  }

  private forwardLogLine(line: string): void {
    if (/^\[error\]/.test(line)) this.logger.error(line);
    else if (/^\[warn\]/.test(line)) this.logger.warn(line);
    else this.logger.debug(line);
  }
}

/** Whether `pid` is gone within `ms` (a killed child stays visible until it is reaped). */
async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

const isAlive = isProcessAlive;

/**
 * Takes the start lock (created exclusively), so two windows starting at the same moment start one engine.
 * A lock left by a dead process, or older than 30 s, is stale and taken over.
 */
function acquireLock(lock: string): boolean {
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  try {
    const owner = Number(readFileSync(lock, 'utf8'));
    const age = Date.now() - statSync(lock).mtimeMs;
    if ((Number.isInteger(owner) && owner > 0 && !isAlive(owner)) || age > 30_000) rmSync(lock, { force: true });
  } catch {
    // Gone between our reads: the next try takes it.
  }
  return false;
}

/** Keeps the engine log from growing without end: past 5 MB it moves to engine.log.1. */
function rotateLog(log: string): void {
  try {
    if (statSync(log).size > 5 * 1024 * 1024) renameSync(log, `${log}.1`);
  } catch {
    // No log yet.
  }
}
