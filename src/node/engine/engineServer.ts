/**
 * The engine: one backend (one loaded model) shared by every client, a scheduler, and a session per client
 * connection that validates params, checks the client's token and cancels only its own requests.
 */
import type { Readable, Writable } from 'node:stream';
import { z } from 'zod';
import {
  EngineMethods,
  ErrorCode,
  PROTOCOL_VERSION,
  type EngineMethod,
  type EngineState,
  type StatusResult,
} from '../../common/protocol/engineProtocol';
import type { Logger } from '../../common/logger';
import { RpcConnection, RpcError } from './rpcConnection';
import { checkGgufFile, LlamaCppBackend } from './backends/llamaCppBackend';
import { isOpenVinoModelDir, OpenVinoBackend } from './backends/openVinoBackend';
import type { EngineBackend } from './backends/engineBackend';
import { admitModel } from './modelAdmission';
import { Scheduler } from './scheduler';
import { TextStream } from './textStream';

/** What all sessions share. */
export class EngineCore {
  private readonly llamaCpp: LlamaCppBackend;
  private readonly openVino: OpenVinoBackend;
  /** The backend holding the loaded model. */
  backend: EngineBackend;
  readonly scheduler = new Scheduler();
  private readonly started = Date.now();
  private loading: Promise<unknown> = Promise.resolve();
  private isLoading = false;
  sessions = 0;
  /** The name each authenticated client gave in `hello`. */
  readonly clientNames = new Map<object, string>();

  constructor(
    readonly logger: Logger,
    /** Required in `hello` before anything else; undefined for a private stdio engine. */
    readonly token: string | undefined,
    readonly buildId: string,
    readonly onShutdownRequested: () => void,
  ) {
    this.llamaCpp = new LlamaCppBackend(logger);
    this.openVino = new OpenVinoBackend(logger);
    this.backend = this.llamaCpp;
  }

  get state(): EngineState {
    if (this.isLoading) return 'loading';
    if (!this.backend.modelInfo) return 'idle';
    const load = this.scheduler.load();
    return load.completion + load.chat + load.background > 0 ? 'busy' : 'ready';
  }

  /** Loads run one at a time, after every generation in flight has been cancelled. */
  loadModel(params: Parameters<EngineBackend['loadModel']>[0]) {
    const run = async () => {
      if (this.backend.isLoaded(params)) {
        this.backend.applyLoadOptions?.(params);
        return this.backend.modelInfo!;
      }
      const next = await this.chooseBackend(params.path);
      if (next === this.llamaCpp) {
        checkGgufFile(params.path);
        await admitModel(params.path, params.contextSize ?? 2048, this.backend.modelInfo?.sizeBytes ?? 0);
      }
      this.scheduler.cancelAll('the model is being replaced');
      this.isLoading = true;
      try {
        if (next !== this.backend) await this.backend.unload();
        this.backend = next;
        const info = await next.loadModel(params);
        // Completions for different documents run side by side, one per live sequence.
        this.scheduler.setCapacity('completion', next.completionSequences ?? 1);
        return info;
      } finally {
        this.isLoading = false;
      }
    };
    const next = this.loading.then(run, run);
    this.loading = next.catch(() => undefined);
    return next;
  }

  /** OpenVINO for an OpenVINO IR directory when its runtime is present; llama.cpp otherwise. */
  private async chooseBackend(path: string): Promise<EngineBackend> {
    if (!(await isOpenVinoModelDir(path))) return this.llamaCpp;
    if (await this.openVino.available()) return this.openVino;
    throw new Error(`${path} is an OpenVINO IR model, but the OpenVINO runtime is not available (openvino-node is not installed or its runtime failed to download). Install openvino-node, or choose a GGUF model for llama.cpp.`);
  }

  status(): StatusResult {
    return {
      pid: process.pid,
      state: this.state,
      backend: this.backend.name,
      model: this.backend.modelInfo ?? null,
      uptimeMs: Date.now() - this.started,
      rssBytes: process.memoryUsage().rss,
      clients: this.sessions,
      clientNames: [...this.clientNames.values()],
      ...(this.backend.modelInfo && this.backend.promptCacheStatus ? { promptCache: this.backend.promptCacheStatus() } : {}),
      ...(this.backend.speedStatus ? this.backend.speedStatus() : {}),
      protocolVersion: PROTOCOL_VERSION,
    };
  }

  async dispose(): Promise<void> {
    this.scheduler.cancelAll('engine shutting down');
    await this.llamaCpp.dispose();
    await this.openVino.dispose();
  }
}

/** One client connection. */
export class EngineSession {
  private readonly connection: RpcConnection;
  private authenticated: boolean;
  /** This client's requests in flight, by request id. */
  private readonly running = new Map<number, AbortController>();

