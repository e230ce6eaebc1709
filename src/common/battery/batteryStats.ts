/**
 * The battery's scores: per-task results, a candidate's scorecard (quality, cost per success, latency,
 * throughput), paired bootstrap intervals so a difference inside the noise is a tie, the recommendation (the
 * cheapest candidate within a quality margin of the best), calibration of success against confidence with the
 * routing threshold it recommends, and the comparison with a saved baseline. Pure.
 */
import { z } from 'zod';
import { mulberry32 } from '../random';
import { TASK_KINDS } from './batteryTask';

export const taskResultSchema = z.strictObject({
  taskId: z.string(),
  kind: z.enum(TASK_KINDS),
  language: z.string(),
  proposal: z.string(),
  /** Proposal equals the expected text (trailing whitespace aside): the battery's success. */
  exact: z.boolean(),
  editSimilarity: z.number().min(0).max(1),
  /** Share of the expected text the proposal gets right from its start (1 when exact): the quality figure. */
  acceptedShare: z.number().min(0).max(1),
  /** The filled window parses no worse than with the expected text; null where not checked (see parseCheck). */
  parses: z.boolean().nullable(),
  latencyMs: z.number().nonnegative(),
  tokensIn: z.number().int().nonnegative(),
  tokensOut: z.number().int().nonnegative(),
  /** Mean log-probability per generated token, as the engine reported it; null when it did not. */
  confidence: z.number().nullable(),
  /** The candidate's confidence gate hid the proposal (it counts as no suggestion, so not a success). */
  gated: z.boolean().optional(),
  error: z.string().optional(),
});
export type TaskResult = z.infer<typeof taskResultSchema>;

export interface CostSettings {
  localWatts: number;
  energyPricePerKWh: number;
  currency: string;
}

/** An interval: the estimate and its 95 % bootstrap bounds. */
export interface Interval {
  value: number;
  lo: number;
  hi: number;
}

