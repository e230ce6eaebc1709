import * as vscode from 'vscode';

export type HearthState = 'idle' | 'no model' | 'starting…' | 'ready' | 'error';

/** The status bar item: `$(flame) Hearth: <state>`, with detail in the tooltip; clicking shows the log. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private state: HearthState = 'idle';

  constructor() {
    this.item = vscode.window.createStatusBarItem('hearth.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Hearth';
    this.item.command = 'hearth.showLog';
    this.set('idle', 'Hearth starts its engine on the first completion.');
    this.item.show();
  }

  get current(): HearthState {
    return this.state;
  }

  set(state: HearthState, detail: string | vscode.MarkdownString): void {
    this.state = state;
    this.item.text = `$(flame) Hearth: ${state}`;
    this.item.tooltip = detail;
    this.item.backgroundColor = state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    if (state === 'no model') this.item.command = 'hearth.selectModel';
    else this.item.command = 'hearth.showLog';
  }

  dispose(): void {
    this.item.dispose();
  }
}
