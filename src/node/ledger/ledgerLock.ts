/**
 * One writer at a time across processes (editor windows, the CLI): a lock file created with `O_EXCL`, holding
 * `pid host nonce`. It is held only while a batch is written (milliseconds), so a waiting writer polls.
 * A lock is stale when its owner is a dead process on this host, or when it is older than `staleMs` (another
 * host sharing the folder, or a reused pid); a stale lock is moved aside atomically (rename) before it is removed,
 * and put back if a live writer's fresh lock was caught instead.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';

export interface FileLockOptions {
  /** Give up (throw) after waiting this long. Default 10 s. */
  timeoutMs?: number;
  /** A lock this old is stale whoever holds it. Default 30 s: batches hold it for milliseconds. */
  staleMs?: number;
}

/** Thrown when the lock cannot be had in time; names the holder. */
export class LedgerLockTimeout extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class FileLock {
  private readonly host = hostname();
  private readonly timeoutMs: number;
  private readonly staleMs: number;

  constructor(readonly lockPath: string, opts: FileLockOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.staleMs = opts.staleMs ?? 30_000;
  }

  /** Waits for the lock; resolves to its release function. */
  async acquire(): Promise<() => Promise<void>> {
    const nonce = randomBytes(8).toString('hex');
    const content = `${process.pid} ${this.host} ${nonce}\n`;
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const fh = await open(this.lockPath, 'wx');
        try {
          await fh.writeFile(content);
        } finally {
          await fh.close();
        }
        return () => this.release(content);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await this.staleHolder();
      if (holder !== undefined) {
        await this.breakStale(holder, nonce);
        continue;
      }
      if (Date.now() > deadline) {
        const who = await readFile(this.lockPath, 'utf8').catch(() => '?');
        throw new LedgerLockTimeout(`ledger lock ${this.lockPath} still held after ${this.timeoutMs} ms (by ${who.trim() || 'an unknown writer'})`);
      }
      // Batches are short: poll fast first, then back off with jitter so writers do not move in lockstep.
      await sleep(attempt < 4 ? 0 : Math.min(20, 1 + Math.random() * attempt));
    }
  }

  /** The lock's content when it is stale, else undefined (held, or gone already). */
  private async staleHolder(): Promise<string | undefined> {
    let text: string;
    let mtimeMs: number;
    try {
      [text, { mtimeMs }] = await Promise.all([readFile(this.lockPath, 'utf8'), stat(this.lockPath)]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const age = Date.now() - mtimeMs;
    const [pid, host] = text.trim().split(' ');
    // Empty: the holder died between creating the file and writing it (or is writing it right now).
    if (!pid) return age > 1000 ? text : undefined;
    if (host === this.host && !alive(Number(pid))) return text;
    return age > this.staleMs ? text : undefined;
  }

  private async breakStale(stale: string, nonce: string): Promise<void> {
    const aside = `${this.lockPath}.${process.pid}.${nonce}.stale`;
    try {
      await rename(this.lockPath, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else broke it first
      throw err;
    }
    const caught = await readFile(aside, 'utf8').catch(() => stale);
    if (caught !== stale) {
      // A live writer took the lock between our check and the rename: give it back.
      await link(aside, this.lockPath).catch(() => undefined);
    }
    await unlink(aside).catch(() => undefined);
  }

  private async release(content: string): Promise<void> {
    // Only remove our own lock (it may have been broken as stale if we were suspended for a long time).
    const now = await readFile(this.lockPath, 'utf8').catch(() => undefined);
    if (now === content) await unlink(this.lockPath).catch(() => undefined);
  }
}
