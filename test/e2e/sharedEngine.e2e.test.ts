/**
 * Two windows, one engine: two browser windows on one code-server (two extension hosts sharing the run's
 * HEARTH_RUNTIME_DIR) both show ghost text, and the engine's status names both windows' extension hosts as
 * clients of one engine process (the only one started for that runtime directory).
 *
 * Needs /usr/bin/chromium and `npm run setup:e2e`; skipped when they are missing unless CI or
 * HEARTH_E2E_REQUIRED is set.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { nullLogger } from '../../src/common/logger';
import { PROTOCOL_VERSION, StatusResult } from '../../src/common/protocol/engineProtocol';
import { RpcConnection } from '../../src/node/engine/rpcConnection';
import { readEngineInfo, runtimePaths } from '../../src/node/engine/runtimeDir';
import { diagnostics, e2eModel, installVsix, launchBrowser, repoRoot, startCodeServer, type CodeServer } from '../../scripts/codeServer';
import { EDITOR_SETTINGS, GHOST, ghostText, note, skipUnlessUiAvailable, openFile, typeAtEnd, vsixPath, waitForStatus } from './workbench';

/** This test is about one engine serving two windows: every suggestion shows (no confidence gate, no repository context). */
const NO_GATE = { 'hearth.completion.minConfidence': -100, 'hearth.completion.contextChunks': 0 };

const root = repoRoot();
/**
 * A plain-text copy of sample-workspace's main.ts: no TypeScript server starts in either window, which on a
 * two-core machine halves the time to the first ghost text (Hearth completes any text file alike).
 */
const FILE = 'main.txt';
const TYPED = 'const lowStockNames = ';

/**
 * The engine's status over its socket, said hello to with the token from engine.json. Not through EngineClient:
 * a client from another build (this checkout's dist/ vs the installed .vsix) would replace the engine.
 */
async function engineStatus(runtimeDir: string): Promise<StatusResult> {
  const info = readEngineInfo(runtimePaths(runtimeDir));
  assert.ok(info, `no engine.json in ${runtimeDir}: no shared engine was started there`);
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.createConnection(info.socket);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const connection = new RpcConnection(socket, socket, nullLogger, false);
  try {
    await connection.request('hello', { token: info.token, client: 'e2e probe', protocolVersion: PROTOCOL_VERSION });
    return StatusResult.parse(await connection.request('status', {}));
  } finally {
    connection.close(new Error('done'));
    socket.destroy();
  }
}

/** Pids of engine processes started with `--runtime-dir DIR` (Linux: read from /proc). */
function enginePids(runtimeDir: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const i = argv.indexOf('--runtime-dir');
    if (i > 0 && argv[i + 1] === runtimeDir && argv.some((a) => a.endsWith(path.join('dist', 'engine.js')))) out.push(Number(name));
  }
  return out;
}

describe('two VS Code windows, one Hearth engine (code-server + chromium)', function () {
  this.timeout(180_000);
  let runDir: string;
  let server: CodeServer | undefined;
  let context: BrowserContext | undefined;
  let failed = false;

  before(async function () {
    skipUnlessUiAvailable(this);
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-e2e-two-'));
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    if (!runDir) return;
    if (failed && server) process.stderr.write(diagnostics(server) + '\n');
    await context?.close().catch(() => undefined);
    await server?.stop();
    if (failed || process.env.HEARTH_KEEP_RUN) note(`run folder kept: ${runDir}`);
    else fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('both windows get completions from one engine process that lists both as clients', async function () {
    const started = Date.now();
    const model = await e2eModel(root);
    const vsix = vsixPath();
    if (vsix) await installVsix(vsix, path.join(runDir, 'extensions'), path.join(runDir, 'user-data'), root);
    server = await startCodeServer({ runDir, settings: { 'hearth.model.path': model, ...EDITOR_SETTINGS, ...NO_GATE }, isolateHome: true, smokeTestDriver: !vsix });
    const runtimeDir = path.join(runDir, 'engine');
    note(`code-server up after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    context = await launchBrowser(runDir);
    const payload: [string, string][] | undefined = vsix ? undefined : [['extensionDevelopmentPath', server.remoteUri(root)]];

    // Two windows on two folders, opened together: both extension hosts start at the same moment.
    const pages: Page[] = [];
    for (const name of ['one', 'two']) {
      const workspace = path.join(runDir, `workspace-${name}`);
      fs.cpSync(path.join(root, 'sample-workspace'), workspace, { recursive: true });
      fs.copyFileSync(path.join(workspace, 'src', 'main.ts'), path.join(workspace, 'src', FILE));
      const page = pages.length === 0 ? (context.pages()[0] ?? (await context.newPage())) : await context.newPage();
      pages.push(page);
    }
    await Promise.all(pages.map((page, i) => page.goto(server!.workbenchUrl(path.join(runDir, `workspace-${i === 0 ? 'one' : 'two'}`), payload))));
    await Promise.all(pages.map((page) => page.locator('.monaco-workbench').waitFor({ timeout: 60_000 })));
    note(`two workbenches up after ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // A background tab does not paint: each window is brought to the front for its turn.
    for (const [i, page] of pages.entries()) {
      await page.bringToFront();
      await waitForStatus(page, /Hearth: (idle|starting…|ready)/, 60_000);
      await openFile(page, FILE);
      await typeAtEnd(page, TYPED);
      await page.locator(GHOST).first().waitFor({ timeout: 60_000 });
      const ghost = await ghostText(page);
      note(`window ${i + 1} ghost text: ${JSON.stringify(ghost)}`);
      assert.ok(ghost.trim().length > 0, `window ${i + 1} shows empty ghost text`);
    }

    const status = await engineStatus(runtimeDir);
    const windows = (status.clientNames ?? []).filter((n) => n.startsWith('VS Code window'));
    note(`engine pid ${status.pid}, ${status.clients} clients: ${JSON.stringify(status.clientNames)}`);
    assert.equal(windows.length, 2, `the engine serves ${windows.length} VS Code windows, not 2: ${JSON.stringify(status.clientNames)}`);
    const hostPids = windows.map((n) => /extension host pid (\d+)/.exec(n)?.[1]);
    assert.notEqual(hostPids[0], hostPids[1], 'both clients are the same extension host');
    assert.equal(status.clients, 3, 'two windows and this probe');
    assert.ok(status.model, 'the shared engine has no model loaded');
    assert.deepEqual(enginePids(runtimeDir), [status.pid], 'exactly one engine process for this runtime directory');
    note(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
