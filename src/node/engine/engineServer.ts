/**
 * The engine's request handlers: validates params, runs one generation at a time on the backend, and lets
 * a newer infill or an explicit cancel stop the one in flight (the newest keystroke wins).
 */
import type { Readable, Writable } from 'node:stream';
import { z } from 'zod';
import { EngineMethods, ErrorCode, type EngineMethod, type EngineState, type StatusResult } from '../../common/protocol/engineProtocol';
import type { Logger } from '../../common/logger';
import { RpcConnection, RpcError } from './rpcConnection';
import { LlamaCppBackend } from './backends/llamaCppBackend';

export class EngineServer {
  private readonly connection: RpcConnection;
  private readonly backend: LlamaCppBackend;
  private readonly started = Date.now();
  private state: EngineState = 'idle';
  /** In-flight generations by request id. */
  private readonly running = new Map<number, AbortController>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(input: Readable, output: Writable, logger: Logger, private readonly onShutdown: () => void) {
    this.connection = new RpcConnection(input, output, logger);
    this.backend = new LlamaCppBackend(logger);
    this.handle('loadModel', async (params) => {
      this.cancelAll();
      return this.serialize(async () => {
        this.state = 'loading';
        try {
          return await this.backend.loadModel(params);
        } catch (err) {
          throw new RpcError(ErrorCode.ModelLoadFailed, err instanceof Error ? err.message : String(err));
        } finally {
          this.state = this.backend.modelInfo ? 'ready' : 'idle';
        }
      });
    });
    this.handle('infill', async (params, id) => {
      if (!this.backend.modelInfo) throw new RpcError(ErrorCode.NoModel, 'no model loaded: call loadModel first');
      // A newer completion request makes older ones stale.
      this.cancelAll();
      const controller = new AbortController();
      this.running.set(id, controller);
      try {
        return await this.serialize(async () => {
          this.state = 'busy';
          try {
            return await this.backend.infill(params, controller.signal, (text) => this.connection.notify('infill/text', { id, text }));
          } finally {
            this.state = 'ready';
          }
        });
      } finally {
        this.running.delete(id);
      }
    });
    this.handle('cancel', async ({ id }) => ({ cancelled: this.cancel(id) }));
    this.handle('status', async (): Promise<StatusResult> => ({
      pid: process.pid,
      state: this.state,
      backend: this.backend.name,
      model: this.backend.modelInfo ?? null,
      uptimeMs: Date.now() - this.started,
      rssBytes: process.memoryUsage().rss,
    }));
    this.handle('shutdown', async () => {
      this.cancelAll();
      setImmediate(() => this.onShutdown());
      return { ok: true as const };
    });
    this.connection.onNotification('$/cancel', (params) => {
      const parsed = z.object({ id: z.number() }).safeParse(params);
      if (parsed.success) this.cancel(parsed.data.id);
    });
  }

  async dispose(): Promise<void> {
    this.cancelAll();
    await this.backend.dispose();
  }

  private handle<M extends EngineMethod>(
    method: M,
    fn: (params: z.infer<(typeof EngineMethods)[M]['params']>, id: number) => Promise<z.input<(typeof EngineMethods)[M]['result']>>,
  ): void {
    const schema = EngineMethods[method];
    this.connection.onRequest(method, async (raw, id) => {
      const parsed = schema.params.safeParse(raw ?? {});
      if (!parsed.success) {
        throw new RpcError(ErrorCode.InvalidParams, `invalid params for ${method}: ${z.prettifyError(parsed.error)}`);
      }
      const result = await fn(parsed.data as z.infer<(typeof EngineMethods)[M]['params']>, id);
      // Validate our own answers too: a bug here should fail loudly in the engine, not confuse a client.
      return schema.result.parse(result);
    });
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private cancel(id: number): boolean {
    const controller = this.running.get(id);
    if (!controller) return false;
    controller.abort(new Error('cancelled'));
    return true;
  }

  private cancelAll(): void {
    for (const controller of this.running.values()) controller.abort(new Error('superseded'));
  }
}
