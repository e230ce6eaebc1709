/**
 * The headline figures of a ledger as text, with what each one means: the ROI dashboard shows them as tiles and
 * `hearth ledger stats` prints them, both from this one function over the same aggregates, so the two always
 * agree and a reader can check one against the other by hand.
 */
import { OUTCOMES } from './ledgerEnums';
import { SUCCESS_RATE_DEFINITION, type BlockedByKey, type GroupStats, type LedgerAggregates } from './ledgerAggregates';

export interface Figure {
  key: 'tasks' | 'successRate' | 'costPerSuccess' | 'latency' | 'acceptance' | 'survival' | 'escalationRate' | 'incidentRate' | 'costAvoided';
  label: string;
  value: string;
  /** What the figure counts and assumes, in words. */
  note: string;
}

export interface OutcomeRow {
  /** `accepted`…`error`, or `blocked: <rule>`. */
  label: string;
  count: number;
  /** Share of all tasks, e.g. `12.5 %`. */
  share: string;
}

export const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
const ms = (v: number | null): string => (v === null ? '–' : v.toFixed(0));

/** Money with enough digits that a local task's fraction of a cent stays visible. */
export function money(v: number | null, currency: string): string {
  return v === null ? '–' : `${v.toFixed(v !== 0 && Math.abs(v) < 0.01 ? 6 : 2)} ${currency}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What "cost avoided" assumes: the reference model and its price, and how local work is priced. */
export function costAssumptions(aggs: LedgerAggregates): string {
  const a = aggs.assumptions;
  const ref = a.frontierPrice
    ? `${a.frontierModel} at ${a.frontierPrice.inputPerMTok} / ${a.frontierPrice.outputPerMTok} ${a.currency} per million input / output tokens`
    : `${a.frontierModel} (no price set)`;
  return `reference model ${ref}; local work at ${a.localWatts} W × time × ${a.energyPricePerKWh} ${a.currency}/kWh`;
}

/** The headline figures of one group (usually the total). */
export function ledgerFigures(aggs: LedgerAggregates, g: GroupStats): Figure[] {
  const cur = aggs.currency;
  const blocked = g.outcomes.blocked;
  const known = g.tasks - g.unknownCostTasks;
  const unknownNote = g.unknownCostTasks
    ? `; ${plural(g.unknownCostTasks, 'task')} (${pct(g.unknownCostShare)}) ha${g.unknownCostTasks === 1 ? 's' : 've'} no price set and ${g.unknownCostTasks === 1 ? 'is' : 'are'} left out`
    : '';
  const costPerSuccess = g.costPerSuccess !== null
    ? money(g.costPerSuccess, cur)
    : g.unknownCostTasks > 0 && g.knownCostSuccesses === 0 && g.successes > 0 ? 'no price set' : '–';
  const a = aggs.assumptions;
  const costAvoided = g.costAvoided !== null ? money(g.costAvoided, cur) : a.frontierPrice ? 'no price set' : `no price set for ${a.frontierModel}`;
  return [
    { key: 'tasks', label: 'tasks', value: String(g.tasks), note: `${g.successes} succeeded, ${blocked} blocked by policy, ${g.outcomes.cancelled} cancelled, ${g.outcomes.error} failed` },
    { key: 'successRate', label: 'success rate', value: pct(g.successRate), note: `${g.successes} of ${g.tasks}; ${SUCCESS_RATE_DEFINITION}` },
    {
      key: 'costPerSuccess',
      label: 'cost per successful task',
      value: costPerSuccess,
      note: `known cost ${money(g.totalCost, cur)} ÷ ${plural(g.knownCostSuccesses, 'success', 'successes')}, over the ${plural(known, 'task')} with a known cost (${plural(blocked, 'policy block')} included, at 0)${unknownNote}`,
    },
    { key: 'latency', label: 'latency p50 / p95 (model time)', value: `${ms(g.latencyP50Ms)} / ${ms(g.latencyP95Ms)} ms`, note: 'model time: request sent → last token; time in dialogs is not latency, and blocked tasks never ran' },
    { key: 'acceptance', label: 'acceptance (count / chars)', value: `${pct(g.acceptanceRate)} / ${pct(g.acceptanceRateByChars)}`, note: `of the ${plural(g.shown, 'result')} shown to the user` },
    // Next to acceptance: accepted text that the user then rewrote was not much of a success.
    { key: 'survival', label: 'accepted text still there (30 s / 5 min)', value: `${pct(g.survival30s)} / ${pct(g.survival5m)}`, note: 'share of accepted completion characters still in the file 30 s and 5 min after acceptance (edit distance), weighted by characters' },
    { key: 'escalationRate', label: 'escalation rate', value: pct(g.escalationRate), note: `${plural(g.escalations, 'escalation')} among completions, chats and escalations` },
    { key: 'incidentRate', label: 'incident rate', value: `${pct(g.incidentRate)} (${g.incidents})`, note: 'incidents flagged ÷ tasks' },
    {
      key: 'costAvoided',
      label: `cost avoided vs ${a.frontierModel}`,
      value: costAvoided,
      note: `over the ${plural(g.costAvoidedTasks, 'task')} where both prices are known (same tokens sent to the reference model, minus the recorded cost); assumes ${costAssumptions(aggs)}`,
    },
  ];
}

const BLOCK_LABELS: Record<BlockedByKey, string> = {
  neverSend: 'neverSend file',
  invalidPolicy: 'invalid policy',
  lane: 'data class not allowed (lane)',
  destination: 'destination not allowed',
  budget: 'over budget',
  untrusted: 'untrusted workspace',
  consent: 'no consent possible',
  unrecorded: 'rule not recorded (schema 1)',
};

/** Tasks by outcome, with blocked tasks split by rule; every outcome listed, zeros included. */
export function outcomeRows(g: GroupStats): OutcomeRow[] {
  const share = (n: number) => pct(g.tasks ? n / g.tasks : null);
  const rows: OutcomeRow[] = [];
  for (const o of OUTCOMES) {
    if (o === 'blocked') continue;
    rows.push({ label: o, count: g.outcomes[o], share: share(g.outcomes[o]) });
  }
  const rules = Object.entries(g.blockedBy) as [BlockedByKey, number][];
  if (rules.length === 0) rows.push({ label: 'blocked by policy', count: 0, share: share(0) });
  for (const [rule, n] of rules.sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))) rows.push({ label: `blocked: ${BLOCK_LABELS[rule]}`, count: n, share: share(n) });
  return rows;
}

/** The figures and outcome rows as the plain text `hearth ledger stats` prints. */
export function figuresText(aggs: LedgerAggregates, g: GroupStats): string[] {
  const out: string[] = [];
  for (const f of ledgerFigures(aggs, g)) out.push(`${f.label}: ${f.value}`, `    ${f.note}`);
  out.push('outcomes:');
  for (const r of outcomeRows(g)) out.push(`    ${r.label.padEnd(40)} ${String(r.count).padStart(8)}  ${r.share.padStart(8)}`);
  return out;
}
