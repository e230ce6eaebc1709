import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { aggregate, findGroup, type CostModel } from '../../src/common/ledger/ledgerAggregates';
import type { LedgerEntry, LedgerRecord } from '../../src/common/ledger/ledgerRecord';
import { CSV_COLUMNS } from '../../src/common/ledger/ledgerSerialize';
import { sampleEntries } from '../../src/common/ledger/sampleEntries';
import { ledgerCommand } from '../../src/node/cli/ledgerCommand';
import { analyseLedger, exportLedger, readLedgerRecords } from '../../src/node/ledger/ledgerExport';
import { tempLedger, writeLedger } from './ledgerHelpers';

const cost: CostModel = { currency: 'EUR', prices: { big: { inputPerMTok: 10, outputPerMTok: 20 } }, localWatts: 36, energyPricePerKWh: 0.5, frontierModel: 'big' };
const base = { workspace: 'ws-1', model: 'q', tokensIn: 1000, tokensOut: 10 } as const;
const W02 = '2025-01-06T10:00:0';
/** A ledger small enough to work out by hand (see the expectations below). */
const HAND: LedgerEntry[] = [
  { ...base, kind: 'task', id: 't1', time: `${W02}1Z`, lane: 'completion', totalMs: 100, outcome: 'accepted', charsSuggested: 50, charsAccepted: 50, linesAccepted: 2 },
  { ...base, kind: 'task', id: 't2', time: `${W02}2Z`, lane: 'completion', totalMs: 200, outcome: 'rejected', charsSuggested: 30 },
  { ...base, kind: 'task', id: 't3', time: `${W02}3Z`, lane: 'completion', totalMs: 300, outcome: 'partial', charsSuggested: 40, charsAccepted: 10, linesAccepted: 1 },
  { ...base, kind: 'task', id: 't4', time: `${W02}4Z`, lane: 'completion', totalMs: 400, outcome: 'cancelled', tokensOut: 0 },
  { ...base, kind: 'task', id: 't5', time: `${W02}5Z`, lane: 'escalation', model: 'big', destination: 'frontier', provider: 'openai', tokensIn: 100_000, tokensOut: 5000, totalMs: 5000, modelMs: 5000, outcome: 'accepted', charsSuggested: 100, charsAccepted: 100, redactions: { secret: 2, email: 1 } },
  { kind: 'incident', id: 'i1', time: `${W02}6Z`, workspace: 'ws-1', lane: 'completion', model: 'q', incident: 'factual-error', refersTo: 't1' },
  { ...base, kind: 'task', id: 't7', time: '2025-01-13T10:00:00Z', lane: 'chat', tokensIn: 500, tokensOut: 0, totalMs: 1000, outcome: 'error' },
  { ...base, kind: 'task', id: 't8', time: '2025-01-13T11:00:00Z', lane: 'benchmark', totalMs: 50, outcome: 'accepted' },
];

const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-9, `${a} ≈ ${b}`);

