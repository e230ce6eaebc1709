/**
 * The task battery in the editor: "Hearth: Run Task Battery" (a cancellable progress notification; the report
 * in a webview and saved beside the baseline), "Hearth: Save as Baseline" and "Hearth: Roll Back Model". The
 * baseline of a folder is `.hearth/battery/baseline.json`; each run is compared with it, and a regression
 * raises a warning and a `drift` incident in the ledger.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { baselineSchema, makeBaseline, type Baseline, type CandidateSpec } from '../../common/battery/batteryStats';
import { errorMessage, type Logger } from '../../common/logger';
import { Settings } from '../../common/settings';
import { batteryDir, modelFingerprint, readBaseline, runTaskBattery, type BatteryOutcome } from '../../node/battery/taskBattery';
import { getSetting } from '../config';
import type { LedgerService } from '../ledger/ledgerService';
import type { PolicyService } from '../policy/policyService';

export const runBatteryCommand = 'hearth.runTaskBattery';
export const saveBaselineCommand = 'hearth.saveBatteryBaseline';
export const rollBackModelCommand = 'hearth.rollBackModel';

export interface BatteryServices {
  ledger: LedgerService;
  policy: PolicyService;
  logger: Logger;
}

/** Optional arguments (tests, tasks.json): the candidates' model files, task count and seed. */
export interface RunBatteryArg {
  models?: string[];
  tasks?: number;
  seed?: number;
  /** Settings for every candidate, e.g. `{ contextSize: 128 }`. */
  settings?: Partial<Pick<CandidateSpec, 'contextSize' | 'beamWidth' | 'threads' | 'gate'>>;
}

/** What the commands return to tests. */
export interface BatteryState {
  lastRun?: { folder: string; recommended: string; regression: boolean; reportPath: string; thresholds: Record<string, number | null> };
}

export function baselinePath(folder: vscode.WorkspaceFolder): string {
  return join(batteryDir(folder.uri.fsPath), 'baseline.json');
}

function readBaselineIfAny(file: string, logger: Logger): Baseline | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return readBaseline(file);
  } catch (err) {
    logger.warn(errorMessage(err));
    return undefined;
  }
}

/** The candidate the editor runs now: the model setting with the engine and completion settings. */
function currentCandidate(): CandidateSpec | undefined {
  const path = getSetting(Settings.modelPath);
  if (!path) return undefined;
  return candidateFor(path, {
    contextSize: getSetting(Settings.engineContextSize) || undefined,
    beamWidth: getSetting(Settings.completionBeamWidth) || undefined,
    threads: getSetting(Settings.engineThreads) || undefined,
  });
}

