/**
 * OpenTelemetry payloads for the ledger (OTLP/HTTP, JSON encoding: the protobuf JSON mapping with lowerCamelCase
 * names, 64-bit integers as decimal strings, enums as numbers). Pure builders; the POST is in
 * `node/ledger/otlpExport.ts`.
 *
 * Logs: one log record per ledger record, with counts, timings, outcome and cost as attributes. Metrics:
 * cumulative sums (tasks, incidents, tokens, characters, cost, cost avoided) and latency histograms per lane and
 * model, from the start of the ledger, so exporting the whole ledger again gives the same series (idempotent for
 * a collector). Never any code, prompt or answer text: the record's `text` field is not read.
 */
import { frontierCost, modelTimeMs, taskCost, type CostModel } from './ledgerAggregates';
import type { LedgerRecord, TaskRecord } from './ledgerRecord';

export type OtlpAnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

export interface OtlpLogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: { stringValue: string };
  attributes: OtlpKeyValue[];
}

export interface OtlpResource {
  attributes: OtlpKeyValue[];
}

export interface OtlpScope {
  name: string;
  version: string;
}

export interface OtlpLogsPayload {
  resourceLogs: { resource: OtlpResource; scopeLogs: { scope: OtlpScope; logRecords: OtlpLogRecord[] }[] }[];
}

export interface OtlpNumberDataPoint {
  attributes: OtlpKeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  asInt?: string;
  asDouble?: number;
}

export interface OtlpHistogramDataPoint {
  attributes: OtlpKeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  count: string;
  sum: number;
  min: number;
  max: number;
  bucketCounts: string[];
  explicitBounds: number[];
}

export interface OtlpMetric {
  name: string;
  description: string;
  unit: string;
  sum?: { dataPoints: OtlpNumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean };
  gauge?: { dataPoints: OtlpNumberDataPoint[] };
  histogram?: { dataPoints: OtlpHistogramDataPoint[]; aggregationTemporality: number };
}

export interface OtlpMetricsPayload {
  resourceMetrics: { resource: OtlpResource; scopeMetrics: { scope: OtlpScope; metrics: OtlpMetric[] }[] }[];
}

/** `AGGREGATION_TEMPORALITY_CUMULATIVE` in the OTLP proto. */
export const AGGREGATION_TEMPORALITY_CUMULATIVE = 2;

/** OTLP severity numbers (the proto's `SeverityNumber`). */
export const SEVERITY = { INFO: 9, WARN: 13, ERROR: 17 } as const;

/** Latency buckets (ms): a completion lives in the first few, a cloud escalation in the last. */
export const LATENCY_BOUNDS_MS = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];

/** Who sends: goes into every payload's resource. */
export interface OtlpSource {
  serviceVersion: string;
  /** The ledger's opaque workspace id (never a path). */
  workspace: string;
  /**
   * The ledger's head and chain status when the batch was sent: a collector that keeps these can tell later
   * whether records were cut from the ledger's end (the anchor travels off the machine).
   */
  chain?: { status: string; headSeq: number; headHash: string };
}

const str = (key: string, v: string): OtlpKeyValue => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): OtlpKeyValue => ({ key, value: { intValue: String(Math.round(v)) } });
const dbl = (key: string, v: number): OtlpKeyValue => ({ key, value: { doubleValue: v } });

/** ISO time → nanoseconds since the epoch, as the decimal string OTLP JSON wants. */
export function unixNano(time: string | Date): string {
  const ms = typeof time === 'string' ? Date.parse(time) : time.getTime();
  return (BigInt(Math.round(ms)) * 1_000_000n).toString();
}

export function otlpResource(src: OtlpSource): OtlpResource {
  const attributes = [str('service.name', 'hearth'), str('service.version', src.serviceVersion), str('hearth.workspace', src.workspace)];
  if (src.chain) attributes.push(str('hearth.ledger.chain_status', src.chain.status), int('hearth.ledger.head_seq', src.chain.headSeq), str('hearth.ledger.head_hash', src.chain.headHash));
  return { attributes };
}