export interface Scorecard {
  tasks: number;
  errors: number;
  successes: number;
  /** Exact-match rate. */
  successRate: Interval;
  /**
   * Mean accepted share (see `acceptedShare`): the quality figure the recommendation and drift use. Less noisy
   * than exact match on a hundred tasks, and unlike edit similarity it gives garbage no credit.
   */
  quality: Interval;
  editSimilarity: number;
  /** Share of checked tasks whose filled window still parses; null when none was checked. */
  parseRate: number | null;
  parseChecked: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  tokensPerSecond: number;
  computeSeconds: number;
  cost: number;
  /** Energy cost divided by successes; null with no success. */
  costPerSuccess: number | null;
  byKind: Record<string, { tasks: number; successRate: number; quality: number; editSimilarity: number }>;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Bootstrap resamples; 2,000 keeps the 95 % bounds stable to about a point for 100 tasks. */
export const BOOTSTRAP_SAMPLES = 2000;

/**
 * 95 % percentile-bootstrap interval of the mean of `xs` (seeded, so a report is reproducible). Identical
 * values give a zero-width interval.
 */
export function bootstrapMean(xs: number[], seed = 1, samples = BOOTSTRAP_SAMPLES): Interval {
  const value = mean(xs);
  if (xs.length < 2) return { value, lo: value, hi: value };
  const rng = mulberry32(seed);
  const means: number[] = [];
  for (let s = 0; s < samples; s++) {
    let sum = 0;
    for (let i = 0; i < xs.length; i++) sum += xs[Math.floor((rng() / 0x100000000) * xs.length)]!;
    means.push(sum / xs.length);
  }
  return { value, lo: percentile(means, 2.5), hi: percentile(means, 97.5) };
}

/** Local cost: compute time × watts × energy price. */
export function energyCost(ms: number, cost: CostSettings): number {
  return (ms / 3_600_000) * (cost.localWatts / 1000) * cost.energyPricePerKWh;
}

export function scorecard(results: TaskResult[], cost: CostSettings, seed = 1): Scorecard {
  const ok = results.filter((r) => !r.error);
  const successes = results.filter((r) => r.exact).length;
  const ms = results.reduce((a, r) => a + r.latencyMs, 0);
  const genMs = ok.reduce((a, r) => a + r.latencyMs, 0);
  const checked = results.filter((r) => r.parses !== null);
  const total = energyCost(ms, cost);
  const byKind: Scorecard['byKind'] = {};
  for (const kind of TASK_KINDS) {
    const rs = results.filter((r) => r.kind === kind);
    if (rs.length) byKind[kind] = { tasks: rs.length, successRate: rs.filter((r) => r.exact).length / rs.length, quality: mean(rs.map((r) => r.acceptedShare)), editSimilarity: mean(rs.map((r) => r.editSimilarity)) };
  }
  return {
    tasks: results.length,
    errors: results.length - ok.length,
    successes,
    successRate: bootstrapMean(results.map((r) => (r.exact ? 1 : 0)), seed),
    quality: bootstrapMean(results.map((r) => r.acceptedShare), seed),
    editSimilarity: mean(results.map((r) => r.editSimilarity)),
    parseRate: checked.length ? checked.filter((r) => r.parses).length / checked.length : null,
    parseChecked: checked.length,
    latencyP50Ms: percentile(ok.map((r) => r.latencyMs), 50),
    latencyP95Ms: percentile(ok.map((r) => r.latencyMs), 95),
    tokensPerSecond: genMs > 0 ? ok.reduce((a, r) => a + r.tokensOut, 0) / (genMs / 1000) : 0,
    computeSeconds: ms / 1000,
    cost: total,
    costPerSuccess: successes ? total / successes : null,
    byKind,
  };
}

/**
 * Paired bootstrap of the difference `a − b` in a per-task measure over the tasks both ran (same resampled
 * tasks on both sides, which removes the tasks' own spread). `tie`: the interval includes 0.
 */
export function pairedDifference(a: Array<{ taskId: string; v: number }>, b: Array<{ taskId: string; v: number }>, seed = 1, samples = BOOTSTRAP_SAMPLES): Interval & { tie: boolean; paired: number } {
  const bv = new Map(b.map((x) => [x.taskId, x.v]));
  const diffs = a.filter((x) => bv.has(x.taskId)).map((x) => x.v - bv.get(x.taskId)!);
  const iv = bootstrapMean(diffs, seed, samples);
  return { ...iv, tie: iv.lo <= 0 && iv.hi >= 0, paired: diffs.length };
}

export interface CandidateScores {
  id: string;
  label: string;
  results: TaskResult[];
  card: Scorecard;
}

export interface Recommendation {
  /** The candidate recommended: the cheapest within the margin of the best. */
  chosen: string;
  best: string;
  margin: number;
  /** Per candidate: quality difference to the best (paired), whether it is a tie, whether it qualifies. */
  versusBest: Record<string, Interval & { tie: boolean; qualifies: boolean }>;
  reason: string;
}

/** Cost used to rank qualifying candidates: cost per success, else compute time (no candidate succeeded). */
const rankCost = (c: CandidateScores) => c.card.costPerSuccess ?? Number.POSITIVE_INFINITY;

/**
 * The best candidate by quality (mean accepted share); a candidate qualifies when its quality is within
 * `margin` of the best's, or the paired interval of the difference includes 0 (a tie); the recommendation is
 * the qualifying candidate with the lowest cost per successful task (then the lowest p95).
 */
export function recommend(cands: CandidateScores[], margin = 0.02, seed = 1): Recommendation {
  if (!cands.length) throw new Error('no candidates to recommend from');
  const best = cands.reduce((a, b) => (b.card.quality.value > a.card.quality.value ? b : a));
  const per = (c: CandidateScores) => c.results.map((r) => ({ taskId: r.taskId, v: r.acceptedShare }));
  const versusBest: Recommendation['versusBest'] = {};
  for (const c of cands) {
    const d = c === best ? { value: 0, lo: 0, hi: 0, tie: true } : pairedDifference(per(c), per(best), seed);
    versusBest[c.id] = { value: d.value, lo: d.lo, hi: d.hi, tie: d.tie, qualifies: d.tie || -d.value <= margin };
  }
  const qualifying = cands.filter((c) => versusBest[c.id]!.qualifies);
  const chosen = qualifying.reduce((a, b) => {
    const ca = rankCost(a);
    const cb = rankCost(b);
    if (cb !== ca) return cb < ca ? b : a;
    return b.card.latencyP95Ms < a.card.latencyP95Ms ? b : a;
  });
  const ties = qualifying.filter((c) => c !== best && versusBest[c.id]!.tie).map((c) => c.label);
  const reason = chosen === best
    ? `${best.label} has the best quality${ties.length ? ` (tied within the noise with ${ties.join(', ')})` : ''} and the lowest cost per success among candidates within ${(margin * 100).toFixed(0)} points of it`
    : `${chosen.label} is within ${(margin * 100).toFixed(0)} points of the best (${best.label}${versusBest[chosen.id]!.tie ? ', a tie within the noise' : ''}) at a lower cost per successful task`;
  return { chosen: chosen.id, best: best.id, margin, versusBest, reason };
}

export interface CalibrationBin {
  /** Lowest and mean confidence of the bin's tasks. */
  from: number;
  meanConfidence: number;
  tasks: number;
  successRate: number;
  /** Success rate of all tasks at or above `from` (what a threshold at `from` would keep). */
  keptSuccessRate: number;
  /** Share of tasks at or above `from`. */
  coverage: number;
}

export interface Calibration {
  bins: CalibrationBin[];
  /** Tasks with a confidence; the rest are not calibrated. */
  withConfidence: number;
  /** Route below this confidence to the next tier; null when the curve gives no reason to (see `reason`). */
  threshold: number | null;
  reason: string;
}

/**
 * Success against confidence: tasks sorted by confidence in `binCount` bins of (nearly) equal size. The
 * recommended threshold is the lower edge of the lowest bin from which every higher bin succeeds at least as
 * often as the whole battery does: below it the local model succeeds less often than on average, so offering
 * the next tier there costs the fewest good local answers. Null without successes, or when the lowest bin
 * already does as well as the rest (confidence tells nothing on this repo).
 */
export function calibrate(results: TaskResult[], binCount = 5): Calibration {
  const rs = results.filter((r) => r.confidence !== null && !r.error).sort((a, b) => a.confidence! - b.confidence!);
  const n = rs.length;
  if (n < binCount * 2) return { bins: [], withConfidence: n, threshold: null, reason: `too few tasks with a confidence (${n}) to calibrate` };
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < binCount; b++) {
    const part = rs.slice(Math.floor((b * n) / binCount), Math.floor(((b + 1) * n) / binCount));
    const kept = rs.slice(Math.floor((b * n) / binCount));
    bins.push({
      from: part[0]!.confidence!,
      meanConfidence: mean(part.map((r) => r.confidence!)),
      tasks: part.length,
      successRate: part.filter((r) => r.exact).length / part.length,
      keptSuccessRate: kept.filter((r) => r.exact).length / kept.length,
      coverage: kept.length / n,
    });
  }
  const overall = rs.filter((r) => r.exact).length / n;
  if (overall === 0) return { bins, withConfidence: n, threshold: null, reason: 'no task succeeded, so confidence cannot separate good answers from bad ones' };
  let k = bins.length;
  while (k > 0 && bins[k - 1]!.successRate >= overall) k--;
  if (k === 0) return { bins, withConfidence: n, threshold: null, reason: 'every confidence bin succeeds at least as often as the battery overall: no threshold helps' };
  if (k === bins.length) return { bins, withConfidence: n, threshold: null, reason: 'the most confident tasks succeed less often than the battery overall: confidence is not calibrated on this repo' };
  const t = bins[k]!.from;
  return {
    bins,
    withConfidence: n,
    threshold: t,
    reason: `below ${t.toFixed(2)} the local model succeeds in ${(100 * mean(rs.filter((r) => r.confidence! < t).map((r) => (r.exact ? 1 : 0)))).toFixed(0)} % of tasks, at or above it in ${(100 * bins[k]!.keptSuccessRate).toFixed(0)} % (battery: ${(100 * overall).toFixed(0)} %); routing below it offers the next tier for ${(100 * (1 - bins[k]!.coverage)).toFixed(0)} % of tasks`,
  };
}

