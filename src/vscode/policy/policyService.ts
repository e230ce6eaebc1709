/**
 * Keeps the effective policy of each workspace folder (the user's settings combined with the folder's
 * `.hearth/policy.jsonc`), shows problems in the policy file and the status bar, and answers the escalation
 * command's question: may this go?
 */
import * as vscode from 'vscode';
import type { Logger } from '../../common/logger';
import { combinePolicies, type EffectivePolicy, type RepoPolicyInput } from '../../common/policy/combinePolicies';
import { decide, type Decision, type DecisionRequest } from '../../common/policy/decide';
import { parsePolicyText, parsePolicyTree, rangeOfPath, type PolicyProblem } from '../../common/policy/parsePolicy';
import { POLICY_FILE } from '../../common/policy/policySchema';
import { parseUserPolicy, type RawUserSettings } from '../../common/policy/userPolicy';
import { Settings, type SettingSpec } from '../../common/settings';
import { readPolicyFile } from '../../node/policy/policyFile';
import { PolicyStatusItem } from './policyStatusItem';

/**
 * A user-only setting: the value from User settings or the default. Workspace values are ignored even if the
 * editor offered them, so a repository's `.vscode/settings.json` cannot loosen what may leave the machine.
 */
function userValue<T>(spec: SettingSpec<T>): unknown {
  const inspected = vscode.workspace.getConfiguration().inspect<T>(spec.key);
  return inspected?.globalValue ?? spec.default;
}

/** The settings that feed the policy; a change to any re-evaluates every folder. */
export const policySettingKeys = [
  Settings.escalationEnabled,
  Settings.escalationAllowedDestinations,
  Settings.escalationEndpoints,
  Settings.escalationConsent,
  Settings.escalationBudgetPerTaskUsd,
  Settings.escalationBudgetPerMonthUsd,
  Settings.escalationNeverSend,
  Settings.escalationAllowInsecureHttp,
  Settings.redactionDisabledCategories,
  Settings.routingConfidenceThresholds,
].map((s: SettingSpec<unknown>) => s.key);

