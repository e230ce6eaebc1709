/**
 * The ledger file writer: append-only JSON lines, batched, one writer at a time across processes.
 *
 * `append` queues and returns at once (the completion path never waits on disk). A batch is written after
 * `batchDelayMs`, or at once when `maxBatch` records wait: take the lock, find the chain head (cached while this
 * process was the last writer, else read from the file's tail), write every line in one `write`, fdatasync,
 * rotate when the segment is over `maxSegmentBytes`, release. `flush()`/`close()` resolve when all records
 * appended before them are durable, so a clean shutdown loses nothing; a crash loses at most the unwritten batch.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fdatasync, fstatSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { chainRecords, EMPTY_HEAD, GENESIS_HASH, type ChainHead, type HashFn } from '../../common/ledger/hashChain';
import { LEDGER_SCHEMA_VERSION, ledgerRecordSchema, parseLedgerLine, type LedgerEntry, type UnchainedRecord } from '../../common/ledger/ledgerRecord';
import type { LedgerSink } from '../../common/ledger/ledgerSink';
import { errorMessage, nullLogger, type Logger } from '../../common/logger';
import { anchorDir, readAnchor, writeAnchorSync, type LedgerAnchor } from './ledgerAnchor';
import { rotatedSegmentsSync, segmentPath } from './ledgerFiles';
import { FileLock, type FileLockOptions } from './ledgerLock';
import { sha256Hex } from './sha256';

export interface FileLedgerWriterOptions {
  /** The active segment, e.g. `<folder>/.hearth/ledger.jsonl`; its folder is created if missing. */
  path: string;
  /** Rotate once the active segment reaches this size. Default 16 MiB. */
  maxSegmentBytes?: number;
  /** How long an appended record may wait for companions before its batch is written. Default 5 ms. */
  batchDelayMs?: number;
  /** Write at once when this many records wait; also the most lines in one write. Default 512. */
  maxBatch?: number;
  /** Keep the `text` field (the workspace policy opted in). Default false: it is dropped. */
  includeText?: boolean;
  lock?: FileLockOptions;
  /**
   * Where the ledger's head is anchored after every write (see ledgerAnchor.ts); the per-user state folder by
   * default, `false` for none (only tests that check the chain alone).
   */
  anchorDir?: string | false;
  hash?: HashFn;
  newId?: () => string;
  now?: () => Date;
  logger?: Logger;
}

interface TailState {
  dev: number;
  ino: number;
  size: number;
  head: ChainHead;
}

export class FileLedgerWriter implements LedgerSink {
  readonly path: string;
  private readonly lock: FileLock;
  private readonly maxSegmentBytes: number;
  private readonly batchDelayMs: number;
  private readonly maxBatch: number;
  /** Whether records keep their `text` field (the workspace policy opted in). */
  readonly includeText: boolean;
  private readonly hash: HashFn;
  private readonly newId: () => string;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly anchorDir: string | false;
  /** A loss found against the anchor: carried into every later anchor until acknowledged. */
  private lost: LedgerAnchor['lost'];

  private queue: UnchainedRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private draining: Promise<void> | undefined;
  private lastError: unknown;
  /** What this process saw after its last write: valid while the file is unchanged since (same inode, size). */
  private tail: TailState | undefined;
  private dirReady = false;
  private closed = false;

  constructor(opts: FileLedgerWriterOptions) {
    this.path = opts.path;
    this.lock = new FileLock(`${opts.path}.lock`, opts.lock);
    this.maxSegmentBytes = opts.maxSegmentBytes ?? 16 * 1024 * 1024;
    this.batchDelayMs = opts.batchDelayMs ?? 5;
    this.maxBatch = opts.maxBatch ?? 512;
    this.includeText = opts.includeText ?? false;
    this.hash = opts.hash ?? sha256Hex;
    this.newId = opts.newId ?? randomUUID;
    this.now = opts.now ?? (() => new Date());
    this.log = opts.logger ?? nullLogger;
    this.anchorDir = opts.anchorDir === undefined ? anchorDir() : opts.anchorDir;
  }

