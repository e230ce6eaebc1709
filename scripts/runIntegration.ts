/**
 * Runs the extension-host suite (out/test/integration/index.js) inside a real VS Code: code-server with the
 * smoke-test driver, loading this repository as the extension under development. Mocha's output is read from
 * the page console; the exit code is the suite's, as VS Code reports it through `codeAutomationExit`.
 *
 *   node out/scripts/runIntegration.js        (npm run test:integration, after npm run build)
 *
 * Environment: HEARTH_INTEGRATION_TIMEOUT_MS (default 240000), HEARTH_TEST_GREP (mocha grep, passed to the
 * extension host), HEARTH_KEEP_RUN=1 keeps the run folder, CI / HEARTH_E2E_REQUIRED make a missing browser or
 * code-server a failure instead of a skip.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as util from 'node:util';
import type { ConsoleMessage } from 'playwright-core';
import {
  diagnostics,
  e2eRequired,
  ensureGeneratedModel,
  freePort,
  launchBrowser,
  logTail,
  repoRoot,
  startCodeServer,
  unavailableReason,
  type CodeServer,
} from './codeServer';

const EXIT_TIMEOUT = 3;

function say(line: string): void {
  process.stdout.write(`[integration] ${line}\n`);
}

/** Renders a console message the way the extension host wrote it (`'%c INFO', css, fmt, ...args`). */
async function consoleText(msg: ConsoleMessage): Promise<{ fromExtensionHost: boolean; text: string; raw?: string }> {
  const values = await Promise.all(msg.args().map((a) => a.jsonValue().catch(() => undefined)));
  if (typeof values[0] === 'string' && values[0].startsWith('%c')) {
    return { fromExtensionHost: true, text: util.format(...values.slice(2)), raw: `${values[0]} | ${String(values[1])}` };
  }
  return { fromExtensionHost: false, text: `[${msg.type()}] ${msg.text()}` };
}

async function main(): Promise<number> {
  const started = Date.now();
  const root = repoRoot();
  const reason = unavailableReason(root);
  if (reason) {
    if (e2eRequired()) {
      say(`FAILED: cannot run a real VS Code: ${reason}`);
      return 1;
    }
    say(`skipped: ${reason}`);
    return 0;
  }
  const testsEntry = path.join(root, 'out', 'test', 'integration', 'index.js');
  for (const f of [testsEntry, path.join(root, 'dist', 'extension.js'), path.join(root, 'dist', 'engine.js')]) {
    if (!fs.existsSync(f)) {
      say(`FAILED: ${path.relative(root, f)} is missing: run npm run build first`);
      return 1;
    }
  }

  const model = await ensureGeneratedModel(process.env.HEARTH_TEST_MODEL_PRESET ?? 'tinyDense', undefined, root);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-integration-'));
  const workspace = path.join(runDir, 'workspace');
  fs.cpSync(path.join(root, 'sample-workspace'), workspace, { recursive: true });
  const resultsDir = path.join(root, 'test-results');
  fs.mkdirSync(resultsDir, { recursive: true });

  let server: CodeServer | undefined;
  let code = 1;
  let failed = true;
  const timeoutMs = Number(process.env.HEARTH_INTEGRATION_TIMEOUT_MS ?? 240_000);
  const consoleLog = fs.createWriteStream(path.join(runDir, 'browser-console.log'));
  try {
    // Ports where test/integration/escalation.test.ts starts its fake OpenAI and Anthropic servers; that suite
    // puts the endpoints in user settings itself and removes them after, so other suites see the defaults.
    const openAiPort = await freePort();
    const anthropicPort = await freePort();
    server = await startCodeServer({
      runDir,
      smokeTestDriver: true,
      isolateHome: true,
      env: {
        ...(process.env.HEARTH_TEST_GREP ? { HEARTH_TEST_GREP: process.env.HEARTH_TEST_GREP } : {}),
        HEARTH_TEST_OPENAI_PORT: String(openAiPort),
        HEARTH_TEST_ANTHROPIC_PORT: String(anthropicPort),
        // The ledger tests wait for an accepted completion's record, written after its survival checks.
        HEARTH_SURVIVAL_CHECKS_MS: '300,600',
      },
      settings: {
        'hearth.model.path': model,
        // Fixed threads and a generous time cap: the suite compares against a second engine run.
        'hearth.engine.threads': 1,
        'hearth.completion.timeLimitMs': 60_000,
        // The suite's random-weight model is never confident, and its prompt must be the one a direct engine run
        // builds: no confidence gate, no repository context.
        'hearth.completion.minConfidence': -100,
        'hearth.completion.contextChunks': 0,
      },
    });
    say(`code-server ${server.url} (run folder ${runDir})`);
    const context = await launchBrowser(runDir);
    const page = context.pages()[0] ?? (await context.newPage());

    let settle!: (code: number) => void;
    const exited = new Promise<number>((resolve) => (settle = resolve));
    await page.exposeFunction('codeAutomationExit', (exitCode: number) => {
      settle(typeof exitCode === 'number' ? exitCode : 1);
    });
    // Console events are rendered asynchronously: a queue keeps mocha's lines in order.
    let printing = Promise.resolve();
    let suiteStarted = false;
    page.on('console', (msg) => {
      const rendered = consoleText(msg);
      printing = printing.then(async () => {
        const { fromExtensionHost, text, raw } = await rendered;
        if (fromExtensionHost && text.startsWith('[hearth-integration]')) suiteStarted = true;
        if (fromExtensionHost && suiteStarted) process.stdout.write(text + '\n');
        consoleLog.write(`${raw ?? ''} ${text}\n`);
      });
    });
    page.on('pageerror', (err) => consoleLog.write(`[pageerror] ${err.message}\n`));

    const url = server.workbenchUrl(workspace, [
      ['extensionDevelopmentPath', server.remoteUri(root)],
      ['extensionTestsPath', server.remoteUri(testsEntry)],
    ]);
    await page.goto(url);

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    await printing;
    await page.screenshot({ path: path.join(resultsDir, 'integration.png') }).catch(() => undefined);
    if (outcome === 'timeout') {
      say(`FAILED: the extension-host suite did not finish within ${timeoutMs / 1000} s ` +
        '(VS Code never called codeAutomationExit: the extension host did not start, or a test hung). ' +
        `Screenshot: ${path.join(resultsDir, 'integration.png')}`);
      code = EXIT_TIMEOUT;
    } else {
      code = outcome;
      failed = code !== 0;
    }
    await context.close().catch(() => undefined);
  } catch (err) {
    say(`FAILED: ${(err as Error).stack ?? String(err)}`);
  } finally {
    consoleLog.end();
    if (server) {
      if (failed) process.stderr.write(`${diagnostics(server)}\n${logTail(path.join(runDir, 'browser-console.log'), 40)}\n`);
      await server.stop();
    }
    if (!failed && !process.env.HEARTH_KEEP_RUN) fs.rmSync(runDir, { recursive: true, force: true });
    else say(`run folder kept: ${runDir}`);
  }
  say(`${code === 0 ? 'passed' : `failed (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    say(`FAILED: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