// ---- baseline --------------------------------------------------------------------------------------------

export const candidateSpecSchema = z.strictObject({
  id: z.string().min(1).max(120),
  label: z.string().min(1).max(200),
  modelPath: z.string().min(1),
  /** Size, mtime and a hash of the model file's head, so a replaced file is told apart from the same path. */
  modelFingerprint: z.string().optional(),
  contextSize: z.number().int().min(128).optional(),
  beamWidth: z.number().int().min(1).max(8).optional(),
  threads: z.number().int().min(0).optional(),
  /** Confidence gate: proposals with a lower confidence are hidden (count as no suggestion). */
  gate: z.number().max(0).optional(),
});
export type CandidateSpec = z.infer<typeof candidateSpecSchema>;

export const baselineSchema = z.strictObject({
  version: z.literal(1),
  savedAt: z.string(),
  seed: z.number().int(),
  tasks: z.number().int(),
  head: z.string().optional(),
  candidate: candidateSpecSchema,
  quality: z.object({ value: z.number(), lo: z.number(), hi: z.number() }),
  successRate: z.number(),
  latencyP95Ms: z.number(),
  costPerSuccess: z.number().nullable(),
  /** Per-task quality, for a paired comparison on the tasks both runs share. */
  perTask: z.array(z.strictObject({ taskId: z.string(), v: z.number() })),
  /** The baseline this one replaced: what "Roll Back Model" returns to. */
  previous: z.lazy((): z.ZodType<unknown> => z.unknown()).optional(),
});
export type Baseline = z.infer<typeof baselineSchema>;