export function otlpScope(src: OtlpSource): OtlpScope {
  return { name: 'hearth.ledger', version: src.serviceVersion };
}

/** One ledger record as an OTLP log record. Attribute names follow the GenAI semantic conventions where one fits. */
export function otlpLogRecord(r: LedgerRecord, observed: string, cost: CostModel): OtlpLogRecord {
  const attrs: OtlpKeyValue[] = [
    str('event.name', r.kind === 'task' ? 'hearth.task' : 'hearth.incident'),
    str('hearth.record.id', r.id),
    int('hearth.record.seq', r.seq),
    str('hearth.record.prev_hash', r.prevHash),
    str('hearth.lane', r.lane),
    str('gen_ai.request.model', r.model),
  ];
  if (r.kind === 'incident') {
    attrs.push(str('hearth.incident', r.incident), str('hearth.refers_to', r.refersTo));
    return { timeUnixNano: unixNano(r.time), observedTimeUnixNano: observed, severityNumber: SEVERITY.WARN, severityText: 'WARN', body: { stringValue: `incident ${r.incident} flagged on ${r.lane} task` }, attributes: attrs };
  }
  attrs.push(
    str('hearth.outcome', r.outcome),
    int('gen_ai.usage.input_tokens', r.tokensIn),
    int('gen_ai.usage.output_tokens', r.tokensOut),
    dbl('hearth.duration_ms', r.totalMs),
    str('hearth.currency', cost.currency),
  );
  // An unknown cost (no price set) is left out, never sent as 0.
  const known = taskCost(r, cost);
  if (known !== undefined) attrs.push(dbl('hearth.cost', known));
  if (r.timeToFirstTokenMs != null) attrs.push(dbl('hearth.ttft_ms', r.timeToFirstTokenMs));
  if (r.backend) attrs.push(str('hearth.backend', r.backend));
  if (r.quantization) attrs.push(str('hearth.quantization', r.quantization));
  if (r.machineProfileId) attrs.push(str('hearth.machine_profile', r.machineProfileId));
  if (r.threads !== undefined) attrs.push(int('hearth.threads', r.threads));
  if (r.lookupAcceptance !== undefined) attrs.push(dbl('hearth.lookup_acceptance', r.lookupAcceptance));
  if (r.charsSuggested !== undefined) attrs.push(int('hearth.chars_suggested', r.charsSuggested));
  if (r.charsAccepted !== undefined) attrs.push(int('hearth.chars_accepted', r.charsAccepted));
  if (r.linesAccepted !== undefined) attrs.push(int('hearth.lines_accepted', r.linesAccepted));
  if (r.destination) attrs.push(str('hearth.destination', r.destination));
  if (r.provider) attrs.push(str('gen_ai.system', r.provider));
  for (const [category, n] of Object.entries(r.redactions ?? {})) attrs.push(int(`hearth.redactions.${category}`, n));
  if (r.incident) attrs.push(str('hearth.incident', r.incident));
  const severity = r.outcome === 'error' ? SEVERITY.ERROR : r.incident ? SEVERITY.WARN : SEVERITY.INFO;
  return {
    timeUnixNano: unixNano(r.time),
    observedTimeUnixNano: observed,
    severityNumber: severity,
    severityText: severity === SEVERITY.ERROR ? 'ERROR' : severity === SEVERITY.WARN ? 'WARN' : 'INFO',
    body: { stringValue: `${r.lane} task ${r.outcome}` },
    attributes: attrs,
  };
}

/** A logs request body for a batch of records. */
export function otlpLogsPayload(records: readonly LedgerRecord[], src: OtlpSource, cost: CostModel, now: Date = new Date()): OtlpLogsPayload {
  const observed = unixNano(now);
  return {
    resourceLogs: [{ resource: otlpResource(src), scopeLogs: [{ scope: otlpScope(src), logRecords: records.map((r) => otlpLogRecord(r, observed, cost)) }] }],
  };
}

