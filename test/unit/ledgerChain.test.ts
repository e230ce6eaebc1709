import * as assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { sampleEntries } from '../../src/common/ledger/sampleEntries';
import { FileLedgerWriter } from '../../src/node/ledger/fileLedgerWriter';
import { readLedgerRecords } from '../../src/node/ledger/ledgerExport';
import { verifyLedger } from '../../src/node/ledger/verifyLedger';
import { tempLedger, writeLedger } from './ledgerHelpers';

const lines = (p: string) => readFileSync(p, 'utf8').split('\n').filter(Boolean);
const rewrite = (p: string, ls: string[]) => writeFileSync(p, ls.join('\n') + '\n');

describe('ledger hash chain', () => {
  let t: ReturnType<typeof tempLedger>;
  beforeEach(async () => {
    t = tempLedger();
    await writeLedger(t.path, sampleEntries(20));
  });
  afterEach(() => t.cleanup());

  it('verifies an untouched ledger', async () => {
    const r = await verifyLedger(t.path);
    assert.ok(r.ok, r.problem?.message);
    assert.equal(r.records, 20);
    assert.deepEqual(r.skipped, []);
    assert.match(r.headHash, /^[0-9a-f]{64}$/);
  });

  it('detects an edited record and names the line after it', async () => {
    const ls = lines(t.path);
    ls[7] = ls[7]!.replace(/"totalMs":\d+/, '"totalMs":1');
    rewrite(t.path, ls);
    const r = await verifyLedger(t.path);
    assert.ok(!r.ok);
    assert.equal(r.problem!.kind, 'broken');
    assert.equal(r.problem!.line, 9);
    assert.equal(r.problem!.file, t.path);
    assert.match(r.problem!.message, /ledger\.jsonl:9: broken link/);
  });

  it('detects a dropped record', async () => {
    const ls = lines(t.path);
    ls.splice(5, 1);
    rewrite(t.path, ls);
    const r = await verifyLedger(t.path);
    assert.ok(!r.ok);
    assert.equal(r.problem!.kind, 'missing');
    assert.equal(r.problem!.line, 6);
    assert.match(r.problem!.message, /seq 5 is missing/);
  });

  it('detects a dropped first record', async () => {
    rewrite(t.path, lines(t.path).slice(1));
    const r = await verifyLedger(t.path);
    assert.equal(r.problem?.kind, 'missing');
    assert.equal(r.problem!.line, 1);
  });

  it('detects reordered records', async () => {
    const ls = lines(t.path);
    [ls[10], ls[11]] = [ls[11]!, ls[10]!];
    rewrite(t.path, ls);
    const r = await verifyLedger(t.path);
    assert.ok(!r.ok);
    assert.equal(r.problem!.kind, 'reordered');
    assert.equal(r.problem!.line, 11);
  });

  it('detects an edit that keeps the JSON valid but breaks the schema', async () => {
    const ls = lines(t.path);
    ls[3] = ls[3]!.replace('"kind":"task"', '"kind":"task","prompt":"leaked"').replace('"kind":"incident"', '"kind":"incident","prompt":"leaked"');
    rewrite(t.path, ls);
    const r = await verifyLedger(t.path);
    assert.equal(r.problem?.kind, 'invalid');
    assert.equal(r.problem!.line, 4);
    assert.match(r.problem!.message, /ledger\.jsonl:4: invalid ledger record/);
  });

  it('skips and reports a torn last line, and the next writer continues the chain around it', async () => {
    appendFileSync(t.path, '{"schemaVersion":1,"id":"torn","seq":20,"ti');
    let r = await verifyLedger(t.path);
    assert.ok(r.ok, r.problem?.message);
    assert.equal(r.records, 20);
    assert.equal(r.skipped.length, 1);
    assert.equal(r.skipped[0]!.line, 21);
    assert.match(r.skipped[0]!.reason, /torn last line/);

    await writeLedger(t.path, sampleEntries(5, { seed: 9 }));
    r = await verifyLedger(t.path);
    assert.ok(r.ok, r.problem?.message);
    assert.equal(r.records, 25);
    assert.equal(r.skipped.length, 1);
    assert.equal(r.skipped[0]!.line, 21);
    const seqs: number[] = [];
    for await (const b of readLedgerRecords(t.path)) seqs.push(...b.map((x) => x.seq));
    assert.deepEqual(seqs, [...Array(25).keys()]);
  });

  it('rotates into numbered segments and keeps the chain across them', async () => {
    const u = tempLedger();
    try {
      await writeLedger(u.path, sampleEntries(300), { maxSegmentBytes: 8 * 1024, maxBatch: 16 });
      await writeLedger(u.path, sampleEntries(50, { seed: 3 }), { maxSegmentBytes: 8 * 1024, maxBatch: 16 });
      const files = readdirSync(dirname(u.path)).filter((f) => f.endsWith('.jsonl')).sort();
      assert.ok(files.length >= 5, files.join(' '));
      assert.ok(files.includes('ledger.1.jsonl') && files.includes('ledger.2.jsonl'));
      const r = await verifyLedger(u.path);
      assert.ok(r.ok, r.problem?.message);
      assert.equal(r.records, 350);
      assert.equal(basename(r.segments[0]!), 'ledger.1.jsonl');

      // Dropping a whole segment is a missing link, reported at the first line after the gap.
      writeFileSync(r.segments[1]!, '');
      const broken = await verifyLedger(u.path);
      assert.equal(broken.problem?.kind, 'missing');
      assert.equal(broken.problem!.file, r.segments[2]);
      assert.equal(broken.problem!.line, 1);
    } finally {
      u.cleanup();
    }
  });

  it('drops text unless the policy opted in, and rejects entries that break the schema', async () => {
    const entry = { kind: 'task' as const, workspace: 'ws-1', lane: 'chat' as const, model: 'q', tokensIn: 1, tokensOut: 1, totalMs: 5, outcome: 'accepted' as const, text: { prompt: 'p', answer: 'a' } };
    await writeLedger(t.path, [entry]);
    const u = tempLedger();
    try {
      await writeLedger(u.path, [entry], { includeText: true });
      assert.doesNotMatch(lines(t.path).at(-1)!, /"text"/);
      assert.match(lines(u.path)[0]!, /"text":\{"prompt":"p","answer":"a"\}/);
    } finally {
      u.cleanup();
    }
    const w = new FileLedgerWriter({ path: t.path });
    assert.throws(() => w.append({ ...entry, tokensIn: -1 }), /invalid ledger entry: tokensIn/);
    await w.close();
    assert.throws(() => w.append(entry), /closed/);
  });
});
