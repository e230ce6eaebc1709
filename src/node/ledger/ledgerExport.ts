/**
 * Exporters: CSV, JSON (one array) and the self-contained HTML ROI report, each streamed from the segments with
 * backpressure, so a million records export in constant memory.
 */
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import type { SkippedLine } from '../../common/ledger/hashChain';
import { DEFAULT_COST_MODEL, LedgerAggregator, type CostModel, type LedgerAggregates } from '../../common/ledger/ledgerAggregates';
import { parseLedgerLine, type LedgerRecord } from '../../common/ledger/ledgerRecord';
import { renderReportHtml } from '../../common/ledger/ledgerReportHtml';
import { csvHeader, JSON_ARRAY_CLOSE, JSON_ARRAY_OPEN, recordToCsvLine, recordToJsonElement } from '../../common/ledger/ledgerSerialize';
import { writeFileAtomic } from '../safeOutput';
import { readLedgerLines, segmentFiles } from './ledgerFiles';
import { assertLedgerExists, LedgerChecker, verifyLedger, type LedgerCheckOptions, type LedgerVerifyReport } from './verifyLedger';

export type ExportFormat = 'csv' | 'json' | 'html';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'json', 'html'];

/** Lines left out of an export: torn writes and records that fail the schema (message names file:line). */
export interface ExportSummary {
  records: number;
  skipped: SkippedLine[];
  /** The chain check (with the anchor) of the ledger exported; carried in the export itself too. */
  chain?: LedgerVerifyReport;
}

/** What CSV rows and the JSON document say about the chain: `intact`, or the problem's kind. */
export function chainStatusOf(chain: LedgerVerifyReport | undefined): string {
  if (!chain) return 'unchecked';
  if (!chain.ok) return `broken:${chain.problem?.kind ?? 'unknown'}`;
  if (chain.skipped.length) return 'intact-with-torn-lines';
  return chain.anchor.status === 'matches' ? 'intact' : 'intact-unanchored';
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

/**
 * Streams the ledger as CSV (RFC 4180, header first) into `out`; does not end it. With `chain`, two columns
 * are added to every row: the chain status and the anchored head (`seq:hash`), so a copy of the CSV still says
 * whether the ledger it came from was whole.
 */
export async function exportCsv(ledgerPath: string, out: Writable, chain?: LedgerVerifyReport): Promise<ExportSummary> {
  const summary: ExportSummary = { records: 0, skipped: [], chain };
  const extra = chain ? `,${chainStatusOf(chain)},${chain.headSeq}:${chain.headHash}\r\n` : '\r\n';
  await write(out, chain ? csvHeader().replace(/\r\n$/, ',chainStatus,chainHead\r\n') : csvHeader());
  for await (const batch of readLedgerRecords(ledgerPath, (s) => summary.skipped.push(s))) {
    let chunk = '';
    for (const r of batch) chunk += recordToCsvLine(r).replace(/\r\n$/, extra);
    summary.records += batch.length;
    await write(out, chunk);
  }
  return summary;
}

/**
 * Streams the ledger as JSON into `out`; does not end it. Without `chain`, one array of records; with it, an
 * object `{ "chain": {status, ok, records, headSeq, headHash, anchor, problem}, "records": [...] }`.
 */
export async function exportJson(ledgerPath: string, out: Writable, chain?: LedgerVerifyReport): Promise<ExportSummary> {
  const summary: ExportSummary = { records: 0, skipped: [], chain };
  if (chain) {
    const head = { status: chainStatusOf(chain), ok: chain.ok, records: chain.records, headSeq: chain.headSeq, headHash: chain.headHash, anchor: chain.anchor, problem: chain.problem ?? null, skipped: chain.skipped.length };
    await write(out, `{\n"chain": ${JSON.stringify(head)},\n"records": ${JSON_ARRAY_OPEN}`);
  } else await write(out, JSON_ARRAY_OPEN);
  for await (const batch of readLedgerRecords(ledgerPath, (s) => summary.skipped.push(s))) {
    let chunk = '';
    for (const r of batch) chunk += recordToJsonElement(r, summary.records++ === 0);
    await write(out, chunk);
  }
  await write(out, chain ? JSON_ARRAY_CLOSE.trimEnd() + '\n}\n' : JSON_ARRAY_CLOSE);
  return summary;
}

/** One pass over the ledger: aggregates and the chain check (with the anchor) together. */
export async function analyseLedger(ledgerPath: string, cost: CostModel = DEFAULT_COST_MODEL, opts: LedgerCheckOptions = {}) {
  const agg = new LedgerAggregator(cost);
  const checker = new LedgerChecker(ledgerPath, opts);
  for await (const batch of readLedgerLines(ledgerPath)) {
    for (const l of batch) {
      checker.push(l);
      if (l.text.trim() === '') continue;
      const p = parseLedgerLine(l.text, l);
      if (p.ok) agg.add(p.record);
    }
  }
  return { aggregates: agg.result() as LedgerAggregates, verify: await checker.result() };
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
export async function exportHtml(ledgerPath: string, out: Writable, opts: HtmlReportOptions & LedgerCheckOptions = {}): Promise<ExportSummary & { aggregates: LedgerAggregates }> {
  const { aggregates, verify } = await analyseLedger(ledgerPath, opts.cost, opts);
  const html = renderReportHtml({
    aggregates,
    verify,
    chartLibrary: opts.chartLibrary ?? readFileSync(chartLibraryPath(), 'utf8'),
    generatedAt: (opts.now?.() ?? new Date()).toISOString(),
    title: opts.title,
  });
  await write(out, html);
  return { records: aggregates.records, skipped: verify.skipped, aggregates, chain: verify };
}

export interface ExportLedgerOptions extends HtmlReportOptions, LedgerCheckOptions {}

/**
 * Exports in `format` to `file` (or into `out`). A file is written through {@link writeFileAtomic}: complete or
 * not at all, and never over the ledger or one of its segments. The chain is checked first (with the anchor),
 * and the result travels in the export. A missing ledger is an error naming it.
 */
export async function exportLedger(ledgerPath: string, format: ExportFormat, target: string | Writable, opts: ExportLedgerOptions = {}): Promise<ExportSummary> {
  await assertLedgerExists(ledgerPath, opts.anchorDir);
  const chain = format === 'html' ? undefined : await verifyLedger(ledgerPath, opts);
  const run = (out: Writable) => (format === 'csv' ? exportCsv(ledgerPath, out, chain) : format === 'json' ? exportJson(ledgerPath, out, chain) : exportHtml(ledgerPath, out, opts));
  if (typeof target !== 'string') return run(target);
  const inputs = (await segmentFiles(ledgerPath)).map((f) => ({ path: f, label: 'the ledger' }));
  return writeFileAtomic(target, run, { inputs, label: target });
}
