import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HardwareProfile } from '../../src/common/hardware/recommend';
import { diskSpaceProblem, downloadChoices, downloadProgressText } from '../../src/common/models/modelChoices';
import { parseManifestText } from '../../src/common/models/modelManifest';

const GiB = 1024 ** 3;
const manifest = parseManifestText(readFileSync(join(__dirname, '../../../models-manifest/models.json'), 'utf8'), 'models.json');

function machine(ramGiB: number, availGiB: number, cores: number): HardwareProfile {
  return {
    profileId: 'test',
    platform: 'linux',
    arch: 'x64',
    cpu: {
      model: 'synthetic',
      physicalCores: cores,
      logicalCores: cores * 2,
      physicalCoresEstimated: false,
      simd: { sse42: true, avx: true, avx2: true, avx512f: false, fma: true, f16c: true, neon: false, dotprod: false },
    },
    memory: { totalBytes: ramGiB * GiB, availableBytes: availGiB * GiB },
    gpu: null,
    load1: 0,
    notes: [],
  };
}

describe('download choices', () => {
  it('puts the recommended model first, labelled, then what fits, then what will not fit (with the numbers)', () => {
    const choices = downloadChoices(machine(8, 4.5, 4), manifest, new Set(['qwen2.5-coder-1.5b-q8']));
    assert.ok(!choices.some((c) => c.entry.tier === 'demo'), 'the generated demo model is not downloadable');
    const first = choices[0]!;
    assert.equal(first.entry.id, 'qwen2.5-coder-1.5b-q8');
    assert.ok(first.recommended && first.label.startsWith('$(star-full) '));
    assert.match(first.description, /^1\.6 GB · small · needs 2\.9 GB RAM · recommended for this machine · downloaded$/);
    assert.equal(choices.filter((c) => c.recommended).length, 1);
    const ranks = choices.map((c) => (c.recommended ? 0 : c.fits ? 1 : 2));
    assert.deepEqual(ranks, [...ranks].sort());
    const big = choices.find((c) => c.entry.id === 'qwen3-coder-30b-a3b-instruct-q4km')!;
    assert.equal(big.fits, false);
    assert.match(big.description, /will not fit this machine/);
    assert.match(big.detail, /will not fit: it needs .* GB/);
    assert.match(big.detail, /MoE \(3(\.\d)?B active\)/);
  });

  it('formats progress with rate and time left, and refuses a download the disk cannot hold', () => {
    assert.equal(downloadProgressText(512e6, 1.6e9, 12.3e6), '512.0 MB of 1.60 GB · 12.3 MB/s · about 1 min 29 s left');
    assert.equal(downloadProgressText(1e6, null, 0), '1.0 MB · 0.0 MB/s');
    assert.equal(diskSpaceProblem(10e9, 1.6e9, '/m'), null);
    assert.match(diskSpaceProblem(1e9, 1.6e9, '/m')!, /needs 1\.6 GB but only 1\.0 GB is free/);
  });
});
