/**
 * Builds llama.cpp's own tools (`llama-bench`, `llama-server`) from the source node-llama-cpp ships
 * (`node_modules/node-llama-cpp/llama/gitRelease.bundle`, a git bundle: cloning it needs no network), for the machine:
 * Release, `GGML_NATIVE=ON` (-march=native), OpenMP, `-j2` under `nice`. Benchmarks compare Hearth's engine with these
 * as the anchor "llama.cpp built for this machine".
 *
 * The clone and build live in `.bench-cache/llama.cpp-<release>/` (git-ignored), keyed by the llama.cpp release, the
 * compiler and the flags; a finished build is reused (`ready.json` records what was built with what), an unfinished
 * one is continued (ninja/make only rebuild what is missing). `HEARTH_BENCH_CACHE` points at another cache folder, so
 * that several worktrees can share one build on a small machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from './benchUtil';
import { run as runBuildStep } from '../src/node/engine/nativeBuild';

export type LlamaCppTool = 'llama-bench' | 'llama-server';

export type LlamaCppToolsResult =
  | { ok: true; dir: string; llamaBench?: string; llamaServer?: string; release: string }
  | { ok: false; reason: string };

/** The flags every build uses; part of the cache key. No network features: the build must stay offline. */
const cmakeFlags = [
  '-DCMAKE_BUILD_TYPE=Release',
  '-DGGML_NATIVE=ON',
  '-DGGML_OPENMP=ON',
  '-DBUILD_SHARED_LIBS=OFF',
  '-DLLAMA_BUILD_TESTS=OFF',
  '-DLLAMA_BUILD_EXAMPLES=OFF',
  '-DLLAMA_BUILD_TOOLS=ON',
  '-DLLAMA_BUILD_SERVER=ON',
  '-DLLAMA_BUILD_APP=OFF',
  '-DLLAMA_USE_PREBUILT_UI=OFF',
  '-DLLAMA_BUILD_UI=OFF',
  '-DLLAMA_OPENSSL=OFF',
  '-DLLAMA_CURL=OFF',
];

function firstLine(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split('\n')[0]?.trim();
}

/** node-llama-cpp's `llama/` folder (bundle, release tag), found from this repository's node_modules. */
function llamaSourceDir(): string {
  return resolve(repoRoot, 'node_modules/node-llama-cpp/llama');
}

interface Ready {
  release: string;
  compiler: string;
  flags: string[];
  targets: LlamaCppTool[];
}

/**
 * Builds (or reuses) `llama-bench` and/or `llama-server` for this machine. Never throws for a missing tool or a
 * failed build: the reason says what was missing, so a benchmark can print it and skip its anchor row.
 */