class Histogram {
  readonly buckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  add(v: number): void {
    let i = 0;
    // Bucket i holds (bounds[i-1], bounds[i]]: upper bounds are inclusive in OTLP.
    while (i < LATENCY_BOUNDS_MS.length && v > LATENCY_BOUNDS_MS[i]!) i++;
    this.buckets[i]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
}

interface Series {
  lane: string;
  model: string;
  tasks: Map<string, number>;
  incidents: Map<string, number>;
  tokensIn: number;
  tokensOut: number;
  charsSuggested: number;
  charsAccepted: number;
  linesAccepted: number;
  cost: number;
  costAvoided: number;
  duration: Histogram;
  ttft: Histogram;
}

/**
 * Streaming metrics: {@link add} each record, then {@link payload}. One series per (lane, model); costs use the
 * same rules as the aggregates (`taskCost`, `frontierCost`), so the totals match the ROI report's.
 */
export class OtlpMetricsAccumulator {
  private readonly series = new Map<string, Series>();
  private first: string | undefined;
  private records = 0;

  constructor(private readonly cost: CostModel) {}

  private get(lane: string, model: string): Series {
    const key = `${lane}\u0000${model}`;
    let s = this.series.get(key);
    if (!s) {
      s = { lane, model, tasks: new Map(), incidents: new Map(), tokensIn: 0, tokensOut: 0, charsSuggested: 0, charsAccepted: 0, linesAccepted: 0, cost: 0, costAvoided: 0, duration: new Histogram(), ttft: new Histogram() };
      this.series.set(key, s);
    }
    return s;
  }

  add(r: LedgerRecord): void {
    this.records++;
    if (this.first === undefined || r.time < this.first) this.first = r.time;
    const s = this.get(r.lane, r.model);
    if (r.kind === 'incident') {
      s.incidents.set(r.incident, (s.incidents.get(r.incident) ?? 0) + 1);
      return;
    }
    this.addTask(s, r);
  }

  private addTask(s: Series, r: TaskRecord): void {
    s.tasks.set(r.outcome, (s.tasks.get(r.outcome) ?? 0) + 1);
    if (r.incident) s.incidents.set(r.incident, (s.incidents.get(r.incident) ?? 0) + 1);
    s.tokensIn += r.tokensIn;
    s.tokensOut += r.tokensOut;
    s.charsSuggested += r.charsSuggested ?? 0;
    s.charsAccepted += r.charsAccepted ?? 0;
    s.linesAccepted += r.linesAccepted ?? 0;
    // Known costs only, and cost avoided where both prices are known: the same rule as the aggregates.
    const c = taskCost(r, this.cost);
    const fc = frontierCost(r, this.cost);
    if (c !== undefined) s.cost += c;
    if (c !== undefined && fc !== undefined) s.costAvoided += fc - c;
    // As in the aggregates: model time only (a blocked task never ran; a dialog is not latency).
    const latency = modelTimeMs(r);
    if (latency !== null) s.duration.add(latency);
    if (r.timeToFirstTokenMs != null) s.ttft.add(r.timeToFirstTokenMs);
  }

