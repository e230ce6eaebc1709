/**
 * `hearth ledger export|verify|stats`: read a workspace ledger without VS Code (a finance or security reviewer's
 * tool). Reads only; never takes the writer lock. Exit codes: 0 the chain is intact (and matches its anchor),
 * 1 a problem was found (or the ledger is missing), 2 a wrong command line. `stats` and `export` exit 1 on a
 * broken chain too, after writing their output, unless `--allow-broken`.
 */
import { readFileSync } from 'node:fs';
import { applyCostOverrides, costModelOverridesSchema } from '../../common/ledger/costModel';
import { DEFAULT_COST_MODEL, findGroup, type CostModel, type GroupStats } from '../../common/ledger/ledgerAggregates';
import { costAssumptions, figuresText } from '../../common/ledger/ledgerFigures';
import { clearAnchorLoss } from '../ledger/ledgerAnchor';
import { DEFAULT_LEDGER_PATH } from '../ledger/ledgerFiles';
import { analyseLedger, chainStatusOf, EXPORT_FORMATS, exportLedger, type ExportFormat } from '../ledger/ledgerExport';
import { assertLedgerExists, verifyLedger, type LedgerVerifyReport } from '../ledger/verifyLedger';
import { parseCommandArgs, pathFlag, UsageError, type CliCommand } from './args';

const EXPORT_USAGE = 'hearth ledger export --format csv|json|html [--out FILE] [--ledger PATH] [--costs FILE] [--allow-broken]';
const VERIFY_USAGE = 'hearth ledger verify [--ledger PATH] [--json] [--accept-loss]';
const STATS_USAGE = 'hearth ledger stats [--ledger PATH] [--costs FILE] [--json] [--allow-broken]';
const USAGE = [EXPORT_USAGE, '       ' + VERIFY_USAGE, '       ' + STATS_USAGE].join('\n');

function costModel(file: string | undefined, usage: string): CostModel {
  if (!file) return DEFAULT_COST_MODEL;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--costs ${file}: ${code === 'ENOENT' ? 'no such file' : err instanceof SyntaxError ? `not valid JSON (${err.message})` : (err as Error).message}`, usage);
  }
  const parsed = costModelOverridesSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--costs ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, usage);
  return applyCostOverrides(parsed.data);
}

/** One line per chain problem, for stderr; empty when the chain is intact and anchored. */
function chainWarnings(ledger: string, r: LedgerVerifyReport): string[] {
  const out: string[] = [];
  if (!r.ok) out.push(`warning: the ledger ${ledger} is NOT intact (${r.problem!.kind}): ${r.problem!.message}`);
  if (r.skipped.length) out.push(`warning: ${r.skipped.length} line(s) of ${ledger} are not records (torn writes), first at ${r.skipped[0]!.file}:${r.skipped[0]!.line}: a record may have been lost there`);
  if (r.ok && r.anchor.status === 'none') out.push(`note: no anchor for ${ledger} on this machine: records cut from its end could not be detected`);
  return out;
}

/** 0 when intact with nothing skipped; 1 otherwise unless the user accepted a broken chain. */
function chainExit(r: LedgerVerifyReport, allowBroken: boolean | undefined): number {
  return r.ok && r.skipped.length === 0 ? 0 : allowBroken ? 0 : 1;
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
  const { values } = parseCommandArgs(argv, { format: { type: 'string' }, out: { type: 'string' }, ledger: { type: 'string' }, costs: { type: 'string' }, 'allow-broken': { type: 'boolean' } }, EXPORT_USAGE);
  const format = values.format as ExportFormat | undefined;
  if (!format) throw new UsageError('--format is required', EXPORT_USAGE);
  if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format ${format}: expected one of ${EXPORT_FORMATS.join(', ')}`, EXPORT_USAGE);
  const ledger = pathFlag(values.ledger ?? DEFAULT_LEDGER_PATH)!;
  const outFile = pathFlag(values.out);
  const cost = costModel(values.costs, EXPORT_USAGE);
  await assertLedgerExists(ledger);
  const summary = await exportLedger(ledger, format, outFile ?? process.stdout, { cost, title: ledger });
  for (const s of summary.skipped.slice(0, 10)) process.stderr.write(`skipped ${s.file}:${s.line}: ${s.reason}\n`);
  if (summary.skipped.length > 10) process.stderr.write(`… and ${summary.skipped.length - 10} more skipped line(s)\n`);
  const chain = summary.chain!;
  process.stderr.write(`exported ${summary.records} records as ${format}${outFile ? ` to ${outFile}` : ''}; chain ${chainStatusOf(chain)}\n`);
  for (const w of chainWarnings(ledger, chain)) process.stderr.write(w + '\n');
  const code = chainExit(chain, values['allow-broken']);
  if (code) process.stderr.write('the export was written, but the ledger has a problem: exit 1 (pass --allow-broken to accept it)\n');
  return code;
}

