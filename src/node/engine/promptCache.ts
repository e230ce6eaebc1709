/**
 * The host-memory prompt cache behind the live completion sequences (as llama-server's `--cache-ram`): when a
 * live sequence is given to another document, its state (KV cache and tokens) is saved to a file in a RAM-backed
 * folder; a later request that shares a longer prefix with a saved state than with any live sequence gets it back
 * instead of a full prefill. Entries are keyed by the model's fingerprint and context size, and a state is never
 * loaded into another model or context size (llama.cpp would read garbage or crash). Least recently used entries
 * go first when the files pass the budget.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync, statfsSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../common/logger';

export interface CacheEntry {
  /** Model fingerprint and context size the state was saved from. */
  readonly modelKey: string;
  readonly documentId: string | undefined;
  readonly tokens: readonly number[];
  readonly file: string;
  readonly bytes: number;
  lastUsed: number;
}

/** Default budget: a quarter of the RAM free at load, at most 8 GiB (llama-server's default), within half the folder's room. */
export function defaultCacheBudget(dir: string | undefined): number {
  let budget = Math.min(freemem() / 4, 8 * 1024 ** 3);
  if (dir) {
    try {
      const fs = statfsSync(dir);
      budget = Math.min(budget, (fs.bavail * fs.bsize) / 2);
    } catch {
      // statfs unsupported here: the free-memory bound stands.
    }
  }
  return Math.max(0, Math.floor(budget));
}

/**
 * A folder for saved states in RAM: /dev/shm (tmpfs) where it exists, else the temp folder (on macOS and Windows
 * recently written files stay in the page cache, so this is memory-speed in practice). Private to the user (0700).
 */
export function ramBase(): string {
  return process.platform === 'linux' && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

export function ramBackedDir(): string {
  try {
    return mkdtempSync(join(ramBase(), 'hearth-prompt-cache-'));
  } catch {
    return mkdtempSync(join(tmpdir(), 'hearth-prompt-cache-'));
  }
}

/**
 * What identifies a model file's weights: its size and hashes of its first and last 4 MiB (the GGUF header with
 * the architecture and tokenizer, and the last tensors' data), so two fine-tunes of one architecture differ.
 */
export function modelFingerprint(path: string): string {
  const size = statSync(path).size;
  const hash = createHash('sha256').update(String(size));
  const chunk = 4 * 1024 * 1024;
  const buf = Buffer.alloc(Math.min(chunk, size));
  const fd = openSync(path, 'r');
  try {
    hash.update(buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)));
    if (size > chunk) hash.update(buf.subarray(0, readSync(fd, buf, 0, buf.length, Math.max(0, size - chunk))));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex').slice(0, 32);
}

export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class PromptCache {
  private readonly entries: CacheEntry[] = [];
  private dir: string | undefined;
  private seq = 0;

  constructor(
    private budget: number,
    private readonly logger: Logger,
    private readonly makeDir: () => string = ramBackedDir,
  ) {}

  get budgetBytes(): number {
    return this.budget;
  }

  get folder(): string | undefined {
    return this.dir;
  }

  get bytes(): number {
    return this.entries.reduce((sum, e) => sum + e.bytes, 0);
  }

  get size(): number {
    return this.entries.length;
  }

  setBudget(bytes: number): void {
    this.budget = Math.max(0, Math.floor(bytes));
    this.evictToBudget();
  }

  /** The saved state of this model sharing the longest prefix with `tokens`, and that prefix's length. */
  best(modelKey: string, tokens: readonly number[]): { entry: CacheEntry; common: number } | undefined {
    let best: { entry: CacheEntry; common: number } | undefined;
    for (const entry of this.entries) {
      if (entry.modelKey !== modelKey) continue;
      const common = commonPrefix(entry.tokens, tokens);
      if (!best || common > best.common) best = { entry, common };
    }
    return best;
  }

  /** Whether an entry already holds exactly these tokens for this model (saving again would change nothing). */
  holds(modelKey: string, tokens: readonly number[]): boolean {
    return this.entries.some((e) => e.modelKey === modelKey && e.tokens.length === tokens.length && commonPrefix(e.tokens, tokens) === tokens.length);
  }

  /**
   * Saves a state through `write` (which writes the file and returns its size). An older entry for the same
   * document and model is replaced; then least recently used entries go until the cache is within budget.
   */
  async save(modelKey: string, documentId: string | undefined, tokens: readonly number[], write: (file: string) => Promise<number>): Promise<CacheEntry | undefined> {
    if (this.budget <= 0 || tokens.length === 0) return undefined;
    this.dir ??= this.makeDir();
    const file = join(this.dir, `state-${process.pid}-${++this.seq}.bin`);
    let bytes: number;
    try {
      bytes = await write(file);
    } catch (err) {
      rmSync(file, { force: true });
      this.logger.warn(`prompt cache: could not save a state (${err instanceof Error ? err.message : String(err)}); the document will be evaluated again when next used`);
      return undefined;
    }
    if (bytes > this.budget) {
      rmSync(file, { force: true });
      this.logger.debug(`prompt cache: a state of ${(bytes / 1e6).toFixed(1)} MB exceeds the budget of ${(this.budget / 1e6).toFixed(0)} MB; not kept`);
      return undefined;
    }
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.modelKey === modelKey && ((documentId !== undefined && e.documentId === documentId) || commonPrefix(e.tokens, tokens) === e.tokens.length)) this.remove(i);
    }
    const entry: CacheEntry = { modelKey, documentId, tokens: [...tokens], file, bytes, lastUsed: performance.now() };
    this.entries.push(entry);
    this.evictToBudget();
    return entry;
  }

  /** Loads `entry` through `load`, refusing a state saved from another model or context size. */
  async restore(entry: CacheEntry, modelKey: string, load: (file: string) => Promise<void>): Promise<void> {
    if (entry.modelKey !== modelKey) {
      throw new Error(`prompt cache: refused a state saved from another model or context size (${entry.modelKey}, loaded ${modelKey})`);
    }
    if (!this.entries.includes(entry)) throw new Error('prompt cache: the state was evicted');
    entry.lastUsed = performance.now();
    await load(entry.file);
  }

  private evictToBudget(): void {
    while (this.entries.length > 0 && this.bytes > this.budget) {
      let oldest = 0;
      for (let i = 1; i < this.entries.length; i++) if (this.entries[i]!.lastUsed < this.entries[oldest]!.lastUsed) oldest = i;
      const e = this.entries[oldest]!;
      this.logger.debug(`prompt cache: evicted ${e.documentId ?? 'a state'} (${e.tokens.length} tokens, ${(e.bytes / 1e6).toFixed(1)} MB) to stay within ${(this.budget / 1e6).toFixed(0)} MB`);
      this.remove(oldest);
    }
  }

  private remove(i: number): void {
    const [e] = this.entries.splice(i, 1);
    if (e) rmSync(e.file, { force: true });
  }

  /** Deletes every saved state and the folder. */
  dispose(): void {
    this.entries.splice(0).forEach((e) => rmSync(e.file, { force: true }));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
