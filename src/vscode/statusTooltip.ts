import * as vscode from 'vscode';
import { statusTooltipMarkdown, type StatusTooltipFacts } from '../common/engineStatusText';

/** The status bar tooltip when ready: model, threads and batch, engine pid, and who shares the engine. */
export function statusTooltip(facts: StatusTooltipFacts): vscode.MarkdownString {
  const md = new vscode.MarkdownString(statusTooltipMarkdown(facts));
  md.supportThemeIcons = true;
  return md;
}
