/**
 * A JSON-RPC 2.0 connection over newline-delimited JSON on a pair of streams (stdio today, a local socket
 * later). Each incoming line is parsed with the protocol's zod schemas before anything else sees it.
 */
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import {
  ErrorCode,
  JSONRPC,
  NotificationMessage,
  RequestMessage,
  ResponseMessage,
  type RpcErrorBody,
} from '../../common/protocol/engineProtocol';
import type { Logger } from '../../common/logger';

/** An error answered by the other side, with its JSON-RPC code. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

type RequestHandler = (params: unknown, id: number) => Promise<unknown>;
type NotificationHandler = (params: unknown) => void;

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** Longest line accepted; anything longer is a protocol error, not a reason to buffer without end. */
const MAX_LINE_CHARS = 64 * 1024 * 1024;

export class RpcConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly requestHandlers = new Map<string, RequestHandler>();
  private readonly notificationHandlers = new Map<string, NotificationHandler>();
  private closed = false;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    input: Readable,
    private readonly output: Writable,
    private readonly logger: Logger,
    /**
     * Whether the end of `input` closes the connection. A process's client says no: its stdout ends a moment
     * before the exit event that explains why, and pending requests should fail with that explanation.
     */
    closeOnInputEnd = true,
  ) {
    const lines = createInterface({ input, crlfDelay: Infinity });
    lines.on('line', (line) => this.onLine(line));
    // readline passes its input's errors on as its own 'error' event, thrown when nobody listens: on a socket the
    // engine closed during a write (EPIPE) or reset (ECONNRESET), that was an uncaught error in the extension host.
    lines.on('error', (err) => this.close(err));
    if (closeOnInputEnd) lines.on('close', () => this.close(new Error('connection closed')));
    output.on('error', (err) => this.close(err));
  }

  onRequest(method: string, handler: RequestHandler): void {
    this.requestHandlers.set(method, handler);
  }

  onNotification(method: string, handler: NotificationHandler): void {
    this.notificationHandlers.set(method, handler);
  }

  /** Sends a request; `onId` learns its id before any answer can arrive (to cancel it later). */
  request(method: string, params: unknown, onId?: (id: number) => void): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const id = this.nextId++;
    onId?.(id);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      this.write({ jsonrpc: JSONRPC, id, method, params });
    });
  }

  notify(method: string, params: unknown): void {
    if (!this.closed) this.write({ jsonrpc: JSONRPC, method, params });
  }

  /** Methods of requests still waiting for an answer. */
  pendingMethods(): string[] {
    return [...this.pending.values()].map((p) => p.method);
  }

  /** Fails every pending request with `reason` and stops accepting new ones. */
  close(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    for (const l of this.closeListeners) l();
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private write(message: object): void {
    try {
      this.output.write(JSON.stringify(message) + '\n');
    } catch (err) {
      this.close(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    if (line.length > MAX_LINE_CHARS) {
      this.logger.error(`engine protocol: dropped a ${line.length}-character line (limit ${MAX_LINE_CHARS})`);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      this.logger.error(`engine protocol: a line is not JSON: ${line.slice(0, 200)}`);
      this.write({ jsonrpc: JSONRPC, id: null, error: { code: ErrorCode.ParseError, message: 'not JSON' } });
      return;
    }
    const request = RequestMessage.safeParse(json);
    if (request.success) {
      void this.handleRequest(request.data);
      return;
    }
    const response = ResponseMessage.safeParse(json);
    if (response.success) {
      this.handleResponse(response.data);
      return;
    }
    const notification = NotificationMessage.safeParse(json);
    if (notification.success) {
      const handler = this.notificationHandlers.get(notification.data.method);
      if (handler) {
        try {
          handler(notification.data.params);
        } catch (err) {
          this.logger.error(`engine protocol: notification ${notification.data.method} failed: ${String(err)}`);
        }
      }
      return;
    }
    this.logger.error(`engine protocol: a message matches no JSON-RPC shape: ${line.slice(0, 200)}`);
  }

  private async handleRequest(message: RequestMessage): Promise<void> {
    const handler = this.requestHandlers.get(message.method);
    if (!handler) {
      this.write({
        jsonrpc: JSONRPC,
        id: message.id,
        error: { code: ErrorCode.MethodNotFound, message: `unknown method ${message.method}` },
      });
      return;
    }
    try {
      const result = await handler(message.params, message.id);
      this.write({ jsonrpc: JSONRPC, id: message.id, result });
    } catch (err) {
      const body: RpcErrorBody =
        err instanceof RpcError
          ? { code: err.code, message: err.message, data: err.data }
          : { code: ErrorCode.InternalError, message: err instanceof Error ? err.message : String(err) };
      this.write({ jsonrpc: JSONRPC, id: message.id, error: body });
    }
  }

  private handleResponse(message: ResponseMessage): void {
    if (message.id === null) {
      if ('error' in message) this.logger.error(`engine protocol: peer reported ${message.error.message}`);
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if ('error' in message) pending.reject(new RpcError(message.error.code, message.error.message, message.error.data));
    else pending.resolve(message.result);
  }
}
