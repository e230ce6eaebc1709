/**
 * "Build Engine for This Machine": node-llama-cpp's backend built from the llama.cpp source it ships (a git bundle:
 * no network), with native CPU flags (`GGML_NATIVE`, i.e. -march=native) and OpenMP, into a folder Hearth owns —
 * never into node-llama-cpp's own folder, which other programs load from. The engine loads it when present and
 * falls back to node-llama-cpp's prebuilt binaries otherwise (see `loadLlama`).
 *
 * Layout under the build root (`engineBuildRoot`): one folder per cache key (node-llama-cpp version, llama.cpp
 * release, compiler, flags, CPU), holding `src/` (the addon's cmake project and the llama.cpp clone), `build/`
 * (cmake's, kept so an interrupted build continues where it stopped) and, once everything succeeded, `bin/` (the
 * addon, statically linked with llama.cpp) and `ready.json`, written last: a folder without it is never loaded.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, homedir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../common/logger';
import { openmpWaits } from './threads';

type NodeLlamaCpp = typeof import('node-llama-cpp', { with: { 'resolution-mode': 'import' } });
type Llama = import('node-llama-cpp', { with: { 'resolution-mode': 'import' } }).Llama;

/** The cmake options of a native build; shown to the user beside "native build". */
export const NATIVE_CMAKE_OPTIONS: Record<string, string> = {
  GGML_NATIVE: 'ON',
  GGML_OPENMP: 'ON',
  // One self-contained addon: its llama.cpp cannot clash with the prebuilt's shared libraries when both are loaded
  // in one process (the tuner measures both).
  BUILD_SHARED_LIBS: 'OFF',
  GGML_BACKEND_DL: 'OFF',
  GGML_METAL: 'OFF',
  GGML_CCACHE: 'OFF',
  GGML_BUILD_NUMBER: '1',
  LLAMA_CURL: 'OFF',
  LLAMA_HTTPLIB: 'OFF',
  LLAMA_OPENSSL: 'OFF',
  LLAMA_BUILD_BORINGSSL: 'OFF',
};

/** Which backend the engine loaded, for the status tooltip, `hearth status` and the log. */
export interface BackendInfo {
  kind: 'native' | 'prebuilt';
  /** e.g. "GGML_NATIVE=ON GGML_OPENMP=ON" for a native build, the prebuilt's CPU variant folder otherwise. */
  flags: string;
  /** Why a native build was not loaded (none built, failed to load, the tuner kept the prebuilt). */
  note?: string;
  /** A native OpenMP build: how its threads wait at a barrier (see `openmpWaits` in threads.ts). */
  waits?: string;
}

/** Where native builds live: `HEARTH_ENGINE_BUILD_DIR`, else the per-user cache folder (shared by VS Code and the CLI). */
export function engineBuildRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HEARTH_ENGINE_BUILD_DIR) return env.HEARTH_ENGINE_BUILD_DIR;
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'Hearth', 'engine-build');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'Hearth', 'engine-build');
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hearth', 'engine-build');
}

/** node-llama-cpp's package folder (its `exports` hide package.json, so from its entry point). */
export function nodeLlamaCppDir(): string {
  return dirname(dirname(require.resolve('node-llama-cpp')));
}

function firstLine(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split('\n')[0]?.trim();
}

