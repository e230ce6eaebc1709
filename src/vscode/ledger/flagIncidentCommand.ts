import * as vscode from 'vscode';
import { INCIDENT_CATEGORIES, type IncidentCategory } from '../../common/ledger/ledgerEnums';
import { errorMessage, type Logger } from '../../common/logger';
import type { LedgerService } from './ledgerService';
import { latestTask, type RecordedTaskSource } from './recordedTask';

export const flagIncidentCommand = 'hearth.flagIncident';

/** The incident categories (the four practitioners track, and the battery's drift), as the QuickPick shows them. */
const CATEGORY_ITEMS: Record<IncidentCategory, { label: string; detail: string }> = {
  'factual-error': { label: 'Factual error', detail: 'The answer was wrong: an invented API, a wrong fact, code that does not do what it claims.' },
  'policy-breach': { label: 'Policy breach', detail: 'Something went where the workspace policy says it must not, or was kept when it should not be.' },
  'tool-misuse': { label: 'Tool misuse', detail: 'A tool, command or edit was used wrongly or without need.' },
  'sensitive-data-mishandling': { label: 'Sensitive data mishandling', detail: 'A secret or personal data was shown, sent or stored where it should not be.' },
  drift: { label: 'Drift', detail: 'The model got worse on this repository than its saved baseline (the task battery records these itself).' },
};

/** Optional argument (tests, keybindings): the category, or `{ category }`; no QuickPick then. */
export type FlagIncidentArg = IncidentCategory | { category?: IncidentCategory } | undefined;

/**
 * "Hearth: Flag Last Answer as Incident…": appends an incident record pointing at the last task this window
 * recorded (the ledger is append-only, so the flag is its own record). Returns the incident's id.
 */
export async function flagIncident(ledger: LedgerService, sources: readonly RecordedTaskSource[], logger: Logger, arg?: FlagIncidentArg): Promise<string | undefined> {
  const task = latestTask(sources);
  if (!task) {
    void vscode.window.showInformationMessage('Hearth: nothing to flag yet: no answer has been recorded in this window.');
    return undefined;
  }
  let category = typeof arg === 'string' ? arg : arg?.category;
  if (category !== undefined && !INCIDENT_CATEGORIES.includes(category)) {
    void vscode.window.showErrorMessage(`Hearth: "${String(category)}" is not an incident category (${INCIDENT_CATEGORIES.join(', ')}).`);
    return undefined;
  }
  if (!category) {
    const when = new Date(task.time).toLocaleTimeString();
    const picked = await vscode.window.showQuickPick(
      INCIDENT_CATEGORIES.map((c) => ({ ...CATEGORY_ITEMS[c], category: c })),
      { title: `Flag the last answer as an incident (${task.lane}, ${task.model}, ${when}, ${task.outcome})`, placeHolder: 'What went wrong?', matchOnDetail: true },
    );
    if (!picked) return undefined;
    category = picked.category;
  }
  const { sink, workspace } = ledger.sinkFor(task.uri);
  if (workspace === 'none') {
    void vscode.window.showWarningMessage('Hearth: the ledger is off for this folder (hearth.ledger.enabled), so the incident was not recorded.');
    return undefined;
  }
  try {
    const id = sink.append({ kind: 'incident', workspace, lane: task.lane, model: task.model, incident: category, refersTo: task.id });
    await sink.flush();
    logger.info(`ledger: incident ${category} recorded for task ${task.id}`);
    void vscode.window.showInformationMessage(`Hearth: the last answer was flagged as "${CATEGORY_ITEMS[category].label}" in the workspace ledger.`);
    return id;
  } catch (err) {
    logger.error(`could not record the incident: ${errorMessage(err)}`);
    void vscode.window.showErrorMessage(`Hearth could not record the incident: ${errorMessage(err)}`);
    return undefined;
  }
}
