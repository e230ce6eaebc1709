/**
 * One writer at a time across processes (editor windows, the CLI): a lock file created with `O_EXCL`, holding
 * `pid host nonce`. It is held only while a batch is placed in the chain and written (well under a millisecond;
 * the fsync happens after release), so a waiting writer polls.
 * A lock is stale when its owner is a dead process on this host, or when it is older than `staleMs` (another
 * host sharing the folder, or a reused pid); a stale lock is moved aside atomically (rename) before it is
 * removed, and put back if a live writer's fresh lock was caught instead.
 *
 * The calls inside are synchronous on purpose: the lock is held across them, and yielding to the event loop in
 * the middle would stretch every other writer's wait by whatever else this process does meanwhile.
 */
import { isProcessAlive } from '../processAlive';
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

export interface FileLockOptions {
  /** Give up (throw) after waiting this long. Default 10 s. */
  timeoutMs?: number;
  /** A lock this old is stale whoever holds it. Default 30 s: batches hold it for well under a millisecond. */
  staleMs?: number;
}

/** Thrown when the lock cannot be had in time; names the holder. */
export class LedgerLockTimeout extends Error {}

const alive = isProcessAlive;

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

export class FileLock {
  private readonly host = hostname();
  private readonly timeoutMs: number;
  private readonly staleMs: number;

  constructor(readonly lockPath: string, opts: FileLockOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.staleMs = opts.staleMs ?? 30_000;
  }

  /** Takes the lock if it is free (or stale); returns its release function, or undefined when held. */
  tryAcquire(): (() => void) | undefined {
    const content = `${process.pid} ${this.host} ${randomBytes(8).toString('hex')}\n`;
    for (let i = 0; i < 2; i++) {
      try {
        const fd = openSync(this.lockPath, 'wx');
        try {
          writeSync(fd, content);
        } finally {
          closeSync(fd);
        }
        return () => this.release(content);
      } catch (err) {
        if (code(err) !== 'EEXIST') throw err;
      }
      const stale = this.staleHolder();
      if (stale === undefined) return undefined;
      this.breakStale(stale);
    }
    return undefined;
  }

  /** Waits for the lock; resolves to its release function. */
  async acquire(): Promise<() => void> {
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const release = this.tryAcquire();
      if (release) return release;
      if (Date.now() > deadline) {
        let who = '?';
        try {
          who = readFileSync(this.lockPath, 'utf8').trim();
        } catch {
          // gone meanwhile
        }
        throw new LedgerLockTimeout(`ledger lock ${this.lockPath} still held after ${this.timeoutMs} ms (by ${who || 'an unknown writer'})`);
      }
      // The holder needs well under a millisecond: check again on the next turn of the event loop, then back
      // off with jitter so waiting writers do not spin in lockstep.
      await new Promise<void>((r) => (attempt < 2 ? setImmediate(r) : setTimeout(r, Math.min(10, Math.random() * attempt))));
    }
  }

  /** The lock's content when it is stale, else undefined (held, or gone already). */
  private staleHolder(): string | undefined {
    let text: string;
    let mtimeMs: number;
    try {
      text = readFileSync(this.lockPath, 'utf8');
      mtimeMs = statSync(this.lockPath).mtimeMs;
    } catch (err) {
      if (code(err) === 'ENOENT') return undefined;
      throw err;
    }
    const age = Date.now() - mtimeMs;
    const [pid, host] = text.trim().split(' ');
    // Empty: the holder died between creating the file and writing it (or is writing it right now).
    if (!pid) return age > 1000 ? text : undefined;
    if (host === this.host && !alive(Number(pid))) return text;
    return age > this.staleMs ? text : undefined;
  }

  private breakStale(stale: string): void {
    const aside = `${this.lockPath}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
    try {
      renameSync(this.lockPath, aside);
    } catch (err) {
      if (code(err) === 'ENOENT') return; // someone else broke it first
      throw err;
    }
    let caught = stale;
    try {
      caught = readFileSync(aside, 'utf8');
    } catch {
      // keep `stale`
    }
    if (caught !== stale) {
      // A live writer took the lock between our check and the rename: give it back.
      try {
        linkSync(aside, this.lockPath);
      } catch {
        // a third writer holds it now; the live one will find its lock gone on release
      }
    }
    try {
      unlinkSync(aside);
    } catch {
      // already gone
    }
  }

  private release(content: string): void {
    // Only remove our own lock (it may have been broken as stale if this process was suspended for long).
    try {
      if (readFileSync(this.lockPath, 'utf8') === content) unlinkSync(this.lockPath);
    } catch {
      // already gone
    }
  }
}
