import { ChainVerifier, type HashFn, type VerifyResult } from '../../common/ledger/hashChain';
import { readLedgerLines, segmentFiles } from './ledgerFiles';
import { sha256Hex } from './sha256';

export interface LedgerVerifyReport extends VerifyResult {
  /** Segment files checked, oldest first (the active one last, when it exists). */
  segments: string[];
}

/**
 * Checks the whole chain across segments, streaming: every record parses, seqs run 0, 1, 2… with no gap, and
 * each prevHash matches the line before. Reports the first broken or missing link with its file and line;
 * torn lines (incomplete writes) are skipped and listed, never fatal.
 */
export async function verifyLedger(ledgerPath: string, hash: HashFn = sha256Hex): Promise<LedgerVerifyReport> {
  const v = new ChainVerifier(hash);
  const segments = new Set<string>();
  for await (const batch of readLedgerLines(ledgerPath)) {
    for (const l of batch) {
      segments.add(l.file);
      v.push(l.text, l, l.terminated);
    }
  }
  const order = await segmentFiles(ledgerPath);
  return { ...v.result(), segments: order.filter((f) => segments.has(f)) };
}
