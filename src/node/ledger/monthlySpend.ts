/**
 * What escalations have cost this calendar month (UTC), summed from a workspace ledger: the `spentThisMonthUsd`
 * the policy's monthly budget is checked against. Rotated segments never change, so their sums are kept per
 * file (by size and modification time) and only the active segment is read again.
 */
import { stat } from 'node:fs/promises';
import { parseLedgerLine } from '../../common/ledger/ledgerRecord';
import { readFileLines, segmentFiles } from './ledgerFiles';

/** The first instant of `now`'s calendar month, UTC. */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

interface SegmentSum {
  key: string;
  /** Cost of escalations by month (`YYYY-MM`). */
  byMonth: Map<string, number>;
}

const cache = new Map<string, SegmentSum>();

async function segmentSum(file: string): Promise<SegmentSum | undefined> {
  let key: string;
  try {
    const s = await stat(file);
    key = `${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
  const cached = cache.get(file);
  if (cached && cached.key === key) return cached;
  const byMonth = new Map<string, number>();
  for await (const batch of readFileLines(file)) {
    for (const l of batch) {
      // Cheap filter first: most lines are completions.
      if (!l.text.includes('"escalation"') || !l.text.includes('"estimatedCost"')) continue;
      const p = parseLedgerLine(l.text, l);
      if (!p.ok || p.record.kind !== 'task' || p.record.lane !== 'escalation' || !p.record.estimatedCost) continue;
      const month = p.record.time.slice(0, 7);
      byMonth.set(month, (byMonth.get(month) ?? 0) + p.record.estimatedCost);
    }
  }
  const sum = { key, byMonth };
  cache.set(file, sum);
  return sum;
}

/**
 * The estimated cost of every escalation recorded in `now`'s month (UTC), across the ledger's segments. Lines
 * that are not valid records are left out here (`hearth ledger verify` names them).
 */
export async function escalationSpendThisMonth(ledgerPath: string, now: Date = new Date()): Promise<number> {
  const month = monthStart(now).toISOString().slice(0, 7);
  let total = 0;
  for (const file of await segmentFiles(ledgerPath)) total += (await segmentSum(file))?.byMonth.get(month) ?? 0;
  return total;
}
