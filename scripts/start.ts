/**
 * `npm start`: Hearth in a real VS Code with a model, in one command.
 *   1. the model the project trains and ships (models/hearth-code-tiny.gguf) unless HEARTH_MODEL names a GGUF file;
 *   2. the packaged extension hearth.vsix (`npm run package` when missing or older than its sources; HEARTH_VSIX
 *      names another);
 *   3. code-server (scripts/setup-code-server.sh), Hearth installed into .hearth-run/extensions;
 *   4. code-server on 127.0.0.1:HEARTH_PORT (default 8765, else a free port) on sample-workspace/
 *      (HEARTH_WORKSPACE overrides), until Ctrl+C.
 * With HEARTH_EDITOR=code and a desktop `code` on PATH, opens desktop VS Code with this folder as the
 * extension under development instead.
 *
 * .hearth-run/ keeps the editor's state between starts; its settings files are rewritten on each start.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  chromiumAvailable,
  diagnostics,
  installVsix,
  repoRoot,
  SHIPPED_MODEL,
  startCodeServer,
  writeUserSettings,
  type CodeServer,
  vsixIsStale,
} from './codeServer';

const root = repoRoot();
const runDir = path.join(root, '.hearth-run');

function say(line: string): void {
  process.stdout.write(`[hearth] ${line}\n`);
}

function fail(line: string): never {
  process.stderr.write(`[hearth] ${line}\n`);
  process.exit(1);
}

async function resolveModel(): Promise<string> {
  const fromEnv = process.env.HEARTH_MODEL;
  if (fromEnv) {
    const p = path.resolve(fromEnv);
    if (!fs.existsSync(p)) fail(`HEARTH_MODEL=${fromEnv}: no such file`);
    return p;
  }
  const shipped = path.join(root, SHIPPED_MODEL);
  if (!fs.existsSync(shipped)) fail(`${SHIPPED_MODEL} is missing (it is committed with the repository): git checkout ${SHIPPED_MODEL}, or set HEARTH_MODEL to a GGUF file`);
  say(`demo model: ${SHIPPED_MODEL} (trained by the project: models/train/README.md)`);
  return shipped;
}

function npmRun(script: string): void {
  const r = spawnSync('npm', ['run', script], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail(`npm run ${script} failed (exit ${r.status})`);
}

function ensureVsix(): string {
  if (process.env.HEARTH_VSIX) {
    const given = path.resolve(process.env.HEARTH_VSIX);
    if (!fs.existsSync(given)) fail(`HEARTH_VSIX=${process.env.HEARTH_VSIX}: no such file`);
    return given;
  }
  const vsix = path.join(root, 'hearth.vsix');
  if (!fs.existsSync(path.join(root, 'dist', 'extension.js'))) fail('dist/extension.js is missing: run npm run build');
  const packaged = fs.existsSync(vsix);
  if (vsixIsStale(root, vsix)) {
    const scripts = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
    if (!scripts.package) fail('hearth.vsix is missing or stale and package.json has no "package" script to make it');
    say(packaged ? 'hearth.vsix is older than its sources: packaging again' : 'packaging hearth.vsix');
    npmRun('package');
    if (!fs.existsSync(vsix)) fail('npm run package did not write hearth.vsix');
  }
  return vsix;
}

function workspaceFolder(): string {
  const ws = path.resolve(process.env.HEARTH_WORKSPACE ?? path.join(root, 'sample-workspace'));
  if (!fs.existsSync(ws)) fail(`workspace ${ws} does not exist`);
  return ws;
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Desktop VS Code with this folder as the extension under development, in its own profile under .hearth-run. */
async function startDesktop(model: string): Promise<number> {
  const userDataDir = path.join(runDir, 'desktop-user-data');
  writeUserSettings(userDataDir, { 'hearth.model.path': model });
  const args = [`--extensionDevelopmentPath=${root}`, '--user-data-dir', userDataDir, '--new-window', '--wait', workspaceFolder()];
  say(`opening desktop VS Code: code ${args.join(' ')}`);
  const child = spawn('code', args, { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
}

async function main(): Promise<number> {
  const model = await resolveModel();
  say(`model: ${model}`);

  if (process.env.HEARTH_EDITOR === 'code') {
    if (onPath('code')) return startDesktop(model);
    say('HEARTH_EDITOR=code but no `code` on PATH: using code-server');
  }

  const vsix = ensureVsix();
  const setup = spawnSync('bash', [path.join(root, 'scripts', 'setup-code-server.sh')], { cwd: root, stdio: 'inherit' });
  if (setup.status !== 0) fail(`scripts/setup-code-server.sh failed (exit ${setup.status})`);

  const userDataDir = path.join(runDir, 'user-data');
  const extensionsDir = path.join(runDir, 'extensions');
  say(`installing ${path.relative(root, vsix)} into ${path.relative(root, extensionsDir)}`);
  await installVsix(vsix, extensionsDir, userDataDir, root);

  const preferred = Number(process.env.HEARTH_PORT ?? 8765);
  const workspace = workspaceFolder();
  let server: CodeServer;
  try {
    // The per-user shared engine, so the `hearth` CLI and other windows share the model with this one.
    server = await startCodeServer({ runDir, userDataDir, extensionsDir, port: preferred, workspace, engineRuntimeDir: false, settings: { 'hearth.model.path': model } });
  } catch (err) {
    fail(`code-server did not start: ${(err as Error).message}`);
  }
  if (server.port !== preferred) say(`port ${preferred} is busy: using ${server.port}`);
  const url = server.workbenchUrl(workspace);
  process.stdout.write(`\nHearth is running in VS Code (code-server): ${url}\n\n`);
  if (!chromiumAvailable()) say('(open that address in any browser on this machine)');
  say(`logs: ${path.relative(root, server.logFile)} and ${path.relative(root, path.join(userDataDir, 'logs'))}; Ctrl+C stops`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      say(`${signal}: stopping code-server`);
      void server.stop().then(() => resolve(0));
    };
    process.on('SIGINT', () => stop('Ctrl+C'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    server.process.once('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`[hearth] code-server exited unexpectedly (code ${code}, signal ${signal})\n${diagnostics(server)}\n`);
      resolve(1);
    });
  });
}

main().then(
  (code) => process.exit(code),
  (err) => fail((err as Error).stack ?? String(err)),
);
