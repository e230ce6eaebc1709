/**
 * Aggregates over the ledger, streamed (one record at a time): the four measures practitioners use — task
 * success rate, cost per successful task, p50/p95 latency, incident rate — plus escalation rate, acceptance
 * rate by count and by characters, and cost avoided versus sending every task to the frontier model.
 *
 * Honest by construction: outcomes are counted one by one (blocks by rule too), a task whose cost is unknown
 * (no price set) is left out of the cost figures and counted as such rather than priced at 0, "cost avoided"
 * covers only tasks where both prices are known, and latency is model time, never time spent in a dialog.
 */
import { BLOCKED_BY, OUTCOMES, type Outcome } from './ledgerEnums';
import type { Lane, LedgerRecord, TaskRecord } from './ledgerRecord';

/** Price of a cloud (or team) model per million tokens, in the cost model's currency. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** Everything that turns tokens and time into money; from settings. */
export interface CostModel {
  currency: string;
  /** Cloud and team price table by model name. A model without an entry has an unknown cost ("no price set"). */
  prices: Record<string, ModelPrice>;
  /** Power drawn by this machine while the local model runs. */
  localWatts: number;
  energyPricePerKWh: number;
  /** The model "send everything to the frontier" is measured against; must be in `prices`. */
  frontierModel: string;
}

export const DEFAULT_COST_MODEL: CostModel = {
  currency: 'USD',
  prices: {
    'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 },
    'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
    'claude-sonnet-4': { inputPerMTok: 3, outputPerMTok: 15 },
  },
  localWatts: 30,
  energyPricePerKWh: 0.3,
  frontierModel: 'claude-sonnet-4',
};

function tokenCost(price: ModelPrice, tokensIn: number, tokensOut: number): number {
  return (tokensIn * price.inputPerMTok + tokensOut * price.outputPerMTok) / 1e6;
}

/**
 * Cost of one task, or undefined when it is unknown: the cost recorded with it when there is one (what the
 * budget saw at the time), else from the cost model: the price table for team and frontier destinations (a
 * remote task that sent no tokens cost 0), energy (watts × time × price) locally.
 */
export function taskCost(r: TaskRecord, cost: CostModel): number | undefined {
  if (r.estimatedCost !== undefined) return r.estimatedCost;
  const dest = r.destination ?? (r.lane === 'escalation' ? 'frontier' : 'local');
  if (dest !== 'local') {
    const price = cost.prices[r.model];
    if (price) return tokenCost(price, r.tokensIn, r.tokensOut);
    return r.tokensIn === 0 && r.tokensOut === 0 ? 0 : undefined;
  }
  return (cost.localWatts * (r.totalMs / 3_600_000) / 1000) * cost.energyPricePerKWh;
}

/** What the same task would have cost on the frontier model (same tokens); undefined without its price. */
export function frontierCost(r: TaskRecord, cost: CostModel): number | undefined {
  const price = cost.prices[cost.frontierModel];
  return price ? tokenCost(price, r.tokensIn, r.tokensOut) : undefined;
}

/**
 * The task's latency as model time, or null when there is none to count: an escalation's `modelMs` (request
 * sent → last token); other lanes' `totalMs` (no dialog sits inside them). A schema-1 escalation's `totalMs`
 * included the time the user spent in the warning, so it is left out rather than misread.
 */
export function modelTimeMs(r: TaskRecord): number | null {
  if (r.outcome === 'blocked') return null;
  if (r.modelMs !== undefined) return r.modelMs;
  return r.lane === 'escalation' ? null : r.totalMs;
}

/** What "success rate" means, printed next to it on the dashboard, in the report and by `ledger stats`. */
export const SUCCESS_RATE_DEFINITION =
  'success rate = tasks accepted whole or in part ÷ all tasks, blocked, cancelled and failed ones included (a policy block counts as a task that did not succeed)';

