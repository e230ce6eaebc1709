/**
 * The task battery's tasks: what a candidate model is asked and what counts as right. Pure types and the
 * per-kind generation rules, shared by the sampler (src/common/battery/sampleTasks.ts), the runner
 * (src/node/battery/runBattery.ts) and the report.
 */
import { z } from 'zod';
import { cutAtUnmatchedClose } from './textScores';

/**
 * rest-of-line, call-args, block-body, function-body: spans masked at syntactic boundaries of a tracked file;
 * edit: the lines a recent commit added, in the parent's file; accepted: a completion the user accepted that
 * is still in the file (from the ledger, where the policy keeps text).
 */
export const TASK_KINDS = ['rest-of-line', 'call-args', 'block-body', 'function-body', 'edit', 'accepted'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const batteryTaskSchema = z.strictObject({
  /** Stable across runs for the same repository state and seed (a hash of kind, file and place). */
  id: z.string().min(1).max(64),
  kind: z.enum(TASK_KINDS),
  /** Path relative to the repository root (never absolute: reports are shared). */
  file: z.string().min(1),
  language: z.string().min(1),
  prefix: z.string(),
  suffix: z.string(),
  expected: z.string().min(1),
  /** The commit an edit task comes from. */
  commit: z.string().optional(),
});
export type BatteryTask = z.infer<typeof batteryTaskSchema>;

/** Generation limits per kind: one line for line tasks, a few lines for bodies and edits. */
export function generationFor(kind: TaskKind): { maxTokens: number; stop: string[] | undefined } {
  switch (kind) {
    case 'rest-of-line':
    case 'call-args':
      return { maxTokens: 32, stop: ['\n'] };
    // 64 tokens: the engine's beam search (and its confidence) covers completions up to that length.
    default:
      return { maxTokens: 64, stop: undefined };
  }
}

/**
 * What a candidate proposes for a task from its raw output: the first line for line tasks (a call's arguments
 * cut at the close the cursor sits in); for multi-line tasks the lines before one that repeats the suffix's
 * first line (the model wrote past the gap, e.g. the closing brace).
 */
export function proposalFor(task: Pick<BatteryTask, 'kind' | 'suffix' | 'expected'>, raw: string): string {
  if (task.kind === 'rest-of-line') return raw.split('\n')[0]!;
  if (task.kind === 'call-args') return cutAtUnmatchedClose(raw.split('\n')[0]!);
  // Indentation included: a nested block's closing brace sits deeper than the one after the gap.
  const next = task.suffix.split('\n').find((l) => l.trim())?.trimEnd();
  let out = raw;
  if (next) {
    const lines = raw.split('\n');
    const at = lines.findIndex((l) => l.trimEnd() === next);
    if (at >= 0) out = lines.slice(0, at).join('\n') + (at > 0 ? '\n' : '');
  }
  return out;
}
