/**
 * The task battery from end to end, without VS Code (the CLI and the editor command both call it): sample the
 * repo's tasks, run every candidate, score, recommend, calibrate the routing threshold, compare with the
 * baseline, record every run and task in the ledger's `benchmark` lane (a regression as a `drift` incident),
 * and render the HTML report.
 */
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import type { BatteryTask } from '../../common/battery/batteryTask';
import { renderBatteryReportHtml, type BatteryReport } from '../../common/battery/batteryReportHtml';
import {
  baselineSchema,
  calibrate,
  compareWithBaseline,
  recommend,
  scorecard,
  energyCost,
  type Baseline,
  type CandidateScores,
  type CandidateSpec,
  type CostSettings,
  type DriftVerdict,
  type Recommendation,
  type TaskResult,
} from '../../common/battery/batteryStats';
import type { LedgerSink } from '../../common/ledger/ledgerSink';
import type { EffectivePolicy } from '../../common/policy/combinePolicies';
import { nullLogger, type Logger } from '../../common/logger';
import { chartLibraryPath } from '../ledger/ledgerExport';
import { sampleRepoTasks } from './repoSources';
import { runCandidate, type CandidateRun } from './runBattery';

export interface BatteryOptions {
  root: string;
  candidates: CandidateSpec[];
  tasks: number;
  seed: number;
  enginePath: string;
  /** Partial results, one file per candidate run. */
  runDir: string;
  cost: CostSettings;
  /** Quality margin for the recommendation (fraction: 0.02 = two points of edit similarity). */
  margin?: number;
  baseline?: Baseline;
  policy?: EffectivePolicy;
  ledger?: { sink: LedgerSink; workspace: string };
  signal?: AbortSignal;
  logger?: Logger;
  threads?: number;
  onProgress?(message: string, done: number, total: number): void;
}

export interface BatteryOutcome {
  report: BatteryReport;
  html: string;
  tasks: BatteryTask[];
  runs: CandidateRun[];
  scores: Array<CandidateScores & { spec: CandidateSpec; finished: boolean }>;
  recommendation: Recommendation;
  verdicts: DriftVerdict[];
  regression: boolean;
  cancelled: boolean;
}

/**
 * Identifies a model file without reading all of it (models run to gigabytes): size, mtime and a hash of the
 * first MiB.
 */
export function modelFingerprint(path: string): string {
  const st = statSync(path);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(st.size, 1 << 20));
    readSync(fd, buf, 0, buf.length, 0);
    return `${st.size}-${Math.floor(st.mtimeMs)}-${createHash('sha256').update(buf).digest('hex').slice(0, 16)}`;
  } finally {
    closeSync(fd);
  }
}

/** Reads and checks a baseline file; the message names the file and what is wrong. */
export function readBaseline(file: string): Baseline {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`baseline ${file} cannot be read: ${(err as Error).message}. Save one with --save-baseline FILE (or "Hearth: Save as Baseline").`);
  }
  const r = baselineSchema.safeParse(json);
  if (!r.success) throw new Error(`baseline ${file} is not a Hearth battery baseline: ${r.error.issues[0]?.path.join('.') || '(file)'}: ${r.error.issues[0]?.message}`);
  return r.data;
}

function recordRun(ledger: NonNullable<BatteryOptions['ledger']>, spec: CandidateSpec, results: TaskResult[], tasks: BatteryTask[], cost: CostSettings, started: string, finished: boolean): string {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  for (const r of results) {
    ledger.sink.append({
      kind: 'task',
      workspace: ledger.workspace,
      lane: 'benchmark',
      model: spec.label,
      backend: 'llama.cpp',
      tokensIn: r.tokensIn,
      tokensOut: r.tokensOut,
      timeToFirstTokenMs: null,
      totalMs: r.latencyMs,
      outcome: r.error ? 'error' : r.exact ? 'accepted' : 'rejected',
      charsSuggested: r.proposal.length,
      charsAccepted: r.exact ? r.proposal.length : 0,
      destination: 'local',
      estimatedCost: energyCost(r.latencyMs, cost),
      // Dropped by the writer unless the policy keeps text.
      text: { note: `battery ${byId.get(r.taskId)?.kind ?? ''} task ${r.taskId}`, answer: r.proposal },
    });
  }
  const totalMs = results.reduce((a, r) => a + r.latencyMs, 0);
  return ledger.sink.append({
    id: randomUUID(),
    kind: 'task',
    time: started,
    workspace: ledger.workspace,
    lane: 'benchmark',
    model: spec.label,
    backend: 'llama.cpp',
    tokensIn: results.reduce((a, r) => a + r.tokensIn, 0),
    tokensOut: results.reduce((a, r) => a + r.tokensOut, 0),
    timeToFirstTokenMs: null,
    totalMs,
    outcome: finished ? 'accepted' : 'cancelled',
    destination: 'local',
    estimatedCost: energyCost(totalMs, cost),
    text: { note: `battery run of ${results.length} tasks` },
  });
}

