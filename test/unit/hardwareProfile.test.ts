import * as assert from 'node:assert/strict';
import type { CpuInfo as OsCpuInfo } from 'node:os';
import {
  detectHardwareProfile, parseCpuInfo, parseMemInfo, type GpuProfile, type ProbeEnvironment,
} from '../../src/node/hardware/hardwareProfile';

const X86_CPUINFO = [0, 1, 2, 3]
  .map((i) => [
    `processor\t: ${i}`,
    'vendor_id\t: GenuineIntel',
    'model name\t: Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz',
    'physical id\t: 0',
    `core id\t\t: ${i % 2}`,
    'flags\t\t: fpu sse4_2 avx fma f16c avx2',
  ].join('\n'))
  .join('\n\n');

const ARM_CPUINFO = [0, 1, 2, 3]
  .map((i) => [`processor\t: ${i}`, 'BogoMIPS\t: 48.00', 'Features\t: fp asimd evtstrm aes crc32 asimddp', 'CPU implementer\t: 0x41'].join('\n'))
  .join('\n\n');

const GiB = 1024 ** 3;

function fakeEnv(over: Partial<ProbeEnvironment> & { files?: Record<string, string> } = {}): ProbeEnvironment {
  const files = over.files ?? {};
  return {
    platform: 'linux',
    arch: 'x64',
    readText: async (p) => {
      if (p in files) return files[p]!;
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    },
    exec: async () => { throw new Error('no exec in tests'); },
    cpus: () => Array.from({ length: 4 }, () => ({ model: 'os.cpus model', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } }) as OsCpuInfo),
    totalmem: () => 8 * GiB,
    freemem: () => 1 * GiB,
    loadavg: () => [0.5, 0, 0],
    gpu: async () => null,
    ...over,
  };
}