/** Success: the user kept the result, whole or in part. */
export function isSuccess(r: TaskRecord): boolean {
  return r.outcome === 'accepted' || r.outcome === 'partial';
}

/** Shown to the user (the denominator of acceptance rate): not cancelled, failed or blocked before showing. */
export function wasShown(r: TaskRecord): boolean {
  return r.outcome === 'accepted' || r.outcome === 'partial' || r.outcome === 'rejected' || r.outcome === 'ignored';
}

/** ISO 8601 week of a timestamp, e.g. `2025-W03` (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeek(time: string | Date): string {
  const d = new Date(typeof time === 'string' ? Date.parse(time) : time.getTime());
  const day = d.getUTCDay() || 7;
  // The Thursday of this week decides the year.
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 4 - day);
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / 86_400_000 / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** `*` in a key means "all": `{lane:'*', model:'*', week:'2025-W03'}` is that week across lanes and models. */
export interface GroupKey {
  lane: Lane | '*';
  model: string;
  week: string;
}

/** `blockedBy` of blocked tasks; `unrecorded` for records written before the ledger named the rule (schema 1). */
export type BlockedByKey = (typeof BLOCKED_BY)[number] | 'unrecorded';

export interface GroupStats extends GroupKey {
  tasks: number;
  successes: number;
  successRate: number | null;
  /** Tasks by outcome (every outcome present, zeros included). */
  outcomes: Record<Outcome, number>;
  /** Blocked tasks by the rule that blocked them (only the rules seen). */
  blockedBy: Partial<Record<BlockedByKey, number>>;
  /** Sum of the known costs. */
  totalCost: number;
  /** Known cost ÷ successes among the tasks whose cost is known (blocked ones included: they cost 0). */
  costPerSuccess: number | null;
  /** Tasks whose cost is unknown (no price set), left out of the cost figures, and their share of all tasks. */
  unknownCostTasks: number;
  unknownCostShare: number | null;
  /** Successes among the tasks whose cost is known (the denominator of costPerSuccess). */
  knownCostSuccesses: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
  escalations: number;
  escalationRate: number | null;
  incidents: number;
  incidentRate: number | null;
  shown: number;
  acceptanceRate: number | null;
  charsSuggested: number;
  charsAccepted: number;
  acceptanceRateByChars: number | null;
  linesAccepted: number;
  /** Share of accepted characters still in the file 30 s / 5 min later (weighted by characters accepted). */
  survival30s: number | null;
  survival5m: number | null;
  tokensIn: number;
  tokensOut: number;
  /** What the tasks counted in costAvoided would have cost on the frontier model. */
  frontierCost: number;
  /** Frontier cost − own cost over the tasks where both are known; null when there is none. */
  costAvoided: number | null;
  /** How many tasks costAvoided covers. */
  costAvoidedTasks: number;
}

/** What the cost figures assume, printed beside them. */
export interface CostAssumptions {
  currency: string;
  frontierModel: string;
  /** The reference model's price; null: not set, so "cost avoided" cannot be computed. */
  frontierPrice: ModelPrice | null;
  localWatts: number;
  energyPricePerKWh: number;
}

export interface LedgerAggregates {
  currency: string;
  frontierModel: string;
  assumptions: CostAssumptions;
  records: number;
  /** Every (lane, model, week) with its roll-ups; sorted by week, lane, model. */
  groups: GroupStats[];
}

/** A growable Float64Array: a million latencies cost 8 MB, not a million boxed numbers. */
class Samples {
  private buf = new Float64Array(64);
  private n = 0;
  add(v: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = v;
  }
  /** Nearest-rank percentile (the value at rank ⌈p·n⌉), so small ledgers can be checked by hand. */
  percentile(p: number): number | null {
    if (this.n === 0) return null;
    const sorted = this.buf.subarray(0, this.n).sort();
    return sorted[Math.max(0, Math.ceil(p * this.n) - 1)]!;
  }
}

