/**
 * The hash chain: each record carries the hash of the previous line exactly as stored, and a sequence number.
 * The hash function is injected (sha256 in src/node) so this file stays pure.
 *
 * What it proves: nothing inside the ledger was edited, dropped or reordered. What it cannot prove alone: that
 * records were not cut off at the end, or the whole tail rewritten; `verify` prints the head hash and count
 * so a reviewer can note them (or the OTLP export ships them elsewhere) and compare next time.
 */
import { LEDGER_SCHEMA_VERSION, parseLedgerLine, type LedgerRecord, type LineLocation, type UnchainedRecord } from './ledgerRecord';

/** Hex digest of a UTF-8 string. */
export type HashFn = (text: string) => string;

/** `prevHash` of the very first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** The end of the chain: what the next record links to. */
export interface ChainHead {
  /** Seq of the next record. */
  nextSeq: number;
  /** Hash of the last stored record line. */
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { nextSeq: 0, hash: GENESIS_HASH };

/**
 * Places records in the chain: fills seq and prevHash, serialises each to one line (no trailing newline), and
 * returns the lines and the new head. The serialised line is what gets hashed, so no canonical form is needed.
 */
export function chainRecords(records: readonly UnchainedRecord[], head: ChainHead, hash: HashFn): { lines: string[]; head: ChainHead } {
  const lines: string[] = [];
  let { nextSeq, hash: prev } = head;
  for (const r of records) {
    // Key order is fixed here so stored lines read the same whatever order the caller built the object in.
    const { schemaVersion: _v, id, time, ...rest } = r;
    const line = JSON.stringify({ schemaVersion: LEDGER_SCHEMA_VERSION, id, seq: nextSeq, time, prevHash: prev, ...rest });
    lines.push(line);
    prev = hash(line);
    nextSeq++;
  }
  return { lines, head: { nextSeq, hash: prev } };
}

/**
 * `truncated` / `changed`: the ledger's end disagrees with its anchor (kept outside the ledger); `not-ledger`: no
 * line is a record; `anchor`: the anchor itself is unreadable.
 */
export type ChainProblemKind = 'broken' | 'missing' | 'reordered' | 'invalid' | 'truncated' | 'changed' | 'not-ledger' | 'anchor';

/** The first thing wrong with a ledger; `file:line` is where a reviewer should look. */
export interface ChainProblem extends LineLocation {
  kind: ChainProblemKind;
  message: string;
}

/** A line skipped without failing the check: a torn write (not JSON), never a record. */
export interface SkippedLine extends LineLocation {
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  /** Hash of the last record: note it to detect a truncated or rewritten tail later. */
  headHash: string;
  problem?: ChainProblem;
  skipped: SkippedLine[];
}

/**
 * Streaming verifier: push every stored line in order (across segments), then read {@link result}. Holds only
 * the previous record, so it checks a million records in constant memory. Stops checking after the first
 * problem (everything after a broken link is suspect), but still counts records.
 */
export class ChainVerifier {
  private prevHash = GENESIS_HASH;
  private expectedSeq = 0;
  private records = 0;
  private problem: ChainProblem | undefined;
  /** A seq jump waits one line: if the skipped seq shows up next, the records were swapped, not dropped. */
  private pendingGap: { at: LineLocation; expected: number; found: number } | undefined;
  private readonly skipped: SkippedLine[] = [];

  constructor(private readonly hash: HashFn) {}

  /** Records pushed so far (valid or not in the chain). */
  get recordCount(): number {
    return this.records;
  }

  /** `terminated`: the line ended with a newline (false only for the very last line of a file). */
  push(text: string, at: LineLocation, terminated = true): void {
    if (text.trim() === '') return;
    const parsed = parseLedgerLine(text, at);
    if (!parsed.ok) {
      if (parsed.kind === 'unparseable') {
        // A torn write never became a record: the chain goes around it, so skipping loses nothing.
        this.skipped.push({ ...at, reason: terminated ? 'torn line (not JSON), skipped' : 'torn last line (incomplete write), skipped' });
      } else this.fail({ ...at, kind: 'invalid', message: parsed.message });
      return;
    }
    this.records++;
    if (this.problem) return;
    this.check(parsed.record, text, at);
  }

  private check(rec: LedgerRecord, text: string, at: LineLocation): void {
    const where = `${at.file}:${at.line}`;
    if (this.pendingGap) {
      const gap = this.pendingGap;
      this.pendingGap = undefined;
      if (rec.seq === gap.expected) {
        this.fail({ ...gap.at, kind: 'reordered', message: `${gap.at.file}:${gap.at.line}: record seq ${gap.found} comes before seq ${gap.expected} (${where}): records were reordered` });
      } else {
        const missing = gap.found - gap.expected;
        this.fail({ ...gap.at, kind: 'missing', message: `${gap.at.file}:${gap.at.line}: ${missing === 1 ? `record seq ${gap.expected} is` : `records seq ${gap.expected}–${gap.found - 1} are`} missing before this line` });
      }
      return;
    }
    if (rec.seq > this.expectedSeq) {
      this.pendingGap = { at, expected: this.expectedSeq, found: rec.seq };
      this.advance(rec, text);
      return;
    }
    if (rec.seq < this.expectedSeq) {
      this.fail({ ...at, kind: 'reordered', message: `${where}: record seq ${rec.seq} after seq ${this.expectedSeq - 1}: records were reordered or duplicated` });
      return;
    }
    if (rec.prevHash !== this.prevHash) {
      this.fail({
        ...at,
        kind: 'broken',
        message: this.expectedSeq === 0
          ? `${where}: the first record does not start the chain (prevHash is not the genesis hash)`
          : `${where}: broken link: prevHash does not match the record before it (seq ${rec.seq - 1}), which was changed`,
      });
      return;
    }
    this.advance(rec, text);
  }

  private advance(rec: LedgerRecord, text: string): void {
    this.prevHash = this.hash(text);
    this.expectedSeq = rec.seq + 1;
  }

  private fail(problem: ChainProblem): void {
    if (!this.problem) this.problem = problem;
  }

  result(): VerifyResult {
    if (this.pendingGap && !this.problem) {
      const gap = this.pendingGap;
      this.pendingGap = undefined;
      this.fail({ ...gap.at, kind: 'missing', message: `${gap.at.file}:${gap.at.line}: record seq ${gap.expected} is missing before this line` });
    }
    return { ok: !this.problem, records: this.records, headHash: this.prevHash, problem: this.problem, skipped: [...this.skipped] };
  }
}
