/**
 * `hearth bench repo`: the repo's own task battery from the command line (and CI). Exits 1 when a candidate
 * regressed against `--baseline`, 2 on a wrong command line, 130 when cancelled (Ctrl-C keeps the partial
 * results; the same command resumes).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs as parseNodeArgs } from 'node:util';
import { makeBaseline, type Baseline, type CandidateSpec } from '../../common/battery/batteryStats';
import { DEFAULT_COST_MODEL } from '../../common/ledger/ledgerAggregates';
import { workspaceId } from '../../common/ledger/ledgerRecord';
import { FileLedgerWriter } from '../ledger/fileLedgerWriter';
import { sha256Hex } from '../ledger/sha256';
import { defaultPolicy } from '../battery/repoSources';
import { batteryDir, modelFingerprint, readBaseline, runTaskBattery } from '../battery/taskBattery';
import { stderrLogger } from '../stderrLogger';
import { UsageError, type CliCommand } from './args';

const USAGE = `hearth bench repo [--tasks 100] [--seed 1] --models a.gguf,b.gguf@ctx=128:beam=1 [--baseline FILE] [--save-baseline FILE]
                  [--json] [--out report.html] [--repo DIR] [--run-dir DIR] [--ledger FILE | --no-ledger] [--fresh]
                  [--threads N] [--ctx N] [--beam N] [--gate X] [--margin 0.02] [--watts W] [--energy-price P]`;

const OPTIONS = {
  tasks: { type: 'string' },
  seed: { type: 'string' },
  models: { type: 'string' },
  baseline: { type: 'string' },
  'save-baseline': { type: 'string' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  repo: { type: 'string' },
  'run-dir': { type: 'string' },
  ledger: { type: 'string' },
  'no-ledger': { type: 'boolean' },
  fresh: { type: 'boolean' },
  threads: { type: 'string' },
  ctx: { type: 'string' },
  beam: { type: 'string' },
  gate: { type: 'string' },
  margin: { type: 'string' },
  watts: { type: 'string' },
  'energy-price': { type: 'string' },
  help: { type: 'boolean' },
} as const;

function num(name: string, v: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} ${v}: must be ${what}\n${USAGE}`);
  return n;
}
const int = (n: number) => Number.isInteger(n);

/**
 * One candidate from `path[@key=value:key=value]` (keys: ctx, beam, threads, gate), with the global defaults.
 * Its id and label name the file and the settings that differ.
 */
export function parseCandidate(text: string, defaults: Partial<Pick<CandidateSpec, 'contextSize' | 'beamWidth' | 'threads' | 'gate'>>, cwd: string): CandidateSpec {
  const at = text.lastIndexOf('@');
  const path = at > 0 ? text.slice(0, at) : text;
  const spec: CandidateSpec = { id: '', label: '', modelPath: resolve(cwd, path), ...defaults };
  if (at > 0) {
    for (const part of text.slice(at + 1).split(':').filter(Boolean)) {
      const [k, v] = part.split('=', 2) as [string, string | undefined];
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n)) throw new UsageError(`--models ${text}: "${part}" is not key=number\n${USAGE}`);
      if (k === 'ctx' && int(n) && n >= 128) spec.contextSize = n;
      else if (k === 'beam' && int(n) && n >= 1 && n <= 8) spec.beamWidth = n;
      else if (k === 'threads' && int(n) && n >= 0) spec.threads = n;
      else if (k === 'gate' && n <= 0) spec.gate = n;
      else throw new UsageError(`--models ${text}: "${part}": use ctx=N (≥ 128), beam=1..8, threads=N or gate=X (≤ 0)\n${USAGE}`);
    }
  }
  if (!existsSync(spec.modelPath)) throw new Error(`model file ${spec.modelPath} does not exist: pass GGUF files with --models`);
  const settings = [
    spec.contextSize !== undefined ? `ctx=${spec.contextSize}` : '',
    spec.beamWidth !== undefined ? `beam=${spec.beamWidth}` : '',
    spec.threads !== undefined ? `threads=${spec.threads}` : '',
    spec.gate !== undefined ? `gate=${spec.gate}` : '',
  ].filter(Boolean);
  spec.label = `${basename(spec.modelPath)}${settings.length ? ` (${settings.join(', ')})` : ''}`;
  spec.id = `${basename(spec.modelPath)}${settings.length ? `@${settings.join(':')}` : ''}`;
  spec.modelFingerprint = modelFingerprint(spec.modelPath);
  return spec;
}