function candidateFor(path: string, s: Partial<Pick<CandidateSpec, 'contextSize' | 'beamWidth' | 'threads' | 'gate'>>): CandidateSpec {
  const settings = Object.entries(s).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${String(v)}`);
  const name = path.split(/[\\/]/).pop()!;
  return {
    id: `${name}${settings.length ? `@${settings.join(':')}` : ''}`,
    label: `${name}${settings.length ? ` (${settings.join(', ')})` : ''}`,
    modelPath: path,
    modelFingerprint: modelFingerprint(path),
    ...Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)),
  };
}

/** The report in a webview: the page is self-contained; its inline scripts get this panel's nonce. */
function showReport(html: string, title: string): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel('hearth.batteryReport', title, vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [] });
  const nonce = randomBytes(16).toString('base64');
  panel.webview.html = html
    .replace("script-src 'unsafe-inline'", `script-src 'nonce-${nonce}'`)
    .replace(/<script(?=[ >])/g, `<script nonce="${nonce}"`);
  return panel;
}

export function registerBattery(context: vscode.ExtensionContext, services: BatteryServices): BatteryState {
  const { ledger, policy, logger } = services;
  const state: BatteryState = {};
  let last: { folder: vscode.WorkspaceFolder; outcome: BatteryOutcome; seed: number } | undefined;

  const folderNow = () => ledger.folderFor(vscode.window.activeTextEditor?.document.uri);

  const run = async (arg?: RunBatteryArg): Promise<BatteryState['lastRun']> => {
    const folder = folderNow();
    if (!folder) {
      void vscode.window.showWarningMessage('Hearth: open a folder first: the task battery samples its tracked files and history.');
      return undefined;
    }
    let candidates: CandidateSpec[];
    if (arg?.models?.length) candidates = arg.models.map((m) => candidateFor(m, arg.settings ?? {}));
    else {
      const current = currentCandidate();
      const extra = await vscode.window.showOpenDialog({ canSelectMany: true, filters: { 'GGUF models': ['gguf'] }, openLabel: 'Add to the battery', title: current ? `Candidates to run besides ${current.label} (Cancel: only it)` : 'Model files to run the battery on' });
      candidates = [...(current ? [current] : []), ...(extra ?? []).map((u) => candidateFor(u.fsPath, {}))];
    }
    if (!candidates.length) {
      const choice = await vscode.window.showInformationMessage('Hearth: no model to run the battery on yet.', 'Select Model…');
      if (choice) void vscode.commands.executeCommand('hearth.selectModel');
      return undefined;
    }
    const seed = arg?.seed ?? 1;
    const baseline = readBaselineIfAny(baselinePath(folder), logger);
    const { sink, workspace } = ledger.sinkFor(folder.uri);
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Hearth: task battery', cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        const sub = token.onCancellationRequested(() => controller.abort());
        let shown = 0;
        try {
          progress.report({ message: 'sampling tasks from this repository…' });
          return await runTaskBattery({
            root: folder.uri.fsPath,
            candidates,
            tasks: arg?.tasks ?? 100,
            seed,
            enginePath: context.asAbsolutePath('dist/engine.js'),
            runDir: join(batteryDir(folder.uri.fsPath), 'runs'),
            cost: { localWatts: getSetting(Settings.costLocalWatts), energyPricePerKWh: getSetting(Settings.costEnergyPricePerKWh), currency: getSetting(Settings.costCurrency) },
            baseline,
            policy: policy.effectiveFor(folder.uri),
            ledger: { sink, workspace },
            signal: controller.signal,
            logger,
            onProgress: (message, done, total) => {
              const pctDone = (100 * done) / Math.max(1, total) / candidates.length;
              progress.report({ message, increment: Math.max(0, pctDone - shown) });
              shown = Math.max(shown, pctDone);
            },
          });
        } finally {
          sub.dispose();
        }
      },
    );
    const reportPath = join(batteryDir(folder.uri.fsPath), 'report.html');
    mkdirSync(dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, outcome.html);
    showReport(outcome.html, 'Hearth: Task Battery');
    last = { folder, outcome, seed };
    const chosen = outcome.scores.find((s) => s.id === outcome.recommendation.chosen)!;
    if (outcome.regression) {
      const msg = outcome.verdicts.filter((v) => v.regression).map((v) => v.message).join('; ');
      void vscode.window.showWarningMessage(`Hearth: the task battery found a regression against the baseline (recorded as a drift incident): ${msg}`, 'Roll Back Model').then((c) => c && vscode.commands.executeCommand(rollBackModelCommand));
    } else if (outcome.cancelled) {
      void vscode.window.showInformationMessage('Hearth: task battery cancelled; the report covers the tasks that finished. Run it again to resume.');
    } else {
      void vscode.window.showInformationMessage(`Hearth: task battery done; recommended: ${chosen.label}. Report: ${reportPath}`, 'Save as Baseline').then((c) => c && vscode.commands.executeCommand(saveBaselineCommand));
    }
    state.lastRun = {
      folder: folder.uri.fsPath,
      recommended: chosen.id,
      regression: outcome.regression,
      reportPath,
      thresholds: Object.fromEntries(Object.entries(outcome.report.calibration).map(([k, c]) => [k, c.threshold])),
    };
    return state.lastRun;
  };

  /** Saves the last run's recommended candidate (or `arg.candidate`) as the folder's baseline; the old one stays as `previous`. */
  const saveBaseline = async (arg?: { candidate?: string }): Promise<string | undefined> => {
    if (!last) {
      void vscode.window.showInformationMessage('Hearth: run the task battery first ("Hearth: Run Task Battery"): a baseline keeps a run\'s scores.');
      return undefined;
    }
    const id = arg?.candidate ?? last.outcome.recommendation.chosen;
    const chosen = last.outcome.scores.find((s) => s.id === id);
    if (!chosen) throw new Error(`the last battery run has no candidate "${id}"`);
    const file = baselinePath(last.folder);
    const previous = readBaselineIfAny(file, logger);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(makeBaseline(chosen, last.seed, last.outcome.report.head, new Date().toISOString(), previous), null, 2) + '\n');
    void vscode.window.showInformationMessage(`Hearth: saved ${chosen.label} as the baseline of ${last.folder.name}.`);
    return file;
  };

  /** Returns the model and its settings to the previous baseline's, which becomes the baseline again. */
  const rollBack = async (): Promise<string | undefined> => {
    const folder = last?.folder ?? folderNow();
    if (!folder) {
      void vscode.window.showWarningMessage('Hearth: open a folder first: baselines are kept per folder.');
      return undefined;
    }
    const file = baselinePath(folder);
    const current = readBaselineIfAny(file, logger);
    const prev = current?.previous === undefined ? undefined : baselineSchema.safeParse(current.previous);
    if (!current || !prev?.success) {
      void vscode.window.showWarningMessage(`Hearth: nothing to roll back to: ${current ? 'the baseline has no previous one' : `no baseline in ${file}`}. Save a baseline after each model change.`);
      return undefined;
    }
    const target = prev.data.candidate;
    if (!existsSync(target.modelPath)) throw new Error(`the previous baseline's model ${target.modelPath} no longer exists; select a model instead`);
    const set = async (key: string, value: unknown) => {
      const [section, ...rest] = key.split('.');
      const config = vscode.workspace.getConfiguration(section, folder);
      const name = rest.join('.');
      const inspected = config.inspect(name);
      // Where the user keeps it: a folder or workspace value would override a User one.
      const where = inspected?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder : inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await config.update(name, value, where);
    };
    await set(Settings.modelPath.key, target.modelPath);
    await set(Settings.engineContextSize.key, target.contextSize ?? Settings.engineContextSize.default);
    await set(Settings.completionBeamWidth.key, target.beamWidth ?? Settings.completionBeamWidth.default);
    await set(Settings.engineThreads.key, target.threads ?? Settings.engineThreads.default);
    writeFileSync(file, JSON.stringify({ ...prev.data, previous: undefined }, null, 2) + '\n');
    const { sink, workspace } = ledger.sinkFor(folder.uri);
    sink.append({
      kind: 'task', workspace, lane: 'benchmark', model: target.label, tokensIn: 0, tokensOut: 0, timeToFirstTokenMs: null, totalMs: 0,
      outcome: 'accepted', destination: 'local', text: { note: `rolled back from ${current.candidate.label} to ${target.label}` },
    });
    await sink.flush();
    logger.info(`rolled back the model from ${current.candidate.label} to ${target.label}`);
    void vscode.window.showInformationMessage(`Hearth: rolled back to ${target.label} (the previous baseline).`);
    return target.modelPath;
  };

  const guard = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R | undefined> => {
    try {
      return await fn(...a);
    } catch (err) {
      logger.error(`task battery: ${errorMessage(err)}`);
      void vscode.window.showErrorMessage(`Hearth: ${errorMessage(err)}`);
      return undefined;
    }
  };
  context.subscriptions.push(
    vscode.commands.registerCommand(runBatteryCommand, guard(run)),
    vscode.commands.registerCommand(saveBaselineCommand, guard(saveBaseline)),
    vscode.commands.registerCommand(rollBackModelCommand, guard(rollBack)),
  );
  return state;
}
