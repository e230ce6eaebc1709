/**
 * Issue #22: the ledger explains itself. Outcomes are counted one by one (blocks by rule), unknown costs are
 * "no price set" and never 0, cost avoided only where both prices are known, latency is model time, and the
 * ROI dashboard and `hearth ledger stats` print the same figures from the same records.
 */
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dashboardData } from '../../src/common/ledger/dashboardData';
import { aggregate, findGroup, modelTimeMs, taskCost, type CostModel } from '../../src/common/ledger/ledgerAggregates';
import { figuresText, ledgerFigures, outcomeRows } from '../../src/common/ledger/ledgerFigures';
import type { LedgerEntry, LedgerRecord, TaskRecord } from '../../src/common/ledger/ledgerRecord';
import { renderReportHtml } from '../../src/common/ledger/ledgerReportHtml';
import { ledgerCommand } from '../../src/node/cli/ledgerCommand';
import { analyseLedger, readLedgerRecords } from '../../src/node/ledger/ledgerExport';
import { tempLedger, writeLedger } from './ledgerHelpers';

const cost: CostModel = { currency: 'USD', prices: { priced: { inputPerMTok: 3, outputPerMTok: 15 }, ref: { inputPerMTok: 10, outputPerMTok: 30 } }, localWatts: 30, energyPricePerKWh: 0.3, frontierModel: 'ref' };
const T = '2025-03-03T10:00:';
const esc = { kind: 'task', workspace: 'ws-1', lane: 'escalation', destination: 'frontier', provider: 'openai' } as const;
/**
 * By hand: 10 tasks. 2 completions (1 accepted, 1 rejected, local, 1 s each → 30 W × 2 s = 1/60 Wh → 0.000005 USD);
 * escalations: 1 accepted and priced (0.01), 1 accepted with no price (unknown cost), 3 blocked (2 neverSend,
 * 1 budget; cost 0), 1 cancelled in the review after 78.7 s (cost 0), 1 error (priced, 0.002), 1 partial priced (0.004).
 */
const HAND: LedgerEntry[] = [
  { kind: 'task', workspace: 'ws-1', lane: 'completion', model: 'local', tokensIn: 100, tokensOut: 10, totalMs: 1000, outcome: 'accepted', time: `${T}01.000Z` },
  { kind: 'task', workspace: 'ws-1', lane: 'completion', model: 'local', tokensIn: 100, tokensOut: 10, totalMs: 1000, outcome: 'rejected', time: `${T}02.000Z` },
  { ...esc, model: 'priced', tokensIn: 1000, tokensOut: 466, totalMs: 80_700, modelMs: 2000, waitMs: 78_700, outcome: 'accepted', estimatedCost: 0.01, time: `${T}03.000Z` },
  { ...esc, model: 'local-server', tokensIn: 900, tokensOut: 100, totalMs: 10_000, modelMs: 4000, waitMs: 6000, outcome: 'accepted', time: `${T}04.000Z` },
  { ...esc, model: 'priced', tokensIn: 0, tokensOut: 0, totalMs: 5, waitMs: 0, outcome: 'blocked', blockedBy: 'neverSend', rule: 'neverSend', estimatedCost: 0, time: `${T}05.000Z` },
  { ...esc, model: 'priced', tokensIn: 0, tokensOut: 0, totalMs: 5, waitMs: 0, outcome: 'blocked', blockedBy: 'neverSend', rule: 'neverSend', estimatedCost: 0, time: `${T}06.000Z` },
  { ...esc, model: 'priced', tokensIn: 0, tokensOut: 0, totalMs: 5, waitMs: 0, outcome: 'blocked', blockedBy: 'budget', rule: 'budgetPerMonth', estimatedCost: 0, time: `${T}07.000Z` },
  { ...esc, model: 'priced', tokensIn: 0, tokensOut: 0, totalMs: 78_700, waitMs: 78_700, outcome: 'cancelled', estimatedCost: 0, time: `${T}08.000Z` },
  { ...esc, model: 'priced', tokensIn: 500, tokensOut: 33, totalMs: 3000, modelMs: 3000, waitMs: 0, outcome: 'error', estimatedCost: 0.002, time: `${T}09.000Z` },
  { ...esc, model: 'priced', tokensIn: 1000, tokensOut: 66, totalMs: 9000, modelMs: 1000, waitMs: 8000, outcome: 'partial', estimatedCost: 0.004, time: `${T}10.000Z` },
];