describe('ledger aggregates and exports', function () {
  this.timeout(30_000);
  let t: ReturnType<typeof tempLedger>;
  let records: LedgerRecord[];
  beforeEach(async () => {
    t = tempLedger();
    await writeLedger(t.path, HAND);
    records = [];
    for await (const b of readLedgerRecords(t.path)) records.push(...b);
  });
  afterEach(() => t.cleanup());

  it('computes the measures of a hand-computed ledger', () => {
    const aggs = aggregate(records, cost);
    const all = findGroup(aggs, {})!;
    // Benchmark runs stay out of the roll-ups: tasks t1–t5 and t7.
    assert.equal(all.tasks, 6);
    assert.equal(all.successes, 3);
    close(all.successRate, 0.5);
    // Local energy: 36 W × 2 s (100+200+300+400+1000 ms) = 0.02 Wh → 0.00002 kWh × 0.5 = 0.00001; cloud 1 + 0.1.
    close(all.totalCost, 1.1 + 0.00001);
    close(all.costPerSuccess, (1.1 + 0.00001) / 3);
    // Latencies 100 200 300 400 1000 5000: nearest rank p50 = 3rd, p95 = 6th.
    assert.equal(all.latencyP50Ms, 300);
    assert.equal(all.latencyP95Ms, 5000);
    close(all.escalationRate, 1 / 6);
    assert.equal(all.incidents, 1);
    close(all.incidentRate, 1 / 6);
    // Shown: t1 t2 t3 t5 (cancelled and error never reached the user); accepted whole or part: t1 t3 t5.
    assert.equal(all.shown, 4);
    close(all.acceptanceRate, 3 / 4);
    close(all.acceptanceRateByChars, 160 / 220);
    assert.equal(all.linesAccepted, 3);
    // Frontier: 104 500 tokens in × 10/M + 5030 out × 20/M = 1.045 + 0.1006.
    close(all.frontierCost, 1.1456);
    close(all.costAvoided, 1.1456 - 1.10001);

    const completion = findGroup(aggs, { lane: 'completion' })!;
    assert.equal(completion.tasks, 4);
    close(completion.acceptanceRate, 2 / 3);
    close(completion.acceptanceRateByChars, 0.5);
    close(completion.incidentRate, 1 / 4);
    assert.equal(completion.latencyP50Ms, 200);
    assert.equal(completion.latencyP95Ms, 400);

    const w03 = findGroup(aggs, { week: '2025-W03' })!;
    assert.equal(w03.tasks, 1);
    assert.equal(w03.successRate, 0);
    assert.equal(w03.costPerSuccess, null);
    assert.equal(findGroup(aggs, { lane: 'benchmark' })!.tasks, 1);
    assert.equal(findGroup(aggs, { lane: 'escalation', model: 'big', week: '2025-W02' })!.tasks, 1);
    close(findGroup(aggs, { model: 'big' })!.costPerSuccess, 1.1);
  });

  it('exports CSV: header, one line per record, redactions as counts', async () => {
    const out = join(t.dir, 'out.csv');
    const s = await exportLedger(t.path, 'csv', out);
    assert.equal(s.records, HAND.length);
    const rows = readFileSync(out, 'utf8').split('\r\n');
    assert.equal(rows.at(-1), '');
    assert.equal(rows.length, HAND.length + 2);
    assert.deepEqual(rows[0]!.split(','), [...CSV_COLUMNS, 'chainStatus', 'chainHead']);
    assert.match(rows[1]!, /,intact(-unanchored)?,7:[0-9a-f]{64}$/);
    const col = (row: string, name: string) => row.split(',')[CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number])];
    assert.equal(col(rows[5]!, 'redactions'), 'email=1;secret=2');
    assert.equal(col(rows[5]!, 'provider'), 'openai');
    assert.equal(col(rows[6]!, 'kind'), 'incident');
    assert.equal(col(rows[6]!, 'refersTo'), 't1');
    assert.equal(col(rows[1]!, 'seq'), '0');
  });

  it('exports JSON: the chain status, then the records as stored', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    await exportLedger(t.path, 'json', out);
    const parsed = JSON.parse(text) as { chain: { ok: boolean; headSeq: number }; records: LedgerRecord[] };
    assert.deepEqual(parsed.records, records);
    assert.equal(parsed.chain.ok, true);
    assert.equal(parsed.chain.headSeq, 7);
  });

  it('leaves out and reports lines that are not records, by file and line', async () => {
    const big = tempLedger();
    try {
      await writeLedger(big.path, sampleEntries(30));
      const { appendFileSync } = await import('node:fs');
      appendFileSync(big.path, '{"torn":');
      const s = await exportLedger(big.path, 'csv', join(big.dir, 'x.csv'));
      assert.equal(s.records, 30);
      assert.equal(s.skipped.length, 1);
      assert.equal(s.skipped[0]!.line, 31);
      assert.match(s.skipped[0]!.reason, /ledger\.jsonl:31: not a JSON line/);
    } finally {
      big.cleanup();
    }
  });

  it('renders the HTML report self-contained: chart library inlined, no external reference', async () => {
    const out = join(t.dir, 'report.html');
    await exportLedger(t.path, 'html', out, { cost });
    const html = readFileSync(out, 'utf8');
    assert.ok(html.includes('Chart.js v4'), 'Chart.js inlined');
    assert.ok(html.includes("default-src 'none'"), 'CSP forbids every fetch');
    assert.ok(!/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=/.test(html), 'no external script, style or image');
    assert.ok(/Hash chain verified: 8 records/.test(html), 'integrity line');
    assert.ok(/cost avoided vs big/.test(html), 'summary');
  });

  it('analyses aggregates and the chain in one pass', async () => {
    const { aggregates, verify } = await analyseLedger(t.path, cost);
    assert.ok(verify.ok);
    assert.equal(aggregates.records, 8);
    assert.equal(aggregates.currency, 'EUR');
  });

  it('`hearth ledger verify|stats|export` run without VS Code', async () => {
    const saved = process.stdout.write.bind(process.stdout);
    const savedErr = process.stderr.write.bind(process.stderr);
    let printed = '';
    const capture = async (argv: string[]) => {
      printed = '';
      process.stdout.write = ((c: string) => ((printed += c), true)) as typeof process.stdout.write;
      process.stderr.write = ((c: string) => ((printed += c), true)) as typeof process.stderr.write;
      try {
        return await ledgerCommand.run(argv);
      } finally {
        process.stdout.write = saved;
        process.stderr.write = savedErr;
      }
    };
    assert.equal(await capture(['verify', '--ledger', t.path]), 0);
    assert.match(printed, /ok: 8 records in 1 segment\(s\), chain intact; matches its anchor \(seq 7, [^)]*\); head seq 7 [0-9a-f]{64}/);
    assert.equal(await capture(['stats', '--ledger', t.path]), 0);
    assert.match(printed, /lane completion\s+4/);
    const csv = join(t.dir, 'cli.csv');
    assert.equal(await capture(['export', '--format', 'csv', '--out', csv, '--ledger', t.path]), 0);
    assert.equal(readFileSync(csv, 'utf8').split('\r\n').length, 10);
    await assert.rejects(capture(['export', '--format', 'xml', '--ledger', t.path]), /usage|hearth ledger/);

    const lines = readFileSync(t.path, 'utf8').split('\n');
    lines[2] = lines[2]!.replace('"totalMs":300', '"totalMs":3');
    (await import('node:fs')).writeFileSync(t.path, lines.join('\n'));
    assert.equal(await capture(['verify', '--ledger', t.path]), 1);
    assert.match(printed, /BROKEN \(broken\) at .*ledger\.jsonl:4/);
  });
});
