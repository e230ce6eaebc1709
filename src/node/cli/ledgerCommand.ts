/**
 * `hearth ledger export|verify|stats`: read a workspace ledger without VS Code (a finance or security reviewer's
 * tool). Reads only; never takes the writer lock.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { applyCostOverrides, costModelOverridesSchema } from '../../common/ledger/costModel';
import { DEFAULT_COST_MODEL, findGroup, type CostModel, type GroupStats } from '../../common/ledger/ledgerAggregates';
import { costAssumptions, figuresText } from '../../common/ledger/ledgerFigures';
import { DEFAULT_LEDGER_PATH } from '../ledger/ledgerFiles';
import { analyseLedger, EXPORT_FORMATS, exportLedger, type ExportFormat } from '../ledger/ledgerExport';
import { verifyLedger } from '../ledger/verifyLedger';
import { parseArgs, UsageError, type CliCommand } from './args';

const USAGE = [
  'hearth ledger export --format csv|json|html [--out FILE] [--ledger PATH] [--costs FILE]',
  '       hearth ledger verify [--ledger PATH] [--json]',
  '       hearth ledger stats [--ledger PATH] [--costs FILE] [--json]',
].join('\n');

function costModel(file: string | undefined): CostModel {
  if (!file) return DEFAULT_COST_MODEL;
  const parsed = costModelOverridesSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return applyCostOverrides(parsed.data);
}

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);
const n0 = (v: number | null) => (v === null ? '-' : v.toFixed(0));
const money = (v: number | null) => (v === null ? '-' : v.toFixed(6));

function statsLine(label: string, g: GroupStats): string {
  return [
    label.padEnd(28), String(g.tasks).padStart(8), pct(g.successRate).padStart(8), money(g.costPerSuccess).padStart(12),
    n0(g.latencyP50Ms).padStart(8), n0(g.latencyP95Ms).padStart(8), pct(g.acceptanceRate).padStart(8), pct(g.acceptanceRateByChars).padStart(8),
    pct(g.escalationRate).padStart(8), pct(g.incidentRate).padStart(8), (g.costAvoided === null ? '-' : g.costAvoided.toFixed(2)).padStart(10),
  ].join(' ');
}

async function runExport(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv);
  const format = flags.get('format') as ExportFormat | undefined;
  if (!format || !EXPORT_FORMATS.includes(format)) throw new UsageError(USAGE);
  const ledger = resolve(flags.get('ledger') ?? DEFAULT_LEDGER_PATH);
  const outFile = flags.get('out');
  const summary = await exportLedger(ledger, format, outFile ?? process.stdout, { cost: costModel(flags.get('costs')), title: ledger });
  for (const s of summary.skipped) process.stderr.write(`skipped ${s.file}:${s.line}: ${s.reason}\n`);
  process.stderr.write(`exported ${summary.records} records as ${format}${outFile ? ` to ${outFile}` : ''}\n`);
  return 0;
}

async function runVerify(argv: string[]): Promise<number> {
  const { flags, switches } = parseArgs(argv, ['json']);
  const ledger = resolve(flags.get('ledger') ?? DEFAULT_LEDGER_PATH);
  const report = await verifyLedger(ledger);
  if (switches.has('json')) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return report.ok ? 0 : 1;
  }
  for (const s of report.skipped) process.stdout.write(`skipped ${s.file}:${s.line}: ${s.reason}\n`);
  if (report.ok) {
    process.stdout.write(`ok: ${report.records} records in ${report.segments.length} segment(s), chain intact; head ${report.headHash}\n`);
    return 0;
  }
  process.stdout.write(`BROKEN (${report.problem!.kind}) at ${report.problem!.file}:${report.problem!.line}\n  ${report.problem!.message}\n`);
  return 1;
}

async function runStats(argv: string[]): Promise<number> {
  const { flags, switches } = parseArgs(argv, ['json']);
  const ledger = resolve(flags.get('ledger') ?? DEFAULT_LEDGER_PATH);
  const { aggregates, verify } = await analyseLedger(ledger, costModel(flags.get('costs')));
  if (switches.has('json')) {
    process.stdout.write(JSON.stringify({ aggregates, verify }, null, 2) + '\n');
    return 0;
  }
  const out: string[] = [];
  out.push(`${aggregates.records} records; chain ${verify.ok ? 'intact' : `BROKEN: ${verify.problem!.message}`}; costs in ${aggregates.currency}, cost avoided vs ${aggregates.frontierModel}`);
  const total = findGroup(aggregates, {});
  // The same figures, notes and outcome rows as the ROI dashboard (ledgerFigures), then the table by group.
  if (total) out.push(...figuresText(aggregates, total), `cost assumptions: ${costAssumptions(aggregates)}`, '');
  out.push(['group'.padEnd(28), 'tasks'.padStart(8), 'success'.padStart(8), 'cost/succ'.padStart(12), 'p50 ms'.padStart(8), 'p95 ms'.padStart(8),
    'acc#'.padStart(8), 'acc chars'.padStart(8), 'escal.'.padStart(8), 'incid.'.padStart(8), 'avoided'.padStart(10)].join(' '));
  if (total) out.push(statsLine('all', total));
  for (const g of aggregates.groups.filter((x) => x.lane !== '*' && x.model === '*' && x.week === '*')) out.push(statsLine(`lane ${g.lane}`, g));
  for (const g of aggregates.groups.filter((x) => x.lane === '*' && x.model !== '*' && x.week === '*')) out.push(statsLine(`model ${g.model}`, g));
  for (const g of aggregates.groups.filter((x) => x.lane === '*' && x.model === '*' && x.week !== '*')) out.push(statsLine(`week ${g.week}`, g));
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

export const ledgerCommand: CliCommand = {
  name: 'ledger',
  summary: 'export (CSV, JSON, HTML report), verify the hash chain of, or summarise a workspace ledger',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'export') return runExport(rest);
    if (sub === 'verify') return runVerify(rest);
    if (sub === 'stats') return runStats(rest);
    throw new UsageError(USAGE);
  },
};
