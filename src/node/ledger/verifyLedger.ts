import { statSync } from 'node:fs';
import { ChainVerifier, type ChainProblem, type HashFn, type VerifyResult } from '../../common/ledger/hashChain';
import { anchorDir, readAnchor, type LedgerAnchor } from './ledgerAnchor';
import { readLedgerLines, segmentFiles, type LedgerLine } from './ledgerFiles';
import { sha256Hex } from './sha256';

/** What the anchor kept outside the ledger says about it. */
export interface AnchorCheck {
  /** `none`: no anchor (a ledger from another machine, or never written here): a cut tail cannot be detected. */
  status: 'matches' | 'none' | 'records-missing' | 'changed' | 'loss-recorded' | 'unreadable';
  path?: string;
  seq?: number;
  hash?: string;
  time?: string;
  message?: string;
}

export interface LedgerVerifyReport extends VerifyResult {
  /** Segment files checked, oldest first (the active one last, when it exists). */
  segments: string[];
  anchor: AnchorCheck;
  /** Seq of the last record (-1 when none): with headHash, what an export or OTLP batch carries. */
  headSeq: number;
}

export interface LedgerCheckOptions {
  hash?: HashFn;
  /** Where anchors live; the per-user default otherwise. */
  anchorDir?: string;
}

/**
 * One pass's chain check plus the anchor comparison: push every line in order, then read {@link result}. Used
 * by `verify`, `stats`, every export and the dashboard, so they all agree on whether the ledger is whole.
 */
export class LedgerChecker {
  private readonly verifier: ChainVerifier;
  private readonly hash: HashFn;
  private readonly anchorRead: ReturnType<typeof readAnchor>;
  private readonly anchorNeedle: string | undefined;
  private anchoredLineHash: string | undefined;
  private lastSeq = -1;
  private nonEmpty = 0;
  private firstLine: LedgerLine | undefined;
  private readonly files = new Set<string>();

  constructor(private readonly ledgerPath: string, opts: LedgerCheckOptions = {}) {
    this.hash = opts.hash ?? sha256Hex;
    this.verifier = new ChainVerifier(this.hash);
    this.anchorRead = readAnchor(ledgerPath, opts.anchorDir ?? anchorDir());
    this.anchorNeedle = this.anchorRead.kind === 'ok' ? `"seq":${this.anchorRead.anchor.seq},` : undefined;
  }

  push(l: LedgerLine): void {
    this.files.add(l.file);
    if (l.text.trim() === '') return;
    this.nonEmpty++;
    this.firstLine ??= l;
    const before = this.verifier.recordCount;
    this.verifier.push(l.text, l, l.terminated);
    if (this.verifier.recordCount === before) return; // not a record
    const m = /"seq":(\d+),/.exec(l.text);
    if (m) this.lastSeq = Math.max(this.lastSeq, Number(m[1]));
    if (this.anchorNeedle && l.text.includes(this.anchorNeedle)) this.anchoredLineHash = this.hash(l.text);
  }

  async result(): Promise<LedgerVerifyReport> {
    const base = this.verifier.result();
    const order = await segmentFiles(this.ledgerPath);
    const report: LedgerVerifyReport = { ...base, segments: order.filter((f) => this.files.has(f)), anchor: { status: 'none' }, headSeq: this.lastSeq };
    const fail = (p: ChainProblem) => {
      report.ok = false;
      report.problem ??= p;
    };
    if (base.records === 0 && this.nonEmpty > 0 && this.firstLine) {
      fail({ file: this.firstLine.file, line: this.firstLine.line, kind: 'not-ledger', message: `${this.firstLine.file} is not a Hearth ledger: none of its ${this.nonEmpty} line(s) is a ledger record (line ${this.firstLine.line} is not one). Check the path.` });
    }
    const a = this.anchorRead;
    if (a.kind === 'unreadable') {
      report.anchor = { status: 'unreadable', path: a.path, message: a.message };
      fail({ file: a.path, line: 0, kind: 'anchor', message: `the ledger's anchor ${a.message}; it cannot be compared (delete it only if you trust the ledger)` });
    } else if (a.kind === 'ok') {
      report.anchor = anchorCheck(a.path, a.anchor, this.lastSeq, this.anchoredLineHash);
      if (report.anchor.status !== 'matches') fail({ file: this.ledgerPath, line: 0, kind: report.anchor.status === 'changed' ? 'changed' : 'truncated', message: report.anchor.message! });
    }
    return report;
  }
}

function anchorCheck(path: string, anchor: LedgerAnchor, lastSeq: number, anchoredLineHash: string | undefined): AnchorCheck {
  const base = { path, seq: anchor.seq, hash: anchor.hash, time: anchor.time };
  if (anchor.lost) return { ...base, status: 'loss-recorded', message: anchor.lost.message + ' (recorded by a writer; `hearth ledger verify --accept-loss` acknowledges it)' };
  if (lastSeq < anchor.seq) {
    const n = anchor.seq - lastSeq;
    return { ...base, status: 'records-missing', message: `${n} record(s) missing from the end: the ledger was anchored at seq ${anchor.seq} (${anchor.time}) but ${lastSeq < 0 ? 'holds no record' : `ends at seq ${lastSeq}`}; records seq ${lastSeq + 1}–${anchor.seq} are gone (cut off or deleted)` };
  }
  if (anchoredLineHash === undefined) return { ...base, status: 'records-missing', message: `record seq ${anchor.seq}, anchored at ${anchor.time}, is not in the ledger` };
  if (anchoredLineHash !== anchor.hash) return { ...base, status: 'changed', message: `record seq ${anchor.seq} was changed after it was written (its hash differs from the anchor taken at ${anchor.time})` };
  return { ...base, status: 'matches' };
}

/**
 * Checks the whole chain across segments, streaming: every record parses, seqs run 0, 1, 2… with no gap, and
 * each prevHash matches the line before; then compares the end with the ledger's anchor (records cut from the
 * end, a changed last record). A missing ledger throws an error naming it. Torn lines are listed in `skipped`.
 */
export async function verifyLedger(ledgerPath: string, opts: LedgerCheckOptions | HashFn = {}): Promise<LedgerVerifyReport> {
  const o = typeof opts === 'function' ? { hash: opts } : opts;
  await assertLedgerExists(ledgerPath, o.anchorDir);
  const checker = new LedgerChecker(ledgerPath, o);
  for await (const batch of readLedgerLines(ledgerPath)) for (const l of batch) checker.push(l);
  return checker.result();
}

/** Thrown when there is no ledger to read. */
export class LedgerMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerMissingError';
  }
}

/** Throws {@link LedgerMissingError} (naming the path, and any anchored records) when no segment exists. */
export async function assertLedgerExists(ledgerPath: string, dir?: string): Promise<void> {
  const files = await segmentFiles(ledgerPath);
  const st = statSync(ledgerPath, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new LedgerMissingError(`${ledgerPath} is a folder, not a ledger file; give the path of ledger.jsonl`);
  if (files.some((f) => statSync(f, { throwIfNoEntry: false })?.isFile())) return;
  const a = readAnchor(ledgerPath, dir ?? anchorDir());
  const anchored = a.kind === 'ok' ? `; it was anchored at seq ${a.anchor.seq} on ${a.anchor.time}, so ${a.anchor.seq + 1} record(s) are gone` : '';
  throw new LedgerMissingError(`no ledger at ${ledgerPath}${anchored}. Check the path (--ledger PATH).`);
}