export function makeBaseline(c: CandidateScores & { spec: CandidateSpec }, seed: number, head: string | undefined, savedAt: string, previous?: Baseline): Baseline {
  return {
    version: 1,
    savedAt,
    seed,
    tasks: c.card.tasks,
    head,
    candidate: c.spec,
    quality: c.card.quality,
    successRate: c.card.successRate.value,
    latencyP95Ms: c.card.latencyP95Ms,
    costPerSuccess: c.card.costPerSuccess,
    perTask: c.results.map((r) => ({ taskId: r.taskId, v: r.acceptedShare })),
    // One level of history is enough to roll back; deeper chains would grow the file without end.
    previous: previous ? { ...previous, previous: undefined } : undefined,
  };
}

export interface DriftVerdict {
  candidate: string;
  /** Quality change against the baseline (current − baseline), paired over shared tasks when there are enough. */
  difference: Interval & { tie: boolean; paired: number };
  regression: boolean;
  message: string;
}

/**
 * Compares a candidate's run with the baseline: a regression is a quality drop whose whole 95 % interval lies
 * below zero (a drop inside the noise is a tie). Paired over the tasks both share; with fewer than 20 shared
 * tasks (the repository moved on) the intervals of both means are compared instead.
 */
export function compareWithBaseline(c: CandidateScores, baseline: Baseline, seed = 1): DriftVerdict {
  const cur = c.results.map((r) => ({ taskId: r.taskId, v: r.acceptedShare }));
  let d = pairedDifference(cur, baseline.perTask, seed);
  if (d.paired < 20) {
    const lo = c.card.quality.lo - baseline.quality.hi;
    const hi = c.card.quality.hi - baseline.quality.lo;
    d = { value: c.card.quality.value - baseline.quality.value, lo, hi, tie: lo <= 0 && hi >= 0, paired: d.paired };
  }
  const regression = d.hi < 0;
  const pts = (x: number) => `${(100 * x).toFixed(1)}`;
  const message = regression
    ? `${c.label}: quality ${pts(c.card.quality.value)} vs baseline ${pts(baseline.quality.value)} (${baseline.candidate.label}); change ${pts(d.value)} points, 95 % interval [${pts(d.lo)}, ${pts(d.hi)}] lies below zero: a regression`
    : `${c.label}: quality ${pts(c.card.quality.value)} vs baseline ${pts(baseline.quality.value)}; change ${pts(d.value)} points [${pts(d.lo)}, ${pts(d.hi)}]: ${d.tie ? 'within the noise' : 'better'}`;
  return { candidate: c.id, difference: d, regression, message };
}
