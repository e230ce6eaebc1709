/**
 * Detects this machine's hardware profile: CPU model, physical and logical cores, SIMD flags, total and
 * available RAM, and the GPU node-llama-cpp would use. Every probe tolerates failure (a missing /proc file,
 * a native addon that will not load) and records what it could not learn in `notes`, so the profile is always
 * usable. The pure parts (`parseCpuInfo`, `parseMemInfo`) are exported for tests.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import type { GpuProfile, HardwareProfile, SimdFlags } from '../../common/hardware/recommend';
import { errorMessage } from '../../common/logger';

export type { GpuProfile, HardwareProfile, SimdFlags } from '../../common/hardware/recommend';

const NO_SIMD: SimdFlags = { sse42: false, avx: false, avx2: false, avx512f: false, fma: false, f16c: false, neon: false, dotprod: false };

export interface CpuInfo {
  model: string | null;
  logicalCores: number;
  /** null when the file has no topology (ARM Linux, some VMs). */
  physicalCores: number | null;
  simd: SimdFlags;
}

/** Parses Linux `/proc/cpuinfo`: x86 ("model name", "flags", "physical id"/"core id") and ARM ("Features"). */
export function parseCpuInfo(text: string): CpuInfo {
  const blocks = text.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  const field = (block: string, name: string): string | undefined => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(block);
    return m?.[1]?.trim();
  };
  const cores = new Set<string>();
  let topology = blocks.length > 0;
  let model: string | null = null;
  const flags = new Set<string>();
  for (const b of blocks) {
    model ??= field(b, 'model name') ?? field(b, 'Model') ?? field(b, 'Hardware') ?? field(b, 'cpu model') ?? null;
    const core = field(b, 'core id');
    if (core === undefined) topology = false;
    else cores.add(`${field(b, 'physical id') ?? '0'}:${core}`);
    for (const f of (field(b, 'flags') ?? field(b, 'Features') ?? '').split(/\s+/)) if (f) flags.add(f.toLowerCase());
  }
  return {
    model,
    logicalCores: blocks.length,
    physicalCores: topology && cores.size > 0 ? cores.size : null,
    simd: {
      sse42: flags.has('sse4_2'),
      avx: flags.has('avx'),
      avx2: flags.has('avx2'),
      avx512f: flags.has('avx512f'),
      fma: flags.has('fma'),
      f16c: flags.has('f16c'),
      // arm64 Linux calls NEON "asimd"; 32-bit ARM "neon".
      neon: flags.has('asimd') || flags.has('neon'),
      dotprod: flags.has('asimddp'),
    },
  };
}