  /** Records appended and not yet durable. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Validates and queues a record; returns its id. Throws (a programming error) when the entry breaks the schema,
   * so a bad record never reaches the file, and after {@link close}.
   */
  append(entry: LedgerEntry): string {
    if (this.closed) throw new Error('ledger writer is closed');
    const record = { ...entry, schemaVersion: LEDGER_SCHEMA_VERSION, id: entry.id ?? this.newId(), time: entry.time ?? this.now().toISOString() } as UnchainedRecord;
    if (!this.includeText) delete (record as { text?: unknown }).text;
    const checked = ledgerRecordSchema.safeParse({ ...record, seq: 0, prevHash: GENESIS_HASH });
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      throw new TypeError(`invalid ledger entry: ${issue.path.join('.') || '(record)'}: ${issue.message}`);
    }
    this.queue.push(record);
    // Never write inside append(): a full batch goes out on the next turn of the event loop, others after the delay.
    if (this.queue.length >= this.maxBatch && !this.immediate && !this.draining) this.immediate = setImmediate(() => this.kick());
    else if (!this.timer && !this.immediate && !this.draining) this.timer = setTimeout(() => this.kick(), this.batchDelayMs);
    return record.id;
  }

  /** Resolves when every record appended before the call is durable; rejects if a batch could not be written. */
  async flush(): Promise<void> {
    this.kick();
    while (this.draining) await this.draining;
    if (this.lastError !== undefined) {
      const err = this.lastError;
      this.lastError = undefined;
      throw err;
    }
  }

  /** Flushes, then refuses further appends. Call on deactivate / exit. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.closed = true;
    }
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    if (this.draining || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // Records appended while the last batch was written go out now (group commit).
      if (this.queue.length && this.lastError === undefined) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.slice(0, this.maxBatch);
      try {
        await this.writeBatch(batch);
      } catch (err) {
        // Unwritten records stay queued: the next append or flush tries again.
        this.lastError = err;
        this.tail = undefined;
        this.log.error(`ledger: could not write ${batch.length} record(s) to ${this.path}: ${errorMessage(err)}`);
        return;
      }
    }
  }

  private async writeBatch(batch: UnchainedRecord[]): Promise<void> {
    if (!this.dirReady) {
      await mkdir(dirname(this.path), { recursive: true });
      this.dirReady = true;
    }
    const release = await this.lock.acquire();
    let fd: number;
    try {
      fd = this.writeLocked(batch);
    } finally {
      release();
    }
    // Written: these lines are in the file now, so a failing fsync must not write them a second time.
    this.queue.splice(0, batch.length);
    // The fsync needs no lock: O_APPEND fixed the order at write time, and syncing the file syncs every write
    // before ours too. Holding the lock through it would make every writer wait for every other's disk flush.
    try {
      await new Promise<void>((res, rej) => fdatasync(fd, (err) => (err ? rej(err) : res())));
    } finally {
      closeSync(fd);
    }
  }

  /** The critical section (synchronous: see ledgerLock.ts): find the head, write the lines, maybe rotate. */
  private writeLocked(batch: UnchainedRecord[]): number {
    const fd = openSync(this.path, 'a+');
    try {
      const st = fstatSync(fd);
      let head: ChainHead;
      let seal = false;
      const t = this.tail;
      if (t && t.dev === st.dev && t.ino === st.ino && t.size === st.size) head = t.head;
      else {
        ({ head, seal } = this.readHead(fd, st.size));
        this.compareWithAnchor(head);
      }
      const { lines, head: next } = chainRecords(batch, head, this.hash);
      const data = Buffer.from((seal ? '\n' : '') + lines.join('\n') + '\n', 'utf8');
      for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
      const size = st.size + data.length;
      let segment = basename(this.path);
      if (size >= this.maxSegmentBytes) {
        segment = basename(this.rotate());
        this.tail = undefined;
      } else this.tail = { dev: st.dev, ino: st.ino, size, head: next };
      this.writeAnchor(next, segment);
      return fd;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /**
   * The chain head from the file itself (another process wrote since, or first write): the last valid record
   * line of the active segment, else of the newest rotated one. `seal`: the file ends in a torn line (a writer
   * crashed mid-write), so a newline goes first; the torn line stays, and `verify` reports it as skipped.
   */
  private readHead(fd: number, size: number): { head: ChainHead; seal: boolean } {
    const found = this.lastRecord(fd, size, this.path);
    if (found.seal) this.log.warn(`ledger: ${this.path} ends in a torn line (a writer stopped mid-write); it is skipped and the chain continues`);
    if (found.head) return { head: found.head, seal: found.seal };
    const rotated = rotatedSegmentsSync(this.path);
    for (let i = rotated.length - 1; i >= 0; i--) {
      const file = segmentPath(this.path, rotated[i]!);
      const sfd = openSync(file, 'r');
      try {
        const seg = this.lastRecord(sfd, fstatSync(sfd).size, file);
        if (seg.head) return { head: seg.head, seal: found.seal };
      } finally {
        closeSync(sfd);
      }
    }
    return { head: EMPTY_HEAD, seal: found.seal };
  }

  /** Scans a file backwards, a chunk at a time, for its last line that is a valid record. */
  private lastRecord(fd: number, size: number, file: string): { head?: ChainHead; seal: boolean } {
    if (size === 0) return { seal: false };
    const CHUNK = 64 * 1024;
    // win holds the bytes [winStart, winStart + win.length) not yet looked at.
    let winStart = Math.max(0, size - CHUNK);
    let win = Buffer.alloc(size - winStart);
    readSync(fd, win, 0, win.length, winStart);
    const seal = win[win.length - 1] !== 10;
    let dropFragment = seal; // a torn fragment is not a line to try
    if (!seal) win = win.subarray(0, win.length - 1);
    for (;;) {
      const nl = win.lastIndexOf(10);
      if (nl === -1 && winStart > 0) {
        const from = Math.max(0, winStart - CHUNK);
        const more = Buffer.alloc(winStart - from);
        readSync(fd, more, 0, more.length, from);
        win = Buffer.concat([more, win]);
        winStart = from;
        continue;
      }
      const line = win.toString('utf8', nl + 1);
      win = win.subarray(0, Math.max(0, nl));
      if (dropFragment) dropFragment = false;
      else if (line.trim()) {
        const parsed = parseLedgerLine(line, { file, line: 0 });
        if (parsed.ok) return { head: { nextSeq: parsed.record.seq + 1, hash: this.hash(line) }, seal };
        if (parsed.kind === 'newer-version') throw new Error(`${file} was written by a newer Hearth; not appending to it`);
        if (parsed.kind === 'invalid') throw new Error(`${parsed.message}; run \`hearth ledger verify\``);
      }
      if (nl === -1) return { seal };
    }
  }

  /**
   * The head read from the file must reach the anchor (the last head any writer recorded). When it falls short or
   * differs, records were cut or rewritten since: that loss is logged and kept in the anchor, so appending new
   * records never hides it from `verify`.
   */
  private compareWithAnchor(head: ChainHead): void {
    if (this.anchorDir === false || this.lost) return;
    const r = readAnchor(this.path, this.anchorDir);
    if (r.kind !== 'ok') return;
    const a = r.anchor;
    if (a.lost) {
      this.lost = a.lost;
      return;
    }
    const lastSeq = head.nextSeq - 1;
    let message: string | undefined;
    if (lastSeq < a.seq) message = `${this.path}: records seq ${lastSeq + 1}–${a.seq} (anchored ${a.time}) are gone: the ledger was cut or replaced`;
    else if (lastSeq === a.seq && head.hash !== a.hash) message = `${this.path}: record seq ${a.seq} differs from the one anchored ${a.time}: the ledger was rewritten`;
    if (!message) return;
    this.lost = { seq: a.seq, hash: a.hash, time: new Date().toISOString(), message };
    this.log.error(`ledger: ${message}; new records continue the chain, and \`hearth ledger verify\` reports the loss`);
  }

  private writeAnchor(head: ChainHead, segment: string): void {
    if (this.anchorDir === false) return;
    try {
      writeAnchorSync(this.path, { seq: head.nextSeq - 1, hash: head.hash, segment, time: this.now().toISOString(), ...(this.lost ? { lost: this.lost } : {}) }, this.anchorDir);
    } catch (err) {
      // The records are written; only the tail check of `verify` is weaker until the next write succeeds.
      this.log.warn(`ledger: could not anchor the head of ${this.path}: ${errorMessage(err)}`);
    }
  }

  /** Renames the active segment to the next number; the next batch starts a new active file. Returns the new name. */
  private rotate(): string {
    const n = (rotatedSegmentsSync(this.path).at(-1) ?? 0) + 1;
    renameSync(this.path, segmentPath(this.path, n));
    // Make the rename durable: sync the folder.
    try {
      const dir = openSync(dirname(this.path), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch {
      // Some file systems cannot fsync a folder; the records themselves are synced.
    }
    this.log.info(`ledger: rotated ${this.path} to ${segmentPath(this.path, n)}`);
    return segmentPath(this.path, n);
  }
}

/** Size of a file, 0 when missing. */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
