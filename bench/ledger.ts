/**
 * Ledger benchmark (`npm run bench:ledger`):
 *  1. append latency and throughput with 1, 2 and 4 concurrent writer PROCESSES (scripts/ledgerWriter.ts):
 *     `sync` mode (append one record, wait until durable) for latency, `burst` mode for throughput;
 *  2. export of a 1,000,000-record ledger to CSV in a child process: wall time and peak RSS (the kernel's
 *     high-water mark, VmHWM, plus sampling where /proc is missing).
 * Goals: p99 append ≤ 2 ms; 1M-record CSV export ≤ 10 s within 200 MB.
 * Env: HEARTH_BENCH_RECORDS (export size, default 1e6), HEARTH_BENCH_APPENDS (per writer, default 2000).
 * Last line: RESULT {"p99_append_ms":…,"export_1m_s":…,"export_1m_peak_mb":…,…}.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sampleEntries } from '../src/common/ledger/sampleEntries';
import { FileLedgerWriter } from '../src/node/ledger/fileLedgerWriter';
import { exportLedger } from '../src/node/ledger/ledgerExport';
import { segmentFiles } from '../src/node/ledger/ledgerFiles';

const WRITER = resolve(__dirname, '../scripts/ledgerWriter.js');

interface WriterStats {
  records: number;
  seconds: number;
  appendMs: number[];
  durableMs: number[];
}

function run(args: string[]): Promise<string> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.once('exit', (code) => (code === 0 ? res(out) : rej(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)] ?? NaN;
}

const f = (x: number, d = 3) => x.toFixed(d);

async function appendBench(dir: string, writers: number, appends: number, mode: 'sync' | 'burst') {
  const ledger = join(dir, `append-${mode}-${writers}`, 'ledger.jsonl');
  const t0 = performance.now();
  const outs = await Promise.all(Array.from({ length: writers }, (_, i) => run([WRITER, '--ledger', ledger, '--count', String(appends), '--writer', String(i + 1), '--mode', mode, '--stats'])));
  const wall = (performance.now() - t0) / 1000;
  const stats = outs.map((o) => JSON.parse(o.trim().split('\n').at(-1)!) as WriterStats);
  const append = stats.flatMap((s) => s.appendMs);
  const durable = stats.flatMap((s) => s.durableMs);
  const records = stats.reduce((a, s) => a + s.records, 0);
  // Throughput over the writers' own run time (process start-up is not the ledger's).
  const busy = Math.max(...stats.map((s) => s.seconds));
  return { writers, mode, records, wall, perSecond: records / busy, appendP50: percentile(append, 0.5), appendP99: percentile(append, 0.99), durableP50: durable.length ? percentile(durable, 0.5) : NaN, durableP99: durable.length ? percentile(durable, 0.99) : NaN };
}

/** Child: export the ledger to CSV, print seconds and peak RSS (MB). */
async function exportChild(ledger: string, out: string): Promise<void> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const summary = await exportLedger(ledger, 'csv', out);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage.rss());
  let hwm: number | null = null;
  if (existsSync('/proc/self/status')) {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) hwm = Number(m[1]) * 1024;
  }
  process.stdout.write(JSON.stringify({ records: summary.records, skipped: summary.skipped.length, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, sampledPeakMb: peak / 2 ** 20, hwmPeakMb: hwm === null ? null : hwm / 2 ** 20 }) + '\n');
}