/** The CPU's feature flags (what -march=native compiles for): a build for one CPU is not loaded on another. */
function cpuSignature(): string {
  try {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
    return `${cpus()[0]?.model ?? ''}|${flags}`;
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
}

const ReadyFile = z.object({
  key: z.string(),
  release: z.string(),
  nodeLlamaCppVersion: z.string(),
  compiler: z.string(),
  options: z.record(z.string(), z.string()),
  binding: z.string(),
  builtAt: z.string(),
  buildMs: z.number(),
});
export type ReadyFile = z.infer<typeof ReadyFile>;

export interface BuildInputs {
  llamaDir: string;
  release: string;
  nodeLlamaCppVersion: string;
  compiler: string;
  key: string;
}

/**
 * What a build needs and its cache key, or what is missing (in words a user can act on). Checks the bundle, cmake,
 * a C++ compiler, git and Node's headers; runs nothing heavy.
 */
export function buildInputs(nlcDir = nodeLlamaCppDir()): { ok: true; inputs: BuildInputs } | { ok: false; missing: string } {
  const llamaDir = join(nlcDir, 'llama');
  if (!existsSync(join(llamaDir, 'gitRelease.bundle'))) return { ok: false, missing: `the llama.cpp source bundle (${join(llamaDir, 'gitRelease.bundle')}) is missing: reinstall Hearth` };
  if (!existsSync(join(llamaDir, 'CMakeLists.txt')) || !existsSync(join(llamaDir, 'addon'))) return { ok: false, missing: `node-llama-cpp's addon source (${llamaDir}/addon) is missing: reinstall Hearth` };
  let release: string;
  let nodeLlamaCppVersion: string;
  try {
    release = (JSON.parse(readFileSync(join(llamaDir, 'llama.cpp.info.json'), 'utf8')) as { tag: string }).tag;
    nodeLlamaCppVersion = (JSON.parse(readFileSync(join(nlcDir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch (err) {
    return { ok: false, missing: `node-llama-cpp's release information could not be read (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!firstLine('cmake', ['--version'])) return { ok: false, missing: 'cmake is not installed: install it from your distribution\'s packages (e.g. "sudo apt install cmake")' };
  const compiler = firstLine('c++', ['--version']) ?? firstLine('g++', ['--version']) ?? firstLine('clang++', ['--version']);
  if (!compiler) return { ok: false, missing: 'no C++ compiler (c++, g++ or clang++): install your distribution\'s build tools (e.g. "sudo apt install build-essential")' };
  if (!firstLine('git', ['--version'])) return { ok: false, missing: 'git is not installed: it unpacks the llama.cpp source bundle (e.g. "sudo apt install git")' };
  if (!nodeHeadersDir()) return { ok: false, missing: 'Node.js headers (node_api.h) not found: install your distribution\'s Node.js development package (e.g. "sudo apt install libnode-dev")' };
  const key = createHash('sha256')
    .update(JSON.stringify([nodeLlamaCppVersion, release, compiler, NATIVE_CMAKE_OPTIONS, cpuSignature(), process.platform, process.arch]))
    .digest('hex')
    .slice(0, 16);
  return { ok: true, inputs: { llamaDir, release, nodeLlamaCppVersion, compiler, key } };
}

/** Node's C headers: beside the running Node, else the distribution's. */
function nodeHeadersDir(): string | undefined {
  const candidates = [join(dirname(dirname(process.execPath)), 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  return candidates.find((d) => existsSync(join(d, 'node_api.h')));
}

/** The finished native build for this machine and this node-llama-cpp, if there is one. */
export function findNativeBuild(root = engineBuildRoot()): { dir: string; ready: ReadyFile } | { missing: string } {
  const inputs = buildInputs();
  if (!inputs.ok) return { missing: inputs.missing };
  const dir = join(root, inputs.inputs.key);
  try {
    const ready = ReadyFile.parse(JSON.parse(readFileSync(join(dir, 'ready.json'), 'utf8')));
    if (ready.key !== inputs.inputs.key) return { missing: 'the native build was made for another node-llama-cpp, compiler or CPU' };
    if (!existsSync(join(dir, 'bin', ready.binding))) return { missing: `the native build's addon ${join(dir, 'bin', ready.binding)} is missing` };
    return { dir, ready };
  } catch {
    return { missing: `no native build for this machine in ${root} (run "Hearth: Build Engine for This Machine" or \`hearth engine build\`)` };
  }
}

export type BuildResult = { ok: true; dir: string; ready: ReadyFile; reused: boolean } | { ok: false; reason: string; cancelled?: boolean };

/**
 * Builds (or reuses) the native backend. Progress is reported as a fraction with a line of text; `signal` stops
 * the compiler, leaving no `ready.json` (the next build continues the interrupted one).
 */
export async function buildNativeEngine(opts: {
  root?: string;
  log: (line: string) => void;
  onProgress?: (fraction: number, text: string) => void;
  signal?: AbortSignal;
  jobs?: number;
}): Promise<BuildResult> {
  const root = opts.root ?? engineBuildRoot();
  const checked = buildInputs();
  if (!checked.ok) return { ok: false, reason: `cannot build the engine: ${checked.missing}` };
  const { llamaDir, release, compiler, key, nodeLlamaCppVersion } = checked.inputs;
  const existing = findNativeBuild(root);
  if ('dir' in existing) {
    opts.log(`native engine already built for this machine: ${existing.dir} (llama.cpp ${release}, ${compiler})`);
    return { ok: true, dir: existing.dir, ready: existing.ready, reused: true };
  }
  const started = performance.now();
  const dir = join(root, key);
  const src = join(dir, 'src');
  const build = join(dir, 'build');
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, 'ready.json'), { force: true });
  const step = (fraction: number, text: string) => {
    opts.log(text);
    opts.onProgress?.(fraction, text);
  };

  // The addon's cmake project, copied as shipped; llama.cpp unpacked from the bundle beside it.
  if (!existsSync(join(src, 'llama.cpp', 'CMakeLists.txt'))) {
    step(0.01, `unpacking llama.cpp ${release} from node-llama-cpp's source bundle`);
    rmSync(src, { recursive: true, force: true });
    mkdirSync(src, { recursive: true });
    for (const entry of ['CMakeLists.txt', 'addon', 'cmake', 'patches']) {
      if (existsSync(join(llamaDir, entry))) cpSync(join(llamaDir, entry), join(src, entry), { recursive: true });
    }
    const tmp = join(src, 'llama.cpp.partial');
    const clone = await run('git', ['clone', '--quiet', join(llamaDir, 'gitRelease.bundle'), tmp], dir, opts.signal);
    if (!clone.ok) return failed(clone, 'unpacking the llama.cpp source bundle with git');
    applyPatches(src, tmp, opts.log);
    renameSync(tmp, join(src, 'llama.cpp'));
  }

  step(0.03, `configuring (cmake, ${Object.entries(NATIVE_CMAKE_OPTIONS).slice(0, 2).map(([k, v]) => `${k}=${v}`).join(' ')}, Release)`);
  const ninja = firstLine('ninja', ['--version']) !== undefined;
  const fresh = !existsSync(join(build, 'CMakeCache.txt'));
  const nodeModules = dirname(nodeLlamaCppDir());
  const platform = `${process.platform === 'win32' ? 'win' : process.platform === 'darwin' ? 'mac' : process.platform}-${process.arch}`;
  const configure = await run(
    'cmake',
    [
      '-S', src, '-B', build,
      ...(fresh && ninja ? ['-G', 'Ninja'] : []),
      '-DCMAKE_BUILD_TYPE=Release',
      `-DCMAKE_JS_INC=${nodeHeadersDir()}`,
      `-DNLC_CURRENT_PLATFORM=${platform}`,
      `-DNLC_TARGET_PLATFORM=${platform}`,
      ...Object.entries(NATIVE_CMAKE_OPTIONS).map(([k, v]) => `-D${k}=${v}`),
    ],
    dir,
    opts.signal,
    // The addon's CMakeLists asks Node where node-addon-api's headers are.
    { NODE_PATH: nodeModules },
  );
  if (!configure.ok) return failed(configure, 'configuring the build (cmake)');

  const jobs = String(opts.jobs ?? Math.max(1, availableParallelism()));
  step(0.05, `compiling llama.cpp and the addon with ${jobs} jobs (minutes on a small machine)`);
  const compile = await run(process.platform === 'win32' ? 'cmake' : 'nice', [...(process.platform === 'win32' ? [] : ['-n', '10', 'cmake']), '--build', build, '--target', 'llama-addon', '-j', jobs], dir, opts.signal, {}, (done, total, line) => {
    step(0.05 + 0.9 * (done / total), `[${done}/${total}] ${line.slice(0, 90)}`);
  });
  if (!compile.ok) return failed(compile, 'compiling');

  const binding = findFile(build, 'llama-addon.node');
  if (!binding) return { ok: false, reason: `the build finished but produced no llama-addon.node under ${build}` };
  const bin = join(dir, 'bin');
  const partialBin = `${bin}.partial`;
  rmSync(partialBin, { recursive: true, force: true });
  mkdirSync(partialBin, { recursive: true });
  copyFileSync(binding, join(partialBin, 'llama-addon.node'));
  // A child process loads it first: a binary that crashes on load must not take the engine down with it.
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(join(partialBin, 'llama-addon.node'))})`], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  if (probe.status !== 0) {
    rmSync(partialBin, { recursive: true, force: true });
    return { ok: false, reason: `the built addon does not load: ${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim().split('\n').slice(-3).join(' ')}` };
  }
  rmSync(bin, { recursive: true, force: true });
  renameSync(partialBin, bin);
  const ready: ReadyFile = { key, release, nodeLlamaCppVersion, compiler, options: NATIVE_CMAKE_OPTIONS, binding: 'llama-addon.node', builtAt: new Date().toISOString(), buildMs: performance.now() - started };
  writeFileSync(join(dir, 'ready.json'), JSON.stringify(ready, null, 2));
  step(1, `native engine built in ${((performance.now() - started) / 60_000).toFixed(1)} min: ${bin}`);
  return { ok: true, dir, ready, reused: false };

  function failed(r: RunResult, what: string): BuildResult {
    if (r.cancelled) return { ok: false, reason: `build cancelled while ${what}; nothing was marked ready (the next build continues from where it stopped)`, cancelled: true };
    return { ok: false, reason: `${what} failed: ${r.tail.trim().split('\n').slice(-6).join('\n')}` };
  }
}

/**
 * node-llama-cpp patches llama.cpp after cloning (see its `applyLlamaCppRepoPatches`): the same patches, applied
 * where the source does not already have them; a patch that does not apply is reported, not fatal.
 */
function applyPatches(src: string, repo: string, log: (line: string) => void): void {
  const patch = join(src, 'patches', 'PR-22566.diff');
  if (!existsSync(patch)) return;
  try {
    if (readFileSync(join(repo, 'src', 'llama-model-loader.cpp'), 'utf8').includes('n_tensors = gguf_get_n_tensors(metadata);')) return;
  } catch {
    return;
  }
  const r = spawnSync('git', ['apply', '--ignore-whitespace', patch], { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) log(`warning: node-llama-cpp's patch PR-22566 did not apply (${r.stderr.trim()}); building without it`);
}

function findFile(dir: string, name: string): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name === name) return p;
    if (e.isDirectory() && e.name !== 'CMakeFiles') {
      const found = findFile(p, name);
      if (found) return found;
    }
  }
  return undefined;
}

