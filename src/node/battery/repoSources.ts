/**
 * Reads what the battery samples from: tracked files (`git ls-files`), hunks of recent commits, and accepted
 * completions the ledger kept, then samples the tasks (src/common/battery/sampleTasks.ts).
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BatteryTask } from '../../common/battery/batteryTask';
import { editTask, languageOf, parseHunks, sampleTasks, type SampleResult, type SourceFile } from '../../common/battery/sampleTasks';
import { combinePolicies, type EffectivePolicy } from '../../common/policy/combinePolicies';
import { neverSendMatch } from '../../common/policy/decide';
import { DEFAULT_USER_POLICY } from '../../common/policy/userPolicy';
import { readLedgerRecords } from '../ledger/ledgerExport';
import { readPolicyFile } from '../policy/policyFile';

const run = promisify(execFile);

async function git(root: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', root, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** How many recent commits edit tasks are drawn from. */
const HISTORY_COMMITS = 40;

export interface RepoSampleOptions {
  root: string;
  count: number;
  seed: number;
  /** The effective policy; by default the repo's `.hearth/policy.jsonc` combined with default user settings. */
  policy?: EffectivePolicy;
  /** The ledger to take accepted completions from; by default the policy's path. */
  ledgerPath?: string;
}

export interface RepoSample extends Omit<SampleResult, 'chosenHunks'> {
  tasks: BatteryTask[];
  /** Why there are no accepted-completion tasks, when there are none. */
  acceptedNote?: string;
  head: string;
}

/** The policy the battery obeys when none is given: the repo file with default user settings. */
export async function defaultPolicy(root: string): Promise<EffectivePolicy> {
  return combinePolicies(DEFAULT_USER_POLICY, await readPolicyFile(root));
}

/**
 * The never-process test: a path the policy's neverSend list matches is never read into a task (it would go
 * into prompts, reports and, for team or frontier candidates, off the machine).
 */
export function policyExclusion(policy: EffectivePolicy): (path: string) => string | undefined {
  return (path) => (neverSendMatch(policy, path) ? 'policy never-process' : undefined);
}

/** Samples the battery of the repository at `root`. Fails with a clear message outside a git work tree. */
export async function sampleRepoTasks(opts: RepoSampleOptions): Promise<RepoSample> {
  const { root } = opts;
  let head: string;
  try {
    head = (await git(root, ['rev-parse', 'HEAD'])).trim();
  } catch {
    throw new Error(`${root} is not a git repository with at least one commit: the battery samples tracked files and history (run it in a git work tree)`);
  }
  const policy = opts.policy ?? (await defaultPolicy(root));
  const excluded = policyExclusion(policy);
  const tracked = (await git(root, ['ls-files', '-z'])).split('\0').filter(Boolean).sort();
  const files: SourceFile[] = [];
  const skippedEarly: Record<string, number> = {};
  for (const path of tracked) {
    // Check the policy before reading: a never-process file is not even opened.
    const why = excluded(path) ?? (languageOf(path) ? undefined : 'not source code');
    if (why) {
      skippedEarly[why] = (skippedEarly[why] ?? 0) + 1;
      continue;
    }
    try {
      const st = await stat(join(root, path));
      if (!st.isFile() || st.size > 512 * 1024) {
        skippedEarly['too large'] = (skippedEarly['too large'] ?? 0) + 1;
        continue;
      }
      files.push({ path, text: await readFile(join(root, path), 'utf8') });
    } catch {
      skippedEarly['unreadable'] = (skippedEarly['unreadable'] ?? 0) + 1;
    }
  }
  const diff = await git(root, ['log', `-n${HISTORY_COMMITS}`, '--no-merges', '--format=commit %H', '-p', '--unified=0', '--no-color', '--no-ext-diff', '--no-renames', head]).catch(() => '');
  const hunks = parseHunks(diff);
  const { accepted, note } = await acceptedCompletions(root, policy, opts.ledgerPath);
  const sample = sampleTasks({ files, hunks, accepted, count: opts.count, seed: opts.seed, excluded });
  const tasks = [...sample.tasks];
  const edits: BatteryTask[] = [];
  for (const h of sample.chosenHunks) {
    // A root commit has no parent text: such a hunk is no task.
    const parent = await git(root, ['show', `${h.commit}^:${h.path}`]).catch(() => undefined);
    const t = parent === undefined ? undefined : editTask(h, parent);
    if (t) edits.push(t);
  }
  const short = sample.chosenHunks.length - edits.length;
  if (short > 0) {
    // Make up the count with more masked spans: the same seed draws the same first spans, then more.
    const more = sampleTasks({ files, hunks: [], accepted, count: opts.count - edits.length, seed: opts.seed, excluded });
    tasks.length = 0;
    tasks.push(...more.tasks);
  }
  tasks.push(...edits);
  const skipped = { ...skippedEarly };
  for (const [k, v] of Object.entries(sample.skipped)) skipped[k] = (skipped[k] ?? 0) + v;
  return { tasks, skipped, acceptedNote: note, head };
}

/**
 * Completions accepted whole whose text the ledger kept (only where the policy opts in with
 * `ledger.includeText`); none, with the reason, otherwise.
 */
async function acceptedCompletions(root: string, policy: EffectivePolicy, ledgerPath: string | undefined): Promise<{ accepted: string[]; note?: string }> {
  if (!policy.ledger.includeText) return { accepted: [], note: 'the policy keeps no text in the ledger (ledger.includeText is off), so there are no accepted completions to replay' };
  const path = ledgerPath ?? join(root, policy.ledger.path);
  const accepted: string[] = [];
  try {
    for await (const batch of readLedgerRecords(path)) {
      for (const r of batch) {
        if (r.kind === 'task' && r.lane === 'completion' && r.outcome === 'accepted' && r.text?.answer) accepted.push(r.text.answer);
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { accepted: [], note: `no ledger at ${path}` };
    throw err;
  }
  return accepted.length ? { accepted } : { accepted, note: 'the ledger holds no accepted completion with text' };
}