/** Parses Linux `/proc/meminfo` (values in kB). `availableBytes` is null on kernels older than 3.14. */
export function parseMemInfo(text: string): { totalBytes: number | null; availableBytes: number | null } {
  const kb = (name: string): number | null => {
    const m = new RegExp(`^${name}:\\s*(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  return { totalBytes: kb('MemTotal'), availableBytes: kb('MemAvailable') };
}

/** The stable facts, hashed: the same machine gives the same id whatever its current load or free memory. */
export function profileIdOf(p: Omit<HardwareProfile, 'profileId'>): string {
  const GiB = 1024 ** 3;
  const stable = {
    platform: p.platform,
    arch: p.arch,
    cpu: p.cpu.model,
    physical: p.cpu.physicalCores,
    logical: p.cpu.logicalCores,
    simd: Object.entries(p.cpu.simd).filter(([, v]) => v).map(([k]) => k).sort(),
    ramGiB: Math.round(p.memory.totalBytes / GiB),
    gpu: p.gpu ? { backend: p.gpu.backend, names: [...p.gpu.names].sort(), vramGiB: Math.round(p.gpu.vramTotalBytes / GiB) } : null,
  };
  return createHash('sha256').update(JSON.stringify(stable)).digest('hex').slice(0, 16);
}

function execText(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 3000, windowsHide: true }, (err, stdout) => (err ? reject(err) : resolve(String(stdout))));
  });
}

/** Everything detection touches, injectable so tests can describe any machine. */
export interface ProbeEnvironment {
  platform: NodeJS.Platform;
  arch: string;
  readText(path: string): Promise<string>;
  exec(file: string, args: string[]): Promise<string>;
  cpus(): os.CpuInfo[];
  totalmem(): number;
  freemem(): number;
  loadavg(): number[];
  /** null: no GPU backend; throws: the probe failed (recorded in notes). */
  gpu(): Promise<GpuProfile | null>;
}

export const nodeProbeEnvironment: ProbeEnvironment = {
  platform: process.platform,
  arch: process.arch,
  readText: (path) => readFile(path, 'utf8'),
  exec: execText,
  cpus: () => os.cpus(),
  totalmem: () => os.totalmem(),
  freemem: () => os.freemem(),
  loadavg: () => os.loadavg(),
  gpu: detectGpu,
};

type NodeLlamaCpp = typeof import('node-llama-cpp', { with: { 'resolution-mode': 'import' } });

/**
 * The GPU node-llama-cpp would use, through its prebuilt binaries only (`build: 'never'`: never compile on a
 * user's machine just to look). Loads the native addon, so it costs a second or two; the engine process,
 * which loads it anyway, is the cheap place to call this.
 */
export async function detectGpu(): Promise<GpuProfile | null> {
  // A plain `import()`: esbuild keeps it, so Node resolves the ESM-only package at run time.
  const nlc: NodeLlamaCpp = await import('node-llama-cpp');
  const llama = await nlc.getLlama({ gpu: 'auto', build: 'never', logLevel: nlc.LlamaLogLevel.error, progressLogs: false });
  try {
    if (llama.gpu === false) return null;
    const [names, vram] = await Promise.all([llama.getGpuDeviceNames(), llama.getVramState()]);
    return {
      backend: llama.gpu,
      names,
      vramTotalBytes: vram.total,
      vramFreeBytes: vram.free,
      unifiedMemory: vram.unifiedSize > 0,
    };
  } finally {
    await llama.dispose();
  }
}

async function detectCpu(env: ProbeEnvironment, notes: string[]): Promise<HardwareProfile['cpu']> {
  const cpus = env.cpus();
  const logicalFallback = Math.max(1, cpus.length);
  let model = cpus[0]?.model?.trim() || null;
  let logical = logicalFallback;
  let physical: number | null = null;
  let simd: SimdFlags = { ...NO_SIMD };

  if (env.platform === 'linux') {
    try {
      const info = parseCpuInfo(await env.readText('/proc/cpuinfo'));
      model = info.model ?? model;
      if (info.logicalCores > 0) logical = info.logicalCores;
      physical = info.physicalCores;
      simd = info.simd;
    } catch (err) {
      notes.push(`could not read /proc/cpuinfo (${errorMessage(err)}): SIMD flags unknown`);
    }
    if (physical === null) physical = await linuxSysfsCores(env, logical);
  } else if (env.platform === 'darwin') {
    try {
      const out = await env.exec('sysctl', ['hw.physicalcpu', 'hw.logicalcpu', 'machdep.cpu.brand_string', 'machdep.cpu.features', 'machdep.cpu.leaf7_features']);
      const get = (k: string) => new RegExp(`^${k.replace(/\./g, '\\.')}:\\s*(.*)$`, 'm').exec(out)?.[1]?.trim();
      physical = Number(get('hw.physicalcpu')) || null;
      logical = Number(get('hw.logicalcpu')) || logical;
      model = get('machdep.cpu.brand_string') || model;
      const f = new Set(`${get('machdep.cpu.features') ?? ''} ${get('machdep.cpu.leaf7_features') ?? ''}`.toLowerCase().split(/\s+/));
      simd = {
        sse42: f.has('sse4.2'), avx: f.has('avx1.0'), avx2: f.has('avx2'), avx512f: f.has('avx512f'),
        fma: f.has('fma'), f16c: f.has('f16c'), neon: env.arch === 'arm64', dotprod: env.arch === 'arm64',
      };
    } catch (err) {
      notes.push(`sysctl failed (${errorMessage(err)}): core count and SIMD flags estimated`);
    }
  }
  if (env.arch === 'arm64') simd.neon = true;

  let estimated = false;
  if (physical === null) {
    // No topology: on x64 assume two threads per core when the count is even (SMT is the norm there), on ARM
    // one. Threads are chosen from this, and too many threads costs more than too few.
    estimated = true;
    physical = env.arch === 'x64' && logical >= 4 && logical % 2 === 0 ? logical / 2 : logical;
    if (env.platform !== 'win32') notes.push('physical core count estimated (no CPU topology found)');
  }
  if (!model) notes.push('CPU model unknown');
  return { model: model ?? 'unknown CPU', physicalCores: physical, logicalCores: logical, physicalCoresEstimated: estimated, simd };
}

/** ARM Linux has no "core id" in /proc/cpuinfo, but sysfs has the topology. */
async function linuxSysfsCores(env: ProbeEnvironment, logical: number): Promise<number | null> {
  const seen = new Set<string>();
  try {
    for (let i = 0; i < logical; i++) {
      const base = `/sys/devices/system/cpu/cpu${i}/topology`;
      const [pkg, core] = await Promise.all([env.readText(`${base}/physical_package_id`), env.readText(`${base}/core_id`)]);
      seen.add(`${pkg.trim()}:${core.trim()}`);
    }
  } catch {
    return null;
  }
  return seen.size > 0 ? seen.size : null;
}

async function detectMemory(env: ProbeEnvironment, notes: string[]): Promise<HardwareProfile['memory']> {
  let totalBytes = env.totalmem();
  let availableBytes = env.freemem();
  if (env.platform === 'linux') {
    try {
      const m = parseMemInfo(await env.readText('/proc/meminfo'));
      totalBytes = m.totalBytes ?? totalBytes;
      if (m.availableBytes !== null) availableBytes = m.availableBytes;
      else notes.push('MemAvailable missing from /proc/meminfo: free memory understates what is available');
    } catch (err) {
      notes.push(`could not read /proc/meminfo (${errorMessage(err)}): free memory understates what is available`);
    }
    // In a container the cgroup limit, not the host's RAM, is what the engine may use.
    try {
      const [max, current] = await Promise.all([env.readText('/sys/fs/cgroup/memory.max'), env.readText('/sys/fs/cgroup/memory.current')]);
      const limit = Number(max.trim());
      if (Number.isFinite(limit) && limit > 0 && limit < totalBytes) {
        totalBytes = limit;
        availableBytes = Math.min(availableBytes, Math.max(0, limit - Number(current.trim())));
        notes.push('memory limited by the cgroup (container) limit');
      }
    } catch {
      // cgroup v1 or no limit: the host's figures stand.
    }
  } else if (env.platform === 'darwin') {
    // os.freemem() on macOS leaves out inactive and purgeable pages the kernel hands back on demand.
    notes.push('available memory on macOS is os.freemem(), which understates what the system can free');
  }
  return { totalBytes, availableBytes };
}

/** Detects the hardware profile; `env` replaces the real machine in tests. Never throws. */
export async function detectHardwareProfile(env: ProbeEnvironment = nodeProbeEnvironment, opts: { gpu?: boolean } = {}): Promise<HardwareProfile> {
  const notes: string[] = [];
  const [cpu, memory, gpu] = await Promise.all([
    detectCpu(env, notes),
    detectMemory(env, notes),
    opts.gpu === false
      ? Promise.resolve(null)
      : env.gpu().catch((err: unknown) => {
          notes.push(`GPU detection failed (${errorMessage(err).split('\n')[0]}): assuming CPU only`);
          return null;
        }),
  ]);
  const partial = { platform: env.platform, arch: env.arch, cpu, memory, gpu, load1: env.loadavg()[0] ?? 0, notes };
  return { profileId: profileIdOf(partial), ...partial };
}