describe('hardware profile', () => {
  it('parses x86 /proc/cpuinfo: model, SMT topology and SIMD flags', () => {
    const info = parseCpuInfo(X86_CPUINFO);
    assert.equal(info.model, 'Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz');
    assert.equal(info.logicalCores, 4);
    assert.equal(info.physicalCores, 2);
    assert.deepEqual(
      { avx2: info.simd.avx2, avx512f: info.simd.avx512f, fma: info.simd.fma, f16c: info.simd.f16c, neon: info.simd.neon },
      { avx2: true, avx512f: false, fma: true, f16c: true, neon: false },
    );
  });

  it('parses ARM /proc/cpuinfo: NEON (asimd) and dot product, no topology', () => {
    const info = parseCpuInfo(ARM_CPUINFO);
    assert.equal(info.logicalCores, 4);
    assert.equal(info.physicalCores, null);
    assert.equal(info.simd.neon, true);
    assert.equal(info.simd.dotprod, true);
    assert.equal(info.simd.avx2, false);
  });

  it('parses /proc/meminfo, preferring MemAvailable', () => {
    const m = parseMemInfo('MemTotal:       16303868 kB\nMemFree:         1000000 kB\nMemAvailable:   9000000 kB\n');
    assert.equal(m.totalBytes, 16303868 * 1024);
    assert.equal(m.availableBytes, 9000000 * 1024);
    assert.equal(parseMemInfo('MemTotal: 100 kB\n').availableBytes, null);
  });

  it('builds a Linux profile from /proc and keeps a stable id across load and free memory', async () => {
    const files = { '/proc/cpuinfo': X86_CPUINFO, '/proc/meminfo': 'MemTotal: 8000000 kB\nMemAvailable: 5000000 kB\n' };
    const a = await detectHardwareProfile(fakeEnv({ files }));
    assert.equal(a.cpu.physicalCores, 2);
    assert.equal(a.cpu.physicalCoresEstimated, false);
    assert.equal(a.memory.availableBytes, 5000000 * 1024);
    assert.equal(a.gpu, null);
    assert.match(a.profileId, /^[0-9a-f]{16}$/);
    const b = await detectHardwareProfile(fakeEnv({
      files: { ...files, '/proc/meminfo': 'MemTotal: 8000000 kB\nMemAvailable: 2000000 kB\n' },
      loadavg: () => [3, 0, 0],
    }));
    assert.equal(b.profileId, a.profileId);
    const c = await detectHardwareProfile(fakeEnv({ files: { ...files, '/proc/meminfo': 'MemTotal: 32000000 kB\nMemAvailable: 2000000 kB\n' } }));
    assert.notEqual(c.profileId, a.profileId);
  });

  it('reads ARM core topology from sysfs', async () => {
    const files: Record<string, string> = { '/proc/cpuinfo': ARM_CPUINFO };
    for (let i = 0; i < 4; i++) {
      files[`/sys/devices/system/cpu/cpu${i}/topology/physical_package_id`] = '0\n';
      files[`/sys/devices/system/cpu/cpu${i}/topology/core_id`] = `${i}\n`;
    }
    const p = await detectHardwareProfile(fakeEnv({ arch: 'arm64', files }));
    assert.equal(p.cpu.physicalCores, 4);
    assert.equal(p.cpu.simd.neon, true);
  });

  it('applies a container memory limit', async () => {
    const p = await detectHardwareProfile(fakeEnv({
      files: {
        '/proc/cpuinfo': X86_CPUINFO,
        '/proc/meminfo': 'MemTotal: 32000000 kB\nMemAvailable: 30000000 kB\n',
        '/sys/fs/cgroup/memory.max': `${4 * GiB}\n`,
        '/sys/fs/cgroup/memory.current': `${1 * GiB}\n`,
      },
    }));
    assert.equal(p.memory.totalBytes, 4 * GiB);
    assert.equal(p.memory.availableBytes, 3 * GiB);
  });

  it('falls back to os.cpus() and estimates physical cores elsewhere; tolerates a failing GPU probe', async () => {
    const p = await detectHardwareProfile(fakeEnv({ platform: 'win32', gpu: async () => { throw new Error('no addon'); } }));
    assert.equal(p.cpu.model, 'os.cpus model');
    assert.equal(p.cpu.logicalCores, 4);
    assert.equal(p.cpu.physicalCores, 2);
    assert.equal(p.cpu.physicalCoresEstimated, true);
    assert.equal(p.memory.availableBytes, 1 * GiB);
    assert.equal(p.gpu, null);
    assert.ok(p.notes.some((n) => n.includes('GPU detection failed (no addon)')), p.notes.join('; '));
  });

  it('reads macOS facts from sysctl', async () => {
    const sysctl = 'hw.physicalcpu: 8\nhw.logicalcpu: 8\nmachdep.cpu.brand_string: Apple M1\n';
    const p = await detectHardwareProfile(fakeEnv({ platform: 'darwin', arch: 'arm64', exec: async () => sysctl }));
    assert.deepEqual([p.cpu.model, p.cpu.physicalCores, p.cpu.logicalCores, p.cpu.simd.neon], ['Apple M1', 8, 8, true]);
  });

  it('includes the GPU the probe reports', async () => {
    const gpu: GpuProfile = { backend: 'vulkan', names: ['Intel(R) Iris(R) Xe Graphics'], vramTotalBytes: 2 * GiB, vramFreeBytes: 2 * GiB, unifiedMemory: true };
    const p = await detectHardwareProfile(fakeEnv({ files: { '/proc/cpuinfo': X86_CPUINFO }, gpu: async () => gpu }));
    assert.deepEqual(p.gpu, gpu);
  });

  it('detects this machine without throwing (GPU probe skipped)', async () => {
    const p = await detectHardwareProfile(undefined, { gpu: false });
    assert.ok(p.cpu.logicalCores >= 1 && p.cpu.physicalCores >= 1);
    assert.ok(p.memory.totalBytes > 0 && p.memory.availableBytes > 0 && p.memory.availableBytes <= p.memory.totalBytes);
  });
});