async function main(): Promise<void> {
  if (process.argv[2] === '--export-child') return exportChild(process.argv[3]!, process.argv[4]!);
  const records = Number(process.env.HEARTH_BENCH_RECORDS ?? 1_000_000);
  const appends = Number(process.env.HEARTH_BENCH_APPENDS ?? 2000);
  const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-ledger-'));
  try {
    console.log(`ledger benchmark: ${appends} appends per writer process; export of ${records} records (node ${process.version}, ${cpus().length} CPUs, load ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
    console.log('\nappend: sync = append one record, wait until it is fsynced; latency = append() call / until durable');
    const rows = [];
    for (const mode of ['sync', 'burst'] as const) {
      for (const writers of [1, 2, 4]) {
        const r = await appendBench(dir, writers, appends, mode);
        rows.push(r);
        console.log(`  ${mode.padEnd(5)} ${writers} writer(s): ${String(r.records).padStart(6)} records, ${f(r.perSecond, 0).padStart(7)} records/s; append() p50 ${f(r.appendP50)} p99 ${f(r.appendP99)} ms` +
          (mode === 'sync' ? `; durable p50 ${f(r.durableP50)} p99 ${f(r.durableP99)} ms` : ''));
      }
    }

    const ledger = join(dir, 'export', 'ledger.jsonl');
    const tg = performance.now();
    const w = new FileLedgerWriter({ path: ledger, maxBatch: 4096, batchDelayMs: 1 });
    let i = 0;
    for (const e of sampleEntries(records, { spacingMs: 30_000 })) {
      w.append(e);
      // Let batches drain so the queue stays bounded.
      if (++i % 4096 === 0) await w.flush();
    }
    await w.close();
    const files = (await segmentFiles(ledger)).filter((p) => existsSync(p));
    const bytes = files.reduce((a, p) => a + statSync(p).size, 0);
    console.log(`\ngenerated ${records} records through the writer in ${f((performance.now() - tg) / 1000, 1)} s: ${files.length} segment(s), ${f(bytes / 2 ** 20, 0)} MiB`);

    const out = join(dir, 'export.csv');
    const ex = JSON.parse((await run([__filename, '--export-child', ledger, out])).trim()) as { records: number; skipped: number; seconds: number; cpuSeconds: number; sampledPeakMb: number; hwmPeakMb: number | null };
    const peakMb = Math.max(ex.sampledPeakMb, ex.hwmPeakMb ?? 0);
    console.log(`export CSV: ${ex.records} records (${ex.skipped} skipped) in ${f(ex.seconds, 2)} s wall, ${f(ex.cpuSeconds, 2)} s CPU (${f(ex.records / ex.seconds, 0)} records/s), ${f(statSync(out).size / 2 ** 20, 0)} MiB; peak RSS ${f(peakMb, 1)} MB (VmHWM ${ex.hwmPeakMb === null ? 'n/a' : f(ex.hwmPeakMb, 1)}, sampled ${f(ex.sampledPeakMb, 1)})`);

    const sync = rows.filter((r) => r.mode === 'sync');
    const p99Append = Math.max(...sync.map((r) => r.appendP99));
    const p99Durable = Math.max(...sync.map((r) => r.durableP99));
    const burst4 = rows.find((r) => r.mode === 'burst' && r.writers === 4)!;
    const scale = 1_000_000 / ex.records;
    console.log(`\ngoals: p99 append ${f(p99Append)} ms (≤ 2: ${p99Append <= 2 ? 'met' : 'MISSED'}); durable p99 ${f(p99Durable)} ms (worst of 1/2/4 writers);`);
    console.log(`       CSV export ${f(ex.seconds * scale, 2)} s for 1M (≤ 10: ${ex.seconds * scale <= 10 ? 'met' : 'MISSED'}), peak ${f(peakMb, 0)} MB (≤ 200: ${peakMb <= 200 ? 'met' : 'MISSED'})${scale !== 1 ? ' [time scaled from a smaller run]' : ''}`);
    console.log('RESULT ' + JSON.stringify({
      p99_append_ms: Number(f(p99Append)),
      export_1m_s: Number(f(ex.seconds * scale, 2)),
      export_1m_peak_mb: Number(f(peakMb, 1)),
      p99_durable_ms: Number(f(p99Durable)),
      append_per_s_4_writers: Math.round(burst4.perSecond),
      export_1m_cpu_s: Number(f(ex.cpuSeconds * scale, 2)),
      export_records: ex.records,
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