export async function runTaskBattery(opts: BatteryOptions): Promise<BatteryOutcome> {
  const t0 = performance.now();
  const logger = opts.logger ?? nullLogger;
  const sample = await sampleRepoTasks({ root: opts.root, count: opts.tasks, seed: opts.seed, policy: opts.policy });
  const tasks = sample.tasks;
  if (!tasks.length) throw new Error(`no tasks could be sampled from ${opts.root}: no tracked source files in a supported language outside vendored, generated and never-process paths`);
  const taskCounts: Record<string, number> = {};
  for (const t of tasks) taskCounts[t.kind] = (taskCounts[t.kind] ?? 0) + 1;
  logger.info(`battery: ${tasks.length} tasks (${Object.entries(taskCounts).map(([k, v]) => `${v} ${k}`).join(', ')}), seed ${opts.seed}`);

  const runs: CandidateRun[] = [];
  const runIds = new Map<string, string>();
  for (const spec of opts.candidates) {
    if (opts.signal?.aborted) break;
    const started = new Date().toISOString();
    const run = await runCandidate(spec, tasks, {
      enginePath: opts.enginePath,
      runDir: opts.runDir,
      signal: opts.signal,
      logger,
      threads: opts.threads,
      onProgress: (s, done, total) => opts.onProgress?.(`${s.label}: ${done}/${total}`, done, total),
    });
    runs.push(run);
    if (opts.ledger) runIds.set(spec.id, recordRun(opts.ledger, spec, run.results, tasks, opts.cost, started, run.finished));
  }
  const cancelled = opts.signal?.aborted === true || runs.length < opts.candidates.length || runs.some((r) => !r.finished);
  const scores = runs.filter((r) => r.results.length).map((r) => ({
    id: r.spec.id,
    label: r.spec.label,
    spec: r.spec,
    finished: r.finished,
    results: r.results,
    card: scorecard(r.results, opts.cost, opts.seed),
  }));
  if (!scores.length) throw new Error('the battery was cancelled before any task finished; run it again to resume');
  const recommendation = recommend(scores, opts.margin ?? 0.02, opts.seed);
  const calibration = Object.fromEntries(scores.map((s) => [s.id, calibrate(s.results)]));
  const verdicts = opts.baseline ? scores.map((s) => compareWithBaseline(s, opts.baseline!, opts.seed)) : [];
  for (const v of verdicts) {
    if (!v.regression) continue;
    logger.warn(`battery regression: ${v.message}`);
    const runId = runIds.get(v.candidate);
    if (opts.ledger && runId) {
      opts.ledger.sink.append({ kind: 'incident', workspace: opts.ledger.workspace, lane: 'benchmark', model: scores.find((s) => s.id === v.candidate)!.label, incident: 'drift', refersTo: runId });
    }
  }
  await opts.ledger?.sink.flush();
  const notes: string[] = [];
  if (sample.acceptedNote) notes.push(`No accepted-completion tasks: ${sample.acceptedNote}.`);
  if (cancelled) notes.push('The run was cancelled: figures cover the tasks that finished; run it again to resume.');
  const report: BatteryReport = {
    generatedAt: new Date().toISOString(),
    repo: basename(opts.root),
    head: sample.head,
    seed: opts.seed,
    taskCounts,
    skipped: sample.skipped,
    notes,
    currency: opts.cost.currency,
    candidates: scores,
    recommendation,
    calibration,
    drift: opts.baseline ? { baselineLabel: opts.baseline.candidate.label, savedAt: opts.baseline.savedAt, verdicts } : undefined,
    seconds: (performance.now() - t0) / 1000,
    loadAverage: loadavg(),
  };
  const html = renderBatteryReportHtml(report, readFileSync(chartLibraryPath(), 'utf8'));
  return { report, html, tasks, runs, scores, recommendation, verdicts, regression: verdicts.some((v) => v.regression), cancelled };
}

/** The default folder for partial runs and the baseline: `.hearth/battery/` of the repository. */
export function batteryDir(root: string): string {
  return join(root, '.hearth', 'battery');
}