const close = (a: number | null | undefined, b: number, what = '') => assert.ok(a != null && Math.abs(a - b) < 1e-12, `${what} ${a} ≈ ${b}`);

describe('ledger figures (issue #22)', () => {
  let t: ReturnType<typeof tempLedger>;
  let records: LedgerRecord[];
  beforeEach(async () => {
    t = tempLedger();
    await writeLedger(t.path, HAND);
    records = [];
    for await (const b of readLedgerRecords(t.path)) records.push(...b);
  });
  afterEach(() => t.cleanup());

  it('counts every outcome, blocks by rule, and keeps policy failures in the success rate', () => {
    const all = findGroup(aggregate(records, cost), {})!;
    assert.equal(all.tasks, 10);
    assert.deepEqual(all.outcomes, { accepted: 3, partial: 1, rejected: 1, ignored: 0, cancelled: 1, error: 1, blocked: 3 });
    assert.deepEqual(all.blockedBy, { neverSend: 2, budget: 1 });
    close(all.successRate, 4 / 10);
    const rows = outcomeRows(all);
    assert.deepEqual(rows.map((r) => [r.label, r.count]), [
      ['accepted', 3], ['partial', 1], ['rejected', 1], ['ignored', 0], ['cancelled', 1], ['error', 1], ['blocked: neverSend file', 2], ['blocked: over budget', 1],
    ]);
    assert.equal(rows.reduce((a, r) => a + r.count, 0), all.tasks);
  });

  it('an unknown cost is left out and counted, never priced at 0; blocked tasks cost a known 0', () => {
    const all = findGroup(aggregate(records, cost), {})!;
    const local = 2 * (30 * (1000 / 3_600_000) / 1000) * 0.3;
    assert.equal(all.unknownCostTasks, 1);
    close(all.unknownCostShare, 0.1);
    close(all.totalCost, 0.01 + 0.002 + 0.004 + local);
    // Successes with a known cost: the local accept, the priced accept, the partial (not the unpriced accept).
    assert.equal(all.knownCostSuccesses, 3);
    close(all.costPerSuccess, (0.016 + local) / 3);
    const unpriced = records.find((r): r is TaskRecord => r.kind === 'task' && r.model === 'local-server')!;
    assert.equal(taskCost(unpriced, cost), undefined);
    const figures = ledgerFigures(aggregate(records, cost), all);
    const cps = figures.find((f) => f.key === 'costPerSuccess')!;
    assert.match(cps.note, /1 task \(10\.0 %\) has no price set and is left out/);
    assert.match(cps.note, /3 policy blocks included, at 0/);
  });

  it('an escalation ledger with no price at all says "no price set", never 0.00', () => {
    const unpriced = records.filter((r) => r.kind === 'task' && r.model === 'local-server');
    const aggs = aggregate(unpriced, { ...cost, prices: {} });
    const all = findGroup(aggs, {})!;
    assert.equal(all.costPerSuccess, null);
    const figures = ledgerFigures(aggs, all);
    assert.equal(figures.find((f) => f.key === 'costPerSuccess')!.value, 'no price set');
    assert.equal(figures.find((f) => f.key === 'costAvoided')!.value, 'no price set for ref');
    assert.equal(all.costAvoided, null);
  });

  it('cost avoided only where both prices are known, with its assumptions printed', () => {
    const aggs = aggregate(records, cost);
    const all = findGroup(aggs, {})!;
    // 9 tasks have a known cost; the reference price is known, so all 9 count.
    assert.equal(all.costAvoidedTasks, 9);
    const ref = (i: number, o: number) => (i * 10 + o * 30) / 1e6;
    const known = records.filter((r): r is TaskRecord => r.kind === 'task' && taskCost(r, cost) !== undefined);
    const expected = known.reduce((a, r) => a + ref(r.tokensIn, r.tokensOut) - taskCost(r, cost)!, 0);
    close(all.costAvoided, expected);
    const f = ledgerFigures(aggs, all).find((x) => x.key === 'costAvoided')!;
    assert.match(f.note, /over the 9 tasks where both prices are known/);
    assert.match(f.note, /reference model ref at 10 \/ 30 USD per million input \/ output tokens; local work at 30 W × time × 0\.3 USD\/kWh/);
  });

  it('latency is model time: 78.7 s in a dialog is not latency', () => {
    const all = findGroup(aggregate(records, cost), {})!;
    // Model times: completions 1000, 1000; escalations 2000, 4000, 3000, 1000. Blocked and cancelled-before-send have none.
    assert.deepEqual(records.filter((r): r is TaskRecord => r.kind === 'task').map(modelTimeMs), [1000, 1000, 2000, 4000, null, null, null, null, 3000, 1000]);
    assert.equal(all.latencyP50Ms, 1000);
    assert.equal(all.latencyP95Ms, 4000);
    // A schema-1 escalation (totalMs included the dialog) is left out rather than misread.
    const v1 = { ...(records[2] as TaskRecord), schemaVersion: 1 as const, modelMs: undefined, waitMs: undefined };
    assert.equal(modelTimeMs(v1), null);
    // A schema-1 blocked record has no rule: counted as such.
    const v1blocked = { ...(records[4] as TaskRecord), schemaVersion: 1 as const, blockedBy: undefined, rule: undefined };
    assert.deepEqual(findGroup(aggregate([v1blocked], cost), {})!.blockedBy, { unrecorded: 1 });
  });

  it('the dashboard and `hearth ledger stats` print the same figures from the same records', async () => {
    const costs = `${t.dir}/costs.json`;
    writeFileSync(costs, JSON.stringify(cost));
    const { aggregates, verify } = await analyseLedger(t.path, cost);
    const data = dashboardData(aggregates, verify, 'repo');
    let printed = '';
    const saved = process.stdout.write;
    process.stdout.write = ((c: string) => ((printed += c), true)) as typeof process.stdout.write;
    try {
      assert.equal(await ledgerCommand.run(['stats', '--ledger', t.path, '--costs', costs]), 0);
    } finally {
      process.stdout.write = saved;
    }
    const total = findGroup(aggregates, {})!;
    assert.deepEqual(data.figures, ledgerFigures(aggregates, total));
    assert.deepEqual(data.outcomes, outcomeRows(total));
    // Every figure line, note and outcome row of the dashboard is in the CLI's output, verbatim.
    for (const line of figuresText(aggregates, total)) assert.ok(printed.includes(line), `stats lacks: ${line}`);
    for (const f of data.figures) assert.ok(printed.includes(`${f.label}: ${f.value}`) && printed.includes(f.note), f.key);
    assert.ok(printed.includes(`cost assumptions: ${data.assumptions}`));
    assert.match(printed, /success rate: 40\.0 %/);
    assert.match(printed, /blocked: neverSend file\s+2\s+20\.0 %/);
    // The HTML report carries the same figures too.
    const html = renderReportHtml({ aggregates, chartLibrary: '', generatedAt: 'now' });
    for (const f of data.figures) assert.ok(html.includes(f.value.replace(/&/g, '&amp;')), f.key);
    assert.match(html, /success rate = tasks accepted whole or in part ÷ all tasks/);
  });
});