export interface RunResult {
  ok: boolean;
  cancelled: boolean;
  tail: string;
}

/** Runs a build step in its own process group (a cancel stops the compilers too), keeping the output's tail for errors. */
export function run(cmd: string, args: string[], cwd: string, signal: AbortSignal | undefined, env: NodeJS.ProcessEnv = {}, onStep?: (done: number, total: number, line: string) => void): Promise<RunResult> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve({ ok: false, cancelled: true, tail: '' });
    // Its own process group on Unix, so a cancel stops the compilers too, not only cmake.
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: process.platform !== 'win32' });
    let tail = '';
    let last = 0;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-6000);
      if (!onStep) return;
      for (const line of text.split('\n')) {
        const m = /^\[(\d+)\/(\d+)\]\s*(.*)$/.exec(line) ?? /^\[\s*(\d+)%\]\s*(.*)$/.exec(line);
        if (!m) continue;
        const done = m.length === 4 ? Number(m[1]) : Number(m[1]);
        const total = m.length === 4 ? Number(m[2]) : 100;
        if (Date.now() - last < 2000 && done < total) continue;
        last = Date.now();
        onStep(done, total, (m.length === 4 ? m[3] : m[2]) ?? '');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const abort = () => {
      try {
        if (process.platform !== 'win32' && child.pid) process.kill(-child.pid, 'SIGTERM');
        else child.kill('SIGTERM');
      } catch {
        // already gone
      }
    };
    signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (e) => resolve({ ok: false, cancelled: false, tail: String(e) }));
    child.on('close', (code) => {
      signal?.removeEventListener('abort', abort);
      resolve({ ok: code === 0 && !signal?.aborted, cancelled: !!signal?.aborted, tail });
    });
  });
}