async function runVerify(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { ledger: { type: 'string' }, json: { type: 'boolean' }, 'accept-loss': { type: 'boolean' } }, VERIFY_USAGE);
  const ledger = pathFlag(values.ledger ?? DEFAULT_LEDGER_PATH)!;
  if (values['accept-loss']) {
    const cleared = clearAnchorLoss(ledger);
    process.stderr.write(cleared ? `the recorded loss of ${ledger} was acknowledged; checking again\n` : `no recorded loss for ${ledger}\n`);
  }
  const report = await verifyLedger(ledger);
  const code = chainExit(report, false);
  if (values.json) {
    process.stdout.write(JSON.stringify({ ...report, status: chainStatusOf(report) }, null, 2) + '\n');
    return code;
  }
  if (report.problem?.kind !== 'not-ledger') {
    for (const s of report.skipped.slice(0, 10)) process.stdout.write(`skipped ${s.file}:${s.line}: ${s.reason}\n`);
    if (report.skipped.length > 10) process.stdout.write(`… and ${report.skipped.length - 10} more skipped line(s)\n`);
  }
  const anchor = report.anchor.status === 'matches' ? `; matches its anchor (seq ${report.anchor.seq}, ${report.anchor.time})` : report.anchor.status === 'none' ? '; no anchor on this machine (a cut end cannot be detected)' : '';
  if (report.ok) {
    const torn = report.skipped.length ? `, but ${report.skipped.length} torn line(s): a write was interrupted and its record may be lost` : '';
    process.stdout.write(`${torn ? 'INCOMPLETE' : 'ok'}: ${report.records} records in ${report.segments.length} segment(s), chain intact${anchor}${torn}; head seq ${report.headSeq} ${report.headHash}\n`);
    return code;
  }
  process.stdout.write(`BROKEN (${report.problem!.kind}) at ${report.problem!.file}${report.problem!.line ? `:${report.problem!.line}` : ''}\n  ${report.problem!.message}\n`);
  return 1;
}

async function runStats(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { ledger: { type: 'string' }, costs: { type: 'string' }, json: { type: 'boolean' }, 'allow-broken': { type: 'boolean' } }, STATS_USAGE);
  const ledger = pathFlag(values.ledger ?? DEFAULT_LEDGER_PATH)!;
  const cost = costModel(values.costs, STATS_USAGE);
  await assertLedgerExists(ledger);
  const { aggregates, verify } = await analyseLedger(ledger, cost);
  const code = chainExit(verify, values['allow-broken']);
  for (const w of chainWarnings(ledger, verify)) process.stderr.write(w + '\n');
  if (values.json) {
    process.stdout.write(JSON.stringify({ chainStatus: chainStatusOf(verify), aggregates, verify }, null, 2) + '\n');
    return code;
  }
  const out: string[] = [];
  out.push(`${aggregates.records} records; chain ${verify.ok ? chainStatusOf(verify) : `BROKEN: ${verify.problem!.message}`}; costs in ${aggregates.currency}, cost avoided vs ${aggregates.frontierModel}`);
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
  return code;
}

export const ledgerCommand: CliCommand = {
  name: 'ledger',
  summary: 'export (CSV, JSON, HTML report), verify the hash chain (and its anchor) of, or summarise a workspace ledger',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'export') return runExport(rest);
    if (sub === 'verify') return runVerify(rest);
    if (sub === 'stats') return runStats(rest);
    if (sub === '--help' || sub === '-h') {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    throw new UsageError(sub === undefined ? 'missing subcommand (export, verify or stats)' : `unknown subcommand "${sub}" (expected export, verify or stats)`, USAGE);
  },
};
