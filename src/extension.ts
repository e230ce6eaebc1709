/**
 * Hearth's activation: builds the context and registers features, nothing else (style rule 1). The model is
 * never loaded here; the engine starts on the first completion.
 */
import * as vscode from 'vscode';
import { errorMessage } from './common/logger';
import { engineRestartKeys } from './vscode/config';
import { EngineHost } from './vscode/engineHost';
import { acceptedCommand, completionStatsCommand, InlineCompletionProvider } from './vscode/completions/inlineCompletionProvider';
import { DashboardPanel, openDashboardCommand, type DashboardState } from './vscode/ledger/dashboardPanel';
import { exportLedgerCommand, exportLedgerToUser, type ExportLedgerArg } from './vscode/ledger/exportLedgerCommand';
import { flagIncident, flagIncidentCommand, type FlagIncidentArg } from './vscode/ledger/flagIncidentCommand';
import { registerEscalation, type EscalationFeature } from './vscode/escalation/escalateCommand';
import { registerChat, type ChatFeature } from './vscode/chat/registerChat';
import { registerBattery, type BatteryState } from './vscode/battery/registerBattery';
import { LedgerService } from './vscode/ledger/ledgerService';
import { OtlpScheduler } from './vscode/ledger/otlpScheduler';
import { createLogger } from './vscode/logger';
import { deleteModel } from './vscode/models/deleteModel';
import { downloadModelCommand } from './vscode/models/downloadModel';
import { ModelLibrary } from './vscode/models/modelLibrary';
import { PolicyService } from './vscode/policy/policyService';
import { registerShowEffectivePolicy } from './vscode/policy/showEffectivePolicy';
import { selectModel } from './vscode/models/selectModel';
import { buildEngineForThisMachine } from './vscode/models/buildEngineCommand';
import { recommendedLoad } from './common/hardware/placement';
import { tuneForThisMachine } from './vscode/models/tuneCommand';
import { TunedSettings } from './vscode/models/tunedSettings';
import { showStatusMenu, StatusBar } from './vscode/statusBar';

/** What `activate` returns: used by the extension-host tests. */
export interface HearthApi {
  engineStatus(): ReturnType<EngineHost['client']['status']>;
  lastCompletion(): { prefix: string; suffix: string; text: string } | undefined;
  /** The policy of each folder; the escalation command asks `policy.decide(folderUri, request)`. */
  policy: PolicyService;
  /** Id of the last task recorded in a ledger by this window (what an incident flag points at). */
  lastTaskId(): string | undefined;
  /** The ROI dashboard panel, when open. */
  dashboard(): DashboardState | undefined;
  /** "Hearth: Escalate to Frontier" with its modal answered by the caller (the smoke-test driver hides modals). */
  escalation: EscalationFeature;
  /** The chat view's conversation. */
  chat: ChatFeature;
  /** The task battery's last run (recommendation, thresholds, regression). */
  battery: BatteryState;
}

