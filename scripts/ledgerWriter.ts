/**
 * A ledger writer process, for the concurrency and crash tests and the benchmark:
 *   node out/scripts/ledgerWriter.js --ledger PATH [--count N] [--mode sync|burst] [--writer ID]
 *        [--max-segment-bytes B] [--report] [--stats]
 * `sync`: append one record and wait until it is durable, N times (measures latency). `burst`: append N, then
 * flush (measures throughput). `--count 0` appends until killed. `--report` prints `durable N` after each
 * flush (what a crash must never lose); `--stats` prints one JSON line of timings at the end.
 */
import { parseCommandArgs } from '../src/node/cli/args';
import { FileLedgerWriter } from '../src/node/ledger/fileLedgerWriter';
import { sampleEntries } from '../src/common/ledger/sampleEntries';

async function main(): Promise<void> {
  const str = { type: 'string' } as const;
  const { values } = parseCommandArgs(process.argv.slice(2), { ledger: str, count: str, mode: str, writer: str, 'max-segment-bytes': str, 'max-batch': str, report: { type: 'boolean' }, stats: { type: 'boolean' } }, 'ledgerWriter --ledger PATH [...]');
  const flags = new Map(Object.entries(values).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const switches = new Set(Object.entries(values).filter((e) => e[1] === true).map((e) => e[0]));
  const ledger = flags.get('ledger');
  if (!ledger) throw new Error('--ledger PATH is required');
  const count = Number(flags.get('count') ?? 100);
  const mode = flags.get('mode') ?? 'sync';
  const writerId = flags.get('writer') ?? String(process.pid);
  const writer = new FileLedgerWriter({
    path: ledger,
    maxSegmentBytes: flags.has('max-segment-bytes') ? Number(flags.get('max-segment-bytes')) : undefined,
    maxBatch: flags.has('max-batch') ? Number(flags.get('max-batch')) : undefined,
  });
  const entries = sampleEntries(count === 0 ? Number.MAX_SAFE_INTEGER : count, { seed: Number.parseInt(writerId, 36) || 1, start: new Date() });
  const appendNs: number[] = [];
  const durableNs: number[] = [];
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (const e of entries) {
    e.id = `w${writerId}-${n}`;
    if (e.kind === 'task') e.machineProfileId = `writer-${writerId}`;
    const s = process.hrtime.bigint();
    writer.append(e);
    const a = process.hrtime.bigint();
    appendNs.push(Number(a - s));
    n++;
    if (mode === 'sync') {
      await writer.flush();
      durableNs.push(Number(process.hrtime.bigint() - s));
      if (switches.has('report')) process.stdout.write(`durable ${n} ${e.id}\n`);
    } else if (n % 256 === 0) {
      if (switches.has('report')) {
        await writer.flush();
        process.stdout.write(`durable ${n} ${e.id}\n`);
      } else {
        // Let batches go out while appending, as a busy editor would.
        await new Promise((r) => setImmediate(r));
      }
    }
  }
  await writer.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (switches.has('report')) process.stdout.write(`durable ${n}\n`);
  if (switches.has('stats')) {
    const p = (xs: number[], q: number) => {
      if (!xs.length) return null;
      const s = [...xs].sort((x, y) => x - y);
      return s[Math.max(0, Math.ceil(q * s.length) - 1)]! / 1e6;
    };
    process.stdout.write(JSON.stringify({
      writer: writerId, mode, records: n, seconds, perSecond: n / seconds,
      appendP50Ms: p(appendNs, 0.5), appendP99Ms: p(appendNs, 0.99), durableP50Ms: p(durableNs, 0.5), durableP99Ms: p(durableNs, 0.99),
      appendMs: appendNs.map((x) => Math.round(x / 1e3) / 1e3),
      durableMs: durableNs.map((x) => Math.round(x / 1e3) / 1e3),
    }) + '\n');
  }
}

main().catch((err) => {
  process.stderr.write(`ledgerWriter: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
