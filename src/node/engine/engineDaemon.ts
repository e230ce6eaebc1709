/**
 * The shared engine: one detached process per user, listening on a local socket in the per-user runtime
 * directory. Windows and the CLI connect to it; it exits after a while with no clients.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { PROTOCOL_VERSION } from '../../common/protocol/engineProtocol';
import type { Logger } from '../../common/logger';
import { buildIdOf } from './buildId';
import { EngineCore, EngineSession } from './engineServer';
import { ensurePrivateDir, readEngineInfo, runtimePaths, type EngineInfoFile, type RuntimePaths } from './runtimeDir';

/** Whether something answers on the socket (a live engine), as opposed to a file left by a dead one. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface DaemonOptions {
  runtimeDir: string;
  /** Exit after this long with no client connected. */
  idleExitMs: number;
  logger: Logger;
}

export class EngineDaemon {
  private server: Server | undefined;
  private readonly core: EngineCore;
  private readonly paths: RuntimePaths;
  private readonly token = randomBytes(24).toString('hex');
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly options: DaemonOptions,
    private readonly onExit: (code: number) => void,
  ) {
    this.paths = runtimePaths(options.runtimeDir);
    this.core = new EngineCore(options.logger, this.token, buildIdOf(__filename), () => void this.stop('a client asked the engine to shut down'));
  }

  /** Listens; resolves false when another live engine already owns the socket (this one should exit). */
  async start(): Promise<boolean> {
    ensurePrivateDir(this.paths.dir);
    if (process.platform !== 'win32' && existsSync(this.paths.socket)) {
      if (await socketAnswers(this.paths.socket)) {
        this.options.logger.info(`another engine already listens on ${this.paths.socket}; exiting`);
        return false;
      }
      rmSync(this.paths.socket, { force: true });
    }
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.paths.socket, () => resolve());
    });
    const info: EngineInfoFile = {
      pid: process.pid,
      socket: this.paths.socket,
      token: this.token,
      protocolVersion: PROTOCOL_VERSION,
      startedAt: new Date().toISOString(),
    };
    const tmp = `${this.paths.info}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 });
    renameSync(tmp, this.paths.info);
    this.options.logger.info(`engine listening on ${this.paths.socket} (pid ${process.pid}, idle exit after ${Math.round(this.options.idleExitMs / 1000)} s)`);
    this.armIdleTimer();
    return true;
  }

  async stop(why: string): Promise<void> {
    this.options.logger.info(`engine stopping: ${why}`);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.server?.close();
    for (const s of this.sockets) s.destroy();
    // Only remove the discovery file if it is still ours (a newer engine may have replaced it).
    if (readEngineInfo(this.paths)?.pid === process.pid) {
      rmSync(this.paths.info, { force: true });
      if (process.platform !== 'win32') rmSync(this.paths.socket, { force: true });
    }
    try {
      await this.core.dispose();
    } finally {
      this.onExit(0);
    }
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const session = new EngineSession(this.core, socket, socket, `client-${socket.remoteAddress ?? ''}${this.sockets.size}-${Date.now()}`);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.sockets.delete(socket);
      session.close();
      this.options.logger.info(`client disconnected (${this.core.sessions} connected)`);
      this.armIdleTimer();
    });
  }

  private armIdleTimer(): void {
    if (this.sockets.size > 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.stop(`no clients for ${Math.round(this.options.idleExitMs / 1000)} s`), this.options.idleExitMs);
    this.idleTimer.unref();
  }
}
