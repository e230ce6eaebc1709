import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { readLedgerRecords } from '../../src/node/ledger/ledgerExport';
import { verifyLedger } from '../../src/node/ledger/verifyLedger';
import { tempLedger, WRITER_SCRIPT, writeLedger } from './ledgerHelpers';
import { sampleEntries } from '../../src/common/ledger/sampleEntries';
import type { LedgerRecord } from '../../src/common/ledger/ledgerRecord';

function writer(args: string[]): ChildProcess {
  return spawn(process.execPath, [WRITER_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((res) => p.once('exit', (code) => res(code)));
}

async function allRecords(path: string): Promise<LedgerRecord[]> {
  const out: LedgerRecord[] = [];
  for await (const b of readLedgerRecords(path)) out.push(...b);
  return out;
}

describe('ledger writer processes', function () {
  this.timeout(60_000);
  let t: ReturnType<typeof tempLedger>;
  beforeEach(() => (t = tempLedger()));
  afterEach(() => t.cleanup());

  it('concurrent writer processes never interleave lines or break the chain', async () => {
    const n = 150;
    const ps = [1, 2, 3, 4].map((i) => writer(['--ledger', t.path, '--count', String(n), '--writer', String(i), '--mode', i % 2 ? 'sync' : 'burst', '--max-segment-bytes', String(32 * 1024), '--max-batch', '8']));
    const errs = ps.map((p) => {
      let e = '';
      p.stderr!.on('data', (d) => (e += d));
      return () => e;
    });
    const codes = await Promise.all(ps.map(exited));
    assert.deepEqual(codes, [0, 0, 0, 0], errs.map((e) => e()).join('\n'));
    const r = await verifyLedger(t.path);
    assert.ok(r.ok, r.problem?.message);
    assert.equal(r.records, 4 * n);
    assert.deepEqual(r.skipped, []);
    assert.ok(r.segments.length > 1, 'rotated while four processes wrote');
    const records = await allRecords(t.path);
    for (const w of [1, 2, 3, 4]) {
      const mine = records.filter((x) => x.id.startsWith(`w${w}-`)).map((x) => Number(x.id.split('-')[1]));
      assert.deepEqual(mine, [...Array(n).keys()], `writer ${w}'s records, in its own order`);
    }
    assert.ok(!existsSync(`${t.path}.lock`), 'lock released');
  });

  it('SIGKILL in the middle of appends: verify reports every record written before the kill intact', async () => {
    const p = writer(['--ledger', t.path, '--count', '0', '--writer', '7', '--mode', 'sync', '--report']);
    const durable: string[] = [];
    let buf = '';
    await new Promise<void>((res, rej) => {
      p.once('exit', (code) => rej(new Error(`writer exited early (${code})`)));
      p.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const id = line.split(' ')[2];
          if (id) durable.push(id);
          if (durable.length === 300 && p.kill('SIGKILL')) res();
        }
      });
    });
    await exited(p);
    const r = await verifyLedger(t.path);
    assert.ok(r.ok, r.problem?.message);
    assert.ok(r.records >= durable.length, `${r.records} records on disk, ${durable.length} acknowledged durable`);
    const ids = new Set((await allRecords(t.path)).map((x) => x.id));
    for (const id of durable) assert.ok(ids.has(id), `${id} acknowledged before the kill`);

    // The next writer takes over the dead writer's lock (if it held one) and continues the chain.
    writeFileSync(`${t.path}.lock`, `${p.pid} ${hostname()} dead\n`);
    await writeLedger(t.path, sampleEntries(10, { seed: 5 }), { lock: { timeoutMs: 2000 } });
    const after = await verifyLedger(t.path);
    assert.ok(after.ok, after.problem?.message);
    assert.equal(after.records, r.records + 10);
  });

  it('SIGKILL at random points, repeatedly: the chain always verifies', async () => {
    let acknowledged = 0;
    for (let round = 0; round < 4; round++) {
      const p = writer(['--ledger', t.path, '--count', '0', '--writer', String(20 + round), '--mode', round % 2 ? 'burst' : 'sync', '--report']);
      let seen = '';
      // Kill at a random moment once the writer is under way (start-up time varies with the machine's load).
      await new Promise<void>((res) => p.stdout!.on('data', (d) => {
        if (!seen) setTimeout(res, Math.random() * 200);
        seen += d;
      }));
      p.kill('SIGKILL');
      await exited(p);
      // `durable N …`: the writer's N records so far are on disk.
      acknowledged += Math.max(0, ...seen.split('\n').filter((l) => l.startsWith('durable')).map((l) => Number(l.split(' ')[1])));
      const r = await verifyLedger(t.path);
      assert.ok(r.ok, `round ${round}: ${r.problem?.message}`);
      assert.ok(r.records >= acknowledged);
    }
    assert.ok(acknowledged > 0 && readFileSync(t.path, 'utf8').length > 0);
  });
});
