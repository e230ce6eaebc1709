import * as assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import type { LedgerEntry } from '../../src/common/ledger/ledgerRecord';
import { escalationSpendThisMonth, monthStart } from '../../src/node/ledger/monthlySpend';
import { tempLedger, writeLedger } from './ledgerHelpers';

const base = { workspace: 'ws-1', tokensIn: 1000, tokensOut: 10, totalMs: 100 } as const;
const escalation = (time: string, estimatedCost: number | undefined, outcome: 'accepted' | 'error' = 'accepted'): LedgerEntry => ({
  ...base, kind: 'task', time, lane: 'escalation', model: 'gpt', destination: 'frontier', provider: 'openai', outcome, ...(estimatedCost === undefined ? {} : { estimatedCost }),
});

describe('monthly escalation spend from the ledger', function () {
  const now = new Date('2026-03-15T12:00:00Z');

  it('starts the month at UTC midnight of the 1st', () => {
    assert.equal(monthStart(now).toISOString(), '2026-03-01T00:00:00.000Z');
  });

  it('sums this month’s escalations only, across rotated segments, and sees new records', async () => {
    const l = tempLedger();
    try {
      const entries: LedgerEntry[] = [
        escalation('2026-02-28T23:59:59.000Z', 5), // last month
        escalation('2026-03-01T00:00:00.000Z', 0.25),
        { ...base, kind: 'task', time: '2026-03-02T00:00:00.000Z', lane: 'completion', model: 'local', outcome: 'accepted', estimatedCost: 0.001 },
        escalation('2026-03-03T00:00:00.000Z', 1.5, 'error'), // a failed stream still cost what arrived
        escalation('2026-03-04T00:00:00.000Z', undefined), // no prices known
      ];
      // Small segments: the records spread over several rotated files.
      await writeLedger(l.path, entries, { maxSegmentBytes: 600 });
      assert.equal(await escalationSpendThisMonth(l.path, now), 1.75);
      await writeLedger(l.path, [escalation('2026-03-10T00:00:00.000Z', 2)], { maxSegmentBytes: 600 });
      assert.equal(await escalationSpendThisMonth(l.path, now), 3.75);
      // A torn last line (a crash mid-write) and a malformed line are left out, not fatal.
      appendFileSync(l.path, 'not json\n{"kind":"task","lane":"escalation","estimatedCost":100');
      assert.equal(await escalationSpendThisMonth(l.path, now), 3.75);
      assert.equal(await escalationSpendThisMonth(l.path, new Date('2026-02-10T00:00:00Z')), 5);
    } finally {
      l.cleanup();
    }
  });

  it('is zero for a ledger that does not exist yet', async () => {
    const l = tempLedger();
    try {
      assert.equal(await escalationSpendThisMonth(l.path, now), 0);
    } finally {
      l.cleanup();
    }
  });
});