export async function buildLlamaCppTools(opts: {
  log: (s: string) => void;
  targets?: LlamaCppTool[];
  signal?: AbortSignal;
}): Promise<LlamaCppToolsResult> {
  const targets = opts.targets ?? ['llama-bench', 'llama-server'];
  const llamaDir = llamaSourceDir();
  const bundle = join(llamaDir, 'gitRelease.bundle');
  if (!existsSync(bundle)) return { ok: false, reason: `llama.cpp source bundle missing: ${bundle} (node-llama-cpp installed without its source)` };
  let release: string;
  try {
    release = (JSON.parse(readFileSync(join(llamaDir, 'llama.cpp.info.json'), 'utf8')) as { tag: string }).tag;
  } catch {
    return { ok: false, reason: `cannot read the llama.cpp release from ${join(llamaDir, 'llama.cpp.info.json')}` };
  }
  const cmake = firstLine('cmake', ['--version']);
  if (!cmake) return { ok: false, reason: 'cmake not found: install it from the distribution packages (e.g. the "cmake" package)' };
  const compiler = firstLine('c++', ['--version']) ?? firstLine('g++', ['--version']);
  if (!compiler) return { ok: false, reason: 'no C++ compiler found (c++/g++): install the distribution build tools (e.g. "build-essential")' };
  if (!firstLine('git', ['--version'])) return { ok: false, reason: 'git not found: it is needed to unpack the llama.cpp source bundle' };
  const ninja = firstLine('ninja', ['--version']);

  const cacheRoot = process.env.HEARTH_BENCH_CACHE ?? resolve(repoRoot, '.bench-cache');
  const dir = join(cacheRoot, `llama.cpp-${release}`);
  const src = join(dir, 'src');
  const build = join(dir, 'build');
  const bin = (t: LlamaCppTool) => join(build, 'bin', t);
  const result = (): LlamaCppToolsResult => ({
    ok: true,
    dir,
    release,
    ...(targets.includes('llama-bench') ? { llamaBench: bin('llama-bench') } : {}),
    ...(targets.includes('llama-server') ? { llamaServer: bin('llama-server') } : {}),
  });

  const readyPath = join(dir, 'ready.json');
  try {
    const ready = JSON.parse(readFileSync(readyPath, 'utf8')) as Ready;
    if (ready.release === release && ready.compiler === compiler && JSON.stringify(ready.flags) === JSON.stringify(cmakeFlags) && targets.every((t) => ready.targets.includes(t) && existsSync(bin(t)))) {
      opts.log(`llama.cpp ${release} tools: reusing ${build}/bin (${compiler})`);
      return result();
    }
  } catch {
    // no finished build yet
  }

  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(src, 'CMakeLists.txt'))) {
    // Clone beside, then rename: an interrupted clone never looks like a source tree.
    const tmp = `${src}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    opts.log(`llama.cpp ${release}: unpacking the source bundle into ${src}`);
    const r = await run('git', ['clone', '--quiet', bundle, tmp], dir, opts);
    if (!r.ok) return { ok: false, reason: `git clone of ${bundle} failed: ${r.tail}` };
    rmSync(src, { recursive: true, force: true });
    renameSync(tmp, src);
  }

  opts.log(`llama.cpp ${release}: configuring (${cmakeFlags.join(' ')})`);
  const generator = ninja ? ['-G', 'Ninja'] : [];
  // An existing build folder keeps its generator; only a fresh one picks Ninja.
  const conf = await run('cmake', ['-S', src, '-B', build, ...(existsSync(join(build, 'CMakeCache.txt')) ? [] : generator), ...cmakeFlags], dir, opts);
  if (!conf.ok) return { ok: false, reason: `cmake configure failed: ${conf.tail}` };

  const jobs = String(Math.max(1, Math.min(2, availableParallelism())));
  opts.log(`llama.cpp ${release}: building ${targets.join(', ')} with -j${jobs} (minutes on a small machine)`);
  const b = await run('nice', ['-n', '10', 'cmake', '--build', build, '--target', ...targets, '-j', jobs], dir, opts, true);
  if (!b.ok) return { ok: false, reason: `build failed: ${b.tail}` };
  const missing = targets.filter((t) => !existsSync(bin(t)));
  if (missing.length) return { ok: false, reason: `build finished but ${missing.join(', ')} not found in ${join(build, 'bin')}` };

  let previous: LlamaCppTool[] = [];
  try {
    const old = JSON.parse(readFileSync(readyPath, 'utf8')) as Ready;
    if (old.release === release && old.compiler === compiler && JSON.stringify(old.flags) === JSON.stringify(cmakeFlags)) previous = old.targets;
  } catch {
    // first build here
  }
  const ready: Ready = { release, compiler, flags: cmakeFlags, targets: [...new Set([...previous, ...targets])].filter((t) => existsSync(bin(t))) };
  writeFileSync(readyPath, JSON.stringify(ready, null, 2));
  opts.log(`llama.cpp ${release}: built ${targets.join(', ')} in ${join(build, 'bin')}`);
  return result();
}

/** Runs a build step (nativeBuild's runner), logging ninja's `[n/m]` progress now and then when `progress` is set. */
async function run(cmd: string, args: string[], cwd: string, opts: { log: (s: string) => void; signal?: AbortSignal }, progress = false): Promise<{ ok: boolean; tail: string }> {
  let lastLogged = 0;
  const onStep = progress
    ? (done: number, total: number, line: string) => {
        if (Date.now() - lastLogged < 15_000) return;
        lastLogged = Date.now();
        opts.log(`  ${done}/${total} ${line.trim().slice(0, 100)}`);
      }
    : undefined;
  const r = await runBuildStep(cmd, args, cwd, opts.signal, {}, onStep);
  return { ok: r.ok, tail: r.cancelled ? 'cancelled' : r.tail.split('\n').slice(-15).join('\n') };
}

// Bundled into another benchmark (esbuild inlines this file), `require.main === module` holds there too: check the script.
if (require.main === module && /llamaCppTools\.js$/.test(process.argv[1] ?? '')) {
  // `node out/bench/llamaCppTools.js`: build the tools alone (e.g. ahead of a benchmark).
  void buildLlamaCppTools({ log: (s) => console.log(s) }).then((r) => {
    console.log(JSON.stringify(r));
    process.exitCode = r.ok ? 0 : 1;
  });
}
