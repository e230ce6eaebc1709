import * as vscode from 'vscode';

export type HearthState = 'idle' | 'no model' | 'starting…' | 'ready' | 'error';

/** What the status bar shows of completions (see InlineCompletionProvider.onActivity). */
export interface StatusActivity {
  generating: boolean;
  lastTimeToSuggestionMs: number | undefined;
  tokensPerSecond: number | undefined;
}

/**
 * The status bar item: `$(flame) Hearth: <state>` then, once ready, the model, whether it is generating, the last
 * time to suggestion and the decode speed; detail in the tooltip; a click opens the Hearth menu.
 */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private state: HearthState = 'idle';
  private activity: string = '';

  constructor() {
    this.item = vscode.window.createStatusBarItem('hearth.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Hearth';
    this.item.command = 'hearth.statusMenu';
    this.set('idle', 'Hearth starts its engine on the first completion.');
    this.item.show();
  }

  get current(): HearthState {
    return this.state;
  }

  set(state: HearthState, detail: string | vscode.MarkdownString): void {
    this.state = state;
    this.item.tooltip = detail;
    this.item.backgroundColor = state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.command = state === 'no model' ? 'hearth.selectModel' : 'hearth.statusMenu';
    this.render();
  }

  /** Completion activity: generating, or the last time to suggestion and tokens/s (shown while ready). */
  setActivity(a: StatusActivity, modelName: string | undefined): void {
    const parts: string[] = [];
    if (modelName) parts.push(modelName.length > 24 ? `${modelName.slice(0, 23)}…` : modelName);
    if (a.generating) parts.push('$(sync~spin) generating');
    else {
      if (a.lastTimeToSuggestionMs !== undefined) parts.push(`${a.lastTimeToSuggestionMs.toFixed(0)} ms`);
      if (a.tokensPerSecond !== undefined) parts.push(`${a.tokensPerSecond.toFixed(0)} tok/s`);
    }
    this.activity = parts.length ? ` · ${parts.join(' · ')}` : '';
    this.render();
  }

  private render(): void {
    this.item.text = `$(flame) Hearth: ${this.state}${this.state === 'ready' ? this.activity : ''}`;
  }

  dispose(): void {
    this.item.dispose();
  }
}

/** What the menu needs of completions. */
export interface PausableCompletions {
  isPaused(languageId: string | undefined): boolean;
  setPaused(languageId: string | undefined, paused: boolean): void;
}

/** The status bar's menu: pause or resume completions (this language, all), select model, tune, show log. */
export async function showStatusMenu(statusBar: StatusBar, completions: PausableCompletions): Promise<void> {
  const lang = vscode.window.activeTextEditor?.document.languageId;
  type Pick = vscode.QuickPickItem & { run: () => unknown };
  const items: Pick[] = [];
  if (lang) {
    const paused = completions.isPaused(lang);
    items.push({ label: paused ? `$(play) Resume completions for ${lang}` : `$(debug-pause) Pause completions for ${lang}`, run: () => completions.setPaused(lang, !paused) });
  }
  const allPaused = completions.isPaused(undefined);
  items.push(
    { label: allPaused ? '$(play) Resume all completions' : '$(debug-pause) Pause all completions', run: () => completions.setPaused(undefined, !allPaused) },
    { label: '$(file-binary) Select Model…', run: () => vscode.commands.executeCommand('hearth.selectModel') },
    { label: '$(dashboard) Tune for This Machine', run: () => vscode.commands.executeCommand('hearth.tune') },
    { label: '$(output) Show Log', run: () => vscode.commands.executeCommand('hearth.showLog') },
  );
  const pick = await vscode.window.showQuickPick(items, { title: `Hearth: ${statusBar.current}`, placeHolder: 'Hearth' });
  await pick?.run();
}
