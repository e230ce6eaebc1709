/**
 * Where the shared engine lives: a per-user directory (mode 0700) holding the socket, the discovery file
 * `engine.json` (mode 0600: pid, socket, random token), the start lock and the engine's log.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

export interface RuntimePaths {
  dir: string;
  /** Unix domain socket path, or a Windows named pipe. */
  socket: string;
  info: string;
  lock: string;
  log: string;
}

/** The per-user runtime directory: `HEARTH_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/hearth`, else a per-user temp dir. */
export function defaultRuntimeDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HEARTH_RUNTIME_DIR) return env.HEARTH_RUNTIME_DIR;
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'Hearth', 'run');
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'hearth');
  return join(tmpdir(), `hearth-${userInfo().uid}`);
}

export function runtimePaths(dir: string): RuntimePaths {
  const socket =
    process.platform === 'win32'
      ? `\\\\.\\pipe\\hearth-engine-${createHash('sha256').update(dir.toLowerCase()).digest('hex').slice(0, 16)}`
      : join(dir, 'engine.sock');
  return { dir, socket, info: join(dir, 'engine.json'), lock: join(dir, 'engine.lock'), log: join(dir, 'engine.log') };
}

/**
 * Creates the directory private to this user, or checks that an existing one is: a directory other users can
 * write to would let them replace the socket and read completions.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') return;
  const st = statSync(dir);
  if (!st.isDirectory()) throw new Error(`Hearth runtime path ${dir} is not a directory: remove it or set HEARTH_RUNTIME_DIR.`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new Error(`Hearth runtime directory ${dir} belongs to another user (uid ${st.uid}): refusing to use it. Set HEARTH_RUNTIME_DIR to a directory of your own.`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** What `engine.json` says: how to reach the running engine. */
export const EngineInfoFile = z.object({
  pid: z.number().int(),
  socket: z.string(),
  token: z.string().min(16),
  protocolVersion: z.number().int(),
  startedAt: z.string(),
});
export type EngineInfoFile = z.infer<typeof EngineInfoFile>;

export function readEngineInfo(paths: RuntimePaths): EngineInfoFile | undefined {
  try {
    return EngineInfoFile.parse(JSON.parse(readFileSync(paths.info, 'utf8')));
  } catch {
    return undefined;
  }
}