interface LlamaCreate {
  _create(options: Record<string, unknown>): Promise<Llama>;
}

/**
 * The `Llama` for the engine: the native build when `prefer` allows and one exists for this machine, else
 * node-llama-cpp's prebuilt. node-llama-cpp finds local builds only in its own folder, so a native build is
 * loaded the way its `getLlama` loads one (`Llama._create` with the addon and its build metadata).
 */
export async function loadLlama(
  mod: NodeLlamaCpp,
  opts: { prefer: 'auto' | 'native' | 'prebuilt'; root?: string; logger: Logger; logLevel: import('node-llama-cpp', { with: { 'resolution-mode': 'import' } }).LlamaLogLevel; llamaLogger: (level: string, message: string) => void },
): Promise<{ llama: Llama; backend: BackendInfo }> {
  let note: string | undefined;
  if (opts.prefer !== 'prebuilt') {
    const found = findNativeBuild(opts.root);
    if ('dir' in found) {
      const choice = readBackendChoice(found.dir);
      if (opts.prefer === 'auto' && choice?.keep === 'prebuilt') {
        note = `the tuner measured the prebuilt faster (${choice.prebuiltTokensPerSecond.toFixed(1)} vs ${choice.nativeTokensPerSecond.toFixed(1)} tok/s decode)`;
      } else {
        try {
          const llama = await createNativeLlama(mod, found.dir, found.ready, opts);
          const flags = nativeFlagsText(found.ready);
          const backend: BackendInfo = { kind: 'native', flags, ...(/GGML_OPENMP=ON/.test(flags) ? { waits: openmpWaits(process.env, availableParallelism()) } : {}) };
          opts.logger.info(`engine backend: native build (${backend.flags}, llama.cpp ${found.ready.release}) from ${found.dir}${backend.waits ? `; ${backend.waits}` : ''}`);
          return { llama, backend };
        } catch (err) {
          note = `the native build failed to load (${err instanceof Error ? err.message : String(err)})`;
          opts.logger.warn(`${note}; using the prebuilt backend`);
        }
      }
    } else note = found.missing;
  } else note = 'prebuilt chosen in settings';
  const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: opts.logLevel, logger: opts.llamaLogger as never });
  const backend: BackendInfo = { kind: 'prebuilt', flags: prebuiltFlagsText(llama), ...(note ? { note } : {}) };
  opts.logger.info(`engine backend: prebuilt (${backend.flags})${note ? `; ${note}` : ''}`);
  return { llama, backend };
}