async function benchRepo(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parseNodeArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>>['values'];
  try {
    ({ values } = parseNodeArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`usage: ${USAGE}\n`);
    return 0;
  }
  const cwd = process.cwd();
  const root = resolve(values.repo ?? cwd);
  const tasks = num('tasks', values.tasks, (n) => int(n) && n >= 1 && n <= 2000, 'an integer from 1 to 2000') ?? 100;
  const seed = num('seed', values.seed, int, 'an integer') ?? 1;
  const defaults = {
    contextSize: num('ctx', values.ctx, (n) => int(n) && n >= 128, 'an integer ≥ 128'),
    beamWidth: num('beam', values.beam, (n) => int(n) && n >= 1 && n <= 8, 'an integer from 1 to 8'),
    threads: num('threads', values.threads, (n) => int(n) && n >= 0, 'an integer ≥ 0'),
    gate: num('gate', values.gate, (n) => n <= 0, 'a number ≤ 0 (a mean log-probability)'),
  };
  for (const k of Object.keys(defaults) as Array<keyof typeof defaults>) if (defaults[k] === undefined) delete defaults[k];
  const modelList = (values.models ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!modelList.length) throw new UsageError(`--models is required: one or more GGUF files, comma-separated\n${USAGE}`);
  const candidates = modelList.map((m) => parseCandidate(m, defaults, cwd));
  const ids = new Set<string>();
  for (const c of candidates) {
    if (ids.has(c.id)) throw new UsageError(`--models names ${c.label} twice\n${USAGE}`);
    ids.add(c.id);
  }
  const baseline = values.baseline ? readBaseline(resolve(values.baseline)) : undefined;
  const cost = {
    localWatts: num('watts', values.watts, (n) => n >= 0, 'a number ≥ 0') ?? DEFAULT_COST_MODEL.localWatts,
    energyPricePerKWh: num('energy-price', values['energy-price'], (n) => n >= 0, 'a number ≥ 0') ?? DEFAULT_COST_MODEL.energyPricePerKWh,
    currency: DEFAULT_COST_MODEL.currency,
  };
  const margin = num('margin', values.margin, (n) => n >= 0 && n <= 1, 'a fraction from 0 to 1') ?? 0.02;
  const policy = await defaultPolicy(root);
  const runDir = resolve(values['run-dir'] ?? join(batteryDir(root), 'runs'));
  const ledgerPath = values['no-ledger'] ? undefined : resolve(values.ledger ?? join(root, policy.ledger.path));
  const writer = ledgerPath ? new FileLedgerWriter({ path: ledgerPath, includeText: policy.ledger.includeText }) : undefined;
  const logger = stderrLogger('hearth bench repo');
  const controller = new AbortController();
  const onSigint = () => {
    process.stderr.write('\ncancelling: partial results are kept; run the same command again to resume\n');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  let lastLine = 0;
  try {
    const outcome = await runTaskBattery({
      root,
      candidates,
      tasks,
      seed,
      enginePath: join(__dirname, 'engine.js'),
      runDir: values.fresh ? join(runDir, `fresh-${Date.now()}`) : runDir,
      cost,
      margin,
      baseline,
      policy,
      ledger: writer && { sink: writer, workspace: workspaceId(pathToFileURL(root).href, sha256Hex) },
      signal: controller.signal,
      logger,
      onProgress: (message, done, total) => {
        if (done === total || done - lastLine >= 10 || done < lastLine) {
          lastLine = done;
          process.stderr.write(`${message}\n`);
        }
      },
    });
    const out = resolve(values.out ?? join(batteryDir(root), 'report.html'));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outcome.html);
    if (values['save-baseline']) {
      const file = resolve(values['save-baseline']);
      const chosen = outcome.scores.find((s) => s.id === outcome.recommendation.chosen)!;
      let previous: Baseline | undefined;
      try {
        previous = existsSync(file) ? readBaseline(file) : undefined;
      } catch {
        previous = undefined;
      }
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(makeBaseline(chosen, seed, outcome.report.head, new Date().toISOString(), previous), null, 2) + '\n');
      process.stderr.write(`saved ${chosen.label} as the baseline in ${file}\n`);
    }
    const { report, recommendation } = outcome;
    if (values.json) {
      process.stdout.write(JSON.stringify({
        tasks: outcome.tasks.length,
        taskCounts: report.taskCounts,
        skipped: report.skipped,
        candidates: outcome.scores.map((s) => ({ id: s.id, label: s.label, spec: s.spec, finished: s.finished, card: s.card, routingThreshold: report.calibration[s.id]?.threshold ?? null })),
        recommendation,
        drift: report.drift ?? null,
        regression: outcome.regression,
        cancelled: outcome.cancelled,
        report: out,
        seconds: report.seconds,
        loadAverage: report.loadAverage,
      }, null, 2) + '\n');
    } else {
      const w = (s: string) => process.stdout.write(`${s}\n`);
      w(`${outcome.tasks.length} tasks (${Object.entries(report.taskCounts).map(([k, v]) => `${v} ${k}`).join(', ')}), seed ${seed}, ${report.seconds.toFixed(0)} s, load ${report.loadAverage.map((x) => x.toFixed(2)).join(' ')}`);
      for (const s of outcome.scores) {
        const c = s.card;
        w(`  ${s.label.padEnd(44)} quality ${(100 * c.quality.value).toFixed(1)} [${(100 * c.quality.lo).toFixed(1)}, ${(100 * c.quality.hi).toFixed(1)}]  exact ${(100 * c.successRate.value).toFixed(1)} %  p95 ${c.latencyP95Ms.toFixed(0)} ms  ${c.tokensPerSecond.toFixed(0)} tok/s  cost/success ${c.costPerSuccess === null ? '-' : c.costPerSuccess.toExponential(2)} ${cost.currency}  threshold ${report.calibration[s.id]?.threshold?.toFixed(2) ?? '-'}`);
      }
      w(`recommendation: ${outcome.scores.find((s) => s.id === recommendation.chosen)!.label}: ${recommendation.reason}`);
      for (const v of outcome.verdicts) w(`${v.regression ? 'REGRESSION' : 'ok'}: ${v.message}`);
      w(`report: ${out}`);
    }
    if (outcome.cancelled) return 130;
    return outcome.regression ? 1 : 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await writer?.close();
  }
}

/** `hearth bench <suite>`: only `repo` so far. */
export const benchCommand: CliCommand = {
  name: 'bench',
  summary: "Run the repo's own task battery on candidate models; compare with a baseline (exit 1 on a regression).",
  usage: USAGE,
  run: async (argv) => {
    const [suite, ...rest] = argv;
    if (suite !== 'repo') throw new UsageError(USAGE);
    return benchRepo(rest);
  },
};
