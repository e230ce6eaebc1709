/**
 * Entry of the extension-host suite: VS Code (code-server's smoke-test driver, or @vscode/test-electron) loads
 * this file as `extensionTestsPath` and calls `run()`; the returned promise decides the exit code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    // Output goes to the page console (code-server) or the terminal (Electron): no colour codes.
    color: false,
    timeout: Number(process.env.HEARTH_TEST_TIMEOUT_MS ?? 120_000),
    grep: process.env.HEARTH_TEST_GREP,
  });
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  // The code-server runner prints the page console from this line on (the workbench logs there too).
  console.log(`[hearth-integration] running ${files.length} file(s) in VS Code ${vscode.version}, node ${process.versions.node}`);
  return new Promise((resolve, reject) => {
    if (files.length === 0) {
      reject(new Error(`no *.test.js files beside ${__filename}: run npm run build first`));
      return;
    }
    try {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
