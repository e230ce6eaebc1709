/**
 * Exporters: CSV, JSON (one array) and the self-contained HTML ROI report, each streamed from the segments with
 * backpressure, so a million records export in constant memory.
 */
import { once } from 'node:events';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { ChainVerifier, type SkippedLine } from '../../common/ledger/hashChain';
import { DEFAULT_COST_MODEL, LedgerAggregator, type CostModel, type LedgerAggregates } from '../../common/ledger/ledgerAggregates';
import { parseLedgerLine, type LedgerRecord } from '../../common/ledger/ledgerRecord';
import { renderReportHtml } from '../../common/ledger/ledgerReportHtml';
import { csvHeader, JSON_ARRAY_CLOSE, JSON_ARRAY_OPEN, recordToCsvLine, recordToJsonElement } from '../../common/ledger/ledgerSerialize';
import { readLedgerLines } from './ledgerFiles';
import { sha256Hex } from './sha256';

export type ExportFormat = 'csv' | 'json' | 'html';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'json', 'html'];

/** Lines left out of an export: torn writes and records that fail the schema (message names file:line). */
export interface ExportSummary {
  records: number;
  skipped: SkippedLine[];
}

/**
 * Streams valid records in batches; lines that are not valid records are reported through `onSkip` with
 * their file and line, and left out.
 */
export async function* readLedgerRecords(ledgerPath: string, onSkip: (s: SkippedLine) => void = () => {}): AsyncGenerator<LedgerRecord[]> {
  for await (const batch of readLedgerLines(ledgerPath)) {
    const records: LedgerRecord[] = [];
    for (const l of batch) {
      if (l.text.trim() === '') continue;
      const p = parseLedgerLine(l.text, l);
      if (p.ok) records.push(p.record);
      else onSkip({ file: l.file, line: l.line, reason: p.message });
    }
    if (records.length) yield records;
  }
}

/** Writes with backpressure: waits for `drain` when the stream's buffer is full. */
async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

/** Streams the ledger as CSV (RFC 4180, header first) into `out`; does not end it. */
export async function exportCsv(ledgerPath: string, out: Writable): Promise<ExportSummary> {
  const summary: ExportSummary = { records: 0, skipped: [] };
  await write(out, csvHeader());
  for await (const batch of readLedgerRecords(ledgerPath, (s) => summary.skipped.push(s))) {
    let chunk = '';
    for (const r of batch) chunk += recordToCsvLine(r);
    summary.records += batch.length;
    await write(out, chunk);
  }
  return summary;
}

/** Streams the ledger as one JSON array of records into `out`; does not end it. */
export async function exportJson(ledgerPath: string, out: Writable): Promise<ExportSummary> {
  const summary: ExportSummary = { records: 0, skipped: [] };
  await write(out, JSON_ARRAY_OPEN);
  for await (const batch of readLedgerRecords(ledgerPath, (s) => summary.skipped.push(s))) {
    let chunk = '';
    for (const r of batch) chunk += recordToJsonElement(r, summary.records++ === 0);
    await write(out, chunk);
  }
  await write(out, JSON_ARRAY_CLOSE);
  return summary;
}

/** One pass over the ledger: aggregates and the chain check together. */
export async function analyseLedger(ledgerPath: string, cost: CostModel = DEFAULT_COST_MODEL) {
  const agg = new LedgerAggregator(cost);
  const verifier = new ChainVerifier(sha256Hex);
  for await (const batch of readLedgerLines(ledgerPath)) {
    for (const l of batch) {
      verifier.push(l.text, l, l.terminated);
      if (l.text.trim() === '') continue;
      const p = parseLedgerLine(l.text, l);
      if (p.ok) agg.add(p.record);
    }
  }
  return { aggregates: agg.result() as LedgerAggregates, verify: verifier.result() };
}

/**
 * Finds Chart.js's UMD bundle: beside the bundle (a packaged extension may copy it to dist/ or media/vendor/),
 * else in node_modules. The report inlines it, so the HTML needs no network.
 */
export function chartLibraryPath(): string {
  const name = 'chart.umd.min.js';
  const candidates = [join(__dirname, name), join(__dirname, '..', 'media', 'vendor', name)];
  try {
    candidates.push(join(dirname(require.resolve('chart.js')), name));
  } catch {
    // not resolvable from here: walk up below
  }
  for (const start of [__dirname, process.cwd()]) for (let d = start; ; d = dirname(d)) {
    candidates.push(join(d, 'node_modules', 'chart.js', 'dist', name));
    if (dirname(d) === d) break;
  }
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('Chart.js is missing (node_modules/chart.js/dist/chart.umd.min.js): run `npm install`');
  return found;
}

export interface HtmlReportOptions {
  cost?: CostModel;
  title?: string;
  /** Chart.js UMD source; read from {@link chartLibraryPath} when absent. */
  chartLibrary?: string;
  now?: () => Date;
}

/** Writes the self-contained HTML ROI report into `out`; does not end it. */
export async function exportHtml(ledgerPath: string, out: Writable, opts: HtmlReportOptions = {}): Promise<ExportSummary & { aggregates: LedgerAggregates }> {
  const { aggregates, verify } = await analyseLedger(ledgerPath, opts.cost);
  const html = renderReportHtml({
    aggregates,
    verify,
    chartLibrary: opts.chartLibrary ?? readFileSync(chartLibraryPath(), 'utf8'),
    generatedAt: (opts.now?.() ?? new Date()).toISOString(),
    title: opts.title,
  });
  await write(out, html);
  return { records: aggregates.records, skipped: verify.skipped, aggregates };
}

/** Exports in `format` to `file` (or into `out`), ending the stream and waiting until the data is written. */
export async function exportLedger(ledgerPath: string, format: ExportFormat, target: string | Writable, opts: HtmlReportOptions = {}): Promise<ExportSummary> {
  const out = typeof target === 'string' ? createWriteStream(target, { highWaterMark: 1 << 20 }) : target;
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined); // an error after the export finished has nobody to tell
  const run = async () => {
    const summary = format === 'csv' ? await exportCsv(ledgerPath, out) : format === 'json' ? await exportJson(ledgerPath, out) : await exportHtml(ledgerPath, out, opts);
    if (typeof target === 'string') {
      out.end();
      await once(out, 'finish');
    }
    return summary;
  };
  return Promise.race([run(), failed]);
}
