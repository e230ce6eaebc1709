import * as assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';

/** The lint rule that keeps the editor at the edge actually fires (a rule that never fires protects nothing). */
describe('layering lint rule', function () {
  this.timeout(60_000);
  const root = resolve(__dirname, '../../..');
  const eslint = new ESLint({ cwd: root });
  const lint = async (file: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: resolve(root, file) });
    return result!.messages.map((m) => m.ruleId);
  };

  it('rejects vscode in src/common and src/node', async () => {
    const code = "import * as vscode from 'vscode';\nexport const x = vscode.version;\n";
    assert.ok((await lint('src/common/x.ts', code)).includes('no-restricted-imports'));
    assert.ok((await lint('src/node/x.ts', code)).includes('no-restricted-imports'));
  });

  it('rejects Node APIs in src/common', async () => {
    assert.ok((await lint('src/common/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).includes('no-restricted-imports'));
  });

  it('allows vscode in src/vscode', async () => {
    assert.deepEqual(await lint('src/vscode/x.ts', "import * as vscode from 'vscode';\nexport const x = vscode.version;\n"), []);
  });
});