  /** The metrics request body; `now` is the end of every cumulative series, the ledger's first record its start. */
  payload(src: OtlpSource, now: Date = new Date()): OtlpMetricsPayload {
    const start = this.first ? unixNano(this.first) : unixNano(now);
    const time = unixNano(now);
    const series = [...this.series.values()].sort((a, b) => a.lane.localeCompare(b.lane) || a.model.localeCompare(b.model));
    const base = (s: Series) => [str('hearth.lane', s.lane), str('gen_ai.request.model', s.model)];
    const intPoint = (attributes: OtlpKeyValue[], v: number): OtlpNumberDataPoint => ({ attributes, startTimeUnixNano: start, timeUnixNano: time, asInt: String(v) });
    const dblPoint = (attributes: OtlpKeyValue[], v: number): OtlpNumberDataPoint => ({ attributes, startTimeUnixNano: start, timeUnixNano: time, asDouble: v });
    const sum = (name: string, description: string, unit: string, dataPoints: OtlpNumberDataPoint[], isMonotonic = true): OtlpMetric => ({
      name, description, unit, sum: { dataPoints, aggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE, isMonotonic },
    });
    const hist = (name: string, description: string, pick: (s: Series) => Histogram): OtlpMetric => ({
      name, description, unit: 'ms',
      histogram: {
        aggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE,
        dataPoints: series.filter((s) => pick(s).count > 0).map((s) => {
          const h = pick(s);
          return { attributes: base(s), startTimeUnixNano: start, timeUnixNano: time, count: String(h.count), sum: h.sum, min: h.min, max: h.max, bucketCounts: h.buckets.map(String), explicitBounds: LATENCY_BOUNDS_MS };
        }),
      },
    });
    const currencyUnit = `{${this.cost.currency}}`;
    const metrics: OtlpMetric[] = [
      sum('hearth.ledger.tasks', 'Tasks recorded in the ledger, by outcome', '{task}',
        series.flatMap((s) => [...s.tasks].sort().map(([outcome, n]) => intPoint([...base(s), str('hearth.outcome', outcome)], n)))),
      sum('hearth.ledger.incidents', 'Incidents flagged, by category', '{incident}',
        series.flatMap((s) => [...s.incidents].sort().map(([category, n]) => intPoint([...base(s), str('hearth.incident', category)], n)))),
      sum('hearth.ledger.tokens', 'Tokens in and out', '{token}',
        series.filter((s) => s.tasks.size).flatMap((s) => [intPoint([...base(s), str('gen_ai.token.type', 'input')], s.tokensIn), intPoint([...base(s), str('gen_ai.token.type', 'output')], s.tokensOut)])),
      sum('hearth.ledger.chars', 'Characters suggested and accepted', '{char}',
        series.filter((s) => s.tasks.size).flatMap((s) => [intPoint([...base(s), str('hearth.chars.kind', 'suggested')], s.charsSuggested), intPoint([...base(s), str('hearth.chars.kind', 'accepted')], s.charsAccepted)])),
      sum('hearth.ledger.lines_accepted', 'Lines accepted', '{line}', series.filter((s) => s.tasks.size).map((s) => intPoint(base(s), s.linesAccepted))),
      sum('hearth.ledger.cost', `Estimated cost (${this.cost.currency}; local: energy)`, currencyUnit, series.filter((s) => s.tasks.size).map((s) => dblPoint(base(s), s.cost))),
      sum(`hearth.ledger.cost_avoided`, `Estimated cost avoided versus sending every task to ${this.cost.frontierModel}`, currencyUnit,
        series.filter((s) => s.tasks.size).map((s) => dblPoint([...base(s), str('hearth.frontier_model', this.cost.frontierModel)], s.costAvoided)), false),
      hist('hearth.ledger.task.duration', 'Task latency, start to end', (s) => s.duration),
      hist('hearth.ledger.task.ttft', 'Time to first token', (s) => s.ttft),
      { name: 'hearth.ledger.records', description: 'Records in the ledger (tasks and incident flags)', unit: '{record}', gauge: { dataPoints: [{ attributes: [], startTimeUnixNano: start, timeUnixNano: time, asInt: String(this.records) }] } },
    ];
    return {
      resourceMetrics: [{ resource: otlpResource(src), scopeMetrics: [{ scope: otlpScope(src), metrics: metrics.filter((m) => (m.sum ?? m.gauge ?? m.histogram)!.dataPoints.length > 0) }] }],
    };
  }
}
