/**
 * Runs the battery's tasks on each candidate through Hearth's own engine (EngineClient: the same infill path
 * as completions: the model's FIM order, token healing, the beam search), scores each answer, and keeps the
 * partial results in one JSON file per candidate run, so a cancelled or crashed run resumes where it stopped.
 *
 * Each candidate gets a private engine process: loading a candidate model into the shared per-user engine
 * would swap the model under every open editor window for the length of the battery.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { generationFor, proposalFor, type BatteryTask } from '../../common/battery/batteryTask';
import { taskResultSchema, type CandidateSpec, type TaskResult } from '../../common/battery/batteryStats';
import { acceptedShare, editSimilarity, normaliseForMatch } from '../../common/battery/textScores';
import { errorMessage, nullLogger, type Logger } from '../../common/logger';
import { EngineClient } from '../engine/engineClient';
import { parsesAfterFill } from './parseCheck';

const runFileSchema = z.strictObject({
  version: z.literal(1),
  key: z.string(),
  candidate: z.unknown(),
  results: z.array(taskResultSchema),
  finished: z.boolean(),
});

export interface RunOptions {
  /** The engine bundle (`dist/engine.js`). */
  enginePath: string;
  /** Where partial results go (one `<key>.json` per candidate run). */
  runDir: string;
  signal?: AbortSignal;
  logger?: Logger;
  /** Called after each task: done of total for this candidate. */
  onProgress?(candidate: CandidateSpec, done: number, total: number): void;
  /** Default for candidates that set none. */
  threads?: number;
  /** Called with each new task result (ledger records). */
  onResult?(candidate: CandidateSpec, task: BatteryTask, result: TaskResult): void;
}

export interface CandidateRun {
  spec: CandidateSpec;
  results: TaskResult[];
  /** Results taken from an earlier, interrupted run. */
  resumed: number;
  finished: boolean;
  runFile: string;
}

/** The run's key: candidate settings, model file identity and the task list; a change starts a fresh file. */
export function runKey(spec: CandidateSpec, tasks: readonly BatteryTask[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ ...spec, label: undefined }));
  for (const t of tasks) h.update(t.id);
  return h.digest('hex').slice(0, 16);
}

function loadPartial(file: string, key: string, logger: Logger): TaskResult[] {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  try {
    const parsed = runFileSchema.safeParse(JSON.parse(raw));
    if (parsed.success && parsed.data.key === key) return parsed.data.results;
    logger.warn(`${file}: not a partial run of these tasks and settings; starting again`);
  } catch (err) {
    logger.warn(`${file}: unreadable partial run (${errorMessage(err)}); starting again`);
  }
  return [];
}

function savePartial(file: string, key: string, spec: CandidateSpec, results: TaskResult[], finished: boolean): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: 1, key, candidate: spec, results, finished }));
  renameSync(tmp, file);
}

/** Scores one answer: exact match, edit similarity, parse check, and the gate. */
export function scoreAnswer(task: BatteryTask, raw: string, meta: { latencyMs: number; tokensIn: number; tokensOut: number; confidence: number | null }, gate?: number): TaskResult {
  const gated = gate !== undefined && meta.confidence !== null && meta.confidence < gate;
  const proposal = gated ? '' : proposalFor(task, raw);
  return {
    taskId: task.id,
    kind: task.kind,
    language: task.language,
    proposal,
    exact: !gated && normaliseForMatch(proposal) === normaliseForMatch(task.expected),
    editSimilarity: editSimilarity(normaliseForMatch(proposal), normaliseForMatch(task.expected)),
    acceptedShare: acceptedShare(normaliseForMatch(proposal), normaliseForMatch(task.expected)),
    parses: parsesAfterFill(task, proposal),
    latencyMs: meta.latencyMs,
    tokensIn: meta.tokensIn,
    tokensOut: meta.tokensOut,
    confidence: meta.confidence,
    ...(gated ? { gated } : {}),
  };
}

/**
 * Runs `tasks` on one candidate. Resumes from the candidate's partial file; on abort it saves what it has and
 * returns with `finished: false`.
 */
export async function runCandidate(spec: CandidateSpec, tasks: readonly BatteryTask[], opts: RunOptions): Promise<CandidateRun> {
  const logger = opts.logger ?? nullLogger;
  mkdirSync(opts.runDir, { recursive: true });
  const key = runKey(spec, tasks);
  const runFile = join(opts.runDir, `run-${key}.json`);
  const byId = new Map(loadPartial(runFile, key, logger).map((r) => [r.taskId, r]));
  const resumed = byId.size;
  const todo = tasks.filter((t) => !byId.has(t.id));
  opts.onProgress?.(spec, byId.size, tasks.length);
  if (todo.length) {
    const client = new EngineClient({ enginePath: opts.enginePath, mode: 'private', logger, clientName: `battery ${spec.label}` });
    try {
      await client.loadModel({ path: spec.modelPath, contextSize: spec.contextSize, threads: spec.threads ?? opts.threads });
      let sinceSave = 0;
      for (const task of todo) {
        if (opts.signal?.aborted) break;
        const { maxTokens, stop } = generationFor(task.kind);
        let result: TaskResult;
        try {
          const r = await client.infill(
            { documentId: `battery:${task.file}`, prefix: task.prefix, suffix: task.suffix, maxTokens, temperature: 0, stop, beamWidth: spec.beamWidth },
            { signal: opts.signal },
          );
          if (r.stopReason === 'cancelled') break;
          result = scoreAnswer(task, r.text, { latencyMs: r.totalMs, tokensIn: r.tokensEvaluated, tokensOut: r.tokensOut, confidence: r.confidence ?? null }, spec.gate);
        } catch (err) {
          if (opts.signal?.aborted) break;
          result = { ...scoreAnswer(task, '', { latencyMs: 0, tokensIn: 0, tokensOut: 0, confidence: null }), error: errorMessage(err) };
          logger.warn(`battery task ${task.id} (${task.file}) failed on ${spec.label}: ${result.error}`);
        }
        byId.set(task.id, result);
        opts.onResult?.(spec, task, result);
        opts.onProgress?.(spec, byId.size, tasks.length);
        // Every few tasks: a crash loses little, and the disk is not hit per keystroke-sized answer.
        if (++sinceSave >= 5) {
          savePartial(runFile, key, spec, tasks.filter((t) => byId.has(t.id)).map((t) => byId.get(t.id)!), false);
          sinceSave = 0;
        }
      }
    } finally {
      await client.dispose();
    }
  }
  const results = tasks.filter((t) => byId.has(t.id)).map((t) => byId.get(t.id)!);
  const finished = results.length === tasks.length;
  savePartial(runFile, key, spec, results, finished);
  return { spec, results, resumed, finished, runFile };
}