export class PolicyService implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly effective = new Map<string, EffectivePolicy>();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('hearth-policy');
  private readonly status = new PolicyStatusItem();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after any folder's effective policy was re-evaluated. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly logger: Logger) {
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${POLICY_FILE}`);
    const reloadFor = (uri: vscode.Uri) => {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      if (folder && this.policyUri(folder).toString() === uri.toString()) void this.reload(folder);
    };
    this.disposables.push(
      this.diagnostics,
      this.status,
      this.changed,
      watcher,
      watcher.onDidCreate(reloadFor),
      watcher.onDidChange(reloadFor),
      watcher.onDidDelete(reloadFor),
      // Saving through the editor also reloads: some remote file watchers are slow or absent.
      vscode.workspace.onDidSaveTextDocument((d) => reloadFor(d.uri)),
      // While the file is edited, its diagnostics follow the unsaved text.
      vscode.workspace.onDidChangeTextDocument((e) => this.showBufferDiagnostics(e.document)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reloadAll()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.reloadAll()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (policySettingKeys.some((k) => e.affectsConfiguration(k))) void this.reloadAll();
      }),
    );
    void this.reloadAll();
  }

  /** URI of a folder's policy file. */
  policyUri(folder: vscode.WorkspaceFolder): vscode.Uri {
    return vscode.Uri.joinPath(folder.uri, ...POLICY_FILE.split('/'));
  }

  /** The user's side, from User settings only. */
  userPolicy(): ReturnType<typeof parseUserPolicy> {
    const raw: RawUserSettings = {
      escalationEnabled: userValue(Settings.escalationEnabled),
      allowedDestinations: userValue(Settings.escalationAllowedDestinations),
      endpoints: userValue(Settings.escalationEndpoints),
      consent: userValue(Settings.escalationConsent),
      budgetPerTaskUsd: userValue(Settings.escalationBudgetPerTaskUsd),
      budgetPerMonthUsd: userValue(Settings.escalationBudgetPerMonthUsd),
      neverSend: userValue(Settings.escalationNeverSend),
      allowInsecureHttp: userValue(Settings.escalationAllowInsecureHttp),
      disabledCategories: userValue(Settings.redactionDisabledCategories),
      routingThresholds: userValue(Settings.routingConfidenceThresholds),
    };
    return parseUserPolicy(raw);
  }

  /** Reads the folder's policy file again and re-evaluates; returns the effective policy. */
  async reload(folder: vscode.WorkspaceFolder): Promise<EffectivePolicy> {
    let repo: RepoPolicyInput;
    if (folder.uri.scheme === 'file') {
      repo = await readPolicyFile(folder.uri.fsPath);
    } else {
      repo = await this.readThroughEditor(folder);
    }
    const { policy: user, problems } = this.userPolicy();
    const effective = combinePolicies(user, repo, problems);
    this.effective.set(folder.uri.toString(), effective);
    await this.showDiagnostics(folder, effective);
    this.updateStatus();
    if (effective.repo.status === 'invalid') this.logger.warn(`policy of ${folder.name}: ${effective.repo.error.message}`);
    for (const r of effective.refused) this.logger.warn(`policy of ${folder.name}: refused ${r}`);
    this.changed.fire();
    return effective;
  }

  /** Re-evaluates every folder. */
  async reloadAll(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    for (const key of [...this.effective.keys()]) if (!folders.some((f) => f.uri.toString() === key)) this.effective.delete(key);
    await Promise.all(folders.map((f) => this.reload(f).catch((err) => this.logger.error(`policy of ${f.name}: ${String(err)}`))));
  }

  /** The last evaluated policy of a folder (undefined before the first evaluation). */
  effectiveFor(folderUri: vscode.Uri): EffectivePolicy | undefined {
    return this.effective.get(folderUri.toString());
  }

  /**
   * Whether a request may leave the machine, decided on the policy file as it is on disk now (read again, so a
   * change saved a moment ago counts). Workspace trust comes from the editor: a caller can only lower it.
   */
  async decide(folderUri: vscode.Uri, request: Omit<DecisionRequest, 'workspaceTrusted'> & { workspaceTrusted?: boolean }): Promise<Decision> {
    const folder = vscode.workspace.getWorkspaceFolder(folderUri);
    const user = this.userPolicy();
    const effective = folder ? await this.reload(folder) : combinePolicies(user.policy, undefined, user.problems);
    return decide(effective, { ...request, workspaceTrusted: vscode.workspace.isTrusted && request.workspaceTrusted !== false });
  }

  /** Folders and their effective policies, in workspace order. */
  all(): { folder: vscode.WorkspaceFolder; policy: EffectivePolicy }[] {
    return (vscode.workspace.workspaceFolders ?? []).flatMap((folder) => {
      const policy = this.effective.get(folder.uri.toString());
      return policy ? [{ folder, policy }] : [];
    });
  }

  private async readThroughEditor(folder: vscode.WorkspaceFolder): Promise<RepoPolicyInput> {
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(this.policyUri(folder));
    } catch (err) {
      if (err instanceof vscode.FileSystemError && err.code === 'FileNotFound') return undefined;
      const message = `${POLICY_FILE} cannot be read: ${String(err)}`;
      return { error: { file: POLICY_FILE, message, problems: [{ message, offset: 0, length: 1, line: 1, column: 1 }] } };
    }
    const text = new TextDecoder().decode(bytes).replace(/^\uFEFF/, '');
    const parsed = parsePolicyText(text);
    return parsed.ok ? parsed.policy : { error: parsed.error };
  }

  private toDiagnostic(doc: vscode.TextDocument | undefined, text: string, p: { message: string; offset: number; length: number }, severity: vscode.DiagnosticSeverity): vscode.Diagnostic {
    const at = (offset: number) => {
      if (doc) return doc.positionAt(offset);
      const before = text.slice(0, offset).split('\n');
      return new vscode.Position(before.length - 1, before[before.length - 1]!.length);
    };
    const d = new vscode.Diagnostic(new vscode.Range(at(p.offset), at(p.offset + p.length)), p.message, severity);
    d.source = 'Hearth policy';
    return d;
  }

  /** Diagnostics for a policy text: its problems (errors) or, when valid, what the repo was refused (warnings). */
  private diagnosticsFor(doc: vscode.TextDocument | undefined, text: string, problems: PolicyProblem[] | undefined, effective: EffectivePolicy | undefined): vscode.Diagnostic[] {
    if (problems) return problems.map((p) => this.toDiagnostic(doc, text, p, vscode.DiagnosticSeverity.Error));
    const root = parsePolicyTree(text);
    if (!root || !effective) return [];
    return effective.refusals.map((r) => this.toDiagnostic(doc, text, { message: `Refused: ${r.message}`, ...rangeOfPath(root, r.path) }, vscode.DiagnosticSeverity.Warning));
  }

  private async showDiagnostics(folder: vscode.WorkspaceFolder, effective: EffectivePolicy): Promise<void> {
    const uri = this.policyUri(folder);
    if (effective.repo.status === 'none') {
      this.diagnostics.delete(uri);
      return;
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (doc?.isDirty) return; // the buffer's own diagnostics stand until it is saved
    let text = doc?.getText();
    if (text === undefined) {
      try {
        text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)).replace(/^\uFEFF/, '');
      } catch {
        text = '';
      }
    }
    const problems = effective.repo.status === 'invalid' ? effective.repo.error.problems : undefined;
    this.diagnostics.set(uri, this.diagnosticsFor(doc, text, problems, effective));
  }

  private showBufferDiagnostics(doc: vscode.TextDocument): void {
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
    if (!folder || this.policyUri(folder).toString() !== doc.uri.toString()) return;
    const text = doc.getText();
    const parsed = parsePolicyText(text);
    const effective = parsed.ok ? combinePolicies(this.userPolicy().policy, parsed.policy) : undefined;
    this.diagnostics.set(doc.uri, this.diagnosticsFor(doc, text, parsed.ok ? undefined : parsed.error.problems, effective));
  }

  private updateStatus(): void {
    const invalid: string[] = [];
    const refused: string[] = [];
    for (const { folder, policy } of this.all()) {
      if (policy.repo.status === 'invalid') invalid.push(`${folder.name}: ${policy.repo.error.message}`);
      for (const r of policy.refused) refused.push(`${folder.name}: ${r}`);
    }
    this.status.update(invalid, refused);
  }

  /** Text of the policy status bar item (for tests); undefined while hidden. */
  get statusText(): string | undefined {
    return this.status.text;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
