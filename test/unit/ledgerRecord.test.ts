import * as assert from 'node:assert/strict';
import { chainRecords, EMPTY_HEAD, GENESIS_HASH } from '../../src/common/ledger/hashChain';
import { isoWeek } from '../../src/common/ledger/ledgerAggregates';
import { isPlainValidTask } from '../../src/common/ledger/fastRecordCheck';
import { ledgerRecordSchema, parseLedgerLine, workspaceId, type UnchainedRecord } from '../../src/common/ledger/ledgerRecord';
import { sampleEntries } from '../../src/common/ledger/sampleEntries';
import { csvCell, csvHeader, recordToCsvLine, CSV_COLUMNS } from '../../src/common/ledger/ledgerSerialize';
import { sha256Hex } from '../../src/node/ledger/sha256';

const task: UnchainedRecord = {
  schemaVersion: 1, kind: 'task', id: 'a', time: '2025-01-06T10:00:00.000Z', workspace: 'ws-1', lane: 'completion', model: 'q',
  tokensIn: 10, tokensOut: 2, totalMs: 120, outcome: 'accepted',
};

describe('ledger record schema', () => {
  const at = { file: '/w/.hearth/ledger.jsonl', line: 7 };
  const line = chainRecords([task], EMPTY_HEAD, sha256Hex).lines[0]!;

  it('parses a chained record', () => {
    const p = parseLedgerLine(line, at);
    assert.ok(p.ok);
    assert.equal(p.record.seq, 0);
    assert.equal(p.record.prevHash, GENESIS_HASH);
  });

  it('rejects malformed lines with a message naming the file and line', () => {
    const cases: [string, RegExp][] = [
      ['{"schemaVersion":1,', /not a JSON line/],
      [line.replace('"outcome":"accepted"', '"outcome":"loved"'), /outcome/],
      [line.replace('"tokensIn":10', '"tokensIn":-1'), /tokensIn/],
      [line.replace('"time":"2025-01-06T10:00:00.000Z"', '"time":"yesterday"'), /time/],
      [line.replace('"lane":"completion"', '"lane":"completion","code":"secret()"'), /code|Unrecognized/],
      [line.replace('"kind":"task"', '"kind":"other"'), /kind|discriminator|Invalid/i],
    ];
    for (const [text, why] of cases) {
      const p = parseLedgerLine(text, at);
      assert.ok(!p.ok, text);
      assert.match(p.message, /^\/w\/\.hearth\/ledger\.jsonl:7: /);
      assert.match(p.message, why);
    }
  });

  it('tells a newer schema version apart', () => {
    const p = parseLedgerLine(line.replace(/"schemaVersion":\d+/, '"schemaVersion":3'), at);
    assert.ok(!p.ok && p.kind === 'newer-version');
  });

  it('writes schema 2 and still reads schema 1 lines as written', () => {
    assert.match(line, /^\{"schemaVersion":2,/);
    const old = parseLedgerLine(line.replace('"schemaVersion":2', '"schemaVersion":1'), at);
    assert.ok(old.ok && old.record.schemaVersion === 1);
    // A schema-1 line with a version-2 field is still read (the fields are optional), and zod agrees.
    const blocked = JSON.stringify({ ...JSON.parse(line), outcome: 'blocked', blockedBy: 'neverSend', rule: 'neverSend', modelMs: 0, waitMs: 12 });
    const p = parseLedgerLine(blocked, at);
    assert.ok(p.ok && p.record.kind === 'task' && p.record.blockedBy === 'neverSend' && p.record.waitMs === 12);
    const bad = parseLedgerLine(JSON.stringify({ ...JSON.parse(line), outcome: 'blocked', blockedBy: 'whim' }), at);
    assert.ok(!bad.ok && /blockedBy/.test(bad.message));
  });

  it('derives an opaque workspace id, never the path', () => {
    const id = workspaceId('file:///home/alice/acme-secret-client', sha256Hex);
    assert.match(id, /^ws-[0-9a-f]{16}$/);
    assert.equal(id, workspaceId('file:///home/alice/acme-secret-client', sha256Hex));
    assert.doesNotMatch(id, /alice/);
  });

  it('numbers ISO weeks', () => {
    assert.equal(isoWeek('2025-01-06T10:00:00Z'), '2025-W02');
    assert.equal(isoWeek('2024-12-30T00:00:00Z'), '2025-W01');
    assert.equal(isoWeek('2021-01-03T23:59:59Z'), '2020-W53');
    assert.equal(isoWeek('2025-01-12T23:59:59Z'), '2025-W02');
  });

  it('writes CSV cells safely', () => {
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell(-3), '-3');
    assert.equal(csvCell(undefined), '');
    const row = recordToCsvLine(JSON.parse(line));
    assert.ok(row.endsWith('\r\n'));
    assert.equal(row.split(',').length, CSV_COLUMNS.length);
    assert.equal(csvHeader().split(',').length, CSV_COLUMNS.length);
  });
});

describe('ledger fast record check', () => {
  const good = chainRecords([...sampleEntries(400)].map((e) => ({ ...e, schemaVersion: 1, id: e.id!, time: e.time! }) as UnchainedRecord), EMPTY_HEAD, sha256Hex).lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('takes the fast path for ordinary task records', () => {
    const tasks = good.filter((r) => r.kind === 'task' && r.redactions === undefined);
    assert.ok(tasks.length > 300);
    for (const r of tasks) assert.ok(isPlainValidTask(r), JSON.stringify(r));
  });

  it('never accepts what zod rejects', function () {
    // Thousands of records through zod: seconds on a busy machine, and no timing is asserted.
    this.timeout(30_000);
    const bad: unknown[] = [-1, 1.5, 'x', '', null, true, {}, [], 'a'.repeat(300), 2 ** 60, '2025-02-31T10:00:00.000Z', '2025-02-29T10:00:00.000Z', '2100-02-29T10:00:00.000Z', '2025-04-31T10:00:00.000Z', '2025-13-01T10:00:00.000Z', '2025-01-06T10:00:00Z', 'ZZ', 'accepted', 'local', '0'.repeat(64)];
    const extraKeys = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'text', 'code', 'prompt', 'redactions', 'refersTo', 'valueOf'];
    let checked = 0;
    for (const base of good.slice(0, 40)) {
      const variants: unknown[] = [];
      for (const k of [...Object.keys(base), 'backend', 'quantization', 'machineProfileId', 'timeToFirstTokenMs', 'charsSuggested', 'destination', 'provider', 'estimatedCost', 'incident']) {
        for (const v of bad) variants.push({ ...base, [k]: v });
        const { [k]: _drop, ...without } = base;
        variants.push(without);
      }
      for (const k of extraKeys) variants.push(JSON.parse(JSON.stringify(base).replace(/^\{/, `{"${k}":1,`)));
      variants.push([base], 'x', null, Object.assign(Object.create(null), base));
      for (const v of variants) {
        checked++;
        if (isPlainValidTask(v)) assert.ok(ledgerRecordSchema.safeParse(v).success, `fast check accepted what zod rejects: ${JSON.stringify(v)}`);
      }
    }
    assert.ok(checked > 10_000, `${checked} variants`);
  });
});