  constructor(
    private readonly core: EngineCore,
    input: Readable,
    output: Writable,
    readonly name: string,
    closeOnInputEnd = true,
  ) {
    this.authenticated = core.token === undefined;
    this.connection = new RpcConnection(input, output, core.logger, closeOnInputEnd);
    core.sessions++;
    this.handle('hello', async ({ token, client, protocolVersion }) => {
      if (core.token !== undefined && token !== core.token) throw new RpcError(ErrorCode.InvalidRequest, 'wrong token');
      if (protocolVersion !== PROTOCOL_VERSION) core.logger.warn(`client ${client} speaks protocol ${protocolVersion}, engine ${PROTOCOL_VERSION}`);
      this.authenticated = true;
      core.clientNames.set(this, client);
      core.logger.info(`client connected: ${client} (${core.sessions} connected)`);
      return { pid: process.pid, protocolVersion: PROTOCOL_VERSION, buildId: core.buildId };
    });
    this.handle('loadModel', async (params) => {
      try {
        return await core.loadModel(params);
      } catch (err) {
        throw new RpcError(ErrorCode.ModelLoadFailed, err instanceof Error ? err.message : String(err));
      }
    });
    this.handle('infill', async (params, id) => {
      if (!core.backend.modelInfo) throw new RpcError(ErrorCode.NoModel, 'no model loaded: call loadModel first');
      const controller = new AbortController();
      this.running.set(id, controller);
      // Streamed only when the client listens, in batches (see TextStream).
      const stream = params.stream === false ? undefined : new TextStream((text) => this.connection.notify('infill/text', { id, text }));
      try {
        return await core.scheduler.run(
          // Completions are keyed per client and document: the newest keystroke in a document wins.
          { priority: params.priority, key: `${this.name}\u0000${params.documentId ?? ''}`, signal: controller.signal },
          (signal) => core.backend.infill(params, signal, (text) => stream?.push(text), this.name),
        );
      } finally {
        stream?.flush();
        this.running.delete(id);
      }
    });
    this.handle('chat', async (params, id) => {
      const backend = core.backend;
      if (!backend.modelInfo) throw new RpcError(ErrorCode.NoModel, 'no model loaded: call loadModel first');
      if (!backend.chat) throw new RpcError(ErrorCode.InvalidRequest, `the ${backend.name} backend has no chat: choose a GGUF model for llama.cpp`);
      const controller = new AbortController();
      this.running.set(id, controller);
      const stream = new TextStream((text) => this.connection.notify('chat/text', { id, text }));
      try {
        // The chat lane: below completions, so typing during a long answer still gets completions first.
        return await core.scheduler.run({ priority: 'chat', signal: controller.signal }, (signal) =>
          backend.chat!(params, signal, (text) => stream.push(text)),
        );
      } finally {
        stream.flush();
        this.running.delete(id);
      }
    });
    this.handle('tune', async (params, id) => {
      const backend = core.backend;
      if (!backend.modelInfo) throw new RpcError(ErrorCode.NoModel, 'no model loaded: call loadModel first');
      if (!backend.tune) throw new RpcError(ErrorCode.InvalidRequest, `the ${backend.name} backend has no settings to tune`);
      const controller = new AbortController();
      this.running.set(id, controller);
      try {
        // Background priority: completions and chat go first, and a model load cancels it.
        return await core.scheduler.run({ priority: 'background', signal: controller.signal }, (signal) =>
          backend.tune!(params, signal, (index, count) => this.connection.notify('tune/progress', { id, index, count })),
        );
      } finally {
        this.running.delete(id);
      }
    });
    this.handle('cancel', async ({ id }) => ({ cancelled: this.cancel(id) }));
    this.handle('status', async () => core.status());
    this.handle('shutdown', async () => {
      setImmediate(() => core.onShutdownRequested());
      return { ok: true as const };
    });
    this.connection.onNotification('$/cancel', (params) => {
      const parsed = z.object({ id: z.number() }).safeParse(params);
      if (parsed.success) this.cancel(parsed.data.id);
    });
  }

  /** The client went away: stop its work. */
  close(): void {
    for (const c of this.running.values()) c.abort(new Error('client disconnected'));
    this.connection.close(new Error('client disconnected'));
    this.core.sessions--;
    this.core.clientNames.delete(this);
  }

  private handle<M extends EngineMethod>(
    method: M,
    fn: (params: z.infer<(typeof EngineMethods)[M]['params']>, id: number) => Promise<z.input<(typeof EngineMethods)[M]['result']>>,
  ): void {
    const schema = EngineMethods[method];
    this.connection.onRequest(method, async (raw, id) => {
      if (!this.authenticated && method !== 'hello') throw new RpcError(ErrorCode.InvalidRequest, 'say hello with the engine token first');
      const parsed = schema.params.safeParse(raw ?? {});
      if (!parsed.success) {
        throw new RpcError(ErrorCode.InvalidParams, `invalid params for ${method}: ${z.prettifyError(parsed.error)}`);
      }
      const result = await fn(parsed.data as z.infer<(typeof EngineMethods)[M]['params']>, id);
      // Validate our own answers too: a bug here should fail loudly in the engine, not confuse a client.
      return schema.result.parse(result);
    });
  }

  private cancel(id: number): boolean {
    const controller = this.running.get(id);
    if (!controller) return false;
    controller.abort(new Error('cancelled'));
    return true;
  }
}
