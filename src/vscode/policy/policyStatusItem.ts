import * as vscode from 'vscode';

/**
 * A second status bar item, beside Hearth's own, shown only while a repo policy is invalid (escalation blocked)
 * or had parts refused. Clicking it shows the effective policy.
 */
export class PolicyStatusItem implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private visible = false;

  constructor() {
    this.item = vscode.window.createStatusBarItem('hearth.policy', vscode.StatusBarAlignment.Right, 99);
    this.item.name = 'Hearth Policy';
    this.item.command = 'hearth.showEffectivePolicy';
  }

  /** `invalid` and `refused` list one line per folder; both empty hides the item. */
  update(invalid: string[], refused: string[]): void {
    if (invalid.length) {
      this.item.text = '$(shield) Policy invalid';
      this.item.tooltip = `Escalation is blocked until the policy is fixed:\n${invalid.join('\n')}`;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else if (refused.length) {
      this.item.text = `$(shield) Policy: ${refused.length} refused`;
      this.item.tooltip = `The repo policy asked for what your settings do not allow; Hearth ignored it:\n${refused.join('\n')}`;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else {
      this.item.hide();
      this.visible = false;
      return;
    }
    this.item.show();
    this.visible = true;
  }

  /** The text while shown, undefined while hidden. */
  get text(): string | undefined {
    return this.visible ? this.item.text : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