class Acc {
  tasks = 0;
  successes = 0;
  outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  blockedBy: Partial<Record<BlockedByKey, number>> = {};
  totalCost = 0;
  unknownCost = 0;
  knownCostSuccesses = 0;
  costAvoided = 0;
  costAvoidedTasks = 0;
  latency = new Samples();
  ttft = new Samples();
  escalations = 0;
  incidents = 0;
  shown = 0;
  acceptedShown = 0;
  charsSuggested = 0;
  charsAccepted = 0;
  linesAccepted = 0;
  survived30s = 0;
  measured30s = 0;
  survived5m = 0;
  measured5m = 0;
  tokensIn = 0;
  tokensOut = 0;
  frontierCost = 0;
  /** Tasks that count toward escalation rate (completion, chat, escalation). */
  userTasks = 0;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/**
 * Streaming aggregator: {@link add} each record, then {@link result}. Groups: (lane, model, week) and the
 * roll-ups (lane, *, week), (lane, *, *), (*, model, *), (*, *, week), (*, *, *). Benchmark runs are synthetic, so they get
 * their own lane rows but stay out of the cross-lane roll-ups.
 */
export class LedgerAggregator {
  private readonly groups = new Map<string, { key: GroupKey; acc: Acc }>();
  private records = 0;

  constructor(private readonly cost: CostModel = DEFAULT_COST_MODEL) {}

  private readonly weeks = new Map<string, string>();
  /** Records written by Hearth are in UTC (`…Z`), so the week depends on the date alone: cache by date. */
  private week(time: string): string {
    if (!time.endsWith('Z')) return isoWeek(time);
    const day = time.slice(0, 10);
    let w = this.weeks.get(day);
    if (w === undefined) this.weeks.set(day, (w = isoWeek(time)));
    return w;
  }

  private accs(lane: Lane, model: string, week: string): Acc[] {
    const keys: GroupKey[] = [{ lane, model, week }, { lane, model: '*', week }, { lane, model: '*', week: '*' }];
    if (lane !== 'benchmark') keys.push({ lane: '*', model, week: '*' }, { lane: '*', model: '*', week }, { lane: '*', model: '*', week: '*' });
    return keys.map((k) => {
      const id = `${k.lane}\u0000${k.model}\u0000${k.week}`;
      let g = this.groups.get(id);
      if (!g) this.groups.set(id, (g = { key: k, acc: new Acc() }));
      return g.acc;
    });
  }

  add(r: LedgerRecord): void {
    this.records++;
    const accs = this.accs(r.lane, r.model, this.week(r.time));
    if (r.kind === 'incident') {
      for (const a of accs) a.incidents++;
      return;
    }
    const c = taskCost(r, this.cost);
    const fc = frontierCost(r, this.cost);
    const success = isSuccess(r);
    const shown = wasShown(r);
    const latency = modelTimeMs(r);
    const blockedBy: BlockedByKey | undefined = r.outcome === 'blocked' ? r.blockedBy ?? 'unrecorded' : undefined;
    for (const a of accs) {
      a.tasks++;
      if (success) a.successes++;
      a.outcomes[r.outcome]++;
      if (blockedBy) a.blockedBy[blockedBy] = (a.blockedBy[blockedBy] ?? 0) + 1;
      if (c === undefined) a.unknownCost++;
      else {
        a.totalCost += c;
        if (success) a.knownCostSuccesses++;
        if (fc !== undefined) {
          a.frontierCost += fc;
          a.costAvoided += fc - c;
          a.costAvoidedTasks++;
        }
      }
      if (latency !== null) a.latency.add(latency);
      if (r.timeToFirstTokenMs != null) a.ttft.add(r.timeToFirstTokenMs);
      if (r.lane !== 'benchmark') a.userTasks++;
      if (r.lane === 'escalation') a.escalations++;
      if (r.incident) a.incidents++;
      if (shown) {
        a.shown++;
        if (success) a.acceptedShown++;
        a.charsSuggested += r.charsSuggested ?? 0;
        a.charsAccepted += r.charsAccepted ?? 0;
      }
      a.linesAccepted += r.linesAccepted ?? 0;
      if (r.survival30s !== undefined && r.charsAccepted) {
        a.survived30s += r.survival30s * r.charsAccepted;
        a.measured30s += r.charsAccepted;
      }
      if (r.survival5m !== undefined && r.charsAccepted) {
        a.survived5m += r.survival5m * r.charsAccepted;
        a.measured5m += r.charsAccepted;
      }
      a.tokensIn += r.tokensIn;
      a.tokensOut += r.tokensOut;
    }
  }