export function nativeFlagsText(ready: Pick<ReadyFile, 'options'>): string {
  return `GGML_NATIVE=${ready.options.GGML_NATIVE ?? 'ON'} GGML_OPENMP=${ready.options.GGML_OPENMP ?? 'ON'}`;
}

function prebuiltFlagsText(llama: Llama): string {
  const opts = Object.entries(llama.cmakeOptions).map(([k, v]) => `${k}=${v}`).join(' ');
  return `node-llama-cpp's, llama.cpp ${llama.llamaCppRelease.release}${opts ? `, ${opts}` : ''}, CPU variant picked at load, no OpenMP`;
}

/** Loads the native addon (a fresh instance, as node-llama-cpp does, so each Llama keeps its own logger). */
export async function createNativeLlama(
  mod: NodeLlamaCpp,
  dir: string,
  ready: ReadyFile,
  opts: { logLevel: unknown; llamaLogger: (level: string, message: string) => void },
): Promise<Llama> {
  const bindingPath = join(dir, 'bin', ready.binding);
  delete require.cache[bindingPath];
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a native addon at a path known only at run time
  const bindings = require(bindingPath) as unknown;
  delete require.cache[bindingPath];
  const linux = process.platform === 'linux';
  return (mod.Llama as unknown as LlamaCreate)._create({
    bindings,
    bindingPath,
    buildType: 'localBuild',
    buildMetadata: {
      buildOptions: {
        customCmakeOptions: ready.options,
        progressLogs: false,
        platform: process.platform === 'win32' ? 'win' : process.platform === 'darwin' ? 'mac' : process.platform,
        platformInfo: { name: 'hearth-native', version: ready.key },
        arch: process.arch,
        gpu: false,
        llamaCpp: { repo: 'ggml-org/llama.cpp', release: ready.release },
      },
    },
    logLevel: opts.logLevel,
    logger: opts.llamaLogger,
    maxThreads: undefined,
    vramPadding: 0,
    // node-llama-cpp's default RAM padding (a quarter of RAM, at most 1 GiB on Linux, 6 GiB elsewhere).
    ramPadding: Math.floor(Math.min(totalmem() * 0.25, (linux ? 1 : 6) * 1024 ** 3)),
    skipLlamaInit: false,
    debug: false,
    numa: false,
    tempDir: undefined,
    experimentalOptions: undefined,
  });
}

const BackendChoice = z.object({
  keep: z.enum(['native', 'prebuilt']),
  nativeTokensPerSecond: z.number(),
  prebuiltTokensPerSecond: z.number(),
  model: z.string(),
  threads: z.number(),
  measuredAt: z.string(),
});
export type BackendChoice = z.infer<typeof BackendChoice>;

/** The tuner's verdict for a native build (`choice.json` beside it), if it measured one. */
export function readBackendChoice(dir: string): BackendChoice | undefined {
  try {
    return BackendChoice.parse(JSON.parse(readFileSync(join(dir, 'choice.json'), 'utf8')));
  } catch {
    return undefined;
  }
}

export function writeBackendChoice(dir: string, choice: BackendChoice): void {
  writeFileSync(join(dir, 'choice.json'), JSON.stringify(choice, null, 2));
}
