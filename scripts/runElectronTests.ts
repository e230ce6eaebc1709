/**
 * Runs the extension-host suite (out/test/integration/index.js) in desktop VS Code through
 * @vscode/test-electron, for machines that can download VS Code (or name one in HEARTH_VSCODE_EXECUTABLE).
 * Machines without internet use `npm run test:integration` (the same suite in code-server) instead.
 *
 *   node out/scripts/runElectronTests.js       (npm run test:electron, after npm run build)
 *
 * Environment: HEARTH_VSCODE_VERSION (default stable), HEARTH_VSCODE_EXECUTABLE, HEARTH_TEST_GREP.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import { ensureGeneratedModel, repoRoot } from './codeServer';

function say(line: string): void {
  process.stdout.write(`[electron] ${line}\n`);
}

async function main(): Promise<number> {
  const root = repoRoot();
  const testsEntry = path.join(root, 'out', 'test', 'integration', 'index.js');
  if (!fs.existsSync(testsEntry) || !fs.existsSync(path.join(root, 'dist', 'extension.js'))) {
    say('FAILED: out/test/integration/index.js or dist/extension.js is missing: run npm run build first');
    return 1;
  }

  let vscodeExecutablePath = process.env.HEARTH_VSCODE_EXECUTABLE;
  if (!vscodeExecutablePath) {
    try {
      vscodeExecutablePath = await downloadAndUnzipVSCode({
        version: process.env.HEARTH_VSCODE_VERSION ?? 'stable',
        cachePath: path.join(root, '.vscode-test'),
        timeout: 30_000,
      });
    } catch (err) {
      const reason = ((err as Error).message || String(err)).split('\n')[0];
      say(`FAILED: cannot download VS Code (${reason}); on a machine without internet run npm run test:integration (the same suite in code-server)`);
      return 1;
    }
  }

  const model = await ensureGeneratedModel(process.env.HEARTH_TEST_MODEL_PRESET ?? 'tinyDense', undefined, root);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-electron-'));
  const workspace = path.join(runDir, 'workspace');
  fs.cpSync(path.join(root, 'sample-workspace'), workspace, { recursive: true });
  const userDataDir = path.join(runDir, 'user-data');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  // A local window: machine-scoped settings are read from User settings here.
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({
      'files.autoSave': 'off',
      'workbench.startupEditor': 'none',
      'update.mode': 'none',
      'telemetry.telemetryLevel': 'off',
      'security.workspace.trust.enabled': false,
      'hearth.model.path': model,
      'hearth.engine.threads': 1,
      'hearth.completion.timeLimitMs': 60_000,
    }, null, 2),
  );

  try {
    const code = await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: root,
      extensionTestsPath: testsEntry,
      extensionTestsEnv: process.env.HEARTH_TEST_GREP ? { HEARTH_TEST_GREP: process.env.HEARTH_TEST_GREP } : {},
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--user-data-dir', userDataDir,
        '--extensions-dir', path.join(runDir, 'extensions'),
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      ],
    });
    say(code === 0 ? 'passed' : `failed (exit ${code})`);
    return code;
  } catch (err) {
    // runTests rejects on a non-zero exit of VS Code too.
    say(`FAILED: ${((err as Error).message || String(err)).split('\n')[0]}`);
    return 1;
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    say(`FAILED: ${(err as Error).message}`);
    process.exit(1);
  },
);