  result(): LedgerAggregates {
    const order = (s: string) => (s === '*' ? '\uffff' : s);
    const groups = [...this.groups.values()].map(({ key, acc: a }): GroupStats => ({
      ...key,
      tasks: a.tasks,
      successes: a.successes,
      successRate: ratio(a.successes, a.tasks),
      outcomes: { ...a.outcomes },
      blockedBy: { ...a.blockedBy },
      totalCost: a.totalCost,
      costPerSuccess: ratio(a.totalCost, a.knownCostSuccesses),
      unknownCostTasks: a.unknownCost,
      unknownCostShare: ratio(a.unknownCost, a.tasks),
      knownCostSuccesses: a.knownCostSuccesses,
      latencyP50Ms: a.latency.percentile(0.5),
      latencyP95Ms: a.latency.percentile(0.95),
      ttftP50Ms: a.ttft.percentile(0.5),
      ttftP95Ms: a.ttft.percentile(0.95),
      escalations: a.escalations,
      escalationRate: ratio(a.escalations, a.userTasks),
      incidents: a.incidents,
      incidentRate: ratio(a.incidents, a.tasks),
      shown: a.shown,
      acceptanceRate: ratio(a.acceptedShown, a.shown),
      charsSuggested: a.charsSuggested,
      charsAccepted: a.charsAccepted,
      acceptanceRateByChars: ratio(a.charsAccepted, a.charsSuggested),
      linesAccepted: a.linesAccepted,
      survival30s: ratio(a.survived30s, a.measured30s),
      survival5m: ratio(a.survived5m, a.measured5m),
      tokensIn: a.tokensIn,
      tokensOut: a.tokensOut,
      frontierCost: a.frontierCost,
      costAvoided: a.costAvoidedTasks > 0 ? a.costAvoided : null,
      costAvoidedTasks: a.costAvoidedTasks,
    }));
    groups.sort((x, y) => order(x.week).localeCompare(order(y.week)) || order(x.lane).localeCompare(order(y.lane)) || order(x.model).localeCompare(order(y.model)));
    const c = this.cost;
    const assumptions: CostAssumptions = { currency: c.currency, frontierModel: c.frontierModel, frontierPrice: c.prices[c.frontierModel] ?? null, localWatts: c.localWatts, energyPricePerKWh: c.energyPricePerKWh };
    return { currency: c.currency, frontierModel: c.frontierModel, assumptions, records: this.records, groups };
  }
}

/** Aggregates an in-memory list (small ledgers, tests). */
export function aggregate(records: Iterable<LedgerRecord>, cost: CostModel = DEFAULT_COST_MODEL): LedgerAggregates {
  const agg = new LedgerAggregator(cost);
  for (const r of records) agg.add(r);
  return agg.result();
}

/** Finds one group, e.g. `find(aggs, {lane:'*', model:'*', week:'*'})` for the totals. */
export function findGroup(aggs: LedgerAggregates, key: Partial<GroupKey>): GroupStats | undefined {
  const k = { lane: '*', model: '*', week: '*', ...key };
  return aggs.groups.find((g) => g.lane === k.lane && g.model === k.model && g.week === k.week);
}
