/**
 * Hearth's activation: builds the context and registers features, nothing else (style rule 1). The model is
 * never loaded here; the engine starts on the first completion.
 */
import * as vscode from 'vscode';
import { errorMessage } from './common/logger';
import { engineRestartKeys } from './vscode/config';
import { EngineHost } from './vscode/engineHost';
import { acceptedCommand, InlineCompletionProvider } from './vscode/completions/inlineCompletionProvider';
import { registerEscalation, type EscalationFeature } from './vscode/escalation/escalateCommand';
import { LedgerService } from './vscode/ledger/ledgerService';
import { detectHardwareProfile } from './node/hardware/hardwareProfile';
import { createLogger } from './vscode/logger';
import { selectModel } from './vscode/models/selectModel';
import { StatusBar } from './vscode/statusBar';

/** What `activate` returns: used by the extension-host tests. */
export interface HearthApi {
  engineStatus(): ReturnType<EngineHost['client']['status']>;
  lastCompletion(): { prefix: string; suffix: string; text: string } | undefined;
  /** "Hearth: Escalate to Frontier" with its modal answered by the caller (the smoke-test driver hides modals). */
  escalation: EscalationFeature;
}

export function activate(context: vscode.ExtensionContext): HearthApi | undefined {
  const channel = vscode.window.createOutputChannel('Hearth', { log: true });
  context.subscriptions.push(channel);
  const logger = createLogger(channel);
  try {
    const statusBar = new StatusBar();
    const host = new EngineHost(context.asAbsolutePath('dist/engine.js'), logger, statusBar);
    const ledger = new LedgerService(logger);
    ledgers = ledger;
    // The machine's profile id goes into every ledger record; probing takes a moment, so it runs in the background.
    let profileId: string | undefined;
    void detectHardwareProfile(undefined, { gpu: false }).then(
      (p) => (profileId = p.profileId),
      (err) => logger.warn(`hardware profile unavailable: ${errorMessage(err)}`),
    );
    const escalation = registerEscalation(context, ledger, logger);
    const provider = new InlineCompletionProvider(host, ledger, () => profileId);
    completions = provider;
    context.subscriptions.push(
      vscode.commands.registerCommand(acceptedCommand, (shown) => provider.accepted(shown)),
      vscode.workspace.onDidChangeTextDocument((e) => provider.documentChanged(e)),
      statusBar,
      host,
      vscode.languages.registerInlineCompletionItemProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], provider),
      vscode.commands.registerCommand('hearth.showLog', () => channel.show()),
      vscode.commands.registerCommand('hearth.selectModel', selectModel),
      vscode.commands.registerCommand('hearth.restartEngine', () => host.restart()),
      vscode.workspace.onDidChangeConfiguration(async (e) => {
        if (!engineRestartKeys.some((k) => e.affectsConfiguration(k))) return;
        await host.restart();
        void host.ensureModel();
      }),
    );
    logger.info(`Hearth activated (extension host: node ${process.versions.node})`);
    return {
      engineStatus: () => host.client.status(),
      escalation,
      lastCompletion: () => {
        const last = provider.lastCompletion;
        return last?.suggestion ? { prefix: last.prefix, suffix: last.suffix, text: last.suggestion } : undefined;
      },
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