export function activate(context: vscode.ExtensionContext): HearthApi | undefined {
  const channel = vscode.window.createOutputChannel('Hearth', { log: true });
  context.subscriptions.push(channel);
  const logger = createLogger(channel);
  try {
    const statusBar = new StatusBar();
    const library = new ModelLibrary(context.asAbsolutePath('models-manifest/models.json'));
    const tuned = new TunedSettings(context.globalState);
    // The machine's profile id goes into every ledger record and keys the tuned settings; probing takes a
    // moment, so it runs in the background (until it is known, the engine runs untuned).
    let profileId: string | undefined;
    let recommendedFor: (path: string) => ReturnType<typeof recommendedLoad> = () => undefined;
    void Promise.all([library.profile(), library.manifest()]).then(
      ([p, m]) => (recommendedFor = (path) => recommendedLoad(p, m, path)),
      () => undefined,
    );
    const host = new EngineHost({
      enginePath: context.asAbsolutePath('dist/engine.js'),
      logger,
      statusBar,
      tunedFor: (path) => tuned.get(profileId, path),
      recommendedFor: (path) => recommendedFor(path),
    });
    const policy = new PolicyService(logger);
    const ledger = new LedgerService(logger, policy);
    ledgers = ledger;
    void library.profile().then(
      (p) => (profileId = p.profileId),
      (err) => logger.warn(`hardware profile unavailable: ${errorMessage(err)}`),
    );
    context.subscriptions.push(policy, registerShowEffectivePolicy(policy));
    const escalation = registerEscalation(context, ledger, policy, logger);
    const battery = registerBattery(context, { ledger, policy, logger });
    const provider = new InlineCompletionProvider(host, ledger, () => profileId, logger, (uri) => policy.effectiveFor(uri));
    completions = provider;
    const chat = registerChat(context, { host, ledger, policy, escalation, logger, machineProfileId: () => profileId });
    const version = String((context.extension.packageJSON as { version?: string }).version ?? '0.0.0');
    context.subscriptions.push(
      ledger,
      new OtlpScheduler(ledger, logger, context.workspaceState, version),
      vscode.commands.registerCommand(exportLedgerCommand, (arg?: ExportLedgerArg) => exportLedgerToUser(ledger, logger, version, arg)),
      vscode.commands.registerCommand(openDashboardCommand, async (arg?: { folder?: string }) => {
        const folder = arg?.folder
          ? vscode.workspace.workspaceFolders?.find((f) => f.uri.fsPath === arg.folder)
          : ledger.folderFor(vscode.window.activeTextEditor?.document.uri);
        if (!folder) {
          void vscode.window.showWarningMessage('Hearth: open a folder first: the ROI dashboard shows a workspace folder\'s ledger.');
          return undefined;
        }
        return DashboardPanel.show(context.extensionUri, ledger, logger, folder).state;
      }),
      vscode.commands.registerCommand(flagIncidentCommand, (arg?: FlagIncidentArg) => flagIncident(ledger, [provider, chat.view], logger, arg)),
      { dispose: () => DashboardPanel.open?.dispose() },
      vscode.commands.registerCommand(acceptedCommand, (shown) => provider.accepted(shown)),
      vscode.commands.registerCommand(completionStatsCommand, () => provider.stats),
      provider,
      provider.onActivity((a) => statusBar.setActivity(a, host.client.model?.name)),
      vscode.commands.registerCommand('hearth.statusMenu', () => showStatusMenu(statusBar, provider)),
      vscode.workspace.onDidChangeTextDocument((e) => provider.documentChanged(e)),
      statusBar,
      host,
      vscode.languages.registerInlineCompletionItemProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], provider),
      vscode.commands.registerCommand('hearth.showLog', () => channel.show()),
      vscode.commands.registerCommand('hearth.selectModel', () => runCommand(() => selectModel(library))),
      vscode.commands.registerCommand('hearth.downloadModel', () => runCommand(() => downloadModelCommand(library, logger))),
      vscode.commands.registerCommand('hearth.deleteModel', () => runCommand(() => deleteModel(library))),
      vscode.commands.registerCommand('hearth.tune', () => runCommand(() => tuneForThisMachine({ host, library, tuned, ledger, logger }))),
      vscode.commands.registerCommand('hearth.restartEngine', () => runCommand(() => host.restartForAllWindows())),
      vscode.commands.registerCommand('hearth.buildEngine', () => runCommand(() => buildEngineForThisMachine(host, logger))),
      vscode.workspace.onDidChangeConfiguration(async (e) => {
        if (!engineRestartKeys.some((k) => e.affectsConfiguration(k))) return;
        await host.restart();
        void host.ensureModel();
      }),
    );
    /** Commands fail with a message the user can act on, never silently. */
    const runCommand = async (fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        host.reportError(err);
      }
    };
    logger.info(`Hearth activated (extension host: node ${process.versions.node})`);
    return {
      engineStatus: () => host.client.status(),
      policy,
      escalation,
      chat,
      battery,
      lastCompletion: () => {
        const last = provider.lastCompletion;
        return last?.suggestion ? { prefix: last.prefix, suffix: last.suffix, text: last.suggestion } : undefined;
      },
      lastTaskId: () => provider.lastTask?.id,
      dashboard: () => DashboardPanel.open?.state,
    };
  } catch (err) {
    logger.error(`Hearth failed to activate: ${errorMessage(err)}`);
    void vscode.window.showErrorMessage(`Hearth failed to activate: ${errorMessage(err)}`, 'Show Log').then((c) => c && channel.show());
    return undefined;
  }
}

let ledgers: LedgerService | undefined;
let completions: InlineCompletionProvider | undefined;

/** Settles what is on screen and flushes the ledgers; disposables in context.subscriptions disconnect the engine. */
export async function deactivate(): Promise<void> {
  completions?.settleAll();
  await ledgers?.close();
}
