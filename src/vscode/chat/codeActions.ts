/**
 * What a code block in an answer can do: copy, insert at the cursor, or apply to a file. Applying proposes a
 * WorkspaceEdit with one edit per changed hunk, each marked `needsConfirmation`, so VS Code's refactor preview
 * shows the diff and the user ticks the hunks to keep before anything changes; the applied edit is one undo step
 * (Undo in the file takes it all back). It works on files that are not open: the edit opens them in the
 * background, and a file that had no unsaved changes is saved afterwards, so the disk holds what was reviewed.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { lineHunks, type LineHunk } from '../../common/chat/lineDiff';

export async function copyCode(code: string): Promise<void> {
  await vscode.env.clipboard.writeText(code);
  void vscode.window.setStatusBarMessage('Hearth: code copied', 2000);
}

/** Inserts at the cursor of the last editor (replacing its selection). */
export async function insertCode(editor: vscode.TextEditor | undefined, code: string): Promise<string | undefined> {
  if (!editor) return 'Open a file and put the cursor where the code should go.';
  const shown = await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, selection: editor.selection, preserveFocus: false });
  const ok = await shown.edit((b) => b.replace(shown.selection, code));
  return ok ? undefined : `Could not insert into ${basename(editor.document.fileName)} (it changed meanwhile?); try again.`;
}

/** The workspace edit for replacing `range` (or the whole document) of `doc` by `code`, hunk by hunk. */
export function hunkEdit(doc: vscode.TextDocument, code: string, range: vscode.Range | undefined): { edit: vscode.WorkspaceEdit; hunks: LineHunk[] } {
  const eol = doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
  const oldText = doc.getText().replace(/\r\n/g, '\n');
  let block = code.replace(/\r\n/g, '\n');
  // A Markdown code block never ends with a line break; a whole file replaced by one keeps its final line break.
  if (!range && oldText.endsWith('\n') && !block.endsWith('\n')) block += '\n';
  const whole = range ? doc.getText().slice(0, doc.offsetAt(range.start)).replace(/\r\n/g, '\n') + block + doc.getText().slice(doc.offsetAt(range.end)).replace(/\r\n/g, '\n') : block;
  const hunks = lineHunks(oldText, whole);
  const edit = new vscode.WorkspaceEdit();
  const last = doc.lineCount - 1;
  const lineEnd = (line: number) => doc.lineAt(line).range.end;
  hunks.forEach((h, i) => {
    // A replaced run of lines ends at its last line's end (not the next line's start): the refactor preview
    // then shows and applies exactly these lines, and the file keeps its final line break.
    let range: vscode.Range;
    let text: string;
    if (h.oldLines === 0) {
      if (h.oldStart <= last) {
        range = new vscode.Range(h.oldStart, 0, h.oldStart, 0);
        text = h.newLines.join(eol) + eol;
      } else {
        range = new vscode.Range(lineEnd(last), lineEnd(last));
        text = eol + h.newLines.join(eol);
      }
    } else if (h.newLines.length === 0) {
      const endLine = h.oldStart + h.oldLines;
      range = endLine <= last ? new vscode.Range(h.oldStart, 0, endLine, 0) : new vscode.Range(h.oldStart > 0 ? lineEnd(h.oldStart - 1) : new vscode.Position(0, 0), lineEnd(last));
      text = '';
    } else {
      range = new vscode.Range(new vscode.Position(h.oldStart, 0), lineEnd(Math.min(last, h.oldStart + h.oldLines - 1)));
      text = h.newLines.join(eol);
    }
    const lines = h.oldLines === 0 ? `after line ${h.oldStart}` : h.oldLines === 1 ? `line ${h.oldStart + 1}` : `lines ${h.oldStart + 1}–${h.oldStart + h.oldLines}`;
    edit.replace(doc.uri, range, text, {
      needsConfirmation: true,
      label: `Hunk ${i + 1} of ${hunks.length}: ${lines}`,
      description: `−${h.oldLines} +${h.newLines.length} lines`,
    });
  });
  return { edit, hunks };
}

/** Which file to apply to: the last editor's first, then other open editors, then any workspace file. */
async function pickTarget(editor: vscode.TextEditor | undefined): Promise<vscode.Uri | undefined> {
  type Item = vscode.QuickPickItem & { uri?: vscode.Uri };
  const open = vscode.window.tabGroups.all.flatMap((g) => g.tabs).flatMap((t) => (t.input instanceof vscode.TabInputText && t.input.uri.scheme === 'file' ? [t.input.uri] : []));
  const first = editor && editor.document.uri.scheme !== 'output' ? [editor.document.uri] : [];
  const uris = [...new Map([...first, ...open].map((u) => [u.toString(), u])).values()];
  const items: Item[] = uris.map((uri, i) => ({
    label: basename(uri.fsPath),
    description: vscode.workspace.asRelativePath(uri, false) + (i === 0 && first.length && !editor!.selection.isEmpty ? ' — replaces the selection' : ''),
    uri,
  }));
  items.push({ label: 'Another file…', description: 'pick any file in the workspace, open or not' });
  const pick = await vscode.window.showQuickPick(items, { title: 'Hearth: apply the code block to which file? You review the diff before anything changes.' });
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  const files = await vscode.workspace.findFiles('**/*', '**/{node_modules,.git,dist,out}/**', 5000);
  const other = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri, false), uri })),
    { title: 'Hearth: apply the code block to…', matchOnDescription: true },
  );
  return other?.uri;
}

/**
 * Applies `code` to a file the user picks, through the refactor preview. Returns a message for the user when
 * nothing was applied for a reason they should know.
 */
export async function applyCode(editor: vscode.TextEditor | undefined, code: string): Promise<{ applied: boolean; message?: string }> {
  const uri = await pickTarget(editor);
  if (!uri) return { applied: false };
  const doc = await vscode.workspace.openTextDocument(uri);
  const wasDirty = doc.isDirty;
  const range = editor && editor.document.uri.toString() === uri.toString() && !editor.selection.isEmpty ? editor.selection : undefined;
  const { edit, hunks } = hunkEdit(doc, code, range);
  if (hunks.length === 0) return { applied: false, message: `${basename(uri.fsPath)} already holds exactly this code.` };
  const applied = await vscode.workspace.applyEdit(edit, { isRefactoring: true });
  if (applied && !wasDirty && doc.isDirty) await doc.save();
  return { applied };
}
